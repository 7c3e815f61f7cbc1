"""Schema versions: what the previous layout wrote (rows, due entries, queued messages with their job snapshots) is
read and executed correctly by this one, on real Azurite. The previous layout is written here literally, as the
code before schema versions wrote it."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from devhost.azurite import Azurite
from scheduler_core.adapters.clients import table_service
from scheduler_core.adapters.memory import MemoryQueue, ScriptedActions
from scheduler_core.adapters.tables import JOBS, SCHEMA_VERSION, TableStorage
from scheduler_core.domain.job import CollectionRef, JobRef, JobState
from scheduler_core.service import executor, planner
from scheduler_core.service.context import Services
from scheduler_core.service.dispatch import MESSAGE_VERSION, Occurrence, execution_id
from scheduler_core.settings import Settings
from tests.conftest import REPO

DUE = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
URI = "https://target.example/upgrade"


@pytest.fixture(scope="module")
def private_azurite() -> Iterator[Azurite]:
    with Azurite.start(repo_root=REPO) as emulator:
        yield emulator


@pytest.fixture
def services(private_azurite: Azurite) -> Services:
    settings = Settings.from_env({"AzureWebJobsStorage": private_azurite.connection_string})
    storage = TableStorage(table_service(settings.storage))
    storage.create_tables()
    return Services(
        storage=storage, queue=MemoryQueue(lambda: DUE), actions=ScriptedActions(), settings=settings, clock=lambda: DUE
    )


def previous_job_entity(ref: JobRef) -> dict[str, Any]:
    """A one-time job's row as layout 1 wrote it: `Generation`, no `Version`, no `SchemaVersion`."""
    c = ref.collection
    return {
        "PartitionKey": c.key,
        "RowKey": ref.name.lower(),
        "Subscription": c.subscription,
        "ResourceGroup": c.resource_group,
        "Collection": c.name,
        "Name": ref.name,
        "Definition": json.dumps({"startTime": "2026-06-01T12:00:00Z", "action": {"type": "Http", "request": {
            "uri": URI, "method": "POST"}}}),
        "Secrets": "",
        "State": "Enabled",
        "ExecutionCount": 0,
        "FailureCount": 0,
        "FaultedCount": 0,
        "LastExecutionTime": "",
        "NextExecutionTime": DUE.isoformat(timespec="milliseconds"),
        "CreatedAt": (DUE - timedelta(days=1)).isoformat(timespec="milliseconds"),
        "Generation": 3,
        "ManualRuns": 0,
        "Dispatched": "[]",
    }


def previous_message(ref: JobRef, snapshot: str | None, *, versioned: bool) -> dict[str, Any]:
    """An execution message as layout 1 wrote it (`"v": 1`, or older still, no `v` at all)."""
    c = ref.collection
    message = {
        "job": [c.subscription, c.resource_group, c.name, ref.name],
        "due": DUE.isoformat(),
        "id": execution_id(ref, DUE),
        "action": "MainAction",
        "retry": 0,
        "manual": False,
        "at": DUE.isoformat(),
        **({"snapshot": snapshot} if snapshot else {}),
    }
    return {"v": 1, **message} if versioned else message


def seed_previous_job(services: Services) -> tuple[JobRef, str]:
    ref = JobRef(CollectionRef("sub", "rg", f"jc-{uuid.uuid4().hex[:8]}"), "legacy")
    entity = previous_job_entity(ref)
    table = table_service(services.settings.storage).get_table_client(JOBS)
    etag = table.create_entity(entity)["etag"]
    return ref, json.dumps({"entity": entity, "etag": etag}, separators=(",", ":"))


@pytest.mark.parametrize("versioned", [True, False], ids=["v1", "unversioned"])
def test_a_message_of_the_previous_layout_executes_correctly_after_the_upgrade(
    services: Services, versioned: bool
) -> None:
    ref, snapshot = seed_previous_job(services)

    executor.execute(services, previous_message(ref, snapshot, versioned=versioned), "message-1")

    assert isinstance(services.actions, ScriptedActions)
    assert [call.action.payload.uri for call in services.actions.calls] == [URI]
    history = services.storage.list_history(ref, top=10, continuation=None, status=None).items
    assert [(e.status, e.expected_execution_time) for e in history] == [("Completed", DUE)]
    job = services.storage.get_job(ref)
    assert (job.state, job.status.execution_count, job.status.next_execution_time) == (JobState.COMPLETED, 1, None)
    assert job.version == "g3", "the API's ETag of a row of the previous layout comes from its Generation"
    row = table_service(services.settings.storage).get_table_client(JOBS).get_entity(ref.collection.key, "legacy")
    assert row["SchemaVersion"] == SCHEMA_VERSION, "rewritten in the current layout"


def test_a_due_entry_of_the_previous_layout_is_planned_into_a_current_message(services: Services) -> None:
    ref, snapshot = seed_previous_job(services)
    table = table_service(services.settings.storage).get_table_client("due")
    table.upsert_entity({
        "PartitionKey": DUE.strftime("%Y%m%d%H%M"),
        "RowKey": f"{DUE.isoformat(timespec='milliseconds')}|{ref.key}",
        "Subscription": "sub", "ResourceGroup": "rg", "Collection": ref.collection.name, "Job": "legacy",
        "Due": DUE.isoformat(timespec="milliseconds"),
        "Snapshot": snapshot,
    })

    planner.tick(services)

    assert isinstance(services.queue, MemoryQueue)
    [sent] = [m for m in services.queue.pending() if m.body["job"][2] == ref.collection.name]
    assert sent.body["v"] == MESSAGE_VERSION
    executor.execute(services, sent.body, sent.id)
    assert services.storage.get_job(ref).status.execution_count == 1


def test_a_message_of_a_newer_layout_is_refused_not_misread() -> None:
    ref = JobRef(CollectionRef("sub", "rg", "jc"), "job")
    with pytest.raises(ValueError):
        Occurrence.from_message({**previous_message(ref, None, versioned=True), "v": MESSAGE_VERSION + 1})
