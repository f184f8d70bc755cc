"""The platform's electronic seal on the signed contract (stage 8): a PAdES signature by pyhanko.

The seal identity is a self-signed RSA certificate made once per deployment and kept as PEM
files (mode 0600) under a key folder. Sealing and verification are offline: no time-stamp
authority, no OCSP or CRL fetching, the certificate itself is the trust root.
"""

from __future__ import annotations

import io
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.x509.oid import NameOID
from pydantic import BaseModel
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.general import SigningError
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

logger = logging.getLogger(__name__)

SEAL_FIELD = "PlatformSeal"
IDENTITY_FOLDER = "platform-seal"
KEY_FILE = "seal-key.pem"
CERT_FILE = "seal-cert.pem"
SEAL_COMMON_NAME = "loanflow platform seal"
SEAL_VALIDITY = timedelta(days=3650)
_SPKI = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


class SealIdentityError(RuntimeError):
    """The persisted seal identity is unusable (expired, or key and certificate disagree)."""


@dataclass(frozen=True, eq=False)
class SealIdentity:
    certificate: asn1_x509.Certificate
    key: asn1_keys.PrivateKeyInfo
    private_key: rsa.RSAPrivateKey

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
    detail: str = ""


def _new_identity_files(folder: Path, organization: str) -> None:
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
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    for filename, data in (
        (KEY_FILE, key_pem),
        (CERT_FILE, cert.public_bytes(serialization.Encoding.PEM)),
    ):
        fd = os.open(folder / filename, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)


def load_or_create_seal_identity(key_dir: Path, organization: str = "loanflow") -> SealIdentity:
    """Load the seal identity under key_dir, creating it on first use.

    Creation writes both files into a private temporary folder and renames the folder into
    place, so concurrent workers never see half an identity and exactly one creation wins.
    """
    key_dir = Path(key_dir)
    key_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    folder = key_dir / IDENTITY_FOLDER
    if not folder.is_dir():
        staging = Path(tempfile.mkdtemp(prefix=".seal-", dir=key_dir))
        try:
            _new_identity_files(staging, organization)
            os.rename(staging, folder)
            logger.info("created the platform seal identity under %s", key_dir)
        except OSError:
            if not folder.is_dir():
                raise
            # another worker created it first; theirs is the one every document will carry
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return _load(folder)


def _load(folder: Path) -> SealIdentity:
    cert = x509.load_pem_x509_certificate((folder / CERT_FILE).read_bytes())
    key = serialization.load_pem_private_key((folder / KEY_FILE).read_bytes(), password=None)
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


class _ParsedKeySigner(signers.SimpleSigner):
    """SimpleSigner re-parses the DER key for every signature, repeating cryptography's RSA
    consistency check (~0.1 s for 3072 bits, twice per seal with the size estimate). Sign with
    the key parsed once at load instead."""

    def __init__(self, identity: SealIdentity) -> None:
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


def seal_pdf(pdf: bytes, identity: SealIdentity, *, reason: str = "平台电子印章") -> bytes:
    """Append the platform's PAdES seal as an incremental update; earlier signatures stay valid.

    Synchronous and CPU-bound; pyhanko runs its own event loop inside, so async callers must
    call it in a worker thread (`asyncio.to_thread`)."""
    signer = _ParsedKeySigner(identity)
    meta = signers.PdfSignatureMetadata(
        field_name=SEAL_FIELD,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        reason=reason,
        name=identity.subject,
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    output = signers.sign_pdf(writer, meta, signer=signer)
    return output.getvalue()


def verify_seal(pdf: bytes, trust_cert: asn1_x509.Certificate) -> SealReport:
    """Check the platform seal against trust_cert; a damaged file is reported, not raised.

    Like seal_pdf, call it in a worker thread from async code."""
    try:
        reader = PdfFileReader(io.BytesIO(pdf))
        seals = [s for s in reader.embedded_signatures if s.field_name == SEAL_FIELD]
        if not seals:
            return SealReport(intact=False, valid=False, detail="no platform seal in the file")
        context = ValidationContext(
            trust_roots=[trust_cert], allow_fetching=False, revocation_mode="soft-fail"
        )
        status = validate_pdf_signature(seals[-1], signer_validation_context=context)
    except (PdfError, SignatureValidationError, SigningError, ValueError, KeyError) as exc:
        return SealReport(intact=False, valid=False, detail=f"unreadable: {exc}")
    return SealReport(
        intact=status.intact,
        # intact, cryptographically valid, chained to trust_cert, later changes allowed
        valid=status.bottom_line,
        signer=status.signing_cert.subject.human_friendly if status.signing_cert else None,
        covers_whole_file=status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
        signed_at=status.signer_reported_dt,
        detail=status.summary(),
    )
