"""Crash consistency on the Table Storage adapter (real Azurite) and the in-memory reference alike: a job create and
a job delete whose instance dies at each storage call in turn, then the client's retry and the daily maintenance,
leave the collection's count equal to its jobs and no history behind a deleted job (tests/unit/test_crash_consistency.py
sweeps every operation on the memory ports; docs/storage.md, crash consistency)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

from scheduler_core.domain.definition import JobWrite
from scheduler_core.domain.errors import JobNotFound
from scheduler_core.domain.job import CollectionRef, JobExecutionStatus, JobHistoryActionName, JobRef
from scheduler_core.ports import HistoryEntry, StoredCollection
from scheduler_core.service import jobs, maintenance
from scheduler_core.service.context import Services
from scheduler_core.wire import definition_from_wire
from tests.integration.test_storage_contract import NOW, Backend, backend, private_azurite  # noqa: F401 (their fixtures)
from tests.support.crash import Crash, Crashing, count_calls

HOURLY = JobWrite(definition_from_wire({
    "startTime": (NOW + timedelta(hours=1)).isoformat(),
    "action": {"type": "Http", "request": {"uri": "http://127.0.0.1:9/x", "method": "GET"}},
    "recurrence": {"frequency": "Hour", "interval": 1},
}))


def a_collection(services: Services) -> CollectionRef:
    ref = CollectionRef("sub", "rg", f"jc-{uuid.uuid4().hex[:8]}")
    services.storage.create_collection(StoredCollection(ref, {"location": "x"}))  # type: ignore[arg-type]
    return ref


def counted(services: Services, ref: CollectionRef) -> tuple[int, int]:
    return services.storage.get_collection(ref).job_count, len(services.storage.all_jobs(ref))


def sweep(services: Services, prepare: Callable[[Services], JobRef], operation: Callable[[Services, JobRef], object],
          check: Callable[[JobRef], None]) -> None:
    def fresh() -> tuple[Crashing, Callable[[], object]]:
        crashing = Crashing(services)
        ref = prepare(crashing.services)
        return crashing, lambda: operation(crashing.services, ref)

    for at in range(1, count_calls(fresh) + 1):
        crashing = Crashing(services)
        ref = prepare(crashing.services)
        crashing.arm(at)
        try:
            operation(crashing.services, ref)
        except Crash:
            pass
        crashing.disarm()
        try:
            operation(services, ref)  # the client's retry
        except JobNotFound:
            pass
        maintenance.prune(services)
        check(ref)


def test_a_create_that_dies_anywhere_is_counted_once_and_scheduled_after_the_retry_and_maintenance(
    backend: Backend,  # noqa: F811 (the contract tests' fixture)
) -> None:
    services = backend.services
    starts: dict[JobRef, JobWrite] = {}

    def prepare(_s: Services) -> JobRef:
        # Each round's job starts a day after the last one's: the due index is read forwards, as ticks read it.
        ref = JobRef(a_collection(services), "job")
        starts[ref] = JobWrite(definition_from_wire({**HOURLY.definition.wire,
                                                     "startTime": (NOW + timedelta(days=len(starts) + 1)).isoformat()}))
        return ref

    def check(ref: JobRef) -> None:
        assert counted(services, ref.collection) == (1, 1)
        due = starts[ref].definition.start_time
        assert due is not None and services.storage.get_job(ref).status.next_execution_time == due
        assert [d.job for d in services.storage.due_until(due) if d.job == ref] == [ref]

    sweep(services, prepare, lambda s, ref: jobs.put_job(s, ref, starts[ref]), check)


def test_a_delete_that_dies_anywhere_leaves_no_count_history_or_occurrence_after_the_retry(
    backend: Backend,  # noqa: F811 (the contract tests' fixture)
) -> None:
    services = backend.services

    def prepare(_s: Services) -> JobRef:
        ref = JobRef(a_collection(services), "job")
        jobs.put_job(services, ref, HOURLY)
        services.storage.add_history([HistoryEntry(ref, "x", NOW, NOW, NOW, JobHistoryActionName.MAIN_ACTION,
                                                   JobExecutionStatus.COMPLETED, "ran")])
        return ref

    def check(ref: JobRef) -> None:
        assert counted(services, ref.collection) == (0, 0)
        page = services.storage.list_history(ref, top=10, continuation=None, status=None)
        assert list(page.items) == []

    sweep(services, prepare, lambda s, ref: jobs.delete_job(s, ref), check)
