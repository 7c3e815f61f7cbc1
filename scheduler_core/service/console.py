"""Read-side queries and operator actions of the console (api/console/), over the same ports as the REST API.

The REST API pages jobs by continuation only and filters by state only; an operator needs to find one job among
thousands by part of its name, by action type or by its last result, and to see how many jobs are in each state. Table
Storage answers neither `contains` nor a count, so the console keeps, per collection, an index of its jobs in memory
(`JobIndex`): built by one read of the partition, then brought up to date by reading only the rows changed since
(`JobChanges.jobs_changed_since`), and rebuilt whenever the collection's job count disagrees with it (a delete) or
it is older than `FULL_REFRESH`. Every query below answers from that index, so a search over 5,000 jobs costs a
point read, a small delta query and a scan of memory.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, Protocol
from urllib.parse import urlsplit

from scheduler_core.domain.collection import JobCollectionState
from scheduler_core.domain.errors import InvalidInput, JobNotFound, StateConflict
from scheduler_core.domain.job import CollectionRef, DisabledNote, JobExecutionStatus, JobRef, JobState
from scheduler_core.domain.payloads import HttpRequest, Payload, StorageQueueMessage
from scheduler_core.domain.phrases import describe
from scheduler_core.domain.recurrence import Recurrence, occurrences
from scheduler_core.ports import HistoryEntry, Page, StoredCollection, StoredJob
from scheduler_core.service import collections as collection_use_cases
from scheduler_core.service import jobs as job_use_cases
from scheduler_core.service.context import Services
from scheduler_core.service.dispatch import opens_at_once, timing

log = logging.getLogger(__name__)

FULL_REFRESH = timedelta(minutes=10)
#: Rows changed this long before the newest change already seen are read again: storage stamps rows with its own
#: clock, and two writes in the same instant may commit in either order.
_OVERLAP = timedelta(seconds=5)
_REBUILD_GAP = 30.0  # seconds between full reads prompted by a job count that disagrees with the index
NEXT_FIRE_TIMES = 10
LAST_RESULTS = ("Completed", "Failed", "None")


class JobChanges(Protocol):
    """What the index needs beyond the JobStore: the rows of a collection changed at or after an instant."""

    def jobs_changed_since(
        self, collection: CollectionRef, since: datetime | None
    ) -> tuple[list[StoredJob], datetime | None]:
        """(jobs written at or after `since` (all when None), the newest write time among them or None)."""


# ---- values the pages show --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CollectionSummary:
    """A collection with its quota use and how many of its jobs are in each state."""

    ref: CollectionRef
    state: str
    plan: str
    max_job_count: int | None
    job_count: int
    by_state: dict[str, int]


@dataclass(frozen=True)
class JobRow:
    """One line of the job list."""

    job: StoredJob
    phrase: str
    action_type: str
    target: str

    @property
    def name(self) -> str:
        return self.job.ref.name


@dataclass(frozen=True)
class JobFilter:
    """What the operator asked the job list for; empty fields match everything."""

    text: str = ""
    state: str = ""
    action_type: str = ""
    last_result: str = ""

    def matches(self, row: JobRow) -> bool:
        job = row.job
        if self.text and self.text.lower() not in job.ref.name.lower():
            return False
        if self.state and job.state.value != self.state:
            return False
        if self.action_type and row.action_type != self.action_type:
            return False
        if self.last_result and (job.status.last_result or "None") != self.last_result:
            return False
        return True


@dataclass(frozen=True)
class JobPage:
    """A page of the filtered job list, and what the whole collection holds."""

    rows: list[JobRow]
    matched: int
    offset: int
    limit: int
    by_state: dict[str, int]
    action_types: list[str]
    collection: CollectionSummary

    @property
    def next_offset(self) -> int | None:
        return self.offset + self.limit if self.offset + self.limit < self.matched else None

    @property
    def previous_offset(self) -> int | None:
        return max(0, self.offset - self.limit) if self.offset > 0 else None


@dataclass(frozen=True)
class JobDetail:
    """A job as its page shows it: definition without secret values, the secret paths set, next fire times."""

    row: JobRow
    definition: dict[str, Any]
    secret_paths: list[str]
    next_fire_times: list[datetime]


@dataclass(frozen=True)
class TimelineCell:
    """One bucket of one job's timeline: planned fire times, or past outcomes by status (newest entry linked)."""

    start: datetime
    planned: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    newest: HistoryEntry | None = None

    @property
    def worst(self) -> str:
        for status in ("Failed", "Postponed", "Completed"):
            if self.outcomes.get(status):
                return status
        return ""


@dataclass(frozen=True)
class TimelineRow:
    row: JobRow
    past: list[TimelineCell]
    planned: list[TimelineCell]


@dataclass(frozen=True)
class Timeline:
    now: datetime
    past_step: timedelta
    future_step: timedelta
    rows: list[TimelineRow]
    matched: int
    collection: CollectionSummary


# ---- the index ------------------------------------------------------------------------------------------------------


@dataclass
class _Entry:
    rows: dict[str, JobRow]
    checked: datetime | None  # our clock when the last read of this collection began
    built: float  # monotonic time of the last full read (or of its start, while one runs)
    rebuilding: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


def _in_background(work: Callable[[], None]) -> None:
    threading.Thread(target=work, name="console-index", daemon=True).start()


class JobIndex:
    """Per-collection index of job rows, refreshed by delta queries (see the module docstring). Thread-safe.

    A delta reads the rows storage stamped at or after the previous read's start less `_OVERLAP`: a write that
    commits while a read runs, or whose stamp is a little behind our clock, is still seen by the next read. Only the
    first read of a collection waits for the whole partition; later full reads (every `FULL_REFRESH`, or when the
    job count shows that a job went) run in the background (`spawn`) while requests go on with the index they have.
    """

    def __init__(
        self,
        monotonic: Callable[[], float] = time.monotonic,
        spawn: Callable[[Callable[[], None]], None] = _in_background,
    ) -> None:
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()
        self._monotonic = monotonic
        self._spawn = spawn

    def rows(self, services: Services, collection: StoredCollection) -> list[JobRow]:
        """Every job of `collection`, fresh as of this call (but for deletes by other instances, which leave within
        `_REBUILD_GAP` and one full read), in name order."""
        storage = services.storage
        ref = collection.ref
        with self._lock:
            entry = self._entries.get(ref.key)
            if entry is None:
                entry = self._entries[ref.key] = _Entry({}, None, 0.0)
        rebuild: Callable[[], None] | None = None
        with entry.lock:
            changes: JobChanges | None = storage if hasattr(storage, "jobs_changed_since") else None  # type: ignore
            started = services.clock()
            if changes is None:
                entry.rows = {j.ref.name.lower(): to_row(j) for j in storage.all_jobs(ref)}
            elif entry.checked is None:
                entry.rows = self._read_all(changes, ref)
                entry.checked, entry.built = started, self._monotonic()
            else:
                jobs, _ = changes.jobs_changed_since(ref, entry.checked - _OVERLAP)
                for job in jobs:
                    known = entry.rows.get(job.ref.name.lower())
                    if known is None or known.job.etag != job.etag:
                        entry.rows[job.ref.name.lower()] = to_row(job)
                entry.checked = started
                age = self._monotonic() - entry.built
                went = len(entry.rows) != collection.job_count  # a delete leaves no changed row to read
                if not entry.rebuilding and (age > FULL_REFRESH.total_seconds() or (went and age > _REBUILD_GAP)):
                    entry.rebuilding, entry.built = True, self._monotonic()
                    source = changes
                    rebuild = lambda: self._rebuild(entry, source, ref, started)  # noqa: E731
            rows = sorted(entry.rows.values(), key=lambda r: r.job.ref.name.lower())
        if rebuild is not None:
            self._spawn(rebuild)
        return rows

    @staticmethod
    def _read_all(changes: JobChanges, ref: CollectionRef) -> dict[str, JobRow]:
        jobs, _ = changes.jobs_changed_since(ref, None)
        return {j.ref.name.lower(): to_row(j) for j in jobs}

    def _rebuild(self, entry: _Entry, changes: JobChanges, ref: CollectionRef, started: datetime) -> None:
        try:
            rows = self._read_all(changes, ref)
            with entry.lock:
                # Deltas applied meanwhile may be older than this read or newer: the next delta reads again from
                # before this read began, so whichever it was, it is seen.
                entry.rows, entry.checked, entry.built = rows, started, self._monotonic()
        except Exception:  # the index keeps serving what it has; the next request tries again later
            log.exception("rebuilding the console's index of %s failed", ref.name)
        finally:
            entry.rebuilding = False

    def forget(self, collection: CollectionRef, name: str | None = None) -> None:
        """Drop a job (or the whole collection) this process deleted, so the next read does not show it."""
        with self._lock:
            entry = self._entries.get(collection.key)
            if entry is None:
                return
            if name is None:
                del self._entries[collection.key]
            else:
                entry.rows.pop(name.lower(), None)


_INDEX = JobIndex()


def to_row(job: StoredJob) -> JobRow:
    """The job as one line of the list: its schedule phrase, action type and target host."""
    recurrence = job.definition.recurrence
    phrase = _phrase(recurrence, job.definition.start_time if recurrence is None else None)
    action = job.definition.action
    return JobRow(job, phrase, action.type.value, _target(action.payload))


@lru_cache(maxsize=4096)
def _phrase(recurrence: Recurrence | None, start: datetime | None) -> str:
    """Thousands of jobs share a few schedules, and describing a cron takes milliseconds: one phrase per schedule
    (recurrences are frozen values, equal and hashed by their fields)."""
    return describe(recurrence, start)


def _target(payload: Payload) -> str:
    if isinstance(payload, HttpRequest):
        return urlsplit(payload.uri).netloc
    if isinstance(payload, StorageQueueMessage):
        return f"{payload.storage_account}/{payload.queue_name}"
    return f"{payload.namespace}/{payload.queue_name or payload.topic_path or ''}"


# ---- queries --------------------------------------------------------------------------------------------------------


def collection_summaries(services: Services) -> list[CollectionSummary]:
    """Every collection, with quota use and job counts by state, in name order."""
    found = []
    for collection in sorted(services.storage.all_collections(), key=lambda c: c.ref.key):
        found.append(summary(services, collection))
    return found


def summary(
    services: Services, collection: StoredCollection, rows: Sequence[JobRow] | None = None
) -> CollectionSummary:
    """The collection's state, plan, quota use and jobs by state (from `rows` when the caller has them)."""
    definition = collection.definition
    rows = _INDEX.rows(services, collection) if rows is None else rows
    return CollectionSummary(
        ref=collection.ref,
        state=(definition.state or JobCollectionState.ENABLED).value,
        plan=definition.plan.value,
        max_job_count=definition.effective_quota().max_job_count,
        job_count=len(rows),
        by_state=_by_state(rows),
    )


def get_summary(services: Services, ref: CollectionRef) -> CollectionSummary:
    """Raises JobCollectionNotFound."""
    return summary(services, services.storage.get_collection(ref))


def _by_state(rows: Sequence[JobRow]) -> dict[str, int]:
    counts = Counter(r.job.state.value for r in rows)
    return {s.value: counts.get(s.value, 0) for s in JobState}


def job_page(services: Services, ref: CollectionRef, wanted: JobFilter, *, offset: int, limit: int) -> JobPage:
    """A page of the collection's jobs that match `wanted`, in name order.

    Raises:
        JobCollectionNotFound: no such collection.
        InvalidInput: a negative offset or a limit outside 1-500.
    """
    if offset < 0 or not 1 <= limit <= 500:
        raise InvalidInput("offset must be >= 0 and limit between 1 and 500", "offset")
    collection = services.storage.get_collection(ref)
    rows = _INDEX.rows(services, collection)
    matched = [r for r in rows if wanted.matches(r)]
    return JobPage(
        rows=matched[offset : offset + limit],
        matched=len(matched),
        offset=offset,
        limit=limit,
        by_state=_by_state(rows),
        action_types=sorted({r.action_type for r in rows if r.action_type}),
        collection=summary(services, collection, rows),
    )


def job_detail(services: Services, ref: JobRef) -> JobDetail:
    """Raises JobNotFound."""
    job = services.storage.get_job(ref)
    fire_times: list[datetime] = []
    if job.state in (JobState.ENABLED, JobState.DISABLED):
        start, recurrence = timing(job)
        after = max(services.clock(), job.status.next_execution_time or services.clock())
        if job.status.next_execution_time is not None:
            after = min(after, job.status.next_execution_time)
        fire_times = occurrences(start, recurrence, after=after, limit=NEXT_FIRE_TIMES, executed=job.scheduled_runs,
                                 immediate=opens_at_once(job))
    return JobDetail(to_row(job), dict(job.definition.wire), sorted(job.secrets), fire_times)


def history(services: Services, ref: JobRef, *, status: str, top: int, token: str | None) -> Page:
    """A page of the job's history, newest first, of one status or all (`status` empty).

    Raises:
        JobNotFound; InvalidInput: a token that is not one of ours, or an unknown status.
    """
    if status and status not in ("Completed", "Failed", "Postponed", "CallbackNotFound", "Cancelled"):
        raise InvalidInput(f"'{status}' is not a history status", "status")
    services.storage.get_job(ref)
    if status and status not in tuple(JobExecutionStatus):
        return Page([], None)  # a status of the wire this scheduler never records
    wanted = JobExecutionStatus(status) if status else None
    return services.storage.list_history(ref, top=top, continuation=token or None, status=wanted)


def timeline(
    services: Services, ref: CollectionRef, wanted: JobFilter, *, days: int, offset: int, limit: int
) -> Timeline:
    """Planned fire times over the next `days` (1 or 7) and outcomes of the last 24 hours, per job, in buckets.

    Planned times come from the recurrence engine; a disabled job's planned times are shown too (they would be
    postponed). Past outcomes come from history: Completed, Failed and Postponed (skipped, caught up, disabled).
    """
    if days not in (1, 7):
        raise InvalidInput("the timeline spans 1 or 7 days", "days")
    page = job_page(services, ref, wanted, offset=offset, limit=limit)
    now = services.clock().astimezone(UTC)
    hour = now.replace(minute=0, second=0, microsecond=0)
    past_step = timedelta(hours=1)
    future_step = timedelta(hours=1 if days == 1 else 6)
    past_start = hour - timedelta(hours=23)
    future_start = hour if days == 1 else hour.replace(hour=hour.hour - hour.hour % 6)
    cells = 24 if days == 1 else 28
    rows = []
    for row in page.rows:
        planned = [TimelineCell(future_start + i * future_step) for i in range(cells)]
        past = [TimelineCell(past_start + i * past_step) for i in range(24)]
        _fill_planned(row.job, planned, future_step, now)
        _fill_past(services, row.job.ref, past, past_step)
        rows.append(TimelineRow(row, past, planned))
    return Timeline(now, past_step, future_step, rows, page.matched, page.collection)


_MAX_PLANNED = 5000
_MAX_PAST = 1000


def _fill_planned(job: StoredJob, cells: list[TimelineCell], step: timedelta, now: datetime) -> None:
    if job.state not in (JobState.ENABLED, JobState.DISABLED) or not cells:
        return
    start, recurrence = timing(job)
    end = cells[-1].start + step
    planned = occurrences(start, recurrence, after=now, limit=_MAX_PLANNED, executed=job.scheduled_runs,
                          immediate=opens_at_once(job))
    for instant in planned:
        if instant >= end:
            break
        i = int((instant - cells[0].start) / step)
        if 0 <= i < len(cells):
            cells[i] = replace(cells[i], planned=cells[i].planned + 1)


def _fill_past(services: Services, ref: JobRef, cells: list[TimelineCell], step: timedelta) -> None:
    since = cells[0].start
    token: str | None = None
    seen = 0
    while seen < _MAX_PAST:
        page = services.storage.list_history(ref, top=100, continuation=token, status=None)
        for entry in page.items:
            seen += 1
            if entry.start_time < since:
                return
            i = int((entry.start_time - since) / step)
            if 0 <= i < len(cells):
                cell = cells[i]
                outcomes = {**cell.outcomes, entry.status: cell.outcomes.get(entry.status, 0) + 1}
                cells[i] = replace(cell, outcomes=outcomes, newest=cell.newest or entry)
        token = page.continuation
        if token is None:
            return


# ---- actions --------------------------------------------------------------------------------------------------------

BULK_ACTIONS = ("enable", "disable", "run", "delete")


@dataclass(frozen=True)
class BulkResult:
    done: list[str]
    failed: list[tuple[str, str]]


def disable_job(services: Services, ref: JobRef, by: str, reason: str) -> None:
    """Disable the job, keeping who did it, when, and why. Raises JobNotFound, StateConflict."""
    note = DisabledNote(by=by, at=services.clock().astimezone(UTC), reason=reason.strip()[:500])
    job_use_cases.set_state(services, ref, JobState.DISABLED, note)


def enable_job(services: Services, ref: JobRef) -> None:
    job_use_cases.set_state(services, ref, JobState.ENABLED)


def delete_job(services: Services, ref: JobRef, confirmation: str) -> None:
    """Delete the job if `confirmation` is its name (typed by the operator). Raises InvalidInput, JobNotFound."""
    if confirmation.strip().lower() != ref.name.lower():
        raise InvalidInput(f"type the job's name '{ref.name}' to delete it", "confirm")
    job_use_cases.delete_job(services, ref)
    _INDEX.forget(ref.collection, ref.name)


def set_collection_state(services: Services, ref: CollectionRef, enabled: bool, by: str, reason: str) -> None:
    note = DisabledNote(by=by, at=services.clock().astimezone(UTC), reason=reason.strip()[:500]) if reason else None
    collection_use_cases.set_collection_state(
        services, ref, JobState.ENABLED if enabled else JobState.DISABLED, None if enabled else note
    )


def bulk(services: Services, ref: CollectionRef, action: str, names: Sequence[str], by: str, reason: str) -> BulkResult:
    """Apply one action to several jobs; each job succeeds or fails on its own (the page lists the failures)."""
    if action not in BULK_ACTIONS:
        raise InvalidInput(f"'{action}' is not one of {', '.join(BULK_ACTIONS)}", "action")
    if not names:
        raise InvalidInput("select at least one job", "names")
    done: list[str] = []
    failed: list[tuple[str, str]] = []
    for name in names:
        try:
            job = JobRef(ref, name)
            if action == "enable":
                enable_job(services, job)
            elif action == "disable":
                disable_job(services, job, by, reason)
            elif action == "run":
                job_use_cases.run_job(services, job)
            else:
                job_use_cases.delete_job(services, job)
                _INDEX.forget(ref, name)
            done.append(name)
        except (InvalidInput, JobNotFound, StateConflict) as exc:
            failed.append((name, str(exc)))
    return BulkResult(done, failed)
