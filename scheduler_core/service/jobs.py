"""Job use cases: create or replace, patch, get, list, delete, state changes, run now, history, preview.

The API hands over a definition already validated into canonical wire JSON (`properties` without `status`); this
module enforces the collection's quotas, stores the job and keeps its next occurrence scheduled.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from scheduler_core.domain.errors import ConcurrencyConflict, InvalidInput, JobNotFound
from scheduler_core.domain.job import CollectionRef, DisabledNote, JobEvent, JobRef, JobState, JobStatus, apply_event
from scheduler_core.domain.recurrence import occurrences
from scheduler_core.ports import HistoryEntry, Page, StoredCollection, StoredJob
from scheduler_core.secrets import merge_secrets, split_secrets
from scheduler_core.service.context import Services
from scheduler_core.service.dispatch import Occurrence, default_anchor, enqueue, next_due, schedule, timing
from scheduler_core.service.quota import check_new_job_fits, check_recurrence
from scheduler_core.wire import format_datetime

MAX_PREVIEW = 1000


# ---- rendering ---------------------------------------------------------------------------------------------------


def render(job: StoredJob) -> dict[str, Any]:
    status: dict[str, Any] = {
        "executionCount": job.status.execution_count,
        "failureCount": job.status.failure_count,
        "faultedCount": job.status.faulted_count,
    }
    if job.status.last_execution_time:
        status["lastExecutionTime"] = format_datetime(job.status.last_execution_time)
    if job.status.next_execution_time:
        status["nextExecutionTime"] = format_datetime(job.status.next_execution_time)
    return {
        "id": job.ref.arm_id,
        "type": "Microsoft.Scheduler/jobCollections/jobs",
        "name": f"{job.ref.collection.name}/{job.ref.name}",
        "properties": {**job.definition, "state": job.state.value, "status": status},
    }


def render_history(entry: HistoryEntry) -> dict[str, Any]:
    name = f"{entry.execution_id}-{entry.action_name}-{entry.retry_count}"
    return {
        "id": f"{entry.job.arm_id}/history/{name}",
        "type": "Microsoft.Scheduler/jobCollections/jobs/history",
        "name": f"{entry.job.collection.name}/{entry.job.name}/{name}",
        "properties": {
            "startTime": format_datetime(entry.start_time),
            "endTime": format_datetime(entry.end_time),
            "expectedExecutionTime": format_datetime(entry.expected_execution_time),
            "actionName": entry.action_name,
            "status": entry.status,
            "message": entry.message,
            "retryCount": entry.retry_count,
            "repeatCount": entry.repeat_count,
        },
    }


# ---- writes ------------------------------------------------------------------------------------------------------


def put_job(services: Services, ref: JobRef, properties: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
    """Create (201) or fully replace (200) a job; returns (rendered job, created).

    `properties` is canonical wire JSON, secrets included, `status` excluded; `state` absent means keep the
    current state (Enabled for a new job).

    Raises:
        JobCollectionNotFound: no implicit creation of the collection.
        QuotaExceeded: the job recurs more often than `maxRecurrence`, or a new job finds no `maxJobCount` slot.
        StateConflict: a state change of a Completed or Faulted job.
    """
    collection = services.storage.get_collection(ref.collection)
    now = services.clock()
    requested = properties.get("state")
    definition = {k: v for k, v in properties.items() if k not in ("state", "status")}
    check_recurrence(definition, collection.definition, now)
    public, secrets = split_secrets(definition)
    for _ in range(10):
        try:
            current = services.storage.get_job(ref)
        except JobNotFound:
            current = None
        if current is None:
            state = JobState(requested) if requested else JobState.ENABLED
            if not collection.enabled and state is JobState.ENABLED:
                state = JobState.DISABLED
            anchor = default_anchor(now, public.get("recurrence"))
            job = StoredJob(ref, public, state, JobStatus(), created_at=anchor, secrets=secrets)
            try:
                stored = _create(services, job, now)
            except ConcurrencyConflict:
                continue  # created meanwhile by someone else: replace it instead
            return render(stored), True
        state = current.state if not requested else _transition(current.state, JobState(requested))
        note = current.disabled_note if state is JobState.DISABLED else None
        job = replace(
            current, definition=public, secrets=secrets, state=state, generation=current.generation + 1,
            disabled_note=note,
        )
        try:
            return render(_store(services, current, job, now)), False
        except ConcurrencyConflict:
            continue
    raise ConcurrencyConflict(f"job '{ref.name}' kept changing; try again")


def current_definition(services: Services, ref: JobRef) -> dict[str, Any]:
    """The stored `properties` (secrets included, status excluded): the base a PATCH merges into."""
    job = services.storage.get_job(ref)
    return {**merge_secrets(job.definition, job.secrets), "state": job.state.value}


def _transition(current: JobState, wanted: JobState) -> JobState:
    if wanted is current:
        return current
    event = {JobState.ENABLED: JobEvent.ENABLE, JobState.DISABLED: JobEvent.DISABLE}.get(wanted)
    if event is None:
        raise InvalidInput(f"state can be set to Enabled or Disabled, not {wanted.value}", "properties.state")
    return apply_event(current, event)


def _create(services: Services, job: StoredJob, now: datetime) -> StoredJob:
    """Insert the job, then count it against the collection's `maxJobCount`; remove it again if it does not fit.

    The quota is counted per job, not per request: only the request whose insert wins takes a slot, so concurrent
    identical PUTs of one new job never use up the quota (the others become replaces). The job is scheduled only
    once its slot is taken, so a job that ends 409 never runs.

    Raises:
        ConcurrencyConflict: the job was created meanwhile (the caller replaces it instead).
        QuotaExceeded: no slot left; nothing stays stored.
    """
    job = replace(job, status=job.status.scheduled(_first_due(job, now)))
    stored = services.storage.create_job(job)

    def take_slot(current: StoredCollection) -> StoredCollection:
        check_new_job_fits(current.definition, current.job_count, current.ref.name)
        return replace(current, job_count=current.job_count + 1, etag=None)

    try:
        services.storage.update_collection(job.ref.collection, take_slot)
    except BaseException:
        services.storage.delete_job(job.ref)
        raise
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
    return next_due(job, after=now)


def _reschedule(services: Services, before: StoredJob | None, after: StoredJob, now: datetime) -> None:
    old = before.status.next_execution_time if before else None
    new = after.status.next_execution_time
    if old is not None and old != new:
        services.storage.remove_due(after.ref, old)
    if new is not None and new != old:
        schedule(services, after, new, now)


def delete_job(services: Services, ref: JobRef) -> None:
    job = services.storage.get_job(ref)
    services.storage.delete_job(ref)
    _give_back_slot(services, ref.collection)
    if job.status.next_execution_time:
        services.storage.remove_due(ref, job.status.next_execution_time)
    services.storage.delete_history(ref)


def set_state(services: Services, ref: JobRef, state: JobState, note: DisabledNote | None = None) -> None:
    """Enable or disable a job; a disable may carry a `note` (who, when, why), kept while the job stays disabled."""
    now = services.clock()
    for _ in range(10):
        current = services.storage.get_job(ref)
        job = replace(current, state=_transition(current.state, state), generation=current.generation + 1)
        kept = (note or current.disabled_note) if job.state is JobState.DISABLED else None
        if job.state is current.state and kept == current.disabled_note:
            return
        job = replace(job, disabled_note=kept)
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


def get_job(services: Services, ref: JobRef) -> dict[str, Any]:
    return render(services.storage.get_job(ref))


def list_jobs(
    services: Services, collection: CollectionRef, *, top: int, skip: int, token: str | None, state: JobState | None
) -> tuple[list[dict[str, Any]], str | None]:
    services.storage.get_collection(collection)
    page = _skip_page(
        lambda size, tok: services.storage.list_jobs(collection, top=size, continuation=tok, state=state),
        top=top,
        skip=skip,
        token=token,
    )
    return [render(j) for j in page.items], page.continuation


def list_history(
    services: Services, ref: JobRef, *, top: int, skip: int, token: str | None, status: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    services.storage.get_job(ref)
    page = _skip_page(
        lambda size, tok: services.storage.list_history(ref, top=size, continuation=tok, status=status),
        top=top,
        skip=skip,
        token=token,
    )
    return [render_history(e) for e in page.items], page.continuation


def _skip_page(fetch: Any, *, top: int, skip: int, token: str | None) -> Page:
    """`$skip` on a store that pages by continuation: read and drop the first `skip` items (first page only)."""
    while skip > 0:
        dropped: Page = fetch(min(skip, 1000), token)
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
    found = occurrences(anchor, recurrence, after=after, limit=min(count, MAX_PREVIEW), executed=job.scheduled_runs)
    return [format_datetime(t) for t in found]
