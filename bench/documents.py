"""Documents of a load run, rendered before it starts so the generator does not take the CPU it
measures: each person's ID card sides and selfie (`synthetic.test_applicants`), and a liveness
video for every challenge the workflow can issue (3 of the 4 actions in order: 24 sequences per
face). Rendering is deterministic, so both are cached under `.data/bench-cache/`, keyed by a hash
of the generators' sources: a second run with the same people renders nothing."""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import httpx

from domain.enums import LivenessAction
from domain.identity import ActionWindow
from synthetic.test_applicants import FACES, OUTCOMES, SAMPLES
from workflows.application import CHALLENGE_ACTIONS, CHALLENGE_WINDOW_SECONDS

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".data" / "bench-cache"
GENERATORS = ("synthetic/test_applicants.py", "synthetic/id_cards.py",
              "synthetic/challenge_video.py", "samples/manifest.json")  # fmt: skip


def _version() -> str:
    digest = hashlib.sha256()
    for name in GENERATORS:
        digest.update((ROOT / name).read_bytes())
    digest.update(f"{CHALLENGE_ACTIONS}/{CHALLENGE_WINDOW_SECONDS}".encode())
    return digest.hexdigest()[:12]


@dataclass(frozen=True)
class Person:
    persona: str  # approve | review | decline
    serial: int
    name: str
    id_number: str
    phone: str
    card_number: str
    bank_code: str
    folder: Path  # id_front.jpg, id_back.jpg, selfie.jpg, reference.jpg
    face: str  # the photo the liveness videos animate

    def document(self, kind: str) -> bytes:
        return (self.folder / f"{kind}.jpg").read_bytes()


def video_face(persona: str) -> str:
    sample = OUTCOMES[persona][0]
    return str(json.loads((SAMPLES / "manifest.json").read_text())[sample]["photos"]["video"])


def challenges() -> list[tuple[LivenessAction, ...]]:
    return list(itertools.permutations(list(LivenessAction), CHALLENGE_ACTIONS))


def windows_of(actions: Iterable[LivenessAction]) -> list[ActionWindow]:
    w = CHALLENGE_WINDOW_SECONDS
    return [ActionWindow(action=a, start_s=i * w, end_s=(i + 1) * w) for i, a in enumerate(actions)]


def _render_person(persona: str, serial: int, folder: Path) -> None:
    from synthetic.test_applicants import make_test_applicant

    p = make_test_applicant(persona, serial)
    tmp = folder.with_suffix(".tmp")
    tmp.mkdir(parents=True, exist_ok=True)
    files = {"id_front": p.id_front_jpeg, "id_back": p.id_back_jpeg, "selfie": p.selfie_jpeg,
             "reference": p.reference_portrait_jpeg}  # fmt: skip
    for kind, data in files.items():
        (tmp / f"{kind}.jpg").write_bytes(data)
    meta = {"name": p.name, "id_number": p.id_number, "phone": p.phone,
            "card_number": p.card_number, "bank_code": p.bank_code}  # fmt: skip
    (tmp / "person.json").write_text(json.dumps(meta, ensure_ascii=False))
    tmp.rename(folder)


def _render_video(face: str, actions: tuple[LivenessAction, ...], path: Path) -> None:
    from synthetic.challenge_video import synthesize_challenge_video

    video = synthesize_challenge_video((FACES / face).read_bytes(), windows_of(actions))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.with_suffix(".tmp").write_bytes(video)
    path.with_suffix(".tmp").rename(path)


def _render(jobs: list[Callable[[], None]], workers: int) -> int:
    """Run the rendering jobs on `workers` processes; how many there were."""
    if jobs:
        with ProcessPoolExecutor(workers) as pool:
            for future in [pool.submit(job) for job in jobs]:
                future.result()
    return len(jobs)


class Library:
    """Everything the applicants of a run upload, on disk before the run."""

    def __init__(self, cache: Path = CACHE) -> None:
        self.root = cache / _version()
        self.rendered_during_run = 0

    def person_folder(self, persona: str, serial: int) -> Path:
        return self.root / "people" / f"{persona}-{serial:04d}"

    def video_path(self, face: str, actions: Iterable[str]) -> Path:
        return self.root / "videos" / Path(face).stem / ("-".join(actions) + ".mp4")

    def prepare(self, wanted: Iterable[tuple[str, int]], workers: int = 2) -> int:
        """Render what is not cached yet; the number of files rendered."""
        jobs: list[Callable[[], None]] = []
        faces = set()
        for persona, serial in set(wanted):
            faces.add(video_face(persona))
            folder = self.person_folder(persona, serial)
            if not folder.exists():
                jobs.append(partial(_render_person, persona, serial, folder))
        jobs += self._video_jobs(faces)
        return _render(jobs, workers)

    def prepare_videos(self, faces: Iterable[str], workers: int = 2) -> int:
        """Render the videos of every challenge for these faces; the number rendered."""
        jobs = self._video_jobs(faces)
        return _render(jobs, workers)

    def _video_jobs(self, faces: Iterable[str]) -> list[Callable[[], None]]:
        return [
            partial(_render_video, face, actions, self.video_path(face, actions))
            for face in sorted(set(faces))
            for actions in challenges()
            if not self.video_path(face, actions).exists()
        ]

    def person(self, persona: str, serial: int) -> Person:
        folder = self.person_folder(persona, serial)
        meta = json.loads((folder / "person.json").read_text())
        return Person(persona=persona, serial=serial, folder=folder, face=video_face(persona),
                      **meta)  # fmt: skip

    def video(self, person: Person, windows: list[dict[str, object]]) -> bytes:
        """The video of `person` performing the challenge issued to the application."""
        return self.face_video(person.face, windows)

    def face_video(self, face: str, windows: list[dict[str, object]]) -> bytes:
        """The video of the photo `face` performing the challenge issued to an application."""
        actions = tuple(LivenessAction(str(w["action"])) for w in windows)
        path = self.video_path(face, actions)
        if not path.exists():  # a challenge not foreseen: counted, the report says so
            self.rendered_during_run += 1
            _render_video(face, actions, path)
        return path.read_bytes()

    def wrong_video(self, person: Person, windows: list[dict[str, object]]) -> bytes:
        """A video of other actions than the challenged ones: a liveness refusal (I007)."""
        actions = [w["action"] for w in windows]
        return self.video(person, [{"action": a} for a in actions[1:] + actions[:1]])


def register(mocks_url: str, people: Iterable[Person]) -> None:
    """Make the identity simulator know each person (name, ID number, reference portrait)."""
    with httpx.Client(base_url=mocks_url, timeout=30) as http:
        for p in people:
            reference = base64.b64encode((p.folder / "reference.jpg").read_bytes()).decode()
            body = {"name": p.name, "id_number": p.id_number, "portrait_jpeg_b64": reference}
            http.post("/admin/v1/citizens", json=body).raise_for_status()
