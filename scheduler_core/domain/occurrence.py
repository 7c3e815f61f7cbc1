"""An occurrence's attempt, as the executor handles it: the job, the nominal time, the action and the retry.

What an execution message carries, as a typed value; its wire layout (JSON, versioned) is the queue adapters'
business (adapters/messages.py). Pure.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from scheduler_core.domain.job import JobHistoryActionName, JobRef

MAIN_ACTION, ERROR_ACTION = JobHistoryActionName.MAIN_ACTION, JobHistoryActionName.ERROR_ACTION
_NAMESPACE = uuid.UUID("6f1c1c55-5d1a-4c39-9f0e-6a4b1d6f7a01")


def execution_id(job: JobRef, due: datetime) -> str:
    """Stable per occurrence, whoever dispatches it: targets de-duplicate on it (`x-ms-scheduler-execution-id`)."""
    return str(uuid.uuid5(_NAMESPACE, f"{job.key}|{due.isoformat()}"))


@dataclass(frozen=True)
class Attempt:
    """One attempt of one occurrence, what a claim is taken on: the job, the occurrence's nominal time, the action
    and the retry (0 = the first try); for a run-now also its execution id (`run`), since two run-now requests of
    one instant are two occurrences. How it is keyed in storage is the adapter's business."""

    job: JobRef
    due: datetime
    action: JobHistoryActionName = JobHistoryActionName.MAIN_ACTION
    retry: int = 0
    run: str | None = None


@dataclass(frozen=True)
class Occurrence:
    """One attempt of one occurrence of a job, as carried by an execution message.

    Attributes:
        job: the job.
        due: the occurrence's nominal time (what history and the target's headers show).
        execution_id: stable per occurrence (`execution_id`).
        action_name: the main action, or the error action once the main one's retries are exhausted.
        retry: ours (0 = first attempt), never the queue's dequeue count.
        manual: a run-now.
        not_before: a retry's time (None: `due`).
        snapshot: the job as it was when the occurrence was scheduled (`JobStore.snapshot`), carried by a scheduled
            first attempt so that the executor's claim, guarded by the snapshot's ETag, needs no read before it.
    """

    job: JobRef
    due: datetime
    execution_id: str
    action_name: JobHistoryActionName = MAIN_ACTION
    retry: int = 0
    manual: bool = False
    not_before: datetime | None = None
    snapshot: str | None = field(default=None, compare=False, repr=False)

    @property
    def act_at(self) -> datetime:
        return self.not_before or self.due

    @property
    def attempt(self) -> Attempt:
        """What the executor claims for this message."""
        return Attempt(self.job, self.due, self.action_name, self.retry, self.execution_id if self.manual else None)

    @property
    def first_attempt(self) -> bool:
        return self.action_name == MAIN_ACTION and self.retry == 0
