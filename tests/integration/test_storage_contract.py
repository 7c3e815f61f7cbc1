"""The storage adapter's contracts on real Azurite: claims race to exactly one winner, ETag updates never lose a
write, the due index answers by time, history is pruned by age and count, and the poison handler records a fault."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from devhost.azurite import Azurite
from scheduler_core.adapters.clients import queue_client, table_service
from scheduler_core.adapters.http_action import HttpActionRunner
from scheduler_core.adapters.queues import StorageExecutionQueue, StoragePoisonQueue
from scheduler_core.adapters.tables import TableStorage
from scheduler_core.domain.job import CollectionRef, JobRef, JobState, JobStatus
from scheduler_core.ports import Claim, Due, HistoryEntry, StoredCollection, StoredJob
from scheduler_core.service import executor, maintenance
from scheduler_core.service.context import Services
from scheduler_core.service.dispatch import Occurrence, execution_id
from scheduler_core.settings import Settings
from tests.conftest import REPO

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def private_azurite() -> Iterator[Azurite]:
    """Not the session Azurite: its host's planner moves the due-index watermark to the real clock."""
    with Azurite.start(repo_root=REPO) as emulator:
        yield emulator


@pytest.fixture
def services(private_azurite: Azurite) -> Services:
    settings = Settings.from_env(
        {"AzureWebJobsStorage": private_azurite.connection_string, "SCHEDULER_HISTORY_MAX_RUNS": "3"}
    )
    storage = TableStorage(table_service(settings.storage))
    storage.create_tables()
    queue = StorageExecutionQueue(queue_client(settings.storage, f"q{uuid.uuid4().hex[:12]}"))
    queue.create_queue()
    return Services(storage=storage, queue=queue, actions=HttpActionRunner(), settings=settings, clock=lambda: NOW)


def a_job(services: Services, **status: object) -> StoredJob:
    ref = JobRef(CollectionRef("sub", "rg", f"jc-{uuid.uuid4().hex[:8]}"), "job")
    job = StoredJob(ref, {"action": {"type": "Http"}}, JobState.ENABLED, JobStatus(**status), NOW)  # type: ignore[arg-type]
    return services.storage.create_job(job)


def test_racing_claims_have_exactly_one_winner_and_the_winner_may_claim_again(services: Services) -> None:
    job = a_job(services)
    barrier = threading.Barrier(8)

    def claim(token: str) -> Claim:
        barrier.wait()
        return services.storage.claim(job.ref, "2026-06-01T12:00:00.000+00:00|MainAction|0", token)

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(claim, [f"message-{i}" for i in range(8)]))
    assert results.count(Claim.WON) == 1 and results.count(Claim.LOST) == 7
    winner = f"message-{results.index(Claim.WON)}"
    assert services.storage.claim(job.ref, "2026-06-01T12:00:00.000+00:00|MainAction|0", winner) is Claim.REDELIVERED


def test_concurrent_etag_updates_lose_no_increment(services: Services) -> None:
    job = a_job(services)

    def bump(_: int) -> None:
        services.storage.update_job(
            job.ref, lambda j: replace(j, status=replace(j.status, failure_count=j.status.failure_count + 1))
        )

    with ThreadPoolExecutor(6) as pool:
        list(pool.map(bump, range(12)))
    assert services.storage.get_job(job.ref).status.failure_count == 12


def test_due_index_returns_entries_up_to_the_instant_and_forgets_removed_ones(services: Services) -> None:
    job = a_job(services)
    soon, later = NOW + timedelta(seconds=30), NOW + timedelta(hours=2)
    services.storage.add_due(job.ref, soon, services.storage.snapshot(job))
    services.storage.add_due(job.ref, later)

    def due_within_a_minute() -> dict[datetime, Due]:
        return {d.due: d for d in services.storage.due_until(NOW + timedelta(minutes=1)) if d.job == job.ref}

    assert list(due_within_a_minute()) == [soon]
    snapshot = due_within_a_minute()[soon].snapshot
    assert snapshot is not None and services.storage.restore(snapshot) == job
    services.storage.remove_due(job.ref, soon)
    assert due_within_a_minute() == {}


def test_an_update_guarded_by_a_stale_snapshot_re_reads_and_loses_no_write(services: Services) -> None:
    job = a_job(services)
    snapshot = services.storage.snapshot(job)
    assert snapshot is not None
    services.storage.update_job(job.ref, lambda j: replace(j, status=replace(j.status, failure_count=1)))

    updated = services.storage.update_job(
        job.ref,
        lambda j: replace(j, status=replace(j.status, execution_count=j.status.execution_count + 1)),
        current=services.storage.restore(snapshot),
    )

    assert (updated.status.failure_count, updated.status.execution_count) == (1, 1)
    assert services.storage.get_job(job.ref) == updated


def history_row(job: JobRef, started: datetime, status: str = "Completed") -> HistoryEntry:
    return HistoryEntry(job, str(uuid.uuid4()), started, started, started, "MainAction", status, "ok")


def test_maintenance_prunes_history_by_age_and_by_count(services: Services) -> None:
    job = a_job(services)
    old = [history_row(job.ref, NOW - timedelta(days=70 + i)) for i in range(2)]
    recent = [history_row(job.ref, NOW - timedelta(hours=i)) for i in range(5)]
    services.storage.add_history(old + recent)
    services.storage.create_collection(StoredCollection(job.ref.collection, {}))

    maintenance.prune(services)

    kept = services.storage.list_history(job.ref, top=100, continuation=None, status=None).items
    assert [e.start_time for e in kept] == [e.start_time for e in recent[:3]]  # the newest 3, newest first


def test_a_poisoned_message_is_recorded_as_faulted_and_the_schedule_moves_on(services: Services) -> None:
    due = NOW - timedelta(minutes=1)
    job = a_job(services, next_execution_time=due)
    services.storage.replace_job(
        replace(job, definition={**job.definition, "recurrence": {"frequency": "Hour"}, "startTime": due.isoformat()})
    )
    message = Occurrence(job.ref, due, execution_id(job.ref, due)).to_message()

    executor.record_poisoned(services, message)

    rows = services.storage.list_history(job.ref, top=10, continuation=None, status=None).items
    assert [(r.status, r.expected_execution_time) for r in rows] == [("Failed", due)]
    assert rows[0].message.startswith("Faulted")
    after = services.storage.get_job(job.ref)
    assert after.status.faulted_count == 1
    assert after.status.next_execution_time == due + timedelta(hours=1)


def test_the_poison_sweep_records_each_poisoned_message_once_and_empties_the_queue(services: Services) -> None:
    due = NOW - timedelta(minutes=1)
    job = a_job(services, next_execution_time=due)
    client = queue_client(services.settings.storage, f"p{uuid.uuid4().hex[:12]}")
    poison = StoragePoisonQueue(client)
    poison.create_queue()
    client.send_message(json.dumps(Occurrence(job.ref, due, execution_id(job.ref, due)).to_message()))
    client.send_message("not an execution message")
    client.send_message(json.dumps({"job": "no such shape"}))
    sweeping = replace(services, poison=poison)

    assert executor.sweep_poisoned(sweeping) == 3
    assert executor.sweep_poisoned(sweeping) == 0

    rows = services.storage.list_history(job.ref, top=10, continuation=None, status=None).items
    assert [(r.status, r.expected_execution_time) for r in rows] == [("Failed", due)]
    assert services.storage.get_job(job.ref).status.faulted_count == 1
    assert client.get_queue_properties().approximate_message_count == 0
