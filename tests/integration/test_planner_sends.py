"""The planner on real Azurite: a tick that takes long to send its window still makes every message visible when its
occurrence is due (PREPARE_LEAD_SECONDS early), because each message's delay counts from its own send."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from devhost.azurite import Azurite
from scheduler_core.adapters.clients import table_service
from scheduler_core.adapters.http_action import HttpActionRunner
from scheduler_core.adapters.tables import TableStorage
from scheduler_core.domain.job import CollectionRef, JobRef
from scheduler_core.ports import Occurrence
from scheduler_core.service import planner
from scheduler_core.service.context import Services
from scheduler_core.service.dispatch import PREPARE_LEAD_SECONDS
from scheduler_core.settings import Settings
from tests.conftest import REPO

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
SEND_TAKES = timedelta(seconds=10)


class Clock:
    """The test's clock: moves only when a send takes its time."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self.now

    def advance(self, by: timedelta) -> datetime:
        with self._lock:
            began, self.now = self.now, self.now + by
            return began


class SlowQueue:
    """An execution queue whose every send takes SEND_TAKES of the test's clock; records when each message becomes
    visible (the send's instant plus its delay, as the queue service counts it)."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self.visible: dict[str, datetime] = {}

    def send(self, occurrence: Occurrence, *, delay_seconds: float) -> None:
        sent = self._clock.advance(SEND_TAKES)
        self.visible[occurrence.job.name] = sent + timedelta(seconds=max(0.0, delay_seconds))


@pytest.fixture(scope="module")
def private_azurite() -> Iterator[Azurite]:
    """Not the session Azurite: its host's planner moves the due-index watermark to the real clock."""
    with Azurite.start(repo_root=REPO) as emulator:
        yield emulator


def test_a_message_sent_late_in_a_long_tick_is_visible_when_its_occurrence_is_due(
    private_azurite: Azurite, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings.from_env({"AzureWebJobsStorage": private_azurite.connection_string})
    storage = TableStorage(table_service(settings.storage))
    storage.create_tables()
    clock = Clock(NOW)
    queue = SlowQueue(clock)
    services = Services(storage=storage, queue=queue, actions=HttpActionRunner(), settings=settings, clock=clock)
    collection = CollectionRef("sub", "rg", f"jc-{uuid.uuid4().hex[:8]}")
    due = {f"job{i}": NOW + timedelta(seconds=60 + i) for i in range(5)}
    for name, instant in due.items():
        storage.add_due(JobRef(collection, name), instant)
    monkeypatch.setattr(planner, "_SENDERS", 1)  # one sender: the sends follow each other on the test's clock

    assert planner.tick(services) == 5

    lead = timedelta(seconds=PREPARE_LEAD_SECONDS)
    # The fifth message is sent 40 s into the tick; it still shows up PREPARE_LEAD_SECONDS before its due time.
    assert queue.visible == {name: instant - lead for name, instant in due.items()}
