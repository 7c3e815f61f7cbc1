"""Job collection use cases: create or replace, patch, get, list, delete, enable and disable all jobs.

A collection stores its definition as its owner wrote it (a typed `CollectionDefinition`, fields never set are
None); defaults (`sku` Standard, `state` Enabled, the plan's quota) are what `CollectionDefinition` answers for them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from scheduler_core.domain.collection import CollectionDefinition, JobCollectionState
from scheduler_core.domain.errors import ConcurrencyConflict, JobCollectionNotFound, StateConflict
from scheduler_core.domain.job import CollectionRef, DisabledNote, JobState
from scheduler_core.domain.precondition import NONE, Precondition
from scheduler_core.ports import StoredCollection, new_version
from scheduler_core.service import jobs as job_use_cases
from scheduler_core.service.context import Services
from scheduler_core.service.quota import check_job_count, check_jobs_fit, check_max_recurrence

_CREATE_ATTEMPTS = 5


def _checked(
    services: Services, condition: Precondition, current: StoredCollection, definition: CollectionDefinition
) -> StoredCollection:
    """`current` with its new definition, if it meets `condition` (else PreconditionFailed) and every job it holds
    still fits the new quota (else QuotaExceeded) and the quota allows a job to recur (else InvalidInput)."""
    condition.check(current.ref.name, current.version)
    check_max_recurrence(definition)
    check_job_count(definition, current.job_count)
    live = [
        job.definition
        for job in services.storage.all_jobs(current.ref)
        if job.state in (JobState.ENABLED, JobState.DISABLED)
    ]
    check_jobs_fit(definition, live, services.clock())
    return replace(current, definition=definition, version=new_version())


def put_collection(
    services: Services, ref: CollectionRef, definition: CollectionDefinition, condition: Precondition = NONE
) -> tuple[StoredCollection, bool]:
    """Create or fully replace; returns (stored collection, created). A replacement must fit the jobs it holds.

    Raises:
        PreconditionFailed: the collection does not meet `condition` (checked inside the guarded write).
        QuotaExceeded: the new quota does not fit the jobs it holds.
        InvalidInput: its `maxRecurrence` allows only gaps longer than 18 months.
    """
    for _ in range(_CREATE_ATTEMPTS):
        try:
            previous: StoredCollection | None = services.storage.get_collection(ref)
        except JobCollectionNotFound:
            previous = None
        condition.check(ref.name, previous.version if previous else None)
        if previous is None:
            check_max_recurrence(definition)
            try:
                created = services.storage.create_collection(StoredCollection(ref, definition, version=new_version()))
            except ConcurrencyConflict:
                continue  # created meanwhile by someone else: replace it under the ETag guard instead
            return created, True
        updated = services.storage.update_collection(
            ref, lambda current: _checked(services, condition, current, definition)
        )
        _apply_state_to_jobs(services, ref, previous=previous, now_enabled=updated.enabled)
        return updated, False
    raise ConcurrencyConflict(f"job collection '{ref.name}' kept changing; try again")


def patch_collection(
    services: Services,
    ref: CollectionRef,
    build: Callable[[CollectionDefinition], CollectionDefinition],
    condition: Precondition = NONE,
) -> StoredCollection:
    """Replace the definition with `build(current definition)` (the API's merge of a PATCH body), inside the
    ETag-guarded update: a concurrent write makes it read and build again, so no update is lost.

    Raises:
        JobCollectionNotFound, PreconditionFailed, QuotaExceeded, InvalidInput (`maxRecurrence` beyond 18 months).
    """
    previous = services.storage.get_collection(ref)
    updated = services.storage.update_collection(
        ref, lambda current: _checked(services, condition, current, build(current.definition))
    )
    _apply_state_to_jobs(services, ref, previous=previous, now_enabled=updated.enabled)
    return updated


def _apply_state_to_jobs(
    services: Services, ref: CollectionRef, *, previous: StoredCollection, now_enabled: bool
) -> None:
    """A collection that was enabled enables its jobs; a disabled one disables every job still enabled, also when it
    was disabled already: the write that disabled it may have died before its jobs were, and a retry completes it
    (a job of a disabled collection is not Enabled: `jobs._in_collection`)."""
    if not now_enabled:
        set_jobs_state(services, ref, JobState.DISABLED)
    elif not previous.enabled:
        set_jobs_state(services, ref, JobState.ENABLED)


def get_collection(services: Services, ref: CollectionRef) -> StoredCollection:
    """Raises JobCollectionNotFound."""
    return services.storage.get_collection(ref)


def list_collections(services: Services, subscription: str, resource_group: str | None) -> list[StoredCollection]:
    return services.storage.list_collections(subscription, resource_group)


def delete_collection(services: Services, ref: CollectionRef, condition: Precondition = NONE) -> None:
    """Delete the collection, its jobs, their pending occurrences and their history.

    Raises:
        JobCollectionNotFound: no such collection.
        PreconditionFailed: it does not meet `condition` (checked before anything is deleted).
    """
    try:
        condition.check(ref.name, services.storage.get_collection(ref).version)
    except JobCollectionNotFound:
        # A delete that died after the collection's row went (or a job created meanwhile) leaves jobs behind: a
        # retry removes them before it answers 404.
        _delete_jobs(services, ref)
        raise
    _delete_jobs(services, ref)
    services.storage.delete_collection(ref)
    # A job created meanwhile took its slot before the collection went (a later one cannot take one and removes
    # itself), so one more pass finds every job left: none outlives its collection or turns up in a new one.
    _delete_jobs(services, ref)


def _delete_jobs(services: Services, ref: CollectionRef) -> None:
    """Each job's occurrence and history, then its row: an instance that dies midway leaves the row, which the
    retry lists and deletes again, never history without its job."""
    for job in services.storage.all_jobs(ref):
        if job.status.next_execution_time:
            services.storage.remove_due(job.ref, job.status.next_execution_time)
        services.storage.delete_history(job.ref)
        services.storage.delete_job(job.ref)


def set_collection_state(
    services: Services, ref: CollectionRef, state: JobState, note: DisabledNote | None = None
) -> None:
    """POST enable/disable: the collection's state, and every job's (Completed and Faulted jobs keep theirs)."""
    wanted = JobCollectionState.ENABLED if state is JobState.ENABLED else JobCollectionState.DISABLED

    def update(current: StoredCollection) -> StoredCollection:
        return replace(current, definition=replace(current.definition, state=wanted), version=new_version())

    services.storage.update_collection(ref, update)
    set_jobs_state(services, ref, state, note)


def set_jobs_state(services: Services, ref: CollectionRef, state: JobState, note: DisabledNote | None = None) -> None:
    for job in services.storage.all_jobs(ref):
        if job.state in (JobState.ENABLED, JobState.DISABLED) and job.state is not state:
            try:
                job_use_cases.set_state(services, job.ref, state, note)
            except (ConcurrencyConflict, StateConflict):
                continue  # changed meanwhile (it may have completed); the user's later read shows where it is
