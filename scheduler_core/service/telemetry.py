"""What the use cases report as they work (attempts, planner ticks, poison messages): the port and its no-op default.

The service calls it; `scheduler_core.adapters.telemetry` implements it on OpenTelemetry. Without an exporter the
default `NO_TELEMETRY` is used, whose calls do nothing, so that telemetry off costs nothing on the hot path.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

#: Outcomes of an attempt as the metrics name them: Completed, Failed (a retry follows), Faulted (retries exhausted
#: or the message reached the poison queue), Postponed (the occurrence did not run: job disabled or changed, missed),
#: Skipped (reserved: an occurrence deliberately not run).
COMPLETED, FAILED, FAULTED, POSTPONED, SKIPPED = "Completed", "Failed", "Faulted", "Postponed", "Skipped"


@dataclass(frozen=True)
class AttemptFacts:
    """Who and when of one attempt, known before it runs.

    `expected` is the occurrence's due instant (history's expected execution time); `scheduled` the instant this
    attempt was to start (the due instant, or a retry's or error action's time); `started` when it started.
    """

    job: str
    collection: str
    execution_id: str
    action_name: str
    retry: int
    expected: datetime
    scheduled: datetime
    started: datetime

    @property
    def lateness_seconds(self) -> float:
        return max(0.0, (self.started - self.scheduled).total_seconds())


class AttemptSpan(Protocol):
    def outcome(self, outcome: str) -> None:
        """Record how the attempt ended (one of the outcomes above)."""


class PlannerTickSpan(Protocol):
    def enqueued(self, count: int) -> int:
        """Record how many occurrences the tick enqueued; returns `count`."""


class Telemetry(Protocol):
    """Spans, metrics and logs of the scheduler's work. No method raises."""

    def attempt(self, facts: AttemptFacts) -> AbstractContextManager[AttemptSpan]:
        """The span of one attempt: the action runs inside it (its outbound call is a child span)."""

    def postponed(self, count: int = 1) -> None:
        """`count` occurrences were recorded as Postponed instead of running."""

    def poisoned(self) -> None:
        """An execution message reached the poison queue (its occurrence is recorded as faulted)."""

    def planner_tick(self) -> AbstractContextManager[PlannerTickSpan]:
        """The span of one planner tick (its duration and what it enqueued)."""


class _Nothing:
    def outcome(self, outcome: str) -> None:
        pass

    def enqueued(self, count: int) -> int:
        return count


class NoTelemetry:
    """`Telemetry` that records nothing: the default, and the in-memory reference of the port."""

    _nothing = _Nothing()

    @contextmanager
    def attempt(self, facts: AttemptFacts) -> Iterator[AttemptSpan]:
        yield self._nothing

    def postponed(self, count: int = 1) -> None:
        pass

    def poisoned(self) -> None:
        pass

    @contextmanager
    def planner_tick(self) -> Iterator[PlannerTickSpan]:
        yield self._nothing


NO_TELEMETRY: Telemetry = NoTelemetry()
