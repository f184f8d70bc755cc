"""An applicant's side of the HTTP API, as a frontend would drive it: used by the demo, the
end-to-end tests and the load generators."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
FACES = ROOT / "assets" / "faces"
UPLOADS = {
    "id_front": ("id_front.jpg", "image/jpeg"),
    "id_back": ("id_back.jpg", "image/jpeg"),
    "selfie": ("selfie.jpg", "image/jpeg"),
    "liveness_video": ("liveness.mp4", "video/mp4"),
}


REFRESH_MARGIN = timedelta(seconds=60)
# A held GET returns at the latest after this long (the API allows up to 25 s).
LONG_POLL_SECONDS = 10.0


class StepRefused(RuntimeError):
    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"{response.request.method} {response.request.url.path}: "
                         f"{response.status_code} {response.text}")  # fmt: skip
        self.response = response


@dataclass
class Applicant:
    """Who applies: the data a frontend collects, and the sample documents of a persona."""

    name: str
    id_number: str
    phone: str
    card_number: str
    bank_code: str
    samples: Path
    video_photo: str | None = None  # the photo in assets/faces animated for the liveness video

    @classmethod
    def from_persona(cls, persona: Any, sample_dir: str, phone: str | None = None) -> Applicant:
        return cls(
            name=persona.name,
            id_number=persona.id_number,
            phone=phone or persona.phone,
            card_number=persona.card_number,
            bank_code=persona.bank_code,
            samples=SAMPLES / sample_dir,
        )


class ApplicantSession:
    def __init__(self, http: httpx.Client, applicant: Applicant) -> None:
        self.http = http
        self.applicant = applicant
        self.application_id = ""
        self.token = ""
        self.refresh_token = ""
        self.token_expires_at: datetime | None = None
        self.challenge: dict[str, Any] | None = None
        self._last_status: str | None = None

    @property
    def _auth(self) -> dict[str, str]:
        """The access token, refreshed as an app would shortly before it expires."""
        if self.token_expires_at is not None and self.refresh_token:
            if datetime.now(UTC) > self.token_expires_at - REFRESH_MARGIN:
                self.refresh()
        return {"Authorization": f"Bearer {self.token}"}

    def _keep_tokens(self, body: dict[str, Any]) -> None:
        self.token = body["applicant_token"]
        self.refresh_token = body.get("refresh_token", "")
        expires = body.get("expires_at")
        self.token_expires_at = datetime.fromisoformat(expires) if expires else None

    def refresh(self) -> dict[str, Any]:
        body = {"refresh_token": self.refresh_token}
        tokens = self._ok(self.http.post(self._path("/token"), json=body))
        self._keep_tokens(tokens)
        return tokens

    def _ok(self, response: httpx.Response) -> dict[str, Any]:
        if response.status_code >= 400:
            raise StepRefused(response)
        return response.json() if response.content else {}

    def _path(self, suffix: str = "") -> str:
        return f"/v1/applications/{self.application_id}{suffix}"

    def start(
        self,
        amount: int = 1_000_000,
        term: int = 12,
        product: str = "CASH_STD",
        request_id: str | None = None,
        device: str | None = None,
    ) -> dict[str, Any]:
        body = {
            "client_request_id": request_id or str(uuid.uuid4()),
            "product_code": product,
            "phone": self.applicant.phone,
            "requested_amount": amount,
            "term_months": term,
            "device": {"fingerprint": device or f"dev-{uuid.uuid4().hex[:16]}",
                       "ip": "203.0.113.7", "os": "Android 15"},
            "consents": {"privacy_policy": True, "credit_inquiry": True, "carrier_data": True},
        }  # fmt: skip
        started = self._ok(self.http.post("/v1/applications", json=body))
        self.application_id = started["application_id"]
        self._keep_tokens(started)
        self.challenge = started.get("liveness_challenge")
        return started

    def status(self, since: str | None = None, wait: float = 0) -> dict[str, Any]:
        """GET the application; with `since` and `wait`, held until the status is no longer
        `since` or `wait` seconds have passed (long polling)."""
        params = {"since": since, "wait": f"{wait:g}"} if since and wait > 0 else None
        return self._ok(self.http.get(self._path(), headers=self._auth, params=params))

    def liveness_video(self) -> bytes:
        """A recorded sample cannot follow a random challenge: like a person in front of the
        camera, perform the challenge this application was issued, animating the persona's
        photo (landmark-guided warping, `synthetic.challenge_video`)."""
        from domain.identity import ActionWindow
        from synthetic.challenge_video import synthesize_challenge_video

        photo = self.applicant.video_photo
        if photo is None:
            manifest = json.loads((SAMPLES / "manifest.json").read_text())
            photo = manifest[self.applicant.samples.name]["photos"]["video"]
        windows = [ActionWindow(**w) for w in (self.challenge or {}).get("windows", [])]
        if not windows:
            return (self.applicant.samples / UPLOADS["liveness_video"][0]).read_bytes()
        return synthesize_challenge_video((FACES / photo).read_bytes(), windows)

    def upload_all(self) -> None:
        for kind, (filename, _) in UPLOADS.items():
            if kind == "liveness_video":
                self.upload(kind, self.liveness_video())
            else:
                self.upload(kind, (self.applicant.samples / filename).read_bytes())

    def upload(self, kind: str, data: bytes) -> dict[str, Any]:
        filename, content_type = UPLOADS[kind]
        files = {"file": (filename, data, content_type)}
        return self._ok(
            self.http.put(self._path(f"/documents/{kind}"), files=files, headers=self._auth)
        )

    def submit_documents(self) -> dict[str, Any]:
        body = {"full_name": self.applicant.name, "id_number": self.applicant.id_number}
        return self._ok(
            self.http.post(self._path("/documents/submit"), json=body, headers=self._auth)
        )

    def authorize_carrier(self, code: str = "246810") -> dict[str, Any]:
        self._ok(self.http.post(self._path("/carrier/sms"), headers=self._auth))
        body = {"code": code}
        return self._ok(
            self.http.post(self._path("/carrier/authorize"), json=body, headers=self._auth)
        )

    def accept(self, amount: int, term: int, card_number: str | None = None) -> dict[str, Any]:
        body = {
            "amount": amount,
            "term_months": term,
            "bank_card": {"number": card_number or self.applicant.card_number,
                          "bank_code": self.applicant.bank_code,
                          "reserved_phone": self.applicant.phone},
        }  # fmt: skip
        return self._ok(self.http.post(self._path("/offer/accept"), json=body, headers=self._auth))

    def sign(self, otp: str = "135790") -> dict[str, Any]:
        return self._ok(
            self.http.post(self._path("/contract/sign"), json={"otp": otp}, headers=self._auth)
        )

    def withdraw(self) -> dict[str, Any]:
        return self._ok(self.http.post(self._path("/withdraw"), headers=self._auth))

    def contract(self) -> bytes:
        response = self.http.get(self._path("/contract"), headers=self._auth)
        if response.status_code >= 400:
            raise StepRefused(response)
        return response.content

    def wait_for(
        self,
        *statuses: str,
        timeout: float = 120,
        on_change: Callable[[dict[str, Any]], None] | None = None,
        interval: float = 0.25,
        hold: bool = True,
    ) -> dict[str, Any]:
        """Long-poll GET until the application is in one of `statuses` (or terminal); a GET
        that comes back at once with the same status (no worker answering, the recorded view)
        is asked again after `interval` seconds. Without `hold`, a plain GET every `interval`
        seconds, as an app that does not long-poll."""
        deadline = time.monotonic() + timeout
        terminal = {"DISBURSED", "REJECTED", "EXPIRED", "CANCELLED", "FAILED"}
        current: dict[str, Any] | None = None
        while (left := deadline - time.monotonic()) > 0:
            asked = time.monotonic()
            since = current["status"] if current and hold else None
            current = self.status(since=since, wait=min(left, LONG_POLL_SECONDS))
            if current["status"] != self._last_status and on_change:
                on_change(current)
            self._last_status = current["status"]
            if self._last_status in statuses or self._last_status in terminal:
                return current
            if not hold or current["status"] == since:
                time.sleep(max(0.0, interval - (time.monotonic() - asked)))
        raise TimeoutError(f"{self.application_id} still {self._last_status} after {timeout}s")


def ops_client(base_url: str, username: str = "admin", password: str | None = None) -> httpx.Client:
    """An HTTP client signed in to ops as `username` (by default the development admin)."""
    if password is None:
        from api.ops_users import DEV_PASSWORD

        password = DEV_PASSWORD
    credentials = {"username": username, "password": password}
    with httpx.Client(base_url=base_url, timeout=30) as sign_in:
        response = sign_in.post("/v1/ops/sessions", json=credentials)
    if response.status_code != 200:
        raise StepRefused(response)
    token = response.json()["access_token"]
    return httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
