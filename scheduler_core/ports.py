"""What the service needs from storage, queues and the outside world, as small interfaces with contracts.

Records here are plain frozen values. The adapters in `adapters/` implement the protocols on Table Storage and
Storage Queues; the contract tests in `tests/integration/` run against them on real Azurite.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any, Protocol

from scheduler_core.domain.job import CollectionRef, DisabledNote, JobRef, JobState, JobStatus


class Claim(Enum):
    WON = "won"
    REDELIVERED = "redelivered"
    LOST = "lost"


@dataclass(frozen=True)
class StoredCollection:
    """A job collection as stored: its wire definition (location, tags, properties) and how many jobs it holds."""

    ref: CollectionRef
    definition: Mapping[str, Any]
    job_count: int = 0
    etag: str | None = None

    @property
    def enabled(self) -> bool:
        return (self.definition.get("properties") or {}).get("state", "Enabled") == "Enabled"


@dataclass(frozen=True)
class StoredJob:
    """A job as stored.

    `definition` is the validated wire `properties` without `state`, `status` and secrets; `secrets` maps the JSON
    path of each secret field to its value (encrypted at rest by the adapter). `created_at` anchors a job without
    `startTime`. `generation` grows with every write by a user, so an executor can tell that a job changed.
    """

    ref: JobRef
    definition: Mapping[str, Any]
    state: JobState
    status: JobStatus
    created_at: datetime
    secrets: Mapping[str, str] = field(default_factory=dict)
    generation: int = 1
    manual_runs: int = 0  # run-now executions: counted in executionCount, but not against recurrence `count`
    # The scheduled occurrences the schedule last moved on from, each with the message that did it (newest last,
    # a few kept): the job row itself is the claim of a scheduled first attempt (no extra write on the hot path).
    dispatched: tuple[tuple[datetime, str], ...] = ()

    def dispatcher_of(self, due: datetime) -> str | None:
        """The message that dispatched the occurrence `due`, if it is among the recent ones."""
        return next((token for when, token in self.dispatched if when == due), None)

    etag: str | None = None
    disabled_note: DisabledNote | None = None  # set by a disable that gave a reason; cleared when it leaves Disabled

    @property
    def scheduled_runs(self) -> int:
        return self.status.execution_count - self.manual_runs


@dataclass(frozen=True)
class HistoryEntry:
    """One row of a job's execution history (wire `JobHistoryDefinitionProperties` plus identity)."""

    job: JobRef
    execution_id: str
    expected_execution_time: datetime
    start_time: datetime
    end_time: datetime
    action_name: str  # MainAction | ErrorAction
    status: str  # Completed | Failed | Postponed
    message: str
    retry_count: int = 0
    repeat_count: int = 0


@dataclass(frozen=True)
class Page:
    """A page of a listing and the opaque token of the next one (None at the end)."""

    items: Sequence[Any]
    continuation: str | None = None


class CollectionStore(Protocol):
    def get_collection(self, ref: CollectionRef) -> StoredCollection:
        """Raises JobCollectionNotFound."""

    def put_collection(self, collection: StoredCollection) -> bool:
        """Create or replace the definition (keeping the job count); True when it was created."""

    def update_collection(
        self, ref: CollectionRef, update: Callable[[StoredCollection], StoredCollection]
    ) -> StoredCollection:
        """Apply a pure `update(current) -> new` under an ETag guard, re-reading on conflict.

        Raises JobCollectionNotFound, or whatever `update` raises."""

    def list_collections(self, subscription: str, resource_group: str | None) -> list[StoredCollection]: ...

    def all_collections(self) -> list[StoredCollection]:
        """Every collection of every subscription (maintenance only)."""

    def delete_collection(self, ref: CollectionRef) -> None:
        """Idempotent; removes only the collection row."""


class JobStore(Protocol):
    def get_job(self, ref: JobRef) -> StoredJob:
        """Raises JobNotFound."""

    def create_job(self, job: StoredJob) -> StoredJob:
        """Raises ConcurrencyConflict when it exists already."""

    def replace_job(self, job: StoredJob) -> StoredJob:
        """Unconditional when `job.etag` is None, else guarded by it (ConcurrencyConflict when stale)."""

    def update_job(
        self, ref: JobRef, update: Callable[[StoredJob], StoredJob], *, current: StoredJob | None = None
    ) -> StoredJob:
        """Apply a pure `update(current) -> new` under an ETag guard, re-reading on conflict (starting from
        `current` when given, saving a read). An unchanged job is not written. Raises JobNotFound."""

    def delete_job(self, ref: JobRef) -> None:
        """Idempotent."""

    def list_jobs(
        self, collection: CollectionRef, *, top: int, continuation: str | None, state: JobState | None
    ) -> Page: ...

    def all_jobs(self, collection: CollectionRef) -> list[StoredJob]: ...

    def snapshot(self, job: StoredJob) -> str | None:
        """The stored job (ETag included, secrets sealed as at rest) as an opaque string that an execution message
        or due entry carries, so the executor need not read the row; None when it is too large to carry."""

    def restore(self, snapshot: str) -> StoredJob:
        """The job a `snapshot` was taken of, with that ETag (an update guarded by it fails if the row changed)."""


class HistoryStore(Protocol):
    def add_history(self, entries: Sequence[HistoryEntry]) -> None: ...

    def list_history(self, job: JobRef, *, top: int, continuation: str | None, status: str | None) -> Page: ...

    def claim(self, job: JobRef, key: str, token: str) -> Claim:
        """Claim one attempt of an occurrence (`key`: due time, action, retry) for the message `token`.

        Exactly one token wins a key (WON); the winner's message may claim again after a crash (REDELIVERED);
        any other token gets LOST."""

    def delete_history(self, job: JobRef) -> None:
        """Remove every history row and claim of a job. Idempotent."""

    def prune_history(self, job: JobRef, *, older_than: datetime, keep_last: int) -> int:
        """Delete rows older than `older_than` and beyond the newest `keep_last`; returns how many went."""


@dataclass(frozen=True)
class Due:
    """An entry of the due index: the occurrence `due` of `job`, and the job's snapshot when it was scheduled."""

    job: JobRef
    due: datetime
    snapshot: str | None = field(default=None, compare=False, repr=False)


class DueIndex(Protocol):
    """Occurrences due later than the planner's lookahead, by due-time bucket, so a tick reads only what is due."""

    def add_due(self, job: JobRef, due: datetime, snapshot: str | None = None) -> None: ...

    def remove_due(self, job: JobRef, due: datetime) -> None:
        """Idempotent."""

    def remove_due_many(self, entries: Sequence[tuple[JobRef, datetime]]) -> None:
        """Idempotent; batched by bucket."""

    def due_until(self, until: datetime) -> list[Due]:
        """Every entry due at or before `until` that has not been removed (oldest first)."""


class ExecutionQueue(Protocol):
    def send(self, message: Mapping[str, Any], *, delay_seconds: float) -> None:
        """Enqueue an execution message, invisible for `delay_seconds`."""


@dataclass(frozen=True)
class Poisoned:
    """A message the host gave up on: its body (None when it is not JSON) and what removing it takes."""

    id: str
    body: Mapping[str, Any] | None
    receipt: Any = field(default=None, compare=False, repr=False)


class PoisonQueue(Protocol):
    def take(self, limit: int) -> list[Poisoned]:
        """Up to `limit` messages, hidden from other readers for a few minutes (a reader that fails leaves them to
        the next)."""

    def remove(self, message: Poisoned) -> None:
        """Idempotent."""


@dataclass(frozen=True)
class Outcome:
    """What happened when an action ran: `succeeded`, and a message for history (status code, response snippet)."""

    succeeded: bool
    message: str


class ActionRunner(Protocol):
    def run(self, action: Mapping[str, Any], secrets: Mapping[str, str], headers: Mapping[str, str]) -> Outcome:
        """Perform an action (wire JSON) with its secrets; `headers` identify the occurrence for the target."""
