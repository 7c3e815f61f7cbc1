"""What the console adds to the job table, on real Azurite: a job's last result and the note of who disabled it
and why survive a round trip and live as long as the job stays disabled, and `jobs_changed_since` returns only the
rows written since an instant."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from devhost.azurite import Azurite
from scheduler_core.adapters.clients import table_service
from scheduler_core.adapters.tables import TableStorage
from scheduler_core.api.models import job_write_from_wire
from scheduler_core.bootstrap import build_services
from scheduler_core.domain.job import CollectionRef, DisabledNote, JobRef, JobState, JobStatus
from scheduler_core.ports import StoredCollection, StoredJob
from scheduler_core.service import console, jobs
from scheduler_core.service.context import Services
from scheduler_core.settings import Settings

pytestmark = pytest.mark.integration


@pytest.fixture
def storage(azurite: Azurite) -> TableStorage:
    tables = TableStorage(table_service(Settings.from_env({"AzureWebJobsStorage": azurite.connection_string}).storage))
    tables.create_tables()
    return tables


def a_job(collection: CollectionRef, name: str) -> StoredJob:
    definition = {"action": {"type": "Http", "request": {"uri": "https://example.com/", "method": "GET"}}}
    return StoredJob(JobRef(collection, name), definition, JobState.ENABLED, JobStatus(), datetime.now(UTC))


def test_last_result_and_disabled_note_round_trip(storage: TableStorage) -> None:
    collection = CollectionRef("sub", "rg", f"c{uuid.uuid4().hex[:8]}")
    stored = storage.create_job(a_job(collection, "j"))
    note = DisabledNote("ada@contoso.com", datetime(2026, 12, 2, 9, 30, tzinfo=UTC), "upstream down")
    status = replace(stored.status, last_result="Failed")
    storage.replace_job(replace(stored, state=JobState.DISABLED, status=status, disabled_note=note))
    read = storage.get_job(stored.ref)
    assert read.status.last_result == "Failed"
    assert read.disabled_note == note
    assert str(read.disabled_note) == "disabled by ada@contoso.com at 2026-12-02 09:30 UTC: upstream down"


def test_a_row_written_before_these_columns_existed_reads_without_them(storage: TableStorage) -> None:
    collection = CollectionRef("sub", "rg", f"c{uuid.uuid4().hex[:8]}")
    stored = storage.create_job(a_job(collection, "old"))
    entity = storage._job_entity(stored)
    for column in ("LastResult", "DisabledBy", "DisabledAt", "DisabledReason"):
        del entity[column]
    storage._tables["jobs"].upsert_entity(entity)
    read = storage.get_job(stored.ref)
    assert read.status.last_result is None and read.disabled_note is None


def test_jobs_changed_since_returns_only_later_writes(storage: TableStorage) -> None:
    collection = CollectionRef("sub", "rg", f"c{uuid.uuid4().hex[:8]}")
    for name in ("a", "b", "c"):
        storage.create_job(a_job(collection, name))
    everything, newest = storage.jobs_changed_since(collection, None)
    assert sorted(j.ref.name for j in everything) == ["a", "b", "c"] and newest is not None
    storage.replace_job(replace(storage.get_job(JobRef(collection, "b")), state=JobState.DISABLED))
    changed, _ = storage.jobs_changed_since(collection, newest + timedelta(milliseconds=1))
    assert [(j.ref.name, j.state) for j in changed] == [("b", JobState.DISABLED)]


@pytest.fixture
def services(azurite: Azurite) -> Services:
    return build_services(Settings.from_env({"AzureWebJobsStorage": azurite.connection_string}))


def test_a_disable_keeps_who_when_and_why_until_the_job_is_enabled(services: Services) -> None:
    collection = CollectionRef("sub", "rg", f"c{uuid.uuid4().hex[:8]}")
    services.storage.create_collection(StoredCollection(collection, {"location": "x", "properties": {}}))
    ref = JobRef(collection, "nightly")
    action = {"type": "Http", "request": {"uri": "https://example.com/", "method": "GET"}}
    hourly = {"action": action, "recurrence": {"frequency": "Hour", "interval": 1}}
    jobs.put_job(services, ref, job_write_from_wire(hourly))

    console.disable_job(services, ref, "ada@contoso.com", "  upstream down  ")
    note = services.storage.get_job(ref).disabled_note
    assert note is not None and (note.by, note.reason) == ("ada@contoso.com", "upstream down")
    assert jobs.get_job(services, ref).state is JobState.DISABLED

    hourly = {"action": action, "recurrence": {"frequency": "Hour", "interval": 2}}
    jobs.put_job(services, ref, job_write_from_wire(hourly))
    assert services.storage.get_job(ref).disabled_note == note  # a change of definition keeps it while disabled

    console.enable_job(services, ref)
    assert services.storage.get_job(ref).disabled_note is None
    jobs.set_state(services, ref, JobState.DISABLED)  # through the API: no reason given, none shown
    assert services.storage.get_job(ref).disabled_note is None
