"""The scheduler's service layer on the in-memory ports with a simulated clock: planner ticks and queue deliveries
happen at the instants they would, in milliseconds of real time. For unit tests of the executor's, the lifecycle's
and the quotas' rules."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from scheduler_core.adapters.memory import MemoryPoisonQueue, MemoryQueue, MemoryStorage, ScriptedActions, Sent
from scheduler_core.api.models import job_write_from_wire
from scheduler_core.api.validation import parse_job
from scheduler_core.domain.collection import CollectionDefinition
from scheduler_core.domain.job import CollectionRef, JobRef
from scheduler_core.ports import HistoryEntry, Outcome, StoredCollection, StoredJob
from scheduler_core.service import collections, executor, jobs, planner
from scheduler_core.service.context import Services
from scheduler_core.settings import Settings

START = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
TARGET = "https://target.example/hook"


@dataclass
class Clock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += timedelta(seconds=max(0.0, seconds))


@dataclass
class Simulation:
    """One scheduler (planner + executor) on memory ports. `respond` scripts the target; `calls_at` records when
    each action ran; each call takes `call_seconds` of simulated time."""

    respond: Callable[[Mapping[str, Any], Mapping[str, str]], Outcome] | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    clock: Clock = field(default_factory=Clock)
    calls_at: list[datetime] = field(default_factory=list)
    call_seconds: float = 0.1

    def __post_init__(self) -> None:
        self.storage = MemoryStorage()
        self.queue = MemoryQueue(self.clock)
        self.poison = MemoryPoisonQueue()
        scripted = self.respond or (lambda _action, _headers: Outcome(True, "Http request succeeded: 200 OK"))

        def respond(action: Mapping[str, Any], headers: Mapping[str, str]) -> Outcome:
            self.calls_at.append(self.clock.now)
            self.clock.sleep(self.call_seconds)
            return scripted(action, headers)

        self.actions = ScriptedActions(respond)
        settings = Settings.from_env({"AzureWebJobsStorage": "UseDevelopmentStorage=true", **self.env})
        self.services = Services(
            storage=self.storage,
            queue=self.queue,
            actions=self.actions,
            settings=settings,
            clock=self.clock,
            sleep=self.clock.sleep,
            poison=self.poison,
        )
        self.collection = CollectionRef("sub", "rg", "jc")
        collections.put_collection(self.services, self.collection, CollectionDefinition(location="local"))

    # ---- the user's side ---------------------------------------------------------------------------------------

    def put(self, name: str, properties: Mapping[str, Any]) -> StoredJob:
        """PUT a job as the API would: validated into canonical wire JSON, then stored."""
        canonical = parse_job({"properties": dict(properties)}, self.services.settings, self.clock.now)
        stored, _ = jobs.put_job(self.services, self.ref(name), job_write_from_wire(canonical))
        return stored

    def ref(self, name: str) -> JobRef:
        return JobRef(self.collection, name)

    def job(self, name: str) -> StoredJob:
        return self.storage.get_job(self.ref(name))

    def history(self, name: str) -> list[HistoryEntry]:
        """Every history row of the job, oldest first."""
        page = self.storage.list_history(self.ref(name), top=1000, continuation=None, status=None)
        return sorted(page.items, key=lambda e: e.start_time)

    def stored_collection(self) -> StoredCollection:
        return self.storage.get_collection(self.collection)

    # ---- the scheduler's side ----------------------------------------------------------------------------------

    def deliver(self, message: Sent) -> None:
        executor.execute(self.services, message.occurrence, message.id)

    def run_until(self, until: datetime) -> None:
        """Run planner ticks and deliver messages at the instants they fall due, up to `until`."""
        lookahead = timedelta(seconds=self.services.settings.lookahead_seconds)
        for _ in range(100_000):
            indexed = self.storage.due_until(datetime.max.replace(tzinfo=UTC))
            candidates = [t for t in (self.queue.next_visible(), indexed[0].due - lookahead if indexed else None) if t]
            following = min(candidates, default=None)
            if following is None or following > until:
                break
            self.clock.now = max(self.clock.now, following)
            planner.tick(self.services)
            for message in self.queue.take_visible():
                self.deliver(message)
        self.clock.now = max(self.clock.now, until)

    def run_for(self, **delta: float) -> None:
        self.run_until(self.clock.now + timedelta(**delta))


def http_action(**extra: Any) -> dict[str, Any]:
    return {"type": "Http", "request": {"uri": TARGET, "method": "POST"}, **extra}


def iso(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")
