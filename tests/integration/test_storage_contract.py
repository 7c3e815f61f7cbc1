"""The storage ports' contracts, run against the in-memory reference and the Table Storage adapter on real Azurite:
claims race to exactly one winner, ETag updates never lose a
write, the due index answers by time, history is pruned by age and count, and the poison handler records a fault."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest

from devhost.azurite import Azurite
from scheduler_core.adapters import messages
from scheduler_core.adapters.clients import queue_client, table_service
from scheduler_core.adapters.memory import MemoryPoisonQueue, MemoryQueue, MemoryStorage, ScriptedActions
from scheduler_core.adapters.queues import StorageExecutionQueue, StoragePoisonQueue
from scheduler_core.adapters.tables import TableStorage
from scheduler_core.domain.definition import JobWrite
from scheduler_core.domain.errors import (
    ConcurrencyConflict,
    InvalidInput,
    JobCollectionNotFound,
    JobNotFound,
    QuotaExceeded,
)
from scheduler_core.domain.job import (
    CollectionRef,
    JobExecutionStatus,
    JobHistoryActionName,
    JobRef,
    JobState,
    JobStatus,
)
from scheduler_core.ports import Attempt, Claim, Due, HistoryEntry, StoredCollection, StoredJob
from scheduler_core.service import executor, jobs, maintenance
from scheduler_core.service.context import Services
from scheduler_core.service.dispatch import Occurrence, execution_id
from scheduler_core.settings import Settings
from scheduler_core.wire import collection_definition_to_wire, definition_from_wire
from tests.conftest import REPO

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
COMPLETED, FAILED = JobExecutionStatus.COMPLETED, JobExecutionStatus.FAILED
MAIN = JobHistoryActionName.MAIN_ACTION


@pytest.fixture(scope="module")
def private_azurite() -> Iterator[Azurite]:
    """Not the session Azurite: its host's planner moves the due-index watermark to the real clock."""
    with Azurite.start(repo_root=REPO) as emulator:
        yield emulator


@dataclass(frozen=True)
class Backend:
    """The ports under test, and how to put raw bodies on its poison queue and count what is left there."""

    services: Services
    put_poison: Callable[[str], None]
    poison_left: Callable[[], int]


@pytest.fixture(params=["memory", "azurite"])
def backend(request: pytest.FixtureRequest) -> Backend:
    """The same contract against the in-memory reference (adapters/memory.py) and Table Storage on Azurite."""
    if request.param == "memory":
        env = {"AzureWebJobsStorage": "UseDevelopmentStorage=true", "SCHEDULER_HISTORY_MAX_RUNS": "3"}
        memory_poison = MemoryPoisonQueue()

        def put_memory(body: str) -> None:
            try:
                memory_poison.put(json.loads(body))
            except json.JSONDecodeError:
                memory_poison.put(None)

        services = Services(
            storage=MemoryStorage(),
            queue=MemoryQueue(lambda: NOW),
            actions=ScriptedActions(),
            settings=Settings.from_env(env),
            clock=lambda: NOW,
            poison=memory_poison,
        )
        return Backend(services, put_memory, lambda: len(memory_poison))
    emulator: Azurite = request.getfixturevalue("private_azurite")
    settings = Settings.from_env({"AzureWebJobsStorage": emulator.connection_string, "SCHEDULER_HISTORY_MAX_RUNS": "3"})
    storage = TableStorage(table_service(settings.storage))
    storage.create_tables()
    queue = StorageExecutionQueue(queue_client(settings.storage, f"q{uuid.uuid4().hex[:12]}"))
    queue.create_queue()
    client = queue_client(settings.storage, f"p{uuid.uuid4().hex[:12]}")
    poison = StoragePoisonQueue(client)
    poison.create_queue()
    services = Services(
        storage=storage, queue=queue, actions=ScriptedActions(), settings=settings, clock=lambda: NOW, poison=poison
    )
    return Backend(
        services,
        lambda body: client.send_message(body),
        lambda: int(client.get_queue_properties().approximate_message_count),
    )


@pytest.fixture
def services(backend: Backend) -> Services:
    return backend.services


def a_job(services: Services, **status: object) -> StoredJob:
    ref = JobRef(CollectionRef("sub", "rg", f"jc-{uuid.uuid4().hex[:8]}"), "job")
    job = StoredJob(ref, {"action": {"type": "Http"}}, JobState.ENABLED, JobStatus(**status), NOW)  # type: ignore[arg-type]
    return services.storage.create_job(job)


def test_racing_claims_have_exactly_one_winner_and_the_winner_may_claim_again(services: Services) -> None:
    job = a_job(services)
    barrier = threading.Barrier(8)

    def claim(token: str) -> Claim:
        barrier.wait()
        return services.storage.claim(Attempt(job.ref, NOW), token).claim

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(claim, [f"message-{i}" for i in range(8)]))
    assert results.count(Claim.WON) == 1 and results.count(Claim.LOST) == 7
    winner = f"message-{results.index(Claim.WON)}"
    assert services.storage.claim(Attempt(job.ref, NOW), winner).claim is Claim.REDELIVERED


def test_claims_that_move_the_job_on_race_to_one_winner_whose_redelivery_sees_the_moved_job(
    services: Services,
) -> None:
    # A scheduled first attempt is claimed in the write that moves its job's schedule on (one write on the hot
    # path): the same won / redelivered / lost contract, and the loser's advance is never applied.
    job = a_job(services, next_execution_time=NOW)
    barrier = threading.Barrier(6)
    later = NOW + timedelta(minutes=1)

    def advance(current: StoredJob) -> StoredJob:
        if current.status.next_execution_time != NOW:
            raise LookupError("the job no longer expects this occurrence")
        count = current.status.execution_count + 1
        return replace(current, status=replace(current.status, execution_count=count, next_execution_time=later))

    def claim(token: str) -> Claim:
        barrier.wait()
        return services.storage.claim(Attempt(job.ref, NOW), token, advance=advance, current=job).claim

    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(claim, [f"message-{i}" for i in range(6)]))
    assert results.count(Claim.WON) == 1 and results.count(Claim.LOST) == 5
    stored = services.storage.get_job(job.ref)
    assert stored.status.execution_count == 1 and stored.status.next_execution_time == later

    winner = f"message-{results.index(Claim.WON)}"
    again = services.storage.claim(Attempt(job.ref, NOW), winner, advance=advance, current=job)
    assert again.claim is Claim.REDELIVERED and again.job is not None
    assert again.job.status.next_execution_time == later  # as the earlier delivery left it, not advanced twice
    assert services.storage.get_job(job.ref).status.execution_count == 1


def test_a_refused_advance_claims_nothing_and_a_missing_job_is_reported(services: Services) -> None:
    job = a_job(services, next_execution_time=NOW)

    def refuse(_current: StoredJob) -> StoredJob:
        raise LookupError("changed")

    with pytest.raises(LookupError):
        services.storage.claim(Attempt(job.ref, NOW), "first", advance=refuse)
    assert services.storage.claim(Attempt(job.ref, NOW), "second", advance=lambda j: j).claim is Claim.WON
    gone = JobRef(job.ref.collection, "no-such-job")
    with pytest.raises(JobNotFound):
        services.storage.claim(Attempt(gone, NOW), "third", advance=lambda j: j)


def test_concurrent_etag_updates_lose_no_increment(services: Services) -> None:
    job = a_job(services)

    def bump(_: int) -> None:
        services.storage.update_job(
            job.ref, lambda j: replace(j, status=replace(j.status, failure_count=j.status.failure_count + 1))
        )

    with ThreadPoolExecutor(6) as pool:
        list(pool.map(bump, range(12)))
    assert services.storage.get_job(job.ref).status.failure_count == 12


@pytest.mark.parametrize("alone", [False, True], ids=["grouped", "alone"])
def test_due_index_returns_entries_up_to_the_instant_and_forgets_removed_ones(services: Services, alone: bool) -> None:
    job = a_job(services)
    soon, later = NOW + timedelta(seconds=30), NOW + timedelta(hours=2)
    services.storage.add_due(job.ref, soon, services.storage.snapshot(job), alone=alone)
    services.storage.add_due(job.ref, later, alone=alone)

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


def history_row(job: JobRef, started: datetime, status: JobExecutionStatus = COMPLETED) -> HistoryEntry:
    return HistoryEntry(job, str(uuid.uuid4()), started, started, started, MAIN, status, "ok")


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
        replace(
            job, definition={**job.definition.wire, "recurrence": {"frequency": "Hour"}, "startTime": due.isoformat()}
        )
    )
    executor.record_poisoned(services, Occurrence(job.ref, due, execution_id(job.ref, due)))

    rows = services.storage.list_history(job.ref, top=10, continuation=None, status=None).items
    assert [(r.status, r.expected_execution_time) for r in rows] == [("Failed", due)]
    assert rows[0].message.startswith("Faulted")
    after = services.storage.get_job(job.ref)
    assert after.status.faulted_count == 1
    assert after.status.next_execution_time == due + timedelta(hours=1)


def test_the_poison_sweep_records_each_poisoned_message_once_and_empties_the_queue(backend: Backend) -> None:
    services = backend.services
    due = NOW - timedelta(minutes=1)
    job = a_job(services, next_execution_time=due)
    backend.put_poison(json.dumps(messages.encode(Occurrence(job.ref, due, execution_id(job.ref, due)))))
    backend.put_poison("not an execution message")
    backend.put_poison(json.dumps({"job": "no such shape"}))

    assert executor.sweep_poisoned(services) == 3
    assert executor.sweep_poisoned(services) == 0

    rows = services.storage.list_history(job.ref, top=10, continuation=None, status=None).items
    assert [(r.status, r.expected_execution_time) for r in rows] == [("Failed", due)]
    assert services.storage.get_job(job.ref).status.faulted_count == 1
    assert backend.poison_left() == 0


def test_reads_of_missing_rows_raise_not_found_and_deletes_are_idempotent(services: Services) -> None:
    ref = JobRef(CollectionRef("sub", "rg", f"jc-{uuid.uuid4().hex[:8]}"), "missing")
    with pytest.raises(JobNotFound):
        services.storage.get_job(ref)
    with pytest.raises(JobCollectionNotFound):
        services.storage.get_collection(ref.collection)
    services.storage.delete_job(ref)
    services.storage.delete_collection(ref.collection)
    services.storage.delete_history(ref)
    services.storage.remove_due(ref, NOW)


def test_creates_fail_when_the_row_exists(services: Services) -> None:
    job = a_job(services)
    with pytest.raises(ConcurrencyConflict):
        services.storage.create_job(replace(job, etag=None))
    collection = services.storage.create_collection(StoredCollection(job.ref.collection, {"tags": {"a": "1"}}))
    assert (collection.job_count, collection_definition_to_wire(collection.definition)) == (0, {"tags": {"a": "1"}})
    with pytest.raises(ConcurrencyConflict):
        services.storage.create_collection(StoredCollection(job.ref.collection, {}))


def test_a_stale_etag_refuses_replace_and_delete_and_the_version_round_trips(services: Services) -> None:
    job = a_job(services)
    fresh = services.storage.replace_job(replace(job, version="v2", series_base=3))
    assert (services.storage.get_job(job.ref).version, services.storage.get_job(job.ref).series_base) == ("v2", 3)
    with pytest.raises(ConcurrencyConflict):
        services.storage.replace_job(replace(job, version="v3"))
    with pytest.raises(ConcurrencyConflict):
        services.storage.delete_job(job.ref, etag=job.etag)
    assert services.storage.get_job(job.ref) == fresh
    services.storage.delete_job(job.ref, etag=fresh.etag)
    with pytest.raises(JobNotFound):
        services.storage.get_job(job.ref)


def test_concurrent_collection_updates_lose_no_increment(services: Services) -> None:
    ref = CollectionRef("sub", "rg", f"jc-{uuid.uuid4().hex[:8]}")
    services.storage.create_collection(StoredCollection(ref, {}, version="c1"))

    def bump(_: int) -> None:
        services.storage.update_collection(ref, lambda c: replace(c, job_count=c.job_count + 1, etag=None))

    with ThreadPoolExecutor(6) as pool:
        list(pool.map(bump, range(12)))
    stored = services.storage.get_collection(ref)
    assert (stored.job_count, stored.version) == (12, "c1")


def test_the_recent_collection_is_the_row_as_this_instance_last_wrote_it(services: Services) -> None:
    storage = services.storage
    ref = CollectionRef("sub", "rg", f"jc-{uuid.uuid4().hex[:8]}")
    assert storage.recent_collection(ref) is None
    created = storage.create_collection(StoredCollection(ref, {"location": "x", "properties": {}}))
    assert storage.recent_collection(ref) == created
    updated = storage.update_collection(ref, lambda c: replace(c, job_count=3, etag=None))
    assert storage.recent_collection(ref) == updated == storage.get_collection(ref)


def test_racing_slot_takes_of_two_instances_fill_a_quota_exactly(backend: Backend) -> None:
    """Many writers in two instances take slots of one collection at once (within an instance they go out together):
    exactly as many succeed as the quota has room for, the others are refused, and the stored count is the quota."""
    storage, settings = backend.services.storage, backend.services.settings
    other = storage if isinstance(storage, MemoryStorage) else TableStorage(table_service(settings.storage))
    ref = CollectionRef("sub", "rg", f"jc-{uuid.uuid4().hex[:8]}")
    storage.create_collection(StoredCollection(ref, {"location": "x", "properties": {}}))
    limit = 10

    def take_slot(current: StoredCollection) -> StoredCollection:
        if current.job_count >= limit:
            raise QuotaExceeded("maxJobCount", "full")
        return replace(current, job_count=current.job_count + 1, etag=None)

    def take(i: int) -> bool:
        try:
            (storage if i % 2 else other).update_collection(ref, take_slot)
        except QuotaExceeded:
            return False
        return True

    with ThreadPoolExecutor(8) as pool:
        taken = list(pool.map(take, range(24)))
    assert (taken.count(True), storage.get_collection(ref).job_count) == (limit, limit)


def test_an_update_of_its_own_collection_inside_an_update_function_does_not_wait_for_itself(
    services: Services,
) -> None:
    storage = services.storage
    ref = CollectionRef("sub", "rg", f"jc-{uuid.uuid4().hex[:8]}")
    storage.create_collection(StoredCollection(ref, {"location": "x", "properties": {}}))
    inner: list[int] = []

    def outer(current: StoredCollection) -> StoredCollection:
        if not inner:
            inner.append(storage.update_collection(ref, lambda c: replace(c, job_count=7, etag=None)).job_count)
        return replace(current, version="outer", etag=None)

    stored = storage.update_collection(ref, outer)
    assert (inner, stored.job_count, stored.version) == ([7], 7, "outer")


def test_a_create_decides_on_the_collection_as_stored_not_as_this_instance_last_saw_it(backend: Backend) -> None:
    """This instance creates jobs starting from the collection as it last saw it; another instance changes the
    collection meanwhile: the new job's state, and its recurrence quota, follow the collection as stored."""
    services = backend.services
    storage = services.storage
    memory = isinstance(storage, MemoryStorage)
    other = storage if memory else TableStorage(table_service(services.settings.storage))
    ref = CollectionRef("sub", "rg", f"jc-{uuid.uuid4().hex[:8]}")

    def put(name: str, write: JobWrite, changed: dict[str, object]) -> StoredJob:
        """Create a job in an instance that has seen the collection before `other` changed it."""
        here = services if memory else replace(services, storage=TableStorage(table_service(services.settings.storage)))
        here.storage.get_collection(ref)
        change(changed)
        return jobs.put_job(here, JobRef(ref, name), write)[0]

    def collection(state: str, frequency: str) -> dict[str, object]:
        quota = {"maxRecurrence": {"frequency": frequency, "interval": 1}}
        return {"location": "x", "properties": {"state": state, "quota": quota}}

    def every(frequency: str) -> JobWrite:
        return JobWrite(definition_from_wire({
            "startTime": (NOW + timedelta(days=1)).isoformat(),
            "action": {"type": "Http", "request": {"uri": "http://127.0.0.1:9/x", "method": "GET"}},
            "recurrence": {"frequency": frequency, "interval": 1},
        }))

    def change(definition: dict[str, object]) -> None:
        other.update_collection(ref, lambda c: replace(c, definition=definition, etag=None))

    storage.create_collection(StoredCollection(ref, collection("Enabled", "Hour")))
    assert put("a", every("Hour"), collection("Disabled", "Hour")).state is JobState.DISABLED
    assert put("b", every("Minute"), collection("Enabled", "Minute")).state is JobState.ENABLED
    with pytest.raises(QuotaExceeded):
        put("c", every("Minute"), collection("Enabled", "Hour"))
    assert [storage.get_job(JobRef(ref, n)).state for n in "ab"] == [JobState.DISABLED, JobState.ENABLED]
    with pytest.raises(JobNotFound):
        storage.get_job(JobRef(ref, "c"))
    assert storage.get_collection(ref).job_count == 2


def test_jobs_list_in_pages_and_by_state(services: Services) -> None:
    collection = CollectionRef("sub", "rg", f"jc-{uuid.uuid4().hex[:8]}")
    for i in range(5):
        state = JobState.DISABLED if i % 2 else JobState.ENABLED
        services.storage.create_job(StoredJob(JobRef(collection, f"job-{i}"), {}, state, JobStatus(), NOW))
    names: list[str] = []
    token = None
    for _ in range(5):
        page = services.storage.list_jobs(collection, top=2, continuation=token, state=None)
        names += [j.ref.name for j in page.items]
        token = page.continuation
        if token is None:
            break
    assert sorted(names) == [f"job-{i}" for i in range(5)]
    disabled = services.storage.list_jobs(collection, top=10, continuation=None, state=JobState.DISABLED)
    assert sorted(j.ref.name for j in disabled.items) == ["job-1", "job-3"]
    with pytest.raises(InvalidInput):
        services.storage.list_jobs(collection, top=2, continuation="not a token!", state=None)


def test_history_lists_newest_first_by_status_and_a_deleted_job_forgets_its_claims(services: Services) -> None:
    job = a_job(services)
    rows = [history_row(job.ref, NOW - timedelta(minutes=i), FAILED if i == 1 else COMPLETED) for i in range(3)]
    services.storage.add_history(rows)
    listed = services.storage.list_history(job.ref, top=2, continuation=None, status=None)
    assert [r.start_time for r in listed.items] == [rows[0].start_time, rows[1].start_time]
    assert listed.continuation is not None
    rest = services.storage.list_history(job.ref, top=2, continuation=listed.continuation, status=None)
    assert [r.start_time for r in rest.items] == [rows[2].start_time]
    failed = services.storage.list_history(job.ref, top=10, continuation=None, status=FAILED).items
    assert failed == [rows[1]]

    assert services.storage.claim(Attempt(job.ref, NOW, retry=1), "first").claim is Claim.WON
    services.storage.delete_history(job.ref)
    assert services.storage.list_history(job.ref, top=10, continuation=None, status=None).items == []
    assert services.storage.claim(Attempt(job.ref, NOW, retry=1), "second").claim is Claim.WON


def test_pruning_forgets_claims_older_than_the_cutoff_and_keeps_recent_ones(services: Services) -> None:
    job = a_job(services)
    old, recent = Attempt(job.ref, NOW - timedelta(days=70)), Attempt(job.ref, NOW - timedelta(hours=1), retry=2)
    assert services.storage.claim(old, "a").claim is Claim.WON
    assert services.storage.claim(recent, "a").claim is Claim.WON

    services.storage.prune_history(job.ref, older_than=NOW - timedelta(days=60), keep_last=10)

    assert services.storage.claim(old, "b").claim is Claim.WON
    assert services.storage.claim(recent, "b").claim is Claim.LOST


def test_jobs_changed_since_returns_every_job_then_those_written_at_or_after_an_instant(services: Services) -> None:
    collection = CollectionRef("sub", "rg", f"jc-{uuid.uuid4().hex[:8]}")
    first, second = (
        services.storage.create_job(StoredJob(JobRef(collection, name), {}, JobState.ENABLED, JobStatus(), NOW))
        for name in ("first", "second")
    )
    changes = services.storage
    assert hasattr(changes, "jobs_changed_since")
    everything, newest = changes.jobs_changed_since(collection, None)
    assert sorted(j.ref.name for j in everything) == ["first", "second"] and newest is not None

    services.storage.update_job(first.ref, lambda j: replace(j, status=replace(j.status, failure_count=1)))

    changed, latest = changes.jobs_changed_since(collection, newest)
    assert ("first", 1) in [(j.ref.name, j.status.failure_count) for j in changed]
    assert latest is not None and latest >= newest


def test_guarded_collection_updates_decide_on_the_stored_row_not_on_an_old_snapshot(backend: Backend) -> None:
    """A full quota seen in an old snapshot, or in the row this instance wrote last, is decided again on the row as
    stored: another instance freed a slot meanwhile, so the job fits."""
    storage = backend.services.storage
    settings = backend.services.settings
    other = storage if isinstance(storage, MemoryStorage) else TableStorage(table_service(settings.storage))
    ref = CollectionRef("sub", "rg", f"jc-{uuid.uuid4().hex[:8]}")
    storage.create_collection(StoredCollection(ref, {"location": "x", "properties": {}}))
    full = storage.update_collection(ref, lambda c: replace(c, job_count=5, etag=None))
    other.update_collection(ref, lambda c: replace(c, job_count=4, etag=None))  # another instance deletes a job

    def take_slot(current: StoredCollection) -> StoredCollection:
        if current.job_count >= 5:
            raise QuotaExceeded("maxJobCount", "full")
        return replace(current, job_count=current.job_count + 1, etag=None)

    assert storage.update_collection(ref, take_slot, known=full).job_count == 5
    assert other.get_collection(ref).job_count == 5
    with pytest.raises(QuotaExceeded):  # and a row that is really full still refuses
        storage.update_collection(ref, take_slot, known=full)


def test_an_update_with_history_records_the_rows_whatever_becomes_of_the_job(services: Services) -> None:
    job = a_job(services)
    ran = history_row(job.ref, NOW)
    settled = services.storage.update_job(
        job.ref, lambda j: replace(j, status=replace(j.status, last_result="Completed")), current=job, history=[ran]
    )
    assert settled.status.last_result == "Completed"
    unchanged = history_row(job.ref, NOW + timedelta(minutes=1))
    services.storage.update_job(job.ref, lambda j: j, current=settled, history=[unchanged])
    # A stale snapshot: the job's write is refused and retried on the row as stored; the row is recorded once.
    stale = history_row(job.ref, NOW + timedelta(minutes=2), FAILED)
    services.storage.update_job(
        job.ref,
        lambda j: replace(j, status=replace(j.status, failure_count=j.status.failure_count + 1)),
        current=job,
        history=[stale],
    )
    listed = services.storage.list_history(job.ref, top=10, continuation=None, status=None).items
    assert [r.start_time for r in listed] == [stale.start_time, unchanged.start_time, ran.start_time]
    stored = services.storage.get_job(job.ref)
    assert (stored.status.last_result, stored.status.failure_count) == ("Completed", 1)

    services.storage.delete_job(job.ref)
    gone = history_row(job.ref, NOW + timedelta(minutes=3))
    with pytest.raises(JobNotFound):
        services.storage.update_job(job.ref, lambda j: j, history=[gone])
    assert services.storage.list_history(job.ref, top=1, continuation=None, status=None).items == [gone]


def test_history_rows_never_show_up_as_jobs(services: Services) -> None:
    collection = CollectionRef("sub", "rg", f"jc-{uuid.uuid4().hex[:8]}")
    names = ["a", "a-b", "z_9", "z.z"]
    for name in names:
        services.storage.create_job(StoredJob(JobRef(collection, name), {}, JobState.ENABLED, JobStatus(), NOW))
        services.storage.add_history(
            [history_row(JobRef(collection, name), NOW - timedelta(minutes=i)) for i in range(3)]
        )
    assert sorted(j.ref.name for j in services.storage.all_jobs(collection)) == sorted(names)
    page = services.storage.list_jobs(collection, top=10, continuation=None, state=None)
    assert sorted(j.ref.name for j in page.items) == sorted(names) and page.continuation is None
    listed, _ = services.storage.jobs_changed_since(collection, None)  # type: ignore[attr-defined]
    assert sorted(j.ref.name for j in listed) == sorted(names)
    for name in names:  # and each job's history is its own, not a neighbour's whose name starts the same
        assert (
            len(services.storage.list_history(JobRef(collection, name), top=10, continuation=None, status=None).items)
            == 3
        )
