"""What the service needs from storage, queues and the outside world, as small interfaces with contracts.

Records here are plain frozen values. The adapters in `adapters/` implement the protocols on Table Storage and
Storage Queues; `adapters/memory.py` is the in-memory reference of every one. The contract tests in
`tests/integration/test_storage_contract.py` run the same cases against both (the table adapter on real Azurite).
"Raises nothing of its own": only what the infrastructure raises (a storage outage) gets through.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any, Protocol

from scheduler_core.domain.collection import CollectionDefinition
from scheduler_core.domain.definition import Action, JobDefinition
from scheduler_core.domain.job import (
    CollectionRef,
    DisabledNote,
    JobExecutionStatus,
    JobHistoryActionName,
    JobRef,
    JobState,
    JobStatus,
)
from scheduler_core.domain.occurrence import Attempt as Attempt  # the ports speak these (re-exported)
from scheduler_core.domain.occurrence import Occurrence as Occurrence
from scheduler_core.wire import collection_definition_from_wire, definition_from_wire


def new_version() -> str:
    """A fresh opaque version for a resource a user writes (its API `ETag`, unquoted)."""
    return uuid.uuid4().hex[:16]


class Claim(Enum):
    WON = "won"
    REDELIVERED = "redelivered"
    LOST = "lost"


@dataclass(frozen=True)
class StoredCollection:
    """A job collection as stored: its typed definition (location, tags, plan, state, quota; a wire mapping given
    here is parsed, for tests and benchmarks) and how many jobs it holds.

    `version` changes with every write by a user (not with the job count): the API's `ETag`. `etag` is the storage
    row's own, for guarded writes.
    """

    ref: CollectionRef
    definition: CollectionDefinition
    job_count: int = 0
    etag: str | None = None
    version: str = "1"

    def __post_init__(self) -> None:
        if not isinstance(self.definition, CollectionDefinition):
            object.__setattr__(self, "definition", collection_definition_from_wire(self.definition))

    @property
    def enabled(self) -> bool:
        return self.definition.enabled


@dataclass(frozen=True)
class StoredJob:
    """A job as stored.

    `definition` is the typed definition (its `wire`: the validated `properties` without `state`, `status` and
    secrets; a wire mapping given here is parsed, for tests and benchmarks); `secrets` maps the JSON path of each
    secret field to its value (encrypted at rest by the adapter). `created_at` anchors a job without
    `startTime`. `version` changes with every write by a user (PUT, PATCH, enable, disable), not with executions:
    the API's `ETag`. `etag` is the storage row's own, for guarded writes.
    """

    ref: JobRef
    definition: JobDefinition
    state: JobState
    status: JobStatus
    created_at: datetime
    secrets: Mapping[str, str] = field(default_factory=dict, repr=False)
    version: str = "1"
    manual_runs: int = 0  # run-now executions: counted in executionCount, but not against recurrence `count`
    # Scheduled runs before the job's timing (startTime, recurrence) was last changed: a new schedule starts a new
    # series, whose `count` and one-time run are its own (executionCount goes on counting all runs).
    series_base: int = 0
    # The storage adapters' record of the claims of recent scheduled first attempts (`AttemptClaims.claim` with
    # `advance`): opaque to the service, which only ever sees the claim's result.
    dispatched: tuple[tuple[datetime, str], ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.definition, JobDefinition):
            object.__setattr__(self, "definition", definition_from_wire(self.definition))

    etag: str | None = None
    disabled_note: DisabledNote | None = None  # set by a disable that gave a reason; cleared when it leaves Disabled

    @property
    def scheduled_runs(self) -> int:
        """Scheduled runs of the current series: what its `count` and a one-time run are held against."""
        return max(0, self.status.execution_count - self.manual_runs - self.series_base)


@dataclass(frozen=True)
class HistoryEntry:
    """One row of a job's execution history (wire `JobHistoryDefinitionProperties` plus identity)."""

    job: JobRef
    execution_id: str
    expected_execution_time: datetime
    start_time: datetime
    end_time: datetime
    action_name: JobHistoryActionName
    status: JobExecutionStatus
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

    def recent_collection(self, ref: CollectionRef) -> StoredCollection | None:
        """The collection as this instance last read or wrote it, without a request; None when it has not seen it.
        Possibly stale: a guess, for a write that `update_collection(..., known=guess)` then confirms. Raises
        nothing of its own."""

    def create_collection(self, collection: StoredCollection) -> StoredCollection:
        """Insert a new collection (job count 0); returns it with its ETag. Raises ConcurrencyConflict when it
        exists already."""

    def update_collection(
        self,
        ref: CollectionRef,
        update: Callable[[StoredCollection], StoredCollection],
        known: StoredCollection | None = None,
    ) -> StoredCollection:
        """Apply a pure `update(current) -> new` under an ETag guard, re-reading on conflict; returns what was
        stored, with its new ETag. `known`, a snapshot read earlier, saves the first read (a stale one costs a retry;
        `update` raising on a snapshot makes it read and try again, so a refusal always rests on a row just read).

        Raises JobCollectionNotFound, ConcurrencyConflict when it kept changing (20 rounds), or whatever `update`
        raises."""

    def list_collections(self, subscription: str, resource_group: str | None) -> list[StoredCollection]:
        """The collections of a subscription (of one resource group when given). Raises nothing of its own."""

    def all_collections(self) -> list[StoredCollection]:
        """Every collection of every subscription (maintenance only). Raises nothing of its own."""

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
        self,
        ref: JobRef,
        update: Callable[[StoredJob], StoredJob],
        *,
        current: StoredJob | None = None,
        history: Sequence[HistoryEntry] = (),
    ) -> StoredJob:
        """Apply a pure `update(current) -> new` under an ETag guard, re-reading on conflict (starting from
        `current` when given, saving a read). An unchanged job is not written. Raises JobNotFound, ConcurrencyConflict
        when it kept changing (20 rounds), or whatever `update` raises.

        `history`: rows to record with the update (an attempt's row with the job's counters), as `add_history` does,
        in the same storage transaction where the store can. They are recorded whatever becomes of the update
        (unchanged, refused, the job gone), before this returns or raises."""

    def delete_job(self, ref: JobRef, *, etag: str | None = None) -> None:
        """Idempotent (a job already gone is no error). With `etag`, only if the row still has it: raises
        ConcurrencyConflict when it changed."""

    def list_jobs(
        self, collection: CollectionRef, *, top: int, continuation: str | None, state: JobState | None
    ) -> Page:
        """A page of at most `top` jobs (of one state when given). Raises InvalidInput for a continuation token it
        did not issue."""

    def all_jobs(self, collection: CollectionRef) -> list[StoredJob]:
        """Every job of a collection (none when it does not exist). Raises nothing of its own."""

    def snapshot(self, job: StoredJob) -> str | None:
        """The stored job (ETag included, secrets sealed as at rest) as an opaque string that an execution message
        or due entry carries, so the executor need not read the row; None when it is too large to carry."""

    def restore(self, snapshot: str) -> StoredJob:
        """The job a `snapshot` was taken of, with that ETag (an update guarded by it fails if the row changed).
        Raises ValueError or KeyError for a string that is not one of its snapshots."""


class HistoryStore(Protocol):
    def add_history(self, entries: Sequence[HistoryEntry]) -> None:
        """Write rows (a row with the same start, execution, action and retry is replaced). Raises nothing of its
        own."""

    def list_history(
        self, job: JobRef, *, top: int, continuation: str | None, status: JobExecutionStatus | None
    ) -> Page:
        """A page of the job's rows, newest first (of one status when given). Raises InvalidInput for a
        continuation token it did not issue."""

    def delete_history(self, job: JobRef) -> None:
        """Remove every history row and claim of a job. Idempotent."""

    def prune_history(self, job: JobRef, *, older_than: datetime, keep_last: int) -> int:
        """Delete rows older than `older_than` and beyond the newest `keep_last`; returns how many went."""


@dataclass(frozen=True)
class Claimed:
    """What `AttemptClaims.claim` found: the claim, and for a claim that moved its job on (`advance`) the job as
    stored now (WON: as `advance` made it; REDELIVERED: as it is, moved on by the earlier delivery; LOST: None)."""

    claim: Claim
    job: StoredJob | None = None


class AttemptClaims(Protocol):
    def claim(
        self,
        attempt: Attempt,
        token: str,
        *,
        advance: Callable[[StoredJob], StoredJob] | None = None,
        current: StoredJob | None = None,
    ) -> Claimed:
        """Claim one attempt of an occurrence for the message `token`: the one way an attempt of any kind (scheduled
        first attempt, retry, error action, run-now) is made to act once.

        Contract: exactly one token wins an attempt (WON); the winner's message may claim it again after a crash
        (REDELIVERED: at least once across crashes); any other token gets LOST, as long as the claim is kept
        (at least until history older than it is pruned).

        `advance`, for a scheduled first attempt: the claim is taken in the same guarded write of the job row as
        `advance(job) -> job moved on` (the schedule's next occurrence and counters), so the hot path costs that one
        write (starting from `current`, a snapshot, when given; a stale one costs a re-read). `advance` is pure and
        may raise to refuse (the job no longer expects the attempt): that goes through and nothing is claimed. Such
        a claim is remembered for the job's recent scheduled occurrences (the next ones cannot be claimed for an
        earlier occurrence anyway: `advance` refuses them).

        How claims are keyed and kept is the adapter's business. Raises JobNotFound (with `advance`), or whatever
        `advance` raises; nothing else of its own."""


@dataclass(frozen=True)
class Due:
    """An entry of the due index: the occurrence `due` of `job`, and the job's snapshot when it was scheduled."""

    job: JobRef
    due: datetime
    snapshot: str | None = field(default=None, compare=False, repr=False)


class DueIndex(Protocol):
    """Occurrences due later than the planner's lookahead, by due-time bucket, so a tick reads only what is due."""

    def add_due(self, job: JobRef, due: datetime, snapshot: str | None = None, *, alone: bool = False) -> None:
        """Index the occurrence (idempotent: the same job and due time is one entry). Raises nothing of its own.

        `alone`: written at once as a request of its own, not grouped with concurrent entries of its bucket (an
        adapter may group writes that arrive together; a client's request waiting for this one should not queue
        behind them)."""

    def remove_due(self, job: JobRef, due: datetime) -> None:
        """Idempotent."""

    def remove_due_many(self, entries: Sequence[tuple[JobRef, datetime]]) -> None:
        """Idempotent; batched by bucket."""

    def due_until(self, until: datetime) -> list[Due]:
        """Every entry due at or before `until` that has not been removed (oldest first). Raises nothing of its
        own."""


class ExecutionQueue(Protocol):
    def send(self, occurrence: Occurrence, *, delay_seconds: float) -> None:
        """Enqueue an execution message for `occurrence`, invisible for `delay_seconds` (a negative delay is none).
        Raises nothing of its own."""


@dataclass(frozen=True)
class Poisoned:
    """A message the host gave up on: the occurrence it carries (None when it is not an execution message this
    instance reads) and what removing it takes."""

    id: str
    occurrence: Occurrence | None
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
    def run(self, action: Action, secrets: Mapping[str, str], headers: Mapping[str, str]) -> Outcome:
        """Perform an action with the job's secrets (by JSON path); `headers` identify the occurrence for the target.

        Never raises for what the target does: a failure is an Outcome with `succeeded` False and the reason."""
