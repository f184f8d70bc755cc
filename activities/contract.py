"""Stage 8, contract: render the contract PDF from the accepted quote, and seal the signed
contract with the platform's PAdES seal. Both store their output in the blob store and return a
claim check (key, sha256, pages), never the bytes.

The activities are async and run the CPU part (rendering, signing, hashing, file I/O) in a
thread with `asyncio.to_thread`, so the worker's event loop stays free; pyhanko's synchronous
signing API also needs a thread without a running event loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading

from pyhanko.sign.timestamps import HTTPTimeStamper
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.documents import read_blob
from config.settings import Settings
from contracts.pdf import DEFAULT_LENDER_NAME, page_count, render_contract
from contracts.seal import (
    DEV_PASSPHRASE,
    SealIdentity,
    load_or_create_seal_identity,
    load_pkcs12_identity,
    load_trust_certificate,
    seal_pdf,
    verify_seal,
)
from domain.contract import ContractDocument, ContractInput, SealInput
from domain.naming import ActivityName, ErrorType
from store.blobs import BlobStore


def contract_prefix(application_id: str) -> str:
    return f"documents/{application_id}/contract"


def sealed_prefix(application_id: str) -> str:
    return f"documents/{application_id}/contract_sealed"


class ContractActivities:
    def __init__(
        self, blobs: BlobStore, settings: Settings, lender_name: str = DEFAULT_LENDER_NAME
    ) -> None:
        if settings.environment == "production" and not (
            settings.seal_pkcs12 or settings.seal_pkcs11_module
        ):
            # a key made by each host would give each host its own seal
            raise ValueError(
                "production needs the seal identity: set LOANFLOW_SEAL_PKCS12 or _PKCS11_MODULE"
            )
        self._blobs = blobs
        self._settings = settings
        self._key_dir = settings.data_dir / "keys"
        self._tsa_roots = (
            [load_trust_certificate(settings.tsa_trust_cert)] if settings.tsa_trust_cert else []
        )
        self._lender_name = lender_name
        self._identity: SealIdentity | None = None
        self._identity_lock = threading.Lock()

    def _seal_identity(self) -> SealIdentity:
        # Loaded on first seal, not at worker start: a worker that never seals needs no key.
        with self._identity_lock:
            if self._identity is None:
                self._identity = self._load_identity()
            return self._identity

    def _load_identity(self) -> SealIdentity:
        s = self._settings
        if s.seal_pkcs11_module:
            from contracts.pkcs11_seal import open_pkcs11_identity

            return open_pkcs11_identity(
                s.seal_pkcs11_module,
                s.seal_pkcs11_token,
                s.seal_pkcs11_key_label,
                s.seal_pkcs11_pin,
            )
        if s.seal_pkcs12:
            return load_pkcs12_identity(s.seal_pkcs12, s.seal_pkcs12_passphrase)
        return load_or_create_seal_identity(
            self._key_dir, self._lender_name, s.seal_pkcs12_passphrase or DEV_PASSPHRASE
        )

    def _store(self, prefix: str, pdf: bytes) -> ContractDocument:
        key, digest = self._blobs.put(prefix, pdf)
        return ContractDocument(blob_key=key, sha256=digest, pages=page_count(pdf))

    def _generate(self, inp: ContractInput) -> ContractDocument:
        pdf = render_contract(inp, self._lender_name)
        return self._store(contract_prefix(inp.application_id), pdf)

    @activity.defn(name=ActivityName.CONTRACT_GENERATE)
    async def generate(self, inp: ContractInput) -> ContractDocument:
        document = await asyncio.to_thread(self._generate, inp)
        activity.logger.info(
            "contract for %s rendered: %d pages, sha256 %s",
            inp.application_id,
            document.pages,
            document.sha256[:12],
        )
        return document

    def _seal(self, inp: SealInput) -> ContractDocument:
        signed = read_blob(self._blobs, inp.contract.blob_key, "signed contract")
        # The claim check carries the hash: seal exactly what the borrower signed, nothing else.
        if hashlib.sha256(signed).hexdigest() != inp.contract.sha256:
            raise ApplicationError(
                "signed contract does not match its recorded sha256",
                type=ErrorType.BAD_DOCUMENT,
                non_retryable=True,
            )
        identity = self._seal_identity()
        # a fresh client per seal: pyhanko runs each signature on an event loop of its own
        stamper = HTTPTimeStamper(self._settings.tsa_url) if self._settings.tsa_url else None
        sealed = seal_pdf(signed, identity, timestamper=stamper)
        report = verify_seal(sealed, identity.certificate, self._tsa_roots)
        if not report.valid:
            # Never store a seal that does not verify; a retry signs again from scratch.
            raise ApplicationError(f"the new seal does not verify: {report.detail}")
        return self._store(sealed_prefix(inp.application_id), sealed)

    @activity.defn(name=ActivityName.CONTRACT_SEAL)
    async def seal(self, inp: SealInput) -> ContractDocument:
        document = await asyncio.to_thread(self._seal, inp)
        activity.logger.info(
            "contract for %s sealed: sha256 %s", inp.application_id, document.sha256[:12]
        )
        return document
