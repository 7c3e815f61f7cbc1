"""Schema versions: what the previous layout wrote (rows, due entries, queued messages with their job snapshots) is
read and executed correctly by this one, on real Azurite. The previous layout is written here literally, as the
code before schema versions wrote it."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from devhost.azurite import Azurite
from scheduler_core.adapters import messages
from scheduler_core.adapters.clients import table_service
from scheduler_core.adapters.memory import MemoryQueue, ScriptedActions
from scheduler_core.adapters.messages import MESSAGE_VERSION
from scheduler_core.adapters.tables import JOBS, SCHEMA_VERSION, TableStorage
from scheduler_core.domain.job import CollectionRef, JobExecutionStatus, JobHistoryActionName, JobRef, JobState
from scheduler_core.ports import HistoryEntry
from scheduler_core.service import executor, planner
from scheduler_core.service.context import Services
from scheduler_core.service.dispatch import execution_id
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

    # The trigger decodes the body with the current codec (adapters/messages.py), as function_app.py does.
    executor.execute(services, messages.decode(previous_message(ref, snapshot, versioned=versioned)), "message-1")

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
    executor.execute(services, messages.decode(sent.body), sent.id)
    assert services.storage.get_job(ref).status.execution_count == 1


def test_a_message_of_a_newer_layout_is_refused_not_misread() -> None:
    ref = JobRef(CollectionRef("sub", "rg", "jc"), "job")
    with pytest.raises(ValueError):
        messages.decode({**previous_message(ref, None, versioned=True), "v": MESSAGE_VERSION + 1})


def previous_history_row(job: JobRef, start: datetime, status: str) -> dict[str, Any]:
    """A history row as layout 2 wrote it: in the job's own partition, `H|{inverted start ms}|...`."""
    inverted = 10**14 - int(start.timestamp() * 1000)
    run = execution_id(job, start)
    return {
        "PartitionKey": job.key, "RowKey": f"H|{inverted:014d}|{run}|MainAction|00", "ExecutionId": run,
        "ExpectedExecutionTime": start.isoformat(timespec="milliseconds"),
        "StartTime": start.isoformat(timespec="milliseconds"), "EndTime": start.isoformat(timespec="milliseconds"),
        "ActionName": "MainAction", "Status": status, "Message": "before the upgrade", "RetryCount": 0,
        "RepeatCount": 0, "SchemaVersion": 2,
    }


def layout_3_history_row(job: JobRef, start: datetime) -> dict[str, Any]:
    """A history row as layout 3 wrote it: in the history table, the collection's partition, `{job}|H|...`."""
    row = previous_history_row(job, start, "Completed")
    return {**row, "PartitionKey": job.collection.key, "RowKey": f"{job.name.lower()}|{row['RowKey']}",
            "Message": "layout 3", "SchemaVersion": 3}


def test_history_written_before_the_upgrade_lists_after_the_new_rows_pages_prunes_and_deletes_with_them(
    services: Services,
) -> None:
    # Layout 4 keeps a job's history beside its job row; what layout 3 wrote in the history table's collection
    # partition, and layout 2 in the job's own, must still list (after the newer rows: it is all older), page, prune
    # and go with the job.
    job = JobRef(CollectionRef("sub", "rg", f"jc-{uuid.uuid4().hex[:8]}"), "Nightly")
    neighbour = JobRef(job.collection, "Nightly-2")  # a name that starts with the other's: must not mix in
    table = table_service(services.settings.storage).get_table_client("history")
    for minutes in (1, 2, 3):
        table.upsert_entity(previous_history_row(job, DUE - timedelta(days=1, minutes=minutes), "Failed"))
    for minutes in (1, 2):
        table.upsert_entity(layout_3_history_row(job, DUE - timedelta(hours=1, minutes=minutes)))
    table.upsert_entity(layout_3_history_row(neighbour, DUE - timedelta(hours=1)))
    for minutes in (1, 2):
        services.storage.add_history([entry(job, DUE + timedelta(minutes=minutes))])
    services.storage.add_history([entry(neighbour, DUE + timedelta(minutes=5))])

    listed, token, pages = [], None, 0
    while True:
        page = services.storage.list_history(job, top=2, continuation=token, status=None)
        listed += page.items
        pages += 1
        token = page.continuation
        if token is None:
            break
    starts = [e.start_time for e in listed]
    assert starts == sorted(starts, reverse=True) and len(starts) == 7, "newest first, every row once"
    assert [e.message for e in listed] == ["after the upgrade"] * 2 + ["layout 3"] * 2 + ["before the upgrade"] * 3
    assert pages == 4
    failed = services.storage.list_history(job, top=10, continuation=None, status=JobExecutionStatus.FAILED)
    assert len(failed.items) == 3 and failed.continuation is None
    # A token a layout-3 instance issued (`p: c`) still pages on.
    old_token = json.dumps({"p": "c", "t": None})
    assert len(services.storage.list_history(job, top=10, continuation=_token(old_token), status=None).items) == 5

    assert services.storage.prune_history(job, older_than=DUE - timedelta(days=30), keep_last=3) == 4
    kept = services.storage.list_history(job, top=10, continuation=None, status=None).items
    assert [e.message for e in kept] == ["after the upgrade", "after the upgrade", "layout 3"]

    services.storage.delete_history(job)
    assert services.storage.list_history(job, top=10, continuation=None, status=None).items == []
    assert len(services.storage.list_history(neighbour, top=10, continuation=None, status=None).items) == 2
    assert [j.ref.name for j in services.storage.all_jobs(job.collection)] == [], "history rows are not jobs"


def _token(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


def entry(job: JobRef, start: datetime) -> HistoryEntry:
    return HistoryEntry(
        job=job, execution_id=execution_id(job, start), expected_execution_time=start, start_time=start,
        end_time=start, action_name=JobHistoryActionName.MAIN_ACTION, status=JobExecutionStatus.COMPLETED,
        message="after the upgrade",
    )
