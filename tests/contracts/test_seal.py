"""The platform seal: made once, kept private, verifiable offline, and broken by any change."""

from __future__ import annotations

import io
import os
import stat
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from contracts.pdf import render_contract
from contracts.seal import (
    DEV_PASSPHRASE,
    IDENTITY_FOLDER,
    PKCS12_FILE,
    SEAL_FIELD,
    SealIdentity,
    SealIdentityError,
    load_or_create_seal_identity,
    load_pkcs12_identity,
    seal_pdf,
    verify_seal,
)
from domain.contract import ContractInput
from domain.identity import Applicant
from domain.pricing import build_schedule


@pytest.fixture(scope="module")
def identity(tmp_path_factory: pytest.TempPathFactory) -> SealIdentity:
    return load_or_create_seal_identity(tmp_path_factory.mktemp("keys"), "测试小额贷款有限公司")


@pytest.fixture(scope="module")
def contract() -> bytes:
    return render_contract(
        ContractInput(
            application_id="seal-1",
            product_name="标准现金贷",
            schedule=build_schedule(1_000_000, 12, 0.18),
            generated_at=datetime(2026, 11, 3, 9, 30, tzinfo=UTC),
            applicant=Applicant(
                full_name="张三", id_number="11010519491231002X", phone="13800138000"
            ),
        )
    )


@pytest.fixture(scope="module")
def sealed(contract: bytes, identity: SealIdentity) -> bytes:
    return seal_pdf(contract, identity)


def test_sealed_contract_verifies_intact_and_valid(sealed: bytes, identity: SealIdentity) -> None:
    report = verify_seal(sealed, identity.certificate)
    assert report.intact and report.valid, report.detail
    assert report.covers_whole_file
    assert report.signer is not None and "loanflow platform seal" in report.signer
    assert report.signed_at is not None


def test_the_seal_is_an_incremental_update(contract: bytes, sealed: bytes) -> None:
    # the signed contract's bytes stay untouched so an earlier e-signature remains valid
    assert sealed.startswith(contract)
    assert b"/ETSI.CAdES.detached" in sealed
    assert SEAL_FIELD.encode() in sealed


def _signed_ranges(pdf: bytes) -> list[tuple[int, int]]:
    start = pdf.rindex(b"/ByteRange")
    numbers = pdf[pdf.index(b"[", start) + 1 : pdf.index(b"]", start)].split()
    a, b, c, d = (int(n) for n in numbers)
    return [(a, a + b), (c, c + d)]


@pytest.mark.parametrize("target", [b"ReportLab Generated", b"/Producer", b"startxref"])
def test_one_flipped_byte_in_the_signed_range_breaks_it(
    sealed: bytes, identity: SealIdentity, target: bytes
) -> None:
    position = sealed.index(target) + 1
    assert any(lo <= position < hi for lo, hi in _signed_ranges(sealed))
    damaged = bytearray(sealed)
    damaged[position] ^= 0x01
    report = verify_seal(bytes(damaged), identity.certificate)
    assert not report.intact
    assert not report.valid


def test_a_changed_amount_in_the_page_content_breaks_it(
    sealed: bytes, identity: SealIdentity
) -> None:
    # the page content stream is compressed: flip a byte in the middle of the first stream
    stream = sealed.index(b"stream\n", sealed.index(b"/FlateDecode")) + len(b"stream\n")
    damaged = bytearray(sealed)
    damaged[stream + 40] ^= 0x20
    report = verify_seal(bytes(damaged), identity.certificate)
    assert not report.intact and not report.valid


def test_a_seal_from_another_identity_is_intact_but_not_trusted(
    sealed: bytes, tmp_path: Path
) -> None:
    stranger = load_or_create_seal_identity(tmp_path / "other")
    report = verify_seal(sealed, stranger.certificate)
    assert report.intact
    assert not report.valid


def test_an_unsealed_or_unreadable_file_is_reported(
    contract: bytes, identity: SealIdentity
) -> None:
    unsealed = verify_seal(contract, identity.certificate)
    assert not unsealed.intact and not unsealed.valid and "no platform seal" in unsealed.detail
    garbage = verify_seal(b"%PDF-1.7\nnot really", identity.certificate)
    assert not garbage.intact and not garbage.valid


def test_content_appended_after_sealing_no_longer_covers_the_whole_file(
    sealed: bytes, identity: SealIdentity
) -> None:
    writer = IncrementalPdfFileWriter(io.BytesIO(sealed))
    writer.root["/Lang"] = generic.pdf_string("en")
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    changed = out.getvalue()
    assert len(changed) > len(sealed)
    report = verify_seal(changed, identity.certificate)
    assert report.intact  # what was sealed is unchanged...
    assert not report.covers_whole_file  # ...but the file says more than was sealed


def test_identity_is_created_once_kept_private_and_encrypted(tmp_path: Path) -> None:
    key_dir = tmp_path / "keys"
    first = load_or_create_seal_identity(key_dir)
    folder = key_dir / IDENTITY_FOLDER
    assert sorted(os.listdir(folder)) == [PKCS12_FILE]  # no clear key beside it
    assert stat.S_IMODE(os.stat(folder / PKCS12_FILE).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    assert sorted(os.listdir(key_dir)) == [IDENTITY_FOLDER]  # no staging folder left behind
    again = load_or_create_seal_identity(key_dir)
    assert again.certificate.dump() == first.certificate.dump()
    bundle = (folder / PKCS12_FILE).read_bytes()
    with pytest.raises(ValueError):
        pkcs12.load_key_and_certificates(bundle, None)  # encrypted: no key without the passphrase
    _key, cert, _ = pkcs12.load_key_and_certificates(bundle, DEV_PASSPHRASE.encode())
    assert cert is not None and cert.issuer == cert.subject  # self-signed
    assert cert.public_key().key_size >= 3072


def test_workers_starting_together_end_up_with_one_identity(tmp_path: Path) -> None:
    key_dir = tmp_path / "keys"
    with ThreadPoolExecutor(max_workers=4) as pool:
        identities = list(pool.map(lambda _: load_or_create_seal_identity(key_dir), range(4)))
    assert len({identity.certificate.dump() for identity in identities}) == 1
    assert sorted(os.listdir(key_dir)) == [IDENTITY_FOLDER]


def test_a_pkcs12_without_the_key_is_refused(tmp_path: Path) -> None:
    identity = load_or_create_seal_identity(tmp_path / "a")
    certificate_only = tmp_path / "cert-only.p12"
    certificate_only.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"seal",
            None,
            x509.load_der_x509_certificate(identity.certificate.dump()),
            None,
            serialization.BestAvailableEncryption(b"pass"),
        )
    )
    with pytest.raises(SealIdentityError, match="lacks a key"):
        load_pkcs12_identity(certificate_only, "pass")


def test_a_wrong_passphrase_is_refused_without_echoing_it(tmp_path: Path) -> None:
    load_or_create_seal_identity(tmp_path / "keys", passphrase="correct horse")
    path = tmp_path / "keys" / IDENTITY_FOLDER / PKCS12_FILE
    with pytest.raises(SealIdentityError) as refused:
        load_pkcs12_identity(path, "battery staple")
    assert "battery staple" not in str(refused.value)
    assert load_pkcs12_identity(path, "correct horse").subject


def test_a_checkout_with_the_old_clear_pem_key_keeps_its_seal_encrypted(tmp_path: Path) -> None:
    identity = load_or_create_seal_identity(tmp_path / "new")
    folder = tmp_path / "old" / IDENTITY_FOLDER
    folder.mkdir(parents=True)
    (folder / "seal-key.pem").write_bytes(
        identity.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    cert = x509.load_der_x509_certificate(identity.certificate.dump())
    (folder / "seal-cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    migrated = load_or_create_seal_identity(tmp_path / "old")
    assert migrated.certificate.dump() == identity.certificate.dump()
    assert not (folder / "seal-key.pem").exists()
    assert stat.S_IMODE(os.stat(folder / PKCS12_FILE).st_mode) == 0o600


def test_an_earlier_signature_stays_valid_under_the_seal(
    contract: bytes, identity: SealIdentity, tmp_path: Path
) -> None:
    # the e-sign vendor returns the contract already signed by the borrower; ours comes after
    borrower = load_or_create_seal_identity(tmp_path / "borrower")
    signer = signers.SimpleSigner(
        signing_cert=borrower.certificate,
        signing_key=borrower.key,
        cert_registry=SimpleCertificateStore.from_certs([borrower.certificate]),
    )
    signed = signers.sign_pdf(
        IncrementalPdfFileWriter(io.BytesIO(contract)),
        signers.PdfSignatureMetadata(field_name="BorrowerSignature"),
        signer=signer,
    ).getvalue()
    resealed = seal_pdf(signed, identity)
    assert verify_seal(resealed, identity.certificate).valid
    earlier = next(
        sig
        for sig in PdfFileReader(io.BytesIO(resealed)).embedded_signatures
        if sig.field_name == "BorrowerSignature"
    )
    status = validate_pdf_signature(
        earlier, ValidationContext(trust_roots=[borrower.certificate], allow_fetching=False)
    )
    assert status.intact and status.valid and status.trusted
