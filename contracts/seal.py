"""The platform's electronic seal on the signed contract (stage 8): a PAdES signature by pyhanko.

Key custody: in a deployment the seal identity (RSA key and certificate) is an encrypted
PKCS#12 made once and handed to every worker (`LOANFLOW_SEAL_PKCS12`, its passphrase in
`LOANFLOW_SEAL_PKCS12_PASSPHRASE`), so all hosts carry the same seal and no key sits in clear on
a disk. A development checkout creates its own self-signed identity on first use, also as an
encrypted PKCS#12 (mode 0600) under the data folder.

Time: with a time-stamp authority configured (`LOANFLOW_TSA_URL`, RFC 3161 over HTTP) the
seal carries a signature time-stamp, so its time does not rest on the platform's own clock.
Verification is offline: no OCSP or CRL fetching, the given certificates are the trust roots.
"""

from __future__ import annotations

import io
import logging
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from pydantic import BaseModel
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.general import SigningError
from pyhanko.sign.timestamps import TimeStamper
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

logger = logging.getLogger(__name__)

SEAL_FIELD = "PlatformSeal"
IDENTITY_FOLDER = "platform-seal"
PKCS12_FILE = "seal.p12"
DEV_PASSPHRASE = "loanflow-dev-seal"
SEAL_COMMON_NAME = "loanflow platform seal"
SEAL_VALIDITY = timedelta(days=3650)
_SPKI = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


class SealIdentityError(RuntimeError):
    """The seal identity is unusable: unreadable or wrong passphrase, not RSA, expired, or its
    key and certificate disagree."""


@dataclass(frozen=True, eq=False)
class SealIdentity:
    """The seal's certificate and either its key in memory (from a PKCS#12) or a signer that
    asks a PKCS#11 token (`contracts.pkcs11_seal`)."""

    certificate: asn1_x509.Certificate
    key: asn1_keys.PrivateKeyInfo | None = None
    private_key: rsa.RSAPrivateKey | None = None
    external_signer: signers.Signer | None = None

    @property
    def subject(self) -> str:
        return self.certificate.subject.human_friendly


class SealReport(BaseModel):
    """What a verifier needs: is the signed content unchanged, and is the seal ours?"""

    intact: bool
    valid: bool
    signer: str | None = None
    covers_whole_file: bool = False
    signed_at: datetime | None = None
    timestamped_at: datetime | None = None
    timestamp_trusted: bool | None = None
    detail: str = ""


def _new_identity_files(
    folder: Path, organization: str, passphrase: str, filename: str = PKCS12_FILE
) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
            x509.NameAttribute(NameOID.COMMON_NAME, SEAL_COMMON_NAME),
        ]
    )
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + SEAL_VALIDITY)
        # a self-signed root that also signs documents: CA for path building, and the
        # non-repudiation (content commitment) usage pyhanko requires of a signer
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    bundle = pkcs12.serialize_key_and_certificates(
        SEAL_COMMON_NAME.encode(),
        key,
        cert,
        None,
        serialization.BestAvailableEncryption(passphrase.encode()),
    )
    fd = os.open(folder / filename, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(bundle)


def load_or_create_seal_identity(
    key_dir: Path, organization: str = "loanflow", passphrase: str = DEV_PASSPHRASE
) -> SealIdentity:
    """Load the development seal identity under key_dir, creating it on first use.

    Creation writes both files into a private temporary folder and renames the folder into
    place, so concurrent workers never see half an identity and exactly one creation wins.
    """
    key_dir = Path(key_dir)
    key_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    folder = key_dir / IDENTITY_FOLDER
    if not folder.is_dir():
        staging = Path(tempfile.mkdtemp(prefix=".seal-", dir=key_dir))
        try:
            _new_identity_files(staging, organization, passphrase)
            os.rename(staging, folder)
            logger.info("created the platform seal identity under %s", key_dir)
        except OSError:
            if not folder.is_dir():
                raise
            # another worker created it first; theirs is the one every document will carry
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    _encrypt_legacy_pem_identity(folder, passphrase)
    return load_pkcs12_identity(folder / PKCS12_FILE, passphrase)


def _encrypt_legacy_pem_identity(folder: Path, passphrase: str) -> None:
    """Checkouts made before key custody kept the key as a clear PEM: wrap it into the
    encrypted PKCS#12 (same seal, same certificate) and delete the clear key."""
    key_pem, cert_pem = folder / "seal-key.pem", folder / "seal-cert.pem"
    if (folder / PKCS12_FILE).exists() or not key_pem.exists():
        return
    key = serialization.load_pem_private_key(key_pem.read_bytes(), password=None)
    cert = x509.load_pem_x509_certificate(cert_pem.read_bytes())
    if not isinstance(key, rsa.RSAPrivateKey):
        raise SealIdentityError("the seal key is not an RSA key")
    bundle = pkcs12.serialize_key_and_certificates(
        SEAL_COMMON_NAME.encode(), key, cert, None,
        serialization.BestAvailableEncryption(passphrase.encode()),
    )  # fmt: skip
    staged = folder / f".{PKCS12_FILE}.tmp"
    fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(bundle)
    os.replace(staged, folder / PKCS12_FILE)
    key_pem.unlink()
    logger.info("the development seal key is now an encrypted PKCS#12")


def load_pkcs12_identity(path: Path, passphrase: str) -> SealIdentity:
    """The seal identity from an encrypted PKCS#12 file (key and certificate)."""
    try:
        key, cert, _chain = pkcs12.load_key_and_certificates(
            Path(path).read_bytes(), passphrase.encode() or None
        )
    except (OSError, ValueError) as exc:
        # the message says which; the passphrase itself never appears in it
        raise SealIdentityError(f"cannot read the seal PKCS#12 {path}: {exc}") from None
    if key is None or cert is None:
        raise SealIdentityError(f"the seal PKCS#12 {path} lacks a key or a certificate")
    return _identity(key, cert)


def _identity(key: object, cert: x509.Certificate) -> SealIdentity:
    if not isinstance(key, rsa.RSAPrivateKey):
        raise SealIdentityError("the seal key is not an RSA key")
    if key.public_key().public_bytes(*_SPKI) != cert.public_key().public_bytes(*_SPKI):
        raise SealIdentityError("the seal key does not match the seal certificate")
    if cert.not_valid_after_utc <= datetime.now(UTC):
        raise SealIdentityError(f"the seal certificate expired on {cert.not_valid_after_utc:%F}")
    der_key = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return SealIdentity(
        certificate=asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER)),
        key=asn1_keys.PrivateKeyInfo.load(der_key),
        private_key=key,
    )


def load_trust_certificate(path: Path) -> asn1_x509.Certificate:
    """A PEM certificate to trust (the seal's or a TSA's root)."""
    cert = x509.load_pem_x509_certificate(Path(path).read_bytes())
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


class _ParsedKeySigner(signers.SimpleSigner):
    """SimpleSigner re-parses the DER key for every signature, repeating cryptography's RSA
    consistency check (~0.1 s for 3072 bits, twice per seal with the size estimate). Sign with
    the key parsed once at load instead."""

    def __init__(self, identity: SealIdentity) -> None:
        assert identity.key is not None and identity.private_key is not None
        super().__init__(
            signing_cert=identity.certificate,
            signing_key=identity.key,
            cert_registry=SimpleCertificateStore.from_certs([identity.certificate]),
        )
        self._private_key = identity.private_key

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
        if mechanism != "rsassa_pkcs1v15":
            return super().sign_raw(data, digest_algorithm)
        return self._private_key.sign(
            data, PKCS1v15(), get_pyca_cryptography_hash(digest_algorithm)
        )


def seal_pdf(
    pdf: bytes,
    identity: SealIdentity,
    *,
    reason: str = "平台电子印章",
    timestamper: TimeStamper | None = None,
) -> bytes:
    """Append the platform's PAdES seal as an incremental update; earlier signatures stay valid.
    With a timestamper (`HTTPTimeStamper(tsa_url)`) the seal carries an RFC 3161 signature
    time-stamp; a TSA that does not answer fails the seal (the activity retries).

    Synchronous and CPU-bound; pyhanko runs its own event loop inside, so async callers must
    call it in a worker thread (`asyncio.to_thread`)."""
    signer = identity.external_signer or _ParsedKeySigner(identity)
    meta = signers.PdfSignatureMetadata(
        field_name=SEAL_FIELD,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        reason=reason,
        name=identity.subject,
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    output = signers.sign_pdf(writer, meta, signer=signer, timestamper=timestamper)
    return output.getvalue()


def verify_seal(
    pdf: bytes,
    trust_cert: asn1_x509.Certificate,
    tsa_roots: Sequence[asn1_x509.Certificate] = (),
) -> SealReport:
    """Check the platform seal against trust_cert (and its time-stamp, if any, against
    tsa_roots); a damaged file is reported, not raised.

    Like seal_pdf, call it in a worker thread from async code."""
    try:
        reader = PdfFileReader(io.BytesIO(pdf))
        seals = [s for s in reader.embedded_signatures if s.field_name == SEAL_FIELD]
        if not seals:
            return SealReport(intact=False, valid=False, detail="no platform seal in the file")
        context = ValidationContext(
            trust_roots=[trust_cert], allow_fetching=False, revocation_mode="soft-fail"
        )
        ts_context = ValidationContext(
            trust_roots=list(tsa_roots) or [trust_cert],
            allow_fetching=False,
            revocation_mode="soft-fail",
        )
        status = validate_pdf_signature(
            seals[-1], signer_validation_context=context, ts_validation_context=ts_context
        )
    except (PdfError, SignatureValidationError, SigningError, ValueError, KeyError) as exc:
        return SealReport(intact=False, valid=False, detail=f"unreadable: {exc}")
    stamp = status.timestamp_validity
    return SealReport(
        intact=status.intact,
        # intact, cryptographically valid, chained to trust_cert, later changes allowed
        valid=status.bottom_line,
        signer=status.signing_cert.subject.human_friendly if status.signing_cert else None,
        covers_whole_file=status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
        signed_at=status.signer_reported_dt,
        timestamped_at=stamp.timestamp if stamp else None,
        timestamp_trusted=stamp.trusted if stamp else None,
        detail=status.summary(),
    )


def main() -> None:
    """`python -m contracts.seal new --out deploy/secrets/seal.p12 --organization NAME`: make
    the deployment's seal identity once, an encrypted PKCS#12 whose passphrase is read from
    LOANFLOW_SEAL_PKCS12_PASSPHRASE (never from the command line, which others can read).
    An existing file is never replaced."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m contracts.seal", description=main.__doc__)
    parser.add_argument("command", choices=["new"])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--organization", required=True)
    args = parser.parse_args()
    passphrase = os.environ.get("LOANFLOW_SEAL_PKCS12_PASSPHRASE", "")
    if len(passphrase) < 12:
        parser.error("set LOANFLOW_SEAL_PKCS12_PASSPHRASE (12 characters or more)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    try:
        _new_identity_files(args.out.parent, args.organization, passphrase, args.out.name)
    except FileExistsError:
        parser.error(f"{args.out} exists: a seal identity is made once, never replaced")
    identity = load_pkcs12_identity(args.out, passphrase)
    print(f"wrote {args.out}: {identity.subject}")


if __name__ == "__main__":
    main()
