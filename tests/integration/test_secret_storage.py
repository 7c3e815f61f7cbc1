"""Secrets through TableStorage on real Azurite: sealed at rest, and a job whose key is gone keeps its ciphertext
through the executor's writes, so restoring the key setting repairs it."""

from __future__ import annotations

import os
import uuid
from dataclasses import replace
from datetime import UTC, datetime

from azure.data.tables import TableServiceClient

from devhost.azurite import Azurite
from scheduler_core.adapters.secret_box import SecretBox, unreadable_reason
from scheduler_core.adapters.tables import JOBS, TableStorage
from scheduler_core.domain.job import CollectionRef, JobRef, JobState, JobStatus
from scheduler_core.ports import StoredJob

SECRETS = {"action.request.authentication.password": "integration-secret-31"}


def storage(azurite: Azurite, box: SecretBox) -> TableStorage:
    tables = TableStorage(TableServiceClient.from_connection_string(azurite.connection_string),
                          seal=box.seal_for_storage, unseal=box.unseal_for_storage)
    tables.create_tables()
    return tables


def test_secrets_survive_a_missing_key_and_open_again_when_it_returns(azurite: Azurite) -> None:
    key = os.urandom(32)
    ref = JobRef(CollectionRef("sub", "rg", f"jc-{uuid.uuid4().hex[:8]}"), "job")
    job = StoredJob(ref, {"action": {"type": "Http"}}, JobState.ENABLED, JobStatus(), datetime.now(UTC),
                    secrets=SECRETS)
    storage(azurite, SecretBox({"k1": key}, "k1")).create_job(job)
    raw = TableServiceClient.from_connection_string(azurite.connection_string).get_table_client(JOBS)
    entity = next(e for e in raw.list_entities() if e["PartitionKey"] == ref.collection.key)
    assert entity["Secrets"].startswith("v1:k1:") and "integration-secret-31" not in str(entity)

    without_key = storage(azurite, SecretBox({"k2": os.urandom(32)}, "k2"))
    read = without_key.get_job(ref)
    assert "SCHEDULER_SECRET_KEYS" in (unreadable_reason(read.secrets) or "")
    without_key.update_job(ref, lambda current: replace(current, status=replace(current.status, execution_count=1)))

    restored = storage(azurite, SecretBox({"k1": key, "k2": os.urandom(32)}, "k2")).get_job(ref)
    assert restored.secrets == SECRETS and restored.status.execution_count == 1


def test_a_job_snapshot_carries_its_secrets_sealed_and_restores_the_job_with_its_etag(azurite: Azurite) -> None:
    box = SecretBox({"k1": os.urandom(32)}, "k1")
    tables = storage(azurite, box)
    ref = JobRef(CollectionRef("sub", "rg", f"jc-{uuid.uuid4().hex[:8]}"), "job")
    job = tables.create_job(
        StoredJob(ref, {"action": {"type": "Http"}}, JobState.ENABLED, JobStatus(), datetime.now(UTC), secrets=SECRETS)
    )

    snapshot = tables.snapshot(job)

    assert snapshot is not None and "integration-secret-31" not in snapshot  # it travels in queue messages
    assert tables.restore(snapshot) == tables.get_job(ref)
