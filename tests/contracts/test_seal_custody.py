"""Seal key custody and time: the seal identity from a configured encrypted PKCS#12, a signature
time-stamp from a configured RFC 3161 authority (a local test TSA over HTTP), and production
refusing to make a key of its own."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from pyhanko.sign.timestamps import HTTPTimeStamper
from temporalio.testing import ActivityEnvironment

from activities.contract import ContractActivities
from config.settings import Settings
from contracts.pdf import render_contract
from contracts.seal import SealIdentity, load_or_create_seal_identity, seal_pdf, verify_seal
from devtools.stack import Ports
from devtools.tsa import LocalTsa
from domain.contract import ContractDocument, ContractInput, SealInput
from domain.identity import Applicant
from domain.pricing import build_schedule
from store.blobs import LocalBlobStore


@pytest.fixture(scope="module")
def tsa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalTsa]:
    with LocalTsa.start(tmp_path_factory.mktemp("tsa")) as running:
        yield running


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> tuple[SealIdentity, Path]:
    """The deployment's seal: made once, exported as an encrypted PKCS#12 for the workers."""
    identity = load_or_create_seal_identity(tmp_path_factory.mktemp("ca"), "示例小额贷款有限公司")
    path = tmp_path_factory.mktemp("secrets") / "seal.p12"
    path.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"loanflow seal",
            identity.private_key,
            x509.load_der_x509_certificate(identity.certificate.dump()),
            None,
            serialization.BestAvailableEncryption(b"deployment passphrase"),
        )
    )
    return identity, path


def contract(application_id: str = "seal-ts-1") -> bytes:
    return render_contract(
        ContractInput(
            application_id=application_id,
            applicant=Applicant(
                full_name="张三", id_number="11010519491231002X", phone="13800138000"
            ),
            product_name="标准现金贷",
            schedule=build_schedule(1_000_000, 12, 0.18),
            generated_at=datetime(2026, 11, 3, 9, 30, tzinfo=UTC),
        )
    )


def test_a_time_stamped_seal_verifies_against_the_tsa_root(
    tsa: LocalTsa, platform: tuple[SealIdentity, Path]
) -> None:
    identity, _ = platform
    before = tsa.requests
    sealed = seal_pdf(contract(), identity, timestamper=HTTPTimeStamper(tsa.url))
    assert tsa.requests > before  # the token came over HTTP from the TSA
    report = verify_seal(sealed, identity.certificate, [tsa.certificate])
    assert report.valid and report.timestamp_trusted, report.detail
    assert report.timestamped_at is not None
    assert abs(report.timestamped_at - datetime.now(UTC)) < timedelta(minutes=2)

    untrusted = verify_seal(sealed, identity.certificate, [identity.certificate])
    assert untrusted.intact and untrusted.timestamp_trusted is False and not untrusted.valid


def test_a_seal_without_a_tsa_has_no_time_stamp(platform: tuple[SealIdentity, Path]) -> None:
    identity, _ = platform
    report = verify_seal(seal_pdf(contract(), identity), identity.certificate)
    assert report.valid and report.timestamped_at is None and report.timestamp_trusted is None


def test_an_unreachable_tsa_fails_the_seal(platform: tuple[SealIdentity, Path]) -> None:
    identity, _ = platform
    dead = HTTPTimeStamper(f"http://127.0.0.1:{Ports.free().api}/", timeout=2)
    with pytest.raises(Exception):  # noqa: B017  (pyhanko's error for a TSA that never answered)
        seal_pdf(contract(), identity, timestamper=dead)


async def test_the_seal_activity_uses_the_configured_pkcs12_and_tsa(
    tsa: LocalTsa, platform: tuple[SealIdentity, Path], tmp_path: Path
) -> None:
    identity, p12 = platform
    settings = Settings(
        environment="test",
        data_dir=tmp_path / "data",
        seal_pkcs12=p12,
        seal_pkcs12_passphrase="deployment passphrase",
        tsa_url=tsa.url,
        tsa_trust_cert=tsa.cert_path,
    )
    blobs = LocalBlobStore(tmp_path / "blobs")
    activities = ContractActivities(blobs, settings)
    signed = contract("seal-ts-2")
    key, digest = blobs.put("documents/seal-ts-2/contract_signed", signed)
    sealed_doc = await ActivityEnvironment().run(
        activities.seal,
        SealInput(
            application_id="seal-ts-2",
            contract=ContractDocument(blob_key=key, sha256=digest, pages=2),
        ),
    )
    sealed = blobs.get(sealed_doc.blob_key)
    assert sealed_doc.sha256 == hashlib.sha256(sealed).hexdigest()
    report = await asyncio.to_thread(verify_seal, sealed, identity.certificate, [tsa.certificate])
    assert report.valid and report.timestamp_trusted
    # the configured identity was used: no development key was made in the data folder
    assert not (tmp_path / "data" / "keys").exists()


def test_production_refuses_to_make_its_own_seal_key(tmp_path: Path) -> None:
    settings = Settings(
        environment="production",
        data_dir=tmp_path,
        payload_encryption_key="a2V5LWtleS1rZXkta2V5LWtleS1rZXkta2V5LWtleSE=",
        token_secret="t" * 32,
        payment_callback_secret="p" * 32,
        bureau_callback_secret="b" * 32,
        device_risk_callback_secret="d" * 32,
        blob_encryption_keys={"prod-1": "YmxvYi1rZXktYmxvYi1rZXktYmxvYi1rZXktYmxvYiE="},
        blob_key_id="prod-1",
    )
    with pytest.raises(ValueError, match="LOANFLOW_SEAL_PKCS12"):
        ContractActivities(LocalBlobStore(tmp_path / "blobs"), settings)


def test_a_tsa_without_a_root_to_check_it_is_refused(tsa: LocalTsa) -> None:
    with pytest.raises(ValueError, match="tsa_trust_cert"):
        Settings(tsa_url=tsa.url)
