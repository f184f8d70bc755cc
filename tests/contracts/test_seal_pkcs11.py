"""The seal key behind PKCS#11: SoftHSM (Debian `softhsm2`) as the token. The key is provisioned
once from the deployment's PKCS#12, then every seal is signed by the token."""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from temporalio.testing import ActivityEnvironment

from activities.contract import ContractActivities
from config.settings import Settings
from contracts.pdf import render_contract
from contracts.seal import SealIdentityError, load_or_create_seal_identity, seal_pdf, verify_seal
from domain.contract import ContractDocument, ContractInput, SealInput
from domain.identity import Applicant
from domain.pricing import build_schedule
from store.blobs import LocalBlobStore

MODULE = Path("/usr/lib/softhsm/libsofthsm2.so")
TOKEN, PIN, LABEL = "loanflow-test", "246810", "loanflow-seal"

pytest.importorskip("pkcs11")
pytestmark = pytest.mark.skipif(
    not MODULE.exists() or shutil.which("softhsm2-util") is None,
    reason="softhsm2 is not installed (scripts/bootstrap.sh installs it)",
)


@pytest.fixture(scope="module")
def token(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A SoftHSM token of its own; SoftHSM reads its configuration once per process, so the
    whole module shares one."""
    folder = tmp_path_factory.mktemp("softhsm")
    (folder / "tokens").mkdir()
    conf = folder / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {folder / 'tokens'}\nobjectstore.backend = file\n")
    previous = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    subprocess.run(
        ["softhsm2-util", "--init-token", "--free", "--label", TOKEN, "--pin", PIN,
         "--so-pin", "13579246"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    yield folder
    if previous is None:
        os.environ.pop("SOFTHSM2_CONF", None)
    else:
        os.environ["SOFTHSM2_CONF"] = previous


@pytest.fixture(scope="module")
def provisioned(token: Path, tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    from contracts.pkcs11_seal import provision

    identity = load_or_create_seal_identity(tmp_path_factory.mktemp("ca"), "示例小额贷款有限公司")
    assert identity.private_key is not None
    p12 = tmp_path_factory.mktemp("secrets") / "seal.p12"
    p12.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"seal",
            identity.private_key,
            x509.load_der_x509_certificate(identity.certificate.dump()),
            None,
            serialization.BestAvailableEncryption(b"p12 passphrase"),
        )
    )
    certificate = provision(MODULE, TOKEN, PIN, LABEL, p12, "p12 passphrase")
    return certificate, p12


def contract(application_id: str) -> bytes:
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


def test_a_wrong_pin_or_label_is_refused_without_the_pin(provisioned) -> None:  # noqa: ANN001
    # first in the module: no session of this process is logged in yet
    from contracts.pkcs11_seal import open_pkcs11_identity, provision

    with pytest.raises(SealIdentityError) as refused:
        open_pkcs11_identity(MODULE, TOKEN, LABEL, "000000")
    assert "000000" not in str(refused.value)
    with pytest.raises(SealIdentityError):
        open_pkcs11_identity(MODULE, TOKEN, "no-such-key", PIN)
    _, p12 = provisioned
    with pytest.raises(SealIdentityError, match="already holds"):
        provision(MODULE, TOKEN, PIN, LABEL, p12, "p12 passphrase")


def test_a_seal_signed_by_the_token_verifies(provisioned) -> None:  # noqa: ANN001
    from contracts.pkcs11_seal import open_pkcs11_identity

    certificate, _ = provisioned
    identity = open_pkcs11_identity(MODULE, TOKEN, LABEL, PIN)
    assert identity.private_key is None  # nothing of the key in this process
    assert identity.certificate.dump() == certificate.dump()
    try:
        report = verify_seal(seal_pdf(contract("hsm-1"), identity), certificate)
    finally:
        identity.external_signer.pkcs11_session.close()  # type: ignore[union-attr]
    assert report.valid and report.covers_whole_file, report.detail


async def test_the_seal_activity_signs_with_the_configured_token(
    provisioned,  # noqa: ANN001
    tmp_path: Path,
) -> None:
    certificate, _ = provisioned
    settings = Settings(
        environment="test",
        data_dir=tmp_path / "data",
        seal_pkcs11_module=MODULE,
        seal_pkcs11_token=TOKEN,
        seal_pkcs11_key_label=LABEL,
        seal_pkcs11_pin=PIN,
    )
    blobs = LocalBlobStore(tmp_path / "blobs")
    key, digest = blobs.put("documents/hsm-2/contract_signed", contract("hsm-2"))
    document = await ActivityEnvironment().run(
        ContractActivities(blobs, settings).seal,
        SealInput(
            application_id="hsm-2", contract=ContractDocument(blob_key=key, sha256=digest, pages=2)
        ),
    )
    sealed = blobs.get(document.blob_key)
    assert document.sha256 == hashlib.sha256(sealed).hexdigest()
    assert (await asyncio.to_thread(verify_seal, sealed, certificate)).valid
    assert not (tmp_path / "data" / "keys").exists()
