"""The console's read side (service/console.py) on a small in-memory store: search and filters, the per-collection
index kept fresh by delta reads, and the timeline's buckets."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from scheduler_core.domain.errors import InvalidInput
from scheduler_core.domain.job import CollectionRef, JobRef, JobState, JobStatus
from scheduler_core.ports import HistoryEntry, Page, StoredCollection, StoredJob
from scheduler_core.service import console
from scheduler_core.service.context import Services
from scheduler_core.settings import Settings, StorageConnection

NOW = datetime(2026, 12, 2, 10, 20, tzinfo=UTC)
C = CollectionRef("sub", "rg", "ops")


def job(name: str, *, state: JobState = JobState.ENABLED, kind: str = "Http", result: str | None = None,
        recurrence: dict[str, Any] | None = None, etag: str = "1") -> StoredJob:
    action = {"type": kind, "request": {"uri": f"https://{name}.example.com/x", "method": "GET"}}
    definition = {"action": action, "recurrence": recurrence or {"frequency": "Hour", "interval": 1},
                  "startTime": "2026-12-01T00:00:00Z"}
    return StoredJob(JobRef(C, name), definition, state, JobStatus(last_result=result), NOW, etag=etag)


@dataclass
class Store:
    """What the console reads: collections, jobs with their write stamps, and history."""

    jobs: dict[str, tuple[StoredJob, datetime]] = field(default_factory=dict)
    history: list[HistoryEntry] = field(default_factory=list)
    delta_reads: list[datetime | None] = field(default_factory=list)

    def put(self, stored: StoredJob, at: datetime = NOW) -> None:
        self.jobs[stored.ref.name] = (stored, at)

    def get_collection(self, ref: CollectionRef) -> StoredCollection:
        return StoredCollection(C, {"properties": {"sku": {"name": "Standard"}}}, job_count=len(self.jobs))

    def all_collections(self) -> list[StoredCollection]:
        return [self.get_collection(C)]

    def get_job(self, ref: JobRef) -> StoredJob:
        return self.jobs[ref.name][0]

    def jobs_changed_since(self, collection: CollectionRef, since: datetime | None) -> tuple[list[StoredJob], Any]:
        self.delta_reads.append(since)
        return [j for j, at in self.jobs.values() if since is None or at >= since], None

    def list_history(self, ref: JobRef, *, top: int, continuation: str | None, status: str | None) -> Page:
        rows = sorted((e for e in self.history if e.job == ref), key=lambda e: e.start_time, reverse=True)
        start = int(continuation or 0)
        return Page(rows[start : start + top], str(start + top) if start + top < len(rows) else None)


@pytest.fixture
def store() -> Store:
    return Store()


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def services(store: Store, clock: Clock) -> Services:
    return Services(storage=store, queue=None, actions=None,  # type: ignore[arg-type]
                    settings=Settings(StorageConnection()), clock=clock)


class Monotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def monotonic() -> Monotonic:
    return Monotonic()


@pytest.fixture(autouse=True)
def fresh_index(monkeypatch: pytest.MonkeyPatch, monotonic: Monotonic) -> None:
    # Full reads that would run in the background run at once here, so that their effect is seen deterministically.
    monkeypatch.setattr(console, "_INDEX", console.JobIndex(monotonic, spawn=lambda work: work()))


def names(page: console.JobPage) -> list[str]:
    return [r.name for r in page.rows]


def test_search_by_part_of_the_name_state_action_type_and_last_result(store: Store, services: Services) -> None:
    store.put(job("billing-export", result="Completed"))
    store.put(job("billing-import", state=JobState.DISABLED, result="Failed"))
    store.put(job("cache-warm", kind="StorageQueue"))
    page = console.job_page(services, C, console.JobFilter(text="BILLING"), offset=0, limit=50)
    assert names(page) == ["billing-export", "billing-import"]
    assert names(console.job_page(services, C, console.JobFilter(state="Disabled"), offset=0, limit=50)) == [
        "billing-import"
    ]
    assert names(console.job_page(services, C, console.JobFilter(action_type="StorageQueue"), offset=0,
                                  limit=50)) == ["cache-warm"]
    assert names(console.job_page(services, C, console.JobFilter(last_result="None"), offset=0, limit=50)) == [
        "cache-warm"
    ]
    assert page.by_state == {"Enabled": 2, "Disabled": 1, "Faulted": 0, "Completed": 0}
    assert page.collection.job_count == 3 and page.collection.max_job_count == 50


def test_pages_of_a_long_list(store: Store, services: Services) -> None:
    for i in range(120):
        store.put(job(f"job{i:03d}"))
    second = console.job_page(services, C, console.JobFilter(), offset=50, limit=50)
    assert names(second)[0] == "job050" and second.matched == 120
    assert (second.previous_offset, second.next_offset) == (0, 100)
    assert console.job_page(services, C, console.JobFilter(), offset=100, limit=50).next_offset is None
    with pytest.raises(InvalidInput):
        console.job_page(services, C, console.JobFilter(), offset=-1, limit=50)


def test_the_index_reads_only_rows_changed_since_its_last_read_began(
    store: Store, services: Services, clock: Clock
) -> None:
    store.put(job("a"))
    store.put(job("b"))
    console.job_page(services, C, console.JobFilter(), offset=0, limit=50)
    clock.now = NOW + timedelta(seconds=30)
    store.put(replace(job("b", state=JobState.DISABLED), etag="2"), at=NOW + timedelta(seconds=20))
    page = console.job_page(services, C, console.JobFilter(), offset=0, limit=50)
    assert store.delta_reads == [None, NOW - timedelta(seconds=5)]
    assert page.by_state["Disabled"] == 1


def test_a_job_deleted_elsewhere_leaves_the_list_with_a_later_full_read(
    store: Store, services: Services, monotonic: Monotonic
) -> None:
    store.put(job("a"))
    store.put(job("b"))
    console.job_page(services, C, console.JobFilter(), offset=0, limit=50)
    del store.jobs["b"]  # by another instance: this index has no row telling it
    monotonic.now += 31
    console.job_page(services, C, console.JobFilter(), offset=0, limit=50)  # notices the count, reads all
    assert store.delta_reads[-1] is None
    assert names(console.job_page(services, C, console.JobFilter(), offset=0, limit=50)) == ["a"]


def test_every_ten_minutes_the_whole_collection_is_read_again(
    store: Store, services: Services, monotonic: Monotonic
) -> None:
    store.put(job("a"))
    console.job_page(services, C, console.JobFilter(), offset=0, limit=50)
    console.job_page(services, C, console.JobFilter(), offset=0, limit=50)
    assert store.delta_reads.count(None) == 1
    monotonic.now += 601
    console.job_page(services, C, console.JobFilter(), offset=0, limit=50)
    assert store.delta_reads.count(None) == 2


def test_the_schedule_reads_as_a_phrase_with_its_zone(store: Store, services: Services) -> None:
    store.put(job("weekday", recurrence={"frequency": "Week", "timeZone": "Europe/Berlin", "schedule": {
        "weekDays": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"], "hours": [10, 12], "minutes": [30]}}))
    store.put(job("cron", recurrence={"cron": "0 */5 * * * *"}))
    rows = {r.name: r for r in console.job_page(services, C, console.JobFilter(), offset=0, limit=50).rows}
    assert rows["weekday"].phrase == "every weekday at 10:30 and 12:30, Europe/Berlin"
    assert rows["cron"].phrase.startswith("cron 0 */5 * * * *, UTC: every 5 minutes")
    assert rows["weekday"].target == "weekday.example.com"


def test_timeline_buckets_planned_runs_and_past_outcomes(store: Store, services: Services) -> None:
    store.put(job("hourly"))
    ref = JobRef(C, "hourly")
    for hours_ago, status in ((1, "Completed"), (2, "Failed"), (2, "Completed"), (30, "Completed")):
        at = NOW.replace(minute=0) - timedelta(hours=hours_ago)
        store.history.append(HistoryEntry(ref, f"e{hours_ago}{status}", at, at, at, "MainAction", status, "m"))
    line = console.timeline(services, C, console.JobFilter(), days=1, offset=0, limit=50)
    row = line.rows[0]
    assert [c.planned for c in row.planned] == [0] + [1] * 23  # 10:00 has passed; 11:00 .. 09:00 tomorrow
    assert row.past[-2].worst == "Completed" and row.past[-3].worst == "Failed"
    assert row.past[-3].outcomes == {"Completed": 1, "Failed": 1}
    assert sum(sum(c.outcomes.values()) for c in row.past) == 3  # 30 hours ago is outside the last 24
    week = console.timeline(services, C, console.JobFilter(), days=7, offset=0, limit=50).rows[0]
    # six-hour buckets from 06:00 today: 11:00-23:00 today, six whole days, then 00:00-05:00 on the 9th
    assert len(week.planned) == 28 and sum(c.planned for c in week.planned) == 13 + 6 * 24 + 6
