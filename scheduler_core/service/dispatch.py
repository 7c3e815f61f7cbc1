"""Occurrences: what an execution message carries, when a job is next due, and how an occurrence gets queued.

An occurrence due within the planner's lookahead is enqueued at once with a visibility delay equal to the time left;
a later one goes into the due index, where the planner's tick finds it. The same occurrence may be enqueued twice
(an API write racing a tick, two hosts); the executor's claim makes exactly one of the messages act.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from scheduler_core.domain.job import CollectionRef, JobHistoryActionName, JobRef
from scheduler_core.domain.recurrence import Recurrence, next_occurrence
from scheduler_core.ports import Attempt, StoredJob
from scheduler_core.service.context import Services

MAIN_ACTION, ERROR_ACTION = JobHistoryActionName.MAIN_ACTION, JobHistoryActionName.ERROR_ACTION
#: The layout of execution messages (`v`). Readers accept this and the previous one (unversioned reads as 1), so
#: messages still queued across a deploy execute. 2 differs from 1 only in the job snapshot it may carry, whose own
#: layout the storage adapter versions and reads (see adapters/tables.py SCHEMA_VERSION).
MESSAGE_VERSION = 2
_READABLE_MESSAGES = (1, 2)
_NAMESPACE = uuid.UUID("6f1c1c55-5d1a-4c39-9f0e-6a4b1d6f7a01")


def execution_id(job: JobRef, due: datetime) -> str:
    """Stable per occurrence, whoever dispatches it: targets de-duplicate on it (`x-ms-scheduler-execution-id`)."""
    return str(uuid.uuid5(_NAMESPACE, f"{job.key}|{due.isoformat()}"))


@dataclass(frozen=True)
class Occurrence:
    """One attempt of one occurrence of a job, as carried by an execution message.

    `retry` is ours (0 = first attempt), never the queue's dequeue count. `manual` marks a run-now. `snapshot` is
    the job as it was when the occurrence was scheduled (JobStore.snapshot), carried by a scheduled first attempt so
    that the executor's claim, guarded by the snapshot's ETag, needs no read before it.
    """

    job: JobRef
    due: datetime
    execution_id: str
    action_name: JobHistoryActionName = MAIN_ACTION
    retry: int = 0
    manual: bool = False
    not_before: datetime | None = None  # a retry's time; the nominal `due` stays what history shows
    snapshot: str | None = field(default=None, compare=False, repr=False)

    @property
    def act_at(self) -> datetime:
        return self.not_before or self.due

    @property
    def attempt(self) -> Attempt:
        """What the executor claims for this message."""
        return Attempt(self.job, self.due, self.action_name, self.retry)

    @property
    def first_attempt(self) -> bool:
        return self.action_name == MAIN_ACTION and self.retry == 0

    def to_message(self) -> dict[str, Any]:
        c = self.job.collection
        return {
            "v": MESSAGE_VERSION,
            "job": [c.subscription, c.resource_group, c.name, self.job.name],
            "due": self.due.isoformat(),
            "id": self.execution_id,
            "action": self.action_name.value,
            "retry": self.retry,
            "manual": self.manual,
            "at": self.act_at.isoformat(),
            **({"snapshot": self.snapshot} if self.snapshot else {}),
        }

    @classmethod
    def from_message(cls, message: Mapping[str, Any]) -> Occurrence:
        """Raises ValueError (or KeyError, TypeError) for a message that is not an execution message of a layout
        this instance reads."""
        if message.get("v", 1) not in _READABLE_MESSAGES:
            raise ValueError(f"execution message layout {message.get('v')!r}; this instance reads {_READABLE_MESSAGES}")
        subscription, resource_group, collection, job = message["job"]
        return cls(
            job=JobRef(CollectionRef(subscription, resource_group, collection), job),
            due=datetime.fromisoformat(message["due"]),
            execution_id=message["id"],
            action_name=JobHistoryActionName(message.get("action", MAIN_ACTION.value)),
            retry=int(message.get("retry", 0)),
            manual=bool(message.get("manual", False)),
            not_before=datetime.fromisoformat(message["at"]) if message.get("at") else None,
            snapshot=message.get("snapshot"),
        )


def default_anchor(now: datetime, recurrence: Recurrence | None) -> datetime:
    """The anchor of a job without `startTime`: now (its first run is immediate), or the start of the minute when a
    schedule or cron picks the times, so that "hours 10, minutes 0" fires at 10:00:00, not at the creation's seconds.
    """
    if recurrence is not None and (recurrence.schedule is not None or recurrence.cron is not None):
        return now.replace(second=0, microsecond=0)
    return _whole_milliseconds(now)  # storage keeps milliseconds; rounded up so that the first run is not in the past


def timing(job: StoredJob) -> tuple[datetime, Recurrence | None]:
    """The job's anchor (startTime, or its creation time when absent) and its recurrence."""
    return job.definition.start_time or job.created_at, job.definition.recurrence


def next_due(job: StoredJob, *, after: datetime, strictly_after: bool = False) -> datetime | None:
    """The job's next occurrence at (or strictly after) `after`, given the executions so far."""
    start, recurrence = timing(job)
    due = next_occurrence(start, recurrence, after=after, executed=job.scheduled_runs, strictly_after=strictly_after)
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
    services.queue.send(occurrence.to_message(), delay_seconds=delay)


def schedule(services: Services, job: StoredJob, due: datetime, now: datetime) -> None:
    """Make sure the occurrence `due` of the job just stored will be dispatched: now if within the lookahead, else
    via the index. Either carries the job's snapshot."""
    snapshot = services.storage.snapshot(job)
    if due - now <= timedelta(seconds=services.settings.lookahead_seconds):
        enqueue(services, Occurrence(job.ref, due, execution_id(job.ref, due), snapshot=snapshot), now)
    else:
        services.storage.add_due(job.ref, due, snapshot)
