"""The platform seal's key behind PKCS#11 (an HSM, or SoftHSM in development and tests): the
private key never leaves the token, pyhanko asks the token to sign.

Configured by `LOANFLOW_SEAL_PKCS11_MODULE` (the vendor's library, e.g.
`/usr/lib/softhsm/libsofthsm2.so`), `_TOKEN` (token label), `_KEY_LABEL` (label of the key and of
its certificate on the token) and `_PIN`. `provision` loads an existing seal identity (its
PKCS#12) into a token once: the key as a sensitive, non-extractable object, the certificate
beside it under the same label and id.
"""

from __future__ import annotations

from pathlib import Path

from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from pyhanko.sign.pkcs11 import PKCS11Signer, open_pkcs11_session

from contracts.seal import SealIdentity, SealIdentityError, load_pkcs12_identity

_KEY_ID = b"\x01"


def open_pkcs11_identity(module: Path, token: str, key_label: str, pin: str) -> SealIdentity:
    """The seal identity whose key stays on the token; the certificate is read from it."""
    from pkcs11 import PKCS11Error, UserAlreadyLoggedIn
    from pyhanko.config.pkcs11 import TokenCriteria

    criteria = TokenCriteria(label=token)
    session = None
    try:
        try:
            session = open_pkcs11_session(str(module), token_criteria=criteria, user_pin=pin)
        except UserAlreadyLoggedIn:
            # the login is per process and token: another session of ours holds it
            session = open_pkcs11_session(str(module), token_criteria=criteria)
        signer = PKCS11Signer(session, cert_label=key_label, key_label=key_label)
        certificate = signer.signing_cert
    except (PKCS11Error, OSError, RuntimeError) as exc:
        if session is not None:
            session.close()
        # the PIN is never part of the message
        raise SealIdentityError(
            f"cannot open seal key {key_label!r} on token {token!r}: {type(exc).__name__}"
        ) from None
    if certificate is None:
        raise SealIdentityError(f"no certificate labelled {key_label!r} on token {token!r}")
    return SealIdentity(certificate=certificate, external_signer=signer)


def provision(
    module: Path, token: str, pin: str, key_label: str, pkcs12: Path, passphrase: str
) -> asn1_x509.Certificate:
    """Put the seal identity of a PKCS#12 on the token (once; an existing label is refused)."""
    import pkcs11
    from pkcs11 import Attribute, ObjectClass
    from pkcs11.util.rsa import decode_rsa_private_key
    from pkcs11.util.x509 import decode_x509_certificate

    identity = load_pkcs12_identity(pkcs12, passphrase)
    assert identity.private_key is not None
    pkcs1 = identity.private_key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    slot_token = pkcs11.lib(str(module)).get_token(token_label=token)
    try:
        session = slot_token.open(rw=True, user_pin=pin)
    except pkcs11.UserAlreadyLoggedIn:
        session = slot_token.open(rw=True)
    with session:
        existing = list(session.get_objects({Attribute.LABEL: key_label}))
        if existing:
            raise SealIdentityError(f"token {token!r} already holds {key_label!r}")
        key = decode_rsa_private_key(pkcs1)
        key.update(
            {
                Attribute.LABEL: key_label,
                Attribute.ID: _KEY_ID,
                Attribute.TOKEN: True,
                Attribute.PRIVATE: True,
                Attribute.SENSITIVE: True,
                Attribute.EXTRACTABLE: False,
                Attribute.SIGN: True,
            }
        )
        session.create_object(key)
        cert = decode_x509_certificate(identity.certificate.dump())
        cert.update({Attribute.LABEL: key_label, Attribute.ID: _KEY_ID, Attribute.TOKEN: True})
        cert[Attribute.CLASS] = ObjectClass.CERTIFICATE
        session.create_object(cert)
    return identity.certificate
