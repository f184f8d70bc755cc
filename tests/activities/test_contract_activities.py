"""Contract activities in an ActivityEnvironment, with a local blob store in tmp_path."""

from __future__ import annotations

import asyncio
import hashlib
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.contract import ContractActivities
from config.settings import Settings
from contracts.seal import load_or_create_seal_identity, verify_seal
from domain.contract import ContractDocument, ContractInput, SealInput
from domain.identity import Applicant
from domain.naming import ErrorType
from domain.pricing import build_schedule
from store.blob_crypto import EncryptedBlobStore
from store.blobs import LocalBlobStore


@pytest.fixture
def blobs(tmp_path: Path) -> LocalBlobStore:
    return LocalBlobStore(tmp_path / "blobs")


@pytest.fixture
def activities(blobs: LocalBlobStore, tmp_path: Path) -> ContractActivities:
    settings = Settings(environment="test", data_dir=tmp_path / "data")
    return ContractActivities(blobs, settings, lender_name="测试小额贷款有限公司")


def contract_input(application_id: str = "app-42") -> ContractInput:
    return ContractInput(
        application_id=application_id,
        product_name="标准现金贷",
        schedule=build_schedule(2_000_000, 12, 0.14),
        generated_at=datetime(2026, 11, 3, 9, 30, tzinfo=UTC),
        applicant=Applicant(
            full_name="王小明", id_number="11010519491231002X", phone="13800138000"
        ),
    )


async def test_generate_stores_the_pdf_and_returns_its_claim_check(
    activities: ContractActivities, blobs: LocalBlobStore
) -> None:
    document = await ActivityEnvironment().run(activities.generate, contract_input())
    assert document.blob_key.startswith("documents/app-42/contract/")
    pdf = blobs.get(document.blob_key)
    assert pdf.startswith(b"%PDF-")
    assert document.sha256 == hashlib.sha256(pdf).hexdigest()
    assert document.pages == 2


async def test_a_retried_generate_lands_on_the_same_blob(activities: ContractActivities) -> None:
    env = ActivityEnvironment()
    first = await env.run(activities.generate, contract_input())
    second = await env.run(activities.generate, contract_input())
    assert first == second


async def test_seal_stores_a_verifiable_sealed_copy(
    activities: ContractActivities, blobs: LocalBlobStore, tmp_path: Path
) -> None:
    env = ActivityEnvironment()
    signed = await env.run(activities.generate, contract_input())
    sealed = await env.run(activities.seal, SealInput(application_id="app-42", contract=signed))
    assert sealed.blob_key.startswith("documents/app-42/contract_sealed/")
    assert sealed.pages == signed.pages
    data = blobs.get(sealed.blob_key)
    assert sealed.sha256 == hashlib.sha256(data).hexdigest()
    assert data.startswith(blobs.get(signed.blob_key))
    # the identity was created under settings.data_dir / "keys" and is the one that verifies
    identity = load_or_create_seal_identity(tmp_path / "data" / "keys")
    # pyhanko's synchronous API runs its own event loop: call it off this test's loop
    report = await asyncio.to_thread(verify_seal, data, identity.certificate)
    assert report.valid and report.intact and report.covers_whole_file


async def test_one_identity_serves_every_seal(
    activities: ContractActivities, blobs: LocalBlobStore, tmp_path: Path
) -> None:
    env = ActivityEnvironment()
    first = await env.run(activities.generate, contract_input("app-1"))
    second = await env.run(activities.generate, contract_input("app-2"))
    sealed = [
        await env.run(activities.seal, SealInput(application_id=app, contract=doc))
        for app, doc in (("app-1", first), ("app-2", second))
    ]
    identity = load_or_create_seal_identity(tmp_path / "data" / "keys")
    for document in sealed:
        report = await asyncio.to_thread(
            verify_seal, blobs.get(document.blob_key), identity.certificate
        )
        assert report.valid


async def test_a_tampered_signed_contract_is_refused_for_good(
    activities: ContractActivities, blobs: LocalBlobStore
) -> None:
    env = ActivityEnvironment()
    signed = await env.run(activities.generate, contract_input())
    other_key, _ = blobs.put("documents/app-42/contract", b"%PDF-1.4 something else")
    swapped = signed.model_copy(update={"blob_key": other_key})
    with pytest.raises(ApplicationError) as refused:
        await env.run(activities.seal, SealInput(application_id="app-42", contract=swapped))
    assert refused.value.type == ErrorType.BAD_DOCUMENT
    assert refused.value.non_retryable


async def test_a_missing_signed_contract_is_refused_for_good(
    activities: ContractActivities,
) -> None:
    missing = ContractDocument(
        blob_key="documents/app-42/contract/" + "0" * 64, sha256="0" * 64, pages=1
    )
    with pytest.raises(ApplicationError) as refused:
        await ActivityEnvironment().run(
            activities.seal, SealInput(application_id="app-42", contract=missing)
        )
    assert refused.value.type == ErrorType.BAD_DOCUMENT
    assert refused.value.non_retryable


async def test_an_undecryptable_signed_contract_is_refused_for_good_with_why(
    blobs: LocalBlobStore, tmp_path: Path
) -> None:
    settings = Settings(environment="test", data_dir=tmp_path / "data")
    sealed_store = EncryptedBlobStore(blobs, {"k1": os.urandom(32)}, "k1")
    env = ActivityEnvironment()
    signed = await env.run(ContractActivities(sealed_store, settings).generate, contract_input())
    seal = SealInput(application_id="app-42", contract=signed)

    retired = EncryptedBlobStore(blobs, {"k2": os.urandom(32)}, "k2")
    with pytest.raises(ApplicationError) as refused:
        await env.run(ContractActivities(retired, settings).seal, seal)
    assert (refused.value.type, refused.value.non_retryable) == (ErrorType.BLOB_UNREADABLE, True)
    assert "key id" in refused.value.message

    path = blobs.root / signed.blob_key
    path.write_bytes(path.read_bytes()[:-1] + bytes([path.read_bytes()[-1] ^ 1]))
    with pytest.raises(ApplicationError) as refused:
        await env.run(ContractActivities(sealed_store, settings).seal, seal)
    assert (refused.value.type, refused.value.non_retryable) == (ErrorType.BLOB_UNREADABLE, True)
    assert "damaged" in refused.value.message
