"""Occurrences: when a job is next due, and how an occurrence gets queued (domain/occurrence.py says what one is).

An occurrence due within the planner's lookahead is enqueued at once with a visibility delay equal to the time left;
a later one goes into the due index, where the planner's tick finds it. The same occurrence may be enqueued twice
(an API write racing a tick, two hosts); the executor's claim makes exactly one of the messages act.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from scheduler_core.domain.occurrence import ERROR_ACTION as ERROR_ACTION  # re-exported for the service
from scheduler_core.domain.occurrence import MAIN_ACTION as MAIN_ACTION
from scheduler_core.domain.occurrence import Occurrence as Occurrence
from scheduler_core.domain.occurrence import execution_id as execution_id
from scheduler_core.domain.recurrence import Recurrence, next_occurrence
from scheduler_core.ports import StoredJob
from scheduler_core.service.context import Services


def default_anchor(now: datetime, recurrence: Recurrence | None) -> datetime:
    """The anchor of a job without `startTime`: now (its first run is immediate), or the start of the minute when a
    schedule or cron picks the times, so that "hours 10, minutes 0" fires at 10:00:00, not at the creation's seconds
    (a schedule's run at once comes from `opens_at_once`).
    """
    if recurrence is not None and (recurrence.schedule is not None or recurrence.cron is not None):
        return now.replace(second=0, microsecond=0)
    return _whole_milliseconds(now)  # storage keeps milliseconds; rounded up so that the first run is not in the past


def timing(job: StoredJob) -> tuple[datetime, Recurrence | None]:
    """The job's anchor (startTime, or its creation time when absent) and its recurrence."""
    return job.definition.start_time or job.created_at, job.definition.recurrence


def opens_at_once(job: StoredJob) -> bool:
    """Whether the job's series opens with one run at once: a recurrence `schedule` without a startTime ("Run once
    immediately. Run subsequent executions based on a recurrence schedule", reference (c)). A recurrence without a
    schedule already starts at its anchor, its creation; cron (an extension) runs only at its own times."""
    recurrence = job.definition.recurrence
    return (
        job.definition.start_time is None
        and recurrence is not None
        and recurrence.schedule is not None
        and recurrence.cron is None
    )


def next_due(job: StoredJob, *, after: datetime, strictly_after: bool = False) -> datetime | None:
    """The job's next occurrence at (or strictly after) `after`, given the executions so far."""
    start, recurrence = timing(job)
    due = next_occurrence(
        start, recurrence, after=after, executed=job.scheduled_runs, strictly_after=strictly_after,
        immediate=opens_at_once(job),
    )
    return None if due is None else _whole_milliseconds(due)


def _whole_milliseconds(instant: datetime) -> datetime:
    """Storage keeps milliseconds; a finer due time would never match the stored one. Rounded up: never early."""
    extra = instant.microsecond % 1000
    return instant + timedelta(microseconds=1000 - extra) if extra else instant


#: Messages become visible this long before their due instant, so the executor can prepare (re-check, claim, move
#: the schedule on) ahead of it and only the action is left for the instant itself. The executor never acts early.
PREPARE_LEAD_SECONDS = 2.0


def enqueue(services: Services, occurrence: Occurrence, now: datetime) -> None:
    delay = (occurrence.act_at - now).total_seconds() - PREPARE_LEAD_SECONDS
    services.queue.send(occurrence, delay_seconds=delay)


def schedule(services: Services, job: StoredJob, due: datetime, now: datetime, *, alone: bool = False) -> None:
    """Make sure the occurrence `due` of the job just stored will be dispatched: now if within the lookahead, else
    via the index. Either carries the job's snapshot. `alone`: the index entry is not grouped with concurrent ones
    (a client's request waits for it; see `DueIndex.add_due`)."""
    snapshot = services.storage.snapshot(job)
    if due - now <= timedelta(seconds=services.settings.lookahead_seconds):
        enqueue(services, Occurrence(job.ref, due, execution_id(job.ref, due), snapshot=snapshot), now)
    else:
        services.storage.add_due(job.ref, due, snapshot, alone=alone)
