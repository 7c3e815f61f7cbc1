"""The executor's, the lifecycle's and the quotas' rules on the in-memory ports with a simulated clock (milliseconds):
state transitions, counters, retry and errorAction sequences, catch-up, disable and delete races, redelivery."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

import pytest

from scheduler_core.api.models import collection_patch
from scheduler_core.domain.errors import QuotaExceeded, StateConflict
from scheduler_core.domain.job import JobState
from scheduler_core.ports import Outcome
from scheduler_core.service import collections, executor, jobs
from tests.support.simulation import START, TARGET, Simulation, http_action, iso

HOUR = timedelta(hours=1)


def failing(_action: Mapping[str, Any], _headers: Mapping[str, str]) -> Outcome:
    return Outcome(False, "Http request failed: 500 Internal Server Error")


def gaps(sim: Simulation) -> list[float]:
    """Seconds between the end of each call (it takes `call_seconds`) and the start of the next."""
    ends = [t + timedelta(seconds=sim.call_seconds) for t in sim.calls_at]
    return [round((b - a).total_seconds(), 3) for a, b in zip(ends, sim.calls_at[1:], strict=False)]


def rows(sim: Simulation, name: str) -> list[tuple[str, str, int]]:
    return [(e.action_name, e.status, e.retry_count) for e in sim.history(name)]


def test_a_one_time_job_runs_once_at_its_start_time_and_completes() -> None:
    sim = Simulation()
    sim.put("once", {"startTime": iso(START + timedelta(minutes=5)), "action": http_action()})

    sim.run_for(hours=2)

    assert sim.calls_at == [START + timedelta(minutes=5)]
    job = sim.job("once")
    assert job.state is JobState.COMPLETED
    assert (job.status.execution_count, job.status.failure_count, job.status.faulted_count) == (1, 0, 0)
    assert job.status.next_execution_time is None
    assert rows(sim, "once") == [("MainAction", "Completed", 0)]
    headers = sim.actions.calls[0].headers
    assert headers["x-ms-scheduler-jobid"] == "once" and headers["x-ms-scheduler-retry-count"] == "0"


def test_a_call_carries_azure_schedulers_own_headers_the_tag_stable_and_the_request_id_new_per_attempt() -> None:
    """The headers of the old service's calls, named after its queue envelope's elements (ExecutionTag,
    ClientRequestId, Region): consumers that de-duplicated on `x-ms-execution-tag` keep working."""
    sim = Simulation(respond=failing, env={"REGION_NAME": "West Europe"})
    retry = {"retryType": "Fixed", "retryInterval": "PT1M", "retryCount": 2}
    sim.put("tagged", {"startTime": iso(START), "action": http_action(retryPolicy=retry)})

    sim.run_for(minutes=10)

    headers = [call.headers for call in sim.actions.calls]
    assert len(headers) == 3
    assert {h["x-ms-execution-tag"] for h in headers} == {headers[0]["x-ms-scheduler-execution-id"]}
    assert len({h["x-ms-client-request-id"] for h in headers}) == 3
    assert {h["x-ms-scheduler-execution-region"] for h in headers} == {"West Europe"}


def test_a_recurring_job_with_a_count_runs_that_often_on_time_then_completes() -> None:
    sim = Simulation()
    recurrence = {"frequency": "Hour", "count": 3}
    sim.put("hourly", {"startTime": iso(START), "action": http_action(), "recurrence": recurrence})

    sim.run_for(hours=6)

    assert sim.calls_at == [START, START + HOUR, START + 2 * HOUR]
    job = sim.job("hourly")
    assert job.state is JobState.COMPLETED and job.status.execution_count == 3
    assert job.status.last_execution_time == START + 2 * HOUR


def test_failures_retry_on_the_policy_then_the_error_action_runs_and_the_job_faults() -> None:
    sim = Simulation(respond=lambda action, headers: failing(action, headers) if "main" in action.payload.uri
                     else Outcome(True, "ok"))
    main = http_action(retryPolicy={"retryType": "Fixed", "retryInterval": "PT30S", "retryCount": 2})
    main["request"]["uri"] = "https://target.example/main"
    main["errorAction"] = http_action()
    sim.put("flaky", {"startTime": iso(START), "action": main})

    sim.run_for(minutes=10)

    assert sim.calls_at[0] == START
    assert gaps(sim) == [30, 30, 0], "each retry waits its interval after the failed attempt; the error action not"
    assert rows(sim, "flaky") == [
        ("MainAction", "Failed", 0),
        ("MainAction", "Failed", 1),
        ("MainAction", "Failed", 2),
        ("ErrorAction", "Completed", 0),
    ]
    job = sim.job("flaky")
    assert job.state is JobState.FAULTED
    assert (job.status.execution_count, job.status.failure_count, job.status.faulted_count) == (1, 3, 1)


def test_a_retry_that_succeeds_completes_the_job_without_a_fault() -> None:
    outcomes = iter([Outcome(False, "503"), Outcome(True, "200")])
    sim = Simulation(respond=lambda _a, _h: next(outcomes))
    policy = {"retryType": "Fixed", "retryInterval": "PT20S", "retryCount": 3}
    sim.put("retry", {"startTime": iso(START), "action": http_action(retryPolicy=policy)})

    sim.run_for(minutes=5)

    assert sim.calls_at[0] == START and gaps(sim) == [20]
    assert rows(sim, "retry") == [("MainAction", "Failed", 0), ("MainAction", "Completed", 1)]
    job = sim.job("retry")
    assert (job.state, job.status.failure_count, job.status.faulted_count) == (JobState.COMPLETED, 1, 0)


def test_a_failing_recurring_job_keeps_its_schedule() -> None:
    sim = Simulation(respond=failing)
    action = http_action(retryPolicy={"retryType": "None"})
    sim.put("r", {"startTime": iso(START), "action": action, "recurrence": {"frequency": "Hour"}})

    sim.run_for(hours=2, minutes=30)

    assert sim.calls_at == [START, START + HOUR, START + 2 * HOUR]
    job = sim.job("r")
    assert job.state is JobState.ENABLED and job.status.next_execution_time == START + 3 * HOUR
    assert (job.status.failure_count, job.status.faulted_count) == (3, 3)


def test_after_downtime_the_latest_missed_occurrence_runs_and_the_others_are_postponed() -> None:
    sim = Simulation()
    sim.put("c", {"startTime": iso(START), "action": http_action(), "recurrence": {"frequency": "Hour"}})

    sim.clock.now = START + 3 * HOUR + timedelta(minutes=30)  # the scheduler was down
    sim.run_for(seconds=1)

    assert sim.calls_at == [START + 3 * HOUR + timedelta(minutes=30)]
    history = sim.history("c")
    assert [(e.status, e.expected_execution_time) for e in history if e.status == "Postponed"] == [
        ("Postponed", START),
        ("Postponed", START + HOUR),
        ("Postponed", START + 2 * HOUR),
    ]
    assert [e.expected_execution_time for e in history if e.status == "Completed"] == [START + 3 * HOUR]
    assert sim.job("c").status.next_execution_time == START + 4 * HOUR


def test_a_job_catch_up_window_of_its_own_postpones_every_missed_occurrence_beyond_it() -> None:
    sim = Simulation()
    recurrence = {"frequency": "Hour"}
    sim.put("w", {"startTime": iso(START), "action": http_action(), "recurrence": recurrence, "catchUpWindow": "PT10M"})

    sim.clock.now = START + 2 * HOUR + timedelta(minutes=30)
    sim.run_for(seconds=1)

    assert sim.calls_at == []
    assert [e.status for e in sim.history("w")] == ["Postponed"] * 3
    sim.run_for(hours=1)
    assert sim.calls_at == [START + 3 * HOUR]


def test_a_job_disabled_before_its_occurrence_does_not_run_and_says_why() -> None:
    sim = Simulation()
    sim.put("d", {"startTime": iso(START + timedelta(seconds=10)), "action": http_action(),
                  "recurrence": {"frequency": "Hour"}})
    jobs.set_state(sim.services, sim.ref("d"), JobState.DISABLED)

    sim.run_for(hours=1, minutes=30)

    assert sim.calls_at == []
    assert sim.job("d").state is JobState.DISABLED

    jobs.set_state(sim.services, sim.ref("d"), JobState.ENABLED)
    sim.run_for(hours=1)
    assert sim.calls_at == [START + 2 * HOUR + timedelta(seconds=10)]


def test_a_message_already_queued_for_a_disabled_job_is_postponed_with_the_reason() -> None:
    sim = Simulation()
    sim.put("q", {"startTime": iso(START + timedelta(seconds=5)), "action": http_action(),
                  "recurrence": {"frequency": "Hour"}})
    [message] = sim.queue.pending()  # due within the lookahead: queued at once
    jobs.set_state(sim.services, sim.ref("q"), JobState.DISABLED)

    sim.clock.now = message.visible_at
    sim.deliver(message)

    assert sim.calls_at == []
    assert [(e.status, e.message) for e in sim.history("q")] == [("Postponed", "The job is disabled.")]


def _change_between_claim_and_instant(
    sim: Simulation, change: Callable[[], None], **properties: Any
) -> list[tuple[str, str]]:
    """A per-minute job whose first occurrence (START + 5 s) is changed by `change` 0.5 s before its due instant,
    after the lease's claim; returns its history after three minutes as (status, message) pairs."""
    sim.put("lease", {"startTime": iso(START + timedelta(seconds=5)), "action": http_action(),
                      "recurrence": {"frequency": "Minute"}, **properties})
    [queued] = sim.queue.pending()
    sim.clock.now = queued.visible_at
    [message] = sim.queue.take_visible()
    prepared = executor.prepare(sim.services, message.occurrence, message.id)
    assert prepared is not None
    sim.clock.sleep(executor.seconds_until_claim(sim.services, prepared))
    claimed = executor.claim_ahead(sim.services, prepared)
    sim.clock.now = START + timedelta(seconds=4.5)
    change()
    if claimed is not None:
        sim.clock.sleep(executor.seconds_until(sim.services, claimed))
        executor.perform(sim.services, claimed)
    sim.run_for(minutes=3)
    return [(e.status, e.message) for e in sim.history("lease")]


def test_the_claim_is_taken_a_second_ahead_and_a_later_disable_stops_the_next_occurrence() -> None:
    sim = Simulation()

    history = _change_between_claim_and_instant(
        sim, lambda: jobs.set_state(sim.services, sim.ref("lease"), JobState.DISABLED)
    )

    assert sim.calls_at == [START + timedelta(seconds=5)]  # leased at 4 s, called at its instant, never early
    assert history[0][0] == "Completed"
    assert history[1:] and all(row == ("Postponed", "The job is disabled.") for row in history[1:])
    assert sim.job("lease").status.execution_count == 1
    assert sim.job("lease").status.next_execution_time == START + timedelta(minutes=4, seconds=5)


def test_with_a_claim_lead_of_zero_a_disable_up_to_the_instant_is_honoured() -> None:
    sim = Simulation(env={"SCHEDULER_CLAIM_LEAD_SECONDS": "0"})

    history = _change_between_claim_and_instant(
        sim, lambda: jobs.set_state(sim.services, sim.ref("lease"), JobState.DISABLED)
    )

    assert sim.calls_at == []
    assert history and all(row == ("Postponed", "The job is disabled.") for row in history)
    assert sim.job("lease").status.execution_count == 0


def test_a_job_enabled_after_its_occurrence_was_postponed_ahead_runs_from_the_next_one() -> None:
    sim = Simulation()

    history = _change_between_claim_and_instant(
        sim, lambda: jobs.set_state(sim.services, sim.ref("lease"), JobState.ENABLED), state="Disabled"
    )

    assert sim.calls_at == [START + timedelta(minutes=m, seconds=5) for m in (1, 2, 3)]
    assert [status for status, _ in history] == ["Postponed", "Completed", "Completed", "Completed"]


def test_a_job_replaced_after_its_claim_runs_that_occurrence_as_claimed_and_the_next_as_replaced() -> None:
    sim = Simulation()
    replaced = {"startTime": iso(START + timedelta(seconds=5)), "recurrence": {"frequency": "Minute", "interval": 2},
                "action": http_action(request={"uri": "https://target.example/new", "method": "POST"})}

    history = _change_between_claim_and_instant(sim, lambda: sim.put("lease", replaced) and None)

    assert sim.calls_at == [START + timedelta(minutes=m, seconds=5) for m in (0, 2)]
    # the message queued for the old schedule's next occurrence (1 min) finds the job changed
    assert [status for status, _ in history] == ["Completed", "Postponed", "Completed"]
    assert "changed" in history[1][1]
    assert [c.action.payload.uri for c in sim.actions.calls] == [TARGET, "https://target.example/new"]


def test_a_job_deleted_after_its_claim_makes_that_call_and_no_more() -> None:
    sim = Simulation(respond=failing)  # a retry would follow, were the job still there

    _change_between_claim_and_instant(sim, lambda: jobs.delete_job(sim.services, sim.ref("lease")))

    assert sim.calls_at == [START + timedelta(seconds=5)]
    assert sim.stored_collection().job_count == 0
    assert sim.queue.pending() == []


def test_a_message_that_comes_after_the_claim_lead_is_claimed_at_once_and_run_at_its_instant() -> None:
    sim = Simulation()
    sim.put("late", {"startTime": iso(START + timedelta(seconds=5)), "action": http_action()})
    sim.clock.now = START + timedelta(seconds=4.8)
    [message] = sim.queue.take_visible()

    sim.deliver(message)

    assert sim.calls_at == [START + timedelta(seconds=5)]
    assert rows(sim, "late") == [("MainAction", "Completed", 0)]


@pytest.mark.parametrize("value", ["2.5", "-1", "soon"])
def test_a_claim_lead_outside_zero_to_two_seconds_is_refused_naming_the_setting(value: str) -> None:
    with pytest.raises(ValueError, match="SCHEDULER_CLAIM_LEAD_SECONDS"):
        Simulation(env={"SCHEDULER_CLAIM_LEAD_SECONDS": value})


def test_a_job_deleted_while_its_message_waits_is_dropped_without_a_trace() -> None:
    sim = Simulation()
    sim.put("x", {"startTime": iso(START + timedelta(seconds=5)), "action": http_action()})
    assert len(sim.queue.pending()) == 1
    jobs.delete_job(sim.services, sim.ref("x"))

    sim.run_for(minutes=1)

    assert sim.calls_at == []
    assert sim.stored_collection().job_count == 0
    assert sim.history("x") == []


def test_a_redelivery_after_a_crash_runs_the_attempt_again_once_and_counts_it_once() -> None:
    crashed = []

    class Crash(BaseException):
        """The worker died mid-action (an exception the executor does not catch)."""

    def respond(_action: Mapping[str, Any], _headers: Mapping[str, str]) -> Outcome:
        if not crashed:
            crashed.append(True)
            raise Crash()
        return Outcome(True, "200")

    sim = Simulation(respond=respond)
    sim.put("crash", {"startTime": iso(START + timedelta(seconds=5)), "action": http_action()})
    [message] = sim.queue.pending()
    sim.clock.now = message.visible_at
    with pytest.raises(Crash):
        sim.deliver(message)
    duplicate = type(message)("another-message", message.body, message.visible_at)

    sim.deliver(message)  # the queue hands the same message over again after its lease
    sim.deliver(duplicate)  # and a duplicate of it (an API write racing a tick) is a no-op

    assert len(sim.calls_at) == 2
    job = sim.job("crash")
    assert (job.state, job.status.execution_count) == (JobState.COMPLETED, 1)
    assert rows(sim, "crash") == [("MainAction", "Completed", 0)]


def test_two_messages_for_one_occurrence_run_it_once() -> None:
    sim = Simulation()
    sim.put("twice", {"startTime": iso(START + timedelta(seconds=5)), "action": http_action()})
    [message] = sim.queue.pending()
    sim.clock.now = message.visible_at
    for token in ("first", "second"):
        executor.execute(sim.services, message.occurrence, token)
    assert len(sim.calls_at) == 1 and sim.job("twice").status.execution_count == 1


def test_run_now_runs_a_disabled_job_counts_it_and_keeps_its_schedule() -> None:
    sim = Simulation()
    sim.put("manual", {"startTime": iso(START + 5 * HOUR), "action": http_action(), "recurrence": {"frequency": "Day"},
                       "state": "Disabled"})
    jobs.run_job(sim.services, sim.ref("manual"))

    sim.run_for(minutes=1)

    assert sim.calls_at == [START]
    job = sim.job("manual")
    assert (job.state, job.status.execution_count, job.manual_runs) == (JobState.DISABLED, 1, 1)
    assert job.status.next_execution_time == START + 5 * HOUR


def test_disabling_the_collection_disables_its_jobs_and_enabling_brings_them_back() -> None:
    sim = Simulation()
    sim.put("a", {"startTime": iso(START + HOUR), "action": http_action(), "recurrence": {"frequency": "Hour"}})
    collections.set_collection_state(sim.services, sim.collection, JobState.DISABLED)
    assert sim.job("a").state is JobState.DISABLED
    sim.run_for(hours=1, minutes=30)
    assert sim.calls_at == []
    collections.set_collection_state(sim.services, sim.collection, JobState.ENABLED)
    sim.run_for(hours=1)
    assert sim.calls_at == [START + 2 * HOUR]


def test_the_free_plan_holds_five_jobs_and_a_deleted_job_frees_its_slot() -> None:
    sim = Simulation()
    free_plan = collection_patch({"properties": {"sku": {"name": "Free"}}})
    collections.patch_collection(sim.services, sim.collection, free_plan)
    for i in range(5):
        sim.put(f"j{i}", {"startTime": iso(START + HOUR), "action": http_action()})
    with pytest.raises(QuotaExceeded) as refused:
        sim.put("j5", {"startTime": iso(START + HOUR), "action": http_action()})
    assert refused.value.quota == "maxJobCount"
    jobs.delete_job(sim.services, sim.ref("j0"))
    sim.put("j5", {"startTime": iso(START + HOUR), "action": http_action()})
    assert sim.stored_collection().job_count == 5


def test_the_free_plan_refuses_a_job_that_recurs_more_often_than_hourly() -> None:
    sim = Simulation()
    free_plan = collection_patch({"properties": {"sku": {"name": "Free"}}})
    collections.patch_collection(sim.services, sim.collection, free_plan)
    with pytest.raises(QuotaExceeded) as refused:
        sim.put("fast", {"startTime": iso(START), "action": http_action(), "recurrence": {"frequency": "Minute"}})
    assert refused.value.quota == "maxRecurrence"
    assert sim.stored_collection().job_count == 0


def test_a_completed_job_cannot_be_enabled_again() -> None:
    sim = Simulation()
    sim.put("done", {"startTime": iso(START), "action": http_action()})
    sim.run_for(minutes=1)
    assert sim.job("done").state is JobState.COMPLETED
    with pytest.raises(StateConflict):
        jobs.set_state(sim.services, sim.ref("done"), JobState.ENABLED)


def test_a_poisoned_occurrence_is_recorded_as_faulted_and_the_schedule_moves_on() -> None:
    sim = Simulation()
    sim.put("p", {"startTime": iso(START + timedelta(seconds=5)), "action": http_action(),
                  "recurrence": {"frequency": "Hour"}})
    [message] = sim.queue.take_visible() or sim.queue.pending()
    sim.poison.put(message.body)
    sim.clock.now = START + timedelta(minutes=1)

    assert executor.sweep_poisoned(sim.services) == 1

    job = sim.job("p")
    assert (job.status.faulted_count, job.status.next_execution_time) == (1, START + HOUR + timedelta(seconds=5))
    assert [e.status for e in sim.history("p")] == ["Failed"]


def test_exponential_retries_double_up_to_the_maximum_interval() -> None:
    sim = Simulation(respond=failing)
    policy = {"retryType": "Exponential", "retryInterval": "PT20S", "retryCount": 4, "maxRetryInterval": "PT1M"}
    sim.put("exp", {"startTime": iso(START), "action": http_action(retryPolicy=policy)})

    sim.run_for(minutes=10)

    assert gaps(sim) == [20, 40, 60, 60]
    assert [e.retry_count for e in sim.history("exp")] == [0, 1, 2, 3, 4]
    assert sim.job("exp").state is JobState.FAULTED


def test_the_error_action_retries_on_its_own_policy() -> None:
    sim = Simulation(respond=failing)
    error = http_action(retryPolicy={"retryType": "Fixed", "retryInterval": "PT15S", "retryCount": 1})
    sim.put("e", {"startTime": iso(START), "action": http_action(retryPolicy={"retryType": "None"}, errorAction=error)})

    sim.run_for(minutes=5)

    assert rows(sim, "e") == [("MainAction", "Failed", 0), ("ErrorAction", "Failed", 0), ("ErrorAction", "Failed", 1)]
    assert gaps(sim) == [0, 15]
    job = sim.job("e")
    assert (job.status.failure_count, job.status.faulted_count) == (1, 1), "error action attempts count nothing"


def test_a_job_replaced_before_its_occurrence_runs_its_new_action_once() -> None:
    sim = Simulation()
    sim.put("v", {"startTime": iso(START + timedelta(seconds=5)), "action": http_action()})
    replaced = http_action()
    replaced["request"]["uri"] = "https://target.example/v2"
    sim.put("v", {"startTime": iso(START + timedelta(seconds=5)), "action": replaced})

    sim.run_for(minutes=1)

    assert [c.action.payload.uri for c in sim.actions.calls] == ["https://target.example/v2"]
    assert [e.status for e in sim.history("v")] == ["Completed"]


def test_a_job_rescheduled_later_does_not_run_at_its_old_time_and_says_why() -> None:
    sim = Simulation()
    sim.put("later", {"startTime": iso(START + timedelta(seconds=5)), "action": http_action()})
    sim.put("later", {"startTime": iso(START + HOUR), "action": http_action()})

    sim.run_for(hours=2)

    assert sim.calls_at == [START + HOUR]
    statuses = [(e.status, e.expected_execution_time) for e in sim.history("later")]
    assert statuses == [("Postponed", START + timedelta(seconds=5)), ("Completed", START + HOUR)]


def test_a_recurrence_with_an_end_time_stops_there_and_completes() -> None:
    sim = Simulation()
    recurrence = {"frequency": "Minute", "interval": 30, "endTime": iso(START + HOUR)}
    sim.put("end", {"startTime": iso(START), "action": http_action(), "recurrence": recurrence})

    sim.run_for(hours=3)

    assert sim.calls_at == [START, START + timedelta(minutes=30), START + HOUR]
    assert sim.job("end").state is JobState.COMPLETED


def test_a_weekly_schedule_in_a_time_zone_fires_at_local_wall_clock_time() -> None:
    sim = Simulation()
    recurrence = {"frequency": "Week", "schedule": {"weekDays": ["Monday"], "hours": [9], "minutes": [30]},
                  "timeZone": "Europe/Berlin"}
    sim.put("weekly", {"startTime": iso(START), "action": http_action(), "recurrence": recurrence})

    sim.run_for(days=15)

    assert [t.isoformat() for t in sim.calls_at] == ["2026-06-08T07:30:00+00:00", "2026-06-15T07:30:00+00:00"]


def test_deleting_the_collection_drops_its_queued_occurrences() -> None:
    sim = Simulation()
    sim.put("gone", {"startTime": iso(START + timedelta(seconds=5)), "action": http_action()})
    sim.put("later", {"startTime": iso(START + HOUR), "action": http_action(), "recurrence": {"frequency": "Hour"}})
    collections.delete_collection(sim.services, sim.collection)

    sim.run_for(hours=3)

    assert sim.calls_at == []
    assert sim.storage.due_until(START + 10 * HOUR) == []


def test_a_schedule_without_a_start_time_runs_once_at_once_then_by_its_schedule() -> None:
    # Reference (c), the startTime table: "No start time | Recurrence with schedule: Run once immediately. Run
    # subsequent executions based on a recurrence schedule." The run at once counts towards `count`.
    sim = Simulation()
    sim.clock.now = START + timedelta(minutes=7, seconds=20)  # 12:07:20; the schedule says 13:00 and 15:00
    sim.put("hourly-ish", {"action": http_action(), "recurrence": {
        "frequency": "Day", "count": 3, "schedule": {"hours": [13, 15], "minutes": [0]}}})

    sim.run_for(days=2)

    assert sim.calls_at == [START + timedelta(minutes=7, seconds=20), START + timedelta(hours=1),
                            START + timedelta(hours=3)]
    assert sim.job("hourly-ish").state is JobState.COMPLETED


def test_a_schedule_without_a_start_time_replaced_after_its_first_run_does_not_run_at_once_again() -> None:
    sim = Simulation()
    sim.clock.now = START + timedelta(minutes=7)
    properties = {"action": http_action(), "recurrence": {"frequency": "Day", "schedule": {"hours": [13],
                                                                                           "minutes": [0]}}}
    sim.put("daily", properties)
    sim.run_for(minutes=10)
    sim.put("daily", {**properties, "action": {"type": "Http", "request": {"uri": TARGET, "method": "GET"}}})

    sim.run_for(days=1, hours=1)

    assert sim.calls_at == [START + timedelta(minutes=7), START + timedelta(hours=1), START + timedelta(hours=25)]


def test_cron_and_a_start_time_keep_a_schedule_to_its_own_times() -> None:
    sim = Simulation()
    sim.clock.now = START + timedelta(minutes=7)
    sim.put("cron", {"action": http_action(), "recurrence": {"cron": "0 13 * * *"}})
    sim.put("started", {"startTime": iso(START), "action": http_action(),
                        "recurrence": {"frequency": "Day", "schedule": {"hours": [13], "minutes": [0]}}})

    sim.run_for(hours=2)

    assert [t.replace(microsecond=0) for t in sim.calls_at] == [START + timedelta(hours=1)] * 2  # one call each


def test_a_new_schedule_starts_a_new_series_and_the_same_schedule_again_goes_on() -> None:
    """docs/api.md: `count` and a one-time run belong to the schedule they were written with. Redeploying the same
    definition (an ARM template applied again) changes nothing; a new schedule counts from its own start."""
    sim = Simulation()
    properties = {"startTime": iso(START), "action": http_action(), "recurrence": {"frequency": "Hour", "count": 2}}
    sim.put("series", properties)
    sim.run_for(hours=3)
    assert sim.calls_at == [START, START + HOUR]
    assert sim.job("series").state is JobState.COMPLETED

    sim.put("series", properties)  # the same definition again: still done
    sim.run_for(hours=3)
    assert len(sim.calls_at) == 2

    first = sim.clock.now
    sim.put("other", {**properties, "startTime": iso(first), "recurrence": {"frequency": "Hour", "count": 5}})
    sim.run_for(hours=1, minutes=30)
    later = sim.clock.now
    sim.put("other", {**properties, "startTime": iso(later), "recurrence": {"frequency": "Hour", "count": 3}})
    sim.run_for(hours=5)

    assert sim.calls_at[2:] == [first, first + HOUR, later, later + HOUR, later + 2 * HOUR]
    other = sim.job("other")
    assert other.state is JobState.COMPLETED
    assert other.status.execution_count == 5  # executionCount counts the runs of both schedules

    # A count raised on the same schedule ends the same series later: 3 ran of 5, 4 more of 7.
    sim.put("raised", {**properties, "startTime": iso(sim.clock.now), "recurrence": {"frequency": "Hour", "count": 5}})
    sim.run_for(hours=2, minutes=30)
    sim.put("raised", {**properties, "startTime": iso(sim.job("raised").definition.start_time),
                       "recurrence": {"frequency": "Hour", "count": 7}})
    sim.run_for(hours=8)
    assert sim.job("raised").status.execution_count == 7
