"""A local RFC 3161 time-stamp authority for development and tests: HTTP POST of a
`application/timestamp-query`, answered with a token signed by its own self-signed TSA
certificate (pyhanko's `DummyTimeStamper` builds and signs the token).

    with LocalTsa.start(folder) as tsa:   # tsa.url, tsa.cert_path (the root to trust)
        ...

Not for production: the clock is this machine's and the key is made on the spot.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from asn1crypto import keys as asn1_keys
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

MAX_QUERY_BYTES = 16 * 1024


def _tsa_identity() -> tuple[asn1_x509.Certificate, asn1_keys.PrivateKeyInfo, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "loanflow development"),
            x509.NameAttribute(NameOID.COMMON_NAME, "loanflow local TSA"),
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
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        # RFC 3161 §2.3: a TSA certificate has exactly this one extended key usage, critical
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(key, hashes.SHA256())
    )
    der_key = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    pem = cert.public_bytes(serialization.Encoding.PEM)
    return (
        asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER)),
        asn1_keys.PrivateKeyInfo.load(der_key),
        pem,
    )


@dataclass
class LocalTsa:
    url: str
    cert_path: Path
    certificate: asn1_x509.Certificate
    requests: int = 0

    @classmethod
    @contextmanager
    def start(cls, folder: Path, host: str = "127.0.0.1", port: int = 0) -> Iterator[LocalTsa]:
        cert, key, pem = _tsa_identity()
        folder.mkdir(parents=True, exist_ok=True)
        cert_path = folder / "tsa-root.pem"
        cert_path.write_bytes(pem)
        stamper = DummyTimeStamper(tsa_cert=cert, tsa_key=key)
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802  (http.server's naming)
                length = int(self.headers.get("Content-Length") or 0)
                if self.headers.get("Content-Type") != "application/timestamp-query" or not (
                    0 < length <= MAX_QUERY_BYTES
                ):
                    self.send_error(400, "expected an application/timestamp-query")
                    return
                try:
                    query = tsp.TimeStampReq.load(self.rfile.read(length))
                    with lock:
                        answer = stamper.request_tsa_response(query).dump()
                        tsa.requests += 1
                except ValueError:
                    self.send_error(400, "malformed time-stamp query")
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        server = ThreadingHTTPServer((host, port), Handler)
        tsa = cls(f"http://{host}:{server.server_address[1]}/", cert_path, cert)
        thread = threading.Thread(target=server.serve_forever, daemon=True, name="local-tsa")
        thread.start()
        try:
            yield tsa
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)
