"""Job use cases: create or replace, patch, get, list, delete, state changes, run now, history, preview.

The API hands over a definition already validated into canonical wire JSON (`properties` without `status`); this
module enforces the collection's quotas, stores the job and keeps its next occurrence scheduled.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from scheduler_core.domain.definition import JobDefinition, JobWrite
from scheduler_core.domain.errors import ConcurrencyConflict, InvalidInput, JobNotFound, QuotaExceeded
from scheduler_core.domain.job import (
    CollectionRef,
    DisabledNote,
    JobEvent,
    JobExecutionStatus,
    JobRef,
    JobState,
    JobStatus,
    apply_event,
)
from scheduler_core.domain.precondition import NONE, Precondition
from scheduler_core.domain.recurrence import Recurrence, occurrences
from scheduler_core.ports import HistoryEntry, Page, StoredCollection, StoredJob, new_version
from scheduler_core.service.context import Services
from scheduler_core.service.dispatch import (
    Occurrence,
    default_anchor,
    enqueue,
    next_due,
    opens_at_once,
    schedule,
    timing,
)
from scheduler_core.service.quota import check_new_job_fits, check_recurrence
from scheduler_core.wire import format_datetime

MAX_PREVIEW = 1000


# ---- writes ------------------------------------------------------------------------------------------------------


def put_job(
    services: Services, ref: JobRef, write: JobWrite, condition: Precondition = NONE
) -> tuple[StoredJob, bool]:
    """Create or fully replace a job with `write`; returns (stored job, created).

    Raises:
        JobCollectionNotFound: no implicit creation of the collection.
        PreconditionFailed: the job does not meet `condition` (checked inside the guarded write).
        QuotaExceeded: the job recurs more often than `maxRecurrence`, or a new job finds no `maxJobCount` slot.
        StateConflict: a state change of a Completed or Faulted job.
    """
    # Without If-Match the job is assumed new: inserted without a read first (an insert that finds it costs one
    # refused request, then the replace path reads it), since creating is what bulk clients do most. Not with a
    # state only an existing job may repeat (saved Completed/Faulted JSON put back): that one is read first.
    assume_new = condition.if_match is None and write.state in (None, JobState.ENABLED, JobState.DISABLED)
    return _write_job(services, ref, lambda _current: write, condition, assume_new=assume_new)


def patch_job(
    services: Services,
    ref: JobRef,
    build: Callable[[StoredJob], JobWrite],
    condition: Precondition = NONE,
) -> StoredJob:
    """Replace a job with `build(current job)`, where the current job is read inside the ETag-guarded write: a
    concurrent write makes it read and build again, so no update is lost. `build` merges the patch and validates
    the result (the API's part).

    Raises:
        JobNotFound, PreconditionFailed, QuotaExceeded, StateConflict: as `put_job`; InvalidInput from `build`.
    """

    def patched(current: StoredJob | None) -> JobWrite:
        if current is None:
            raise JobNotFound(ref.name)
        return build(current)

    job, _ = _write_job(services, ref, patched, condition)
    return job


# Each round of racing writers lets one through: enough rounds for many concurrent clients of one job.
_WRITE_ATTEMPTS = 50


def _write_job(
    services: Services,
    ref: JobRef,
    write_for: Callable[[StoredJob | None], JobWrite],
    condition: Precondition,
    *,
    assume_new: bool = False,
) -> tuple[StoredJob, bool]:
    now = services.clock()
    # A create may start from the collection as this instance last saw it: taking the job's slot is a write guarded
    # by that row's ETag, which confirms it (or reads it again and the decisions taken on it are checked again).
    guess = services.storage.recent_collection(ref.collection) if assume_new else None
    collection = guess or services.storage.get_collection(ref.collection)
    for attempt in range(_WRITE_ATTEMPTS):
        current: StoredJob | None = None
        if not (assume_new and attempt == 0):
            try:
                current = services.storage.get_job(ref)
            except JobNotFound:
                pass
            if collection is guess:
                collection = services.storage.get_collection(ref.collection)  # a replace decides on a fresh row
        condition.check(ref.name, current.version if current else None)
        write = write_for(current)
        definition, requested = write.definition, write.state
        try:
            check_recurrence(definition, collection.definition, now)
        except QuotaExceeded:
            if collection is not guess:
                raise
            collection = services.storage.get_collection(ref.collection)  # refused on a guess: decide on the row
            check_recurrence(definition, collection.definition, now)
        if current is None:
            anchor = default_anchor(now, definition.recurrence)
            job = StoredJob(
                ref,
                definition,
                _initial_state(requested, collection),
                JobStatus(),
                created_at=anchor,
                secrets=write.secrets,
                version=new_version(),
            )
            try:
                return _create(services, job, requested, now, collection), True
            except ConcurrencyConflict:
                continue  # created meanwhile by someone else: replace it instead (or fail its precondition)
        state = _in_collection(current.state if requested is None else _transition(current.state, requested),
                               collection)
        note = current.disabled_note if state is JobState.DISABLED else None
        retimed = _placement(definition) != _placement(current.definition)
        job = replace(
            current,
            definition=definition,
            secrets=write.secrets,
            state=state,
            version=new_version(),
            disabled_note=note,
            # A new schedule is a new series (docs/api.md): a recurring job that ran, replaced by a one-time one,
            # runs once; a new `count` counts from now. The same schedule again (an ARM redeploy) goes on.
            series_base=current.status.execution_count - current.manual_runs if retimed else current.series_base,
        )
        try:
            return _store(services, current, job, now), False
        except ConcurrencyConflict:
            continue
    raise ConcurrencyConflict(f"job '{ref.name}' kept changing; try again")


def _placement(definition: JobDefinition) -> tuple[datetime | None, Recurrence | None]:
    """What places a job's occurrences in time: `startTime` and the recurrence without `count` and `endTime`, which
    only end a series (raising `count` from 5 to 10 after 3 runs leaves 7)."""
    recurrence = definition.recurrence
    return definition.start_time, None if recurrence is None else replace(recurrence, count=None, end_time=None)


def _transition(current: JobState, wanted: JobState) -> JobState:
    if wanted is current:
        return current
    return apply_event(current, _setting(wanted))


def _setting(wanted: JobState) -> JobEvent:
    """The event of a user setting `state` to `wanted`: only Enabled and Disabled can be set (reference (e)).

    Raises:
        InvalidInput: `wanted` is Completed or Faulted.
    """
    event = {JobState.ENABLED: JobEvent.ENABLE, JobState.DISABLED: JobEvent.DISABLE}.get(wanted)
    if event is None:
        raise InvalidInput(f"state can be set to Enabled or Disabled, not {wanted.value}", "properties.state")
    return event


def _initial_state(requested: JobState | None, collection: StoredCollection) -> JobState:
    """A new job's state: as requested (Enabled by default), but a disabled collection's new jobs start Disabled.

    Raises:
        InvalidInput: a new job cannot start Completed or Faulted.
    """
    if requested is not None:
        _setting(requested)
    return _in_collection(requested or JobState.ENABLED, collection)


def _in_collection(state: JobState, collection: StoredCollection) -> JobState:
    """A job of a collection that is not Enabled is not Enabled either (it would run while its collection is
    disabled); enabling the collection enables it."""
    return JobState.DISABLED if state is JobState.ENABLED and not collection.enabled else state


def _create(
    services: Services, job: StoredJob, requested: JobState | None, now: datetime, collection: StoredCollection
) -> StoredJob:
    """Insert the job, then count it against the collection's `maxJobCount`; remove it again if it does not fit.

    The quota is counted per job, not per request: only the request whose insert wins takes a slot, so concurrent
    identical PUTs of one new job never use up the quota (the others become replaces). The job is scheduled only
    once its slot is taken, so a job that ends 409 never runs. `collection` may be a snapshot: the slot is taken on
    the row as stored, where the job's recurrence quota and its initial state are decided again if it changed.

    Raises:
        ConcurrencyConflict: the job was created meanwhile (the caller replaces it instead).
        QuotaExceeded: no slot left; nothing stays stored.
    """
    job = replace(job, status=job.status.scheduled(_first_due(job, now)))
    stored = services.storage.create_job(job)

    def take_slot(current: StoredCollection) -> StoredCollection:
        check_new_job_fits(current.definition, current.job_count, current.ref.name)
        if current.definition != collection.definition:
            check_recurrence(job.definition, current.definition, now)
        return replace(current, job_count=current.job_count + 1, etag=None)

    try:
        confirmed = services.storage.update_collection(job.ref.collection, take_slot, known=collection)
    except BaseException:
        services.storage.delete_job(job.ref)
        raise
    state = _initial_state(requested, confirmed)
    if state is not stored.state:  # the collection was enabled or disabled meanwhile
        try:
            stored = services.storage.update_job(job.ref, lambda j: replace(j, state=state), current=stored)
        except JobNotFound:
            return stored  # deleted as soon as created: nothing left to schedule
    _reschedule(services, None, stored, now)
    return stored


def _give_back_slot(services: Services, collection: CollectionRef) -> None:
    services.storage.update_collection(collection, lambda c: replace(c, job_count=max(0, c.job_count - 1), etag=None))


def _store(services: Services, current: StoredJob, job: StoredJob, now: datetime) -> StoredJob:
    job = replace(job, status=job.status.scheduled(_first_due(job, now) if _schedulable(job) else None))
    stored = services.storage.replace_job(job)
    _reschedule(services, current, stored, now)
    return stored


def _schedulable(job: StoredJob) -> bool:
    return job.state in (JobState.ENABLED, JobState.DISABLED)


def _first_due(job: StoredJob, now: datetime) -> datetime | None:
    """The job's first occurrence from `now` on that no message has claimed yet. An occurrence is claimed up to the
    claim lead before its instant (a lease: service/executor.py) and then runs as claimed, so a change made within
    that lead takes effect from the occurrence after it."""
    leased = max((due for due, _token in job.dispatched if due >= now), default=None)
    if leased is not None:
        return next_due(job, after=leased, strictly_after=True)
    return next_due(job, after=now)


def _reschedule(services: Services, before: StoredJob | None, after: StoredJob, now: datetime) -> None:
    """Make sure the job's next occurrence is scheduled, then forget the one it replaces.

    Crash consistency (docs/storage.md): the next occurrence is scheduled even when it did not change, since the
    request that stored it may have died before scheduling it (a client's retry of a create or replace finds the job
    stored as it wants it); scheduling is idempotent (one due entry per occurrence, one claim per occurrence among
    its messages). The new one goes first: an instance dying in between leaves the old entry, whose occurrence the
    executor then finds changed, never a job with nothing scheduled.
    """
    old = before.status.next_execution_time if before else None
    new = after.status.next_execution_time
    if new is not None:
        # A client waits for this write: alone, it does not queue behind the bucket's transaction in flight (jobs
        # created together are mostly due together, in one bucket).
        schedule(services, after, new, now, alone=True)
    if old is not None and old != new:
        services.storage.remove_due(after.ref, old)


def delete_job(services: Services, ref: JobRef, condition: Precondition = NONE) -> None:
    """Delete a job, its pending occurrence and its history, and give its slot back.

    Raises:
        JobNotFound: no such job.
        PreconditionFailed: the job does not meet `condition` (the delete is guarded by what was checked).
    """
    for attempt in range(_WRITE_ATTEMPTS):
        try:
            job = services.storage.get_job(ref)
        except JobNotFound:
            if attempt == 0:
                # A delete that died after the job's row went leaves its history and claims: a retry removes them
                # (a job created later under the name must not inherit them).
                services.storage.delete_history(ref)
            raise
        condition.check(ref.name, job.version)
        try:
            services.storage.delete_job(ref, etag=job.etag if condition.if_match else None)
            break
        except ConcurrencyConflict:
            continue  # it ran or changed meanwhile: check the condition again
    else:
        raise ConcurrencyConflict(f"job '{ref.name}' kept changing; try again")
    _give_back_slot(services, ref.collection)
    if job.status.next_execution_time:
        services.storage.remove_due(ref, job.status.next_execution_time)
    services.storage.delete_history(ref)


def set_state(services: Services, ref: JobRef, state: JobState, note: DisabledNote | None = None) -> None:
    """Enable or disable a job; a disable may carry a `note` (who, when, why), kept while the job stays disabled."""
    now = services.clock()
    for _ in range(10):
        current = services.storage.get_job(ref)
        job = replace(current, state=_transition(current.state, state))
        kept = (note or current.disabled_note) if job.state is JobState.DISABLED else None
        if job.state is current.state and kept == current.disabled_note:
            return
        job = replace(job, disabled_note=kept, version=new_version())
        try:
            _store(services, current, job, now)
            return
        except ConcurrencyConflict:
            continue
    raise ConcurrencyConflict(f"job '{ref.name}' kept changing; try again")


def run_job(services: Services, ref: JobRef) -> None:
    """Run the job's action now without changing its schedule (works on a disabled job: an on-demand job)."""
    services.storage.get_job(ref)
    now = services.clock()
    enqueue(services, Occurrence(ref, now, str(uuid.uuid4()), manual=True), now)


# ---- reads -------------------------------------------------------------------------------------------------------


def get_job(services: Services, ref: JobRef) -> StoredJob:
    """Raises JobNotFound."""
    return services.storage.get_job(ref)


def list_jobs(
    services: Services, collection: CollectionRef, *, top: int, skip: int, token: str | None, state: JobState | None
) -> tuple[list[StoredJob], str | None]:
    services.storage.get_collection(collection)
    page = _skip_page(
        lambda size, tok: services.storage.list_jobs(collection, top=size, continuation=tok, state=state),
        top=top,
        skip=skip,
        token=token,
    )
    return list(page.items), page.continuation


def list_history(
    services: Services, ref: JobRef, *, top: int, skip: int, token: str | None, status: JobExecutionStatus | None
) -> tuple[list[HistoryEntry], str | None]:
    services.storage.get_job(ref)
    page = _skip_page(
        lambda size, tok: services.storage.list_history(ref, top=size, continuation=tok, status=status),
        top=top,
        skip=skip,
        token=token,
    )
    return list(page.items), page.continuation


def _skip_page(fetch: Callable[[int, str | None], Page], *, top: int, skip: int, token: str | None) -> Page:
    """`$skip` on a store that pages by continuation: read and drop the first `skip` items (first page only)."""
    while skip > 0:
        dropped = fetch(min(skip, 1000), token)
        skip -= len(dropped.items)
        token = dropped.continuation
        if token is None:
            return Page([], None)
    return fetch(top, token)


def preview(services: Services, ref: JobRef, *, count: int, start: datetime | None) -> list[str]:
    """The job's next `count` occurrences at or after `start` (default now), for any state but Completed/Faulted."""
    job = services.storage.get_job(ref)
    if not _schedulable(job):
        return []
    anchor, recurrence = timing(job)
    after = start or services.clock()
    found = occurrences(anchor, recurrence, after=after, limit=min(count, MAX_PREVIEW), executed=job.scheduled_runs,
                        immediate=opens_at_once(job))
    return [format_datetime(t) for t in found]
