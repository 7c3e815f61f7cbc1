"""Calls before bookkeeping (service/hot_path.py): at a burst's instant, an attempt whose call has returned writes its
history only once the other attempts of the process have made their calls. Event-driven: no sleeps, no timing."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import timedelta

from scheduler_core.domain.definition import Action
from scheduler_core.domain.job import JobExecutionStatus
from scheduler_core.ports import HistoryEntry, Outcome
from scheduler_core.service import executor, planner
from scheduler_core.service.hot_path import HotPath
from tests.support.simulation import START, TARGET, Simulation, http_action, iso

WAIT = 30.0  # only a safety net: every wait below ends on an event long before


class _Watched(HotPath):
    """Tells when a bookkeeping started to wait for calls in flight."""

    def __init__(self) -> None:
        super().__init__(max_wait=WAIT)
        self.waiting = threading.Event()

    def yield_to_calls(self) -> None:
        if self.in_flight:
            self.waiting.set()
        super().yield_to_calls()


def test_bookkeeping_waits_for_the_calls_in_flight_and_goes_on_when_they_end() -> None:
    gate = _Watched()
    finished = threading.Event()
    with gate.calling():
        worker = threading.Thread(target=lambda: (gate.yield_to_calls(), finished.set()))
        worker.start()
        assert gate.waiting.wait(WAIT)
        assert not finished.is_set()  # it is waiting (the event above says so), not done
    assert finished.wait(WAIT)
    worker.join()
    assert gate.in_flight == 0


def test_bookkeeping_never_waits_forever_for_a_stream_of_calls() -> None:
    gate = HotPath(max_wait=0.0)
    with gate.calling():
        gate.yield_to_calls()  # returns at once: the wait is bounded
    assert gate.in_flight == 0


def test_a_leave_ends_the_calling_phase_once_even_when_the_block_ends_later() -> None:
    gate = HotPath()
    with gate.calling() as called:
        with gate.calling():
            assert gate.in_flight == 2
        called()
        called()
        assert gate.in_flight == 0
    assert gate.in_flight == 0


def test_at_a_burst_an_attempt_records_its_history_only_after_the_other_attempts_call_is_made() -> None:
    gate = _Watched()
    second_calling = threading.Event()
    order: list[str] = []

    def respond(action: Action, _headers: Mapping[str, str]) -> Outcome:
        if action.payload.uri.endswith("/second"):
            second_calling.set()
            assert gate.waiting.wait(WAIT), "the first attempt's bookkeeping should wait for this call"
            order.append("call second")
        else:
            order.append("call first")
        return Outcome(True, "200")

    sim = Simulation(respond=respond)
    sim.services = replace(sim.services, hot_path=gate)
    due = START + timedelta(minutes=5)
    for name in ("first", "second"):
        sim.put(name, {"startTime": iso(due), "action": {**http_action(), "request": {"uri": f"{TARGET}/{name}",
                                                                                      "method": "GET"}}})
    recorded = sim.storage.add_history

    def add_history(entries: Sequence[HistoryEntry]) -> None:
        order.append(f"history {entries[0].job.name}")
        recorded(entries)

    sim.storage.add_history = add_history  # type: ignore[method-assign]
    sim.clock.now = due - timedelta(seconds=1)  # both messages are visible: each attempt is prepared
    planner.tick(sim.services)
    prepared = {}
    for message in sim.queue.take_visible():
        found = executor.prepare(sim.services, message.occurrence, message.id)
        assert found is not None
        prepared[found.job.ref.name] = found

    sim.clock.now = due
    second = threading.Thread(target=executor.perform, args=(sim.services, prepared["second"]))
    second.start()
    assert second_calling.wait(WAIT)
    executor.perform(sim.services, prepared["first"])
    second.join(WAIT)

    assert order.index("call second") < order.index("history first")
    assert sorted(order) == ["call first", "call second", "history first", "history second"]
    assert [e.status for e in sim.history("first")] == [JobExecutionStatus.COMPLETED]
