"""The in-memory reference implementation of every port: the contract the Table Storage adapter must match, and the
fast fake of the service's unit tests.

Everything lives in dictionaries behind one lock; ETags are counters. `tests/integration/test_storage_contract.py`
runs the same cases against this and against `adapters.tables.TableStorage` on Azurite, so where the two could
differ, a test says which behaviour is the contract. Pure: no azure.*, no clock of its own (the queue is given one).
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from scheduler_core.adapters import messages
from scheduler_core.adapters.claims import claim_by_advance
from scheduler_core.domain.definition import Action
from scheduler_core.domain.errors import ConcurrencyConflict, InvalidInput, JobCollectionNotFound, JobNotFound
from scheduler_core.domain.job import CollectionRef, JobExecutionStatus, JobRef, JobState
from scheduler_core.ports import (
    Attempt,
    Claim,
    Claimed,
    Due,
    HistoryEntry,
    Occurrence,
    Outcome,
    Page,
    Poisoned,
    StoredCollection,
    StoredJob,
)
from scheduler_core.secrets import with_secrets

_MAX_ETAG_RETRIES = 20


def _offset(token: str | None) -> int:
    if not token:
        return 0
    if not token.isdigit():
        raise InvalidInput("the continuation token is not valid", "$skiptoken")
    return int(token)


def _page(items: Sequence[Any], top: int, continuation: str | None) -> Page:
    start = _offset(continuation)
    end = start + top
    return Page(list(items[start:end]), str(end) if end < len(items) else None)


class MemoryStorage:
    """Every table-backed port (CollectionStore, JobStore, HistoryStore, DueIndex, and the console's JobChanges) in
    memory. Thread-safe. `clock` stamps job writes, as storage stamps rows (`jobs_changed_since`)."""

    def __init__(self, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._clock = clock
        self._written: dict[str, datetime] = {}
        self._lock = threading.RLock()
        self._etags = itertools.count(1)
        self._collections: dict[str, StoredCollection] = {}
        self._jobs: dict[str, StoredJob] = {}
        self._history: dict[str, list[HistoryEntry]] = {}
        self._claims: dict[Attempt, str] = {}
        self._due: dict[tuple[str, datetime], Due] = {}
        self._snapshots: dict[str, StoredJob] = {}

    def _etag(self) -> str:
        return f"m{next(self._etags)}"

    # ---- collections -------------------------------------------------------------------------------------------

    def get_collection(self, ref: CollectionRef) -> StoredCollection:
        with self._lock:
            try:
                return self._collections[ref.key]
            except KeyError:
                raise JobCollectionNotFound(ref.name) from None

    def recent_collection(self, ref: CollectionRef) -> StoredCollection | None:
        with self._lock:  # the reference is one instance that sees every write: never stale
            return self._collections.get(ref.key)

    def create_collection(self, collection: StoredCollection) -> StoredCollection:
        with self._lock:
            if collection.ref.key in self._collections:
                raise ConcurrencyConflict(f"job collection '{collection.ref.name}' exists already")
            stored = replace(collection, job_count=0, etag=self._etag())
            self._collections[collection.ref.key] = stored
            return stored

    def update_collection(
        self,
        ref: CollectionRef,
        update: Callable[[StoredCollection], StoredCollection],
        known: StoredCollection | None = None,
    ) -> StoredCollection:
        for _ in range(_MAX_ETAG_RETRIES):
            snapshot = known is not None and bool(known.etag)
            current = known if known is not None and snapshot else self.get_collection(ref)
            known = None
            try:
                new = update(current)  # outside the lock, as against a real store: it may read other ports
            except Exception:
                if snapshot:
                    continue  # a refusal counts only on a row just read
                raise
            with self._lock:
                if ref.key not in self._collections:
                    raise JobCollectionNotFound(ref.name)
                if self._collections[ref.key].etag != current.etag:
                    continue
                stored = replace(new, ref=current.ref, etag=self._etag())
                self._collections[ref.key] = stored
                return stored
        raise ConcurrencyConflict(f"job collection '{ref.name}' kept changing; try again")

    def list_collections(self, subscription: str, resource_group: str | None) -> list[StoredCollection]:
        with self._lock:
            return [
                c
                for key, c in sorted(self._collections.items())
                if c.ref.subscription.lower() == subscription.lower()
                and (resource_group is None or c.ref.resource_group.lower() == resource_group.lower())
            ]

    def all_collections(self) -> list[StoredCollection]:
        with self._lock:
            return [c for _, c in sorted(self._collections.items())]

    def delete_collection(self, ref: CollectionRef) -> None:
        with self._lock:
            self._collections.pop(ref.key, None)

    # ---- jobs --------------------------------------------------------------------------------------------------

    def get_job(self, ref: JobRef) -> StoredJob:
        with self._lock:
            try:
                return self._jobs[ref.key]
            except KeyError:
                raise JobNotFound(ref.name) from None

    def create_job(self, job: StoredJob) -> StoredJob:
        with self._lock:
            if job.ref.key in self._jobs:
                raise ConcurrencyConflict(f"job '{job.ref.name}' exists already")
            stored = replace(job, etag=self._etag())
            self._jobs[job.ref.key] = stored
            self._written[job.ref.key] = self._clock()
            return stored

    def replace_job(self, job: StoredJob) -> StoredJob:
        with self._lock:
            current = self._jobs.get(job.ref.key)
            if job.etag is not None:
                if current is None:
                    raise JobNotFound(job.ref.name)
                if current.etag != job.etag:
                    raise ConcurrencyConflict(f"job '{job.ref.name}' changed meanwhile")
            stored = replace(job, etag=self._etag())
            self._jobs[job.ref.key] = stored
            self._written[job.ref.key] = self._clock()
            return stored

    def update_job(
        self,
        ref: JobRef,
        update: Callable[[StoredJob], StoredJob],
        *,
        current: StoredJob | None = None,
        history: Sequence[HistoryEntry] = (),
    ) -> StoredJob:
        if history:
            self.add_history(history)  # the reference: recorded first, whatever becomes of the update
        for _ in range(_MAX_ETAG_RETRIES):
            current = current if current is not None and current.etag else self.get_job(ref)
            new = update(current)
            if new == current:
                return current
            try:
                return self.replace_job(replace(new, etag=current.etag))
            except ConcurrencyConflict:
                current = None
        raise ConcurrencyConflict(f"job '{ref.name}' kept changing; try again")

    def delete_job(self, ref: JobRef, *, etag: str | None = None) -> None:
        with self._lock:
            current = self._jobs.get(ref.key)
            if current is None:
                return
            if etag is not None and current.etag != etag:
                raise ConcurrencyConflict(f"job '{ref.name}' changed meanwhile")
            del self._jobs[ref.key]

    def list_jobs(
        self, collection: CollectionRef, *, top: int, continuation: str | None, state: JobState | None
    ) -> Page:
        jobs = [j for j in self.all_jobs(collection) if state is None or j.state is state]
        return _page(jobs, top, continuation)

    def all_jobs(self, collection: CollectionRef) -> list[StoredJob]:
        with self._lock:
            return [j for key, j in sorted(self._jobs.items()) if j.ref.collection.key == collection.key]

    def jobs_changed_since(
        self, collection: CollectionRef, since: datetime | None
    ) -> tuple[list[StoredJob], datetime | None]:
        """The collection's jobs written at or after `since` (all when None), and the newest write time among them."""
        with self._lock:
            found = [
                (self._written[key], job)
                for key, job in sorted(self._jobs.items())
                if job.ref.collection.key == collection.key and (since is None or self._written[key] >= since)
            ]
        return [job for _, job in found], max((stamp for stamp, _ in found), default=None)

    def snapshot(self, job: StoredJob) -> str | None:
        if job.etag is None:
            return None
        with self._lock:
            token = f"snapshot-{len(self._snapshots)}"
            self._snapshots[token] = job
            return token

    def restore(self, snapshot: str) -> StoredJob:
        with self._lock:
            return self._snapshots[snapshot]

    # ---- history and claims --------------------------------------------------------------------------------------

    def add_history(self, entries: Sequence[HistoryEntry]) -> None:
        with self._lock:
            for entry in entries:
                rows = self._history.setdefault(entry.job.key, [])
                same = (entry.start_time, entry.execution_id, entry.action_name, entry.retry_count)
                rows[:] = [r for r in rows if (r.start_time, r.execution_id, r.action_name, r.retry_count) != same]
                rows.append(entry)

    def list_history(
        self, job: JobRef, *, top: int, continuation: str | None, status: JobExecutionStatus | None
    ) -> Page:
        with self._lock:
            rows = sorted(self._history.get(job.key, []), key=lambda r: r.start_time, reverse=True)
        return _page([r for r in rows if status is None or r.status == status], top, continuation)

    def claim(
        self,
        attempt: Attempt,
        token: str,
        *,
        advance: Callable[[StoredJob], StoredJob] | None = None,
        current: StoredJob | None = None,
    ) -> Claimed:
        if advance is not None:
            return claim_by_advance(self, attempt, token, advance, current)
        key = replace(attempt, job=JobRef(attempt.job.collection, attempt.job.name.lower()))  # names ignore case
        with self._lock:
            holder = self._claims.get(key)
            if holder is None:
                self._claims[key] = token
                return Claimed(Claim.WON)
        # A redelivery of the message that won the claim (same token) may go on: at least once across crashes.
        return Claimed(Claim.REDELIVERED if holder == token else Claim.LOST)

    def delete_history(self, job: JobRef) -> None:
        with self._lock:
            self._history.pop(job.key, None)
            for claim in [c for c in self._claims if c.job.key == job.key]:
                del self._claims[claim]

    def prune_history(self, job: JobRef, *, older_than: datetime, keep_last: int) -> int:
        with self._lock:
            rows = sorted(self._history.get(job.key, []), key=lambda r: r.start_time, reverse=True)
            kept = [r for i, r in enumerate(rows) if i < keep_last and r.start_time >= older_than]
            self._history[job.key] = kept
            stale = [c for c in self._claims if c.job.key == job.key and c.due < older_than]
            for claim in stale:
                del self._claims[claim]
            return len(rows) - len(kept) + len(stale)

    # ---- due index ---------------------------------------------------------------------------------------------

    def add_due(self, job: JobRef, due: datetime, snapshot: str | None = None, *, alone: bool = False) -> None:
        with self._lock:
            self._due[(job.key, due)] = Due(job, due, snapshot)

    def remove_due(self, job: JobRef, due: datetime) -> None:
        self.remove_due_many([(job, due)])

    def remove_due_many(self, entries: Sequence[tuple[JobRef, datetime]]) -> None:
        with self._lock:
            for job, due in entries:
                self._due.pop((job.key, due), None)

    def due_until(self, until: datetime) -> list[Due]:
        with self._lock:
            return sorted((d for d in self._due.values() if d.due <= until), key=lambda d: d.due)


@dataclass(frozen=True)
class Sent:
    """A message on the memory queue: visible from `visible_at`, with the id a trigger would hand over as token."""

    id: str
    body: Mapping[str, Any]
    visible_at: datetime

    @property
    def occurrence(self) -> Occurrence:
        """What the body carries, as the trigger decodes it (adapters/messages.py)."""
        return messages.decode(self.body)


class MemoryQueue:
    """`ExecutionQueue` in memory, with a clock for the visibility delay; tests take what is visible."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._messages: list[Sent] = []

    def send(self, occurrence: Occurrence, *, delay_seconds: float) -> None:
        visible = self._clock() + timedelta(seconds=max(0.0, delay_seconds))
        with self._lock:  # the wire body, as the storage queue carries it: the codec is part of the reference
            self._messages.append(Sent(f"msg-{next(self._ids)}", messages.encode(occurrence), visible))

    def take_visible(self) -> list[Sent]:
        """Remove and return every message visible now, oldest visibility first."""
        now = self._clock()
        with self._lock:
            ready = sorted((m for m in self._messages if m.visible_at <= now), key=lambda m: m.visible_at)
            self._messages = [m for m in self._messages if m.visible_at > now]
        return ready

    def redeliver(self, message: Sent, *, after_seconds: float) -> None:
        """Put a taken message back with its id, visible again after `after_seconds`: what the host does with a
        message whose function failed, or whose instance died holding it (its lease runs out)."""
        visible = self._clock() + timedelta(seconds=after_seconds)
        with self._lock:
            self._messages.append(replace(message, visible_at=visible))

    def next_visible(self) -> datetime | None:
        """When the next message becomes visible (None when the queue is empty)."""
        with self._lock:
            return min((m.visible_at for m in self._messages), default=None)

    def pending(self) -> list[Sent]:
        with self._lock:
            return list(self._messages)


class MemoryPoisonQueue:
    """`PoisonQueue` in memory; `put` is what the host does with a message it gave up on."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._messages: dict[str, Poisoned] = {}

    def put(self, body: Mapping[str, Any] | None) -> None:
        """A message body (None: not JSON) the host moved here."""
        with self._lock:
            message_id = f"poison-{next(self._ids)}"
            self._messages[message_id] = Poisoned(message_id, messages.decode_or_none(body))

    def take(self, limit: int) -> list[Poisoned]:
        with self._lock:
            return list(self._messages.values())[:limit]

    def remove(self, message: Poisoned) -> None:
        with self._lock:
            self._messages.pop(message.id, None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._messages)


@dataclass(frozen=True)
class Call:
    """One action the scripted runner was asked to perform (with its secret fields filled in, as a runner gets it)."""

    action: Action
    secrets: Mapping[str, str] = field(repr=False)
    headers: Mapping[str, str]


class ScriptedActions:
    """`ActionRunner` whose outcomes a test scripts: `respond(action, headers) -> Outcome` (default: success)."""

    def __init__(self, respond: Callable[[Action, Mapping[str, str]], Outcome] | None = None) -> None:
        self.respond = respond or (lambda _action, _headers: Outcome(True, "Http request succeeded: 200 OK"))
        self.calls: list[Call] = []
        self._lock = threading.Lock()

    def run(self, action: Action, secrets: Mapping[str, str], headers: Mapping[str, str]) -> Outcome:
        performed = with_secrets(action, secrets)
        with self._lock:
            self.calls.append(Call(performed, dict(secrets), dict(headers)))
        return self.respond(performed, headers)
