"""Issue 5 on the shared local host: retries, errorAction, recurring jobs, disabling and deleting.

Sub-minute schedules use the cron extension with seconds, in a collection whose quota allows them.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from azure.storage.queue import QueueClient, TextBase64EncodePolicy

from devhost.azurite import Azurite
from devhost.tests.running import wait_for
from scheduler_core.settings import POISON_QUEUE
from tests.support.api import SchedulerApi, job_of, put_job
from tests.support.target import Received, Target

# SCHEDULER_CLAIM_LEAD_SECONDS as the host runs it (the default): a change takes effect for the occurrences due at
# least this long after it (an occurrence due sooner was claimed already, as a lease, and runs as it was).
CLAIM_LEAD = timedelta(seconds=1)
FAST_QUOTA = {"quota": {"maxJobCount": 50, "maxRecurrence": {"frequency": "Second", "interval": 1}}}


def iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


def http(target: Target, path: str, **extra: Any) -> dict[str, Any]:
    return {"type": "Http", "request": {"uri": f"{target.url}{path}", "method": "POST", "body": path}, **extra}


def due_of(received: Received) -> datetime:
    return datetime.fromisoformat(received.headers["x-ms-scheduler-expected-execution-time"])


def wait_until_dispatched_past(target: Target, path: str, instant: datetime, what: str) -> None:
    """Wait until a sentinel job on the same schedule got a call due after `instant`: the host had dispatched
    everything due until then (a slow host makes the wait longer, never the test vacuous)."""
    wait_for(lambda: any(due_of(r) > instant for r in target.requests_to(path)), what, deadline=30)


def history_of(api: SchedulerApi, collection: str, job: str) -> list[dict[str, Any]]:
    return [h["properties"] for h in api.call("GET", api.job_path(collection, job) + "/history").json()["value"]]


def test_retries_against_a_flaky_target_use_the_policy_and_one_execution_id(api: SchedulerApi) -> None:
    calls: list[str] = []

    def flaky(path: str) -> int:
        calls.append(path)
        return 503 if len(calls) <= 2 else 200

    target = Target(respond=flaky)
    try:
        collection = api.new_collection()
        policy = {"retryType": "Fixed", "retryInterval": "PT2S", "retryCount": 3}
        job = put_job(api, collection, {"action": http(target, "/flaky", retryPolicy=policy)})

        wait_for(lambda: job_of(api, collection, job)["state"] == "Completed", "the job to complete", deadline=40)
        received = target.requests_to("/flaky")
        assert len(received) == 3
        assert [r.headers["x-ms-scheduler-retry-count"] for r in received] == ["0", "1", "2"]
        assert len({r.headers["x-ms-scheduler-execution-id"] for r in received}) == 1
        for earlier, later in zip(received, received[1:], strict=False):
            assert later.at - earlier.at >= timedelta(seconds=2)
        status = job_of(api, collection, job)["status"]
        assert (status["executionCount"], status["failureCount"], status["faultedCount"]) == (1, 2, 0)
        rows = sorted(history_of(api, collection, job), key=lambda h: h["retryCount"])
        assert [(h["status"], h["retryCount"]) for h in rows] == [("Failed", 0), ("Failed", 1), ("Completed", 2)]
        assert "503" in rows[0]["message"]
    finally:
        target.close()


def test_an_on_demand_jobs_run_is_retried_although_the_job_is_disabled(api: SchedulerApi) -> None:
    # An on-demand job is kept disabled and run by hand; its retry policy must still apply to those runs.
    target = Target(respond=lambda path: 503 if len(target.requests_to(path)) == 1 else 200)
    try:
        collection = api.new_collection()
        policy = {"retryType": "Fixed", "retryInterval": "PT2S", "retryCount": 2}
        later = iso(datetime.now(UTC) + timedelta(days=30))
        properties = {"state": "Disabled", "startTime": later, "action": http(target, "/on-demand", retryPolicy=policy)}
        job = put_job(api, collection, properties)

        assert api.call("POST", api.job_path(collection, job) + "/run").status_code == 200
        wait_for(lambda: len(history_of(api, collection, job)) >= 2, "the run and its retry", deadline=30)
        rows = sorted(history_of(api, collection, job), key=lambda h: h["retryCount"])
        assert [(h["status"], h["retryCount"]) for h in rows] == [("Failed", 0), ("Completed", 1)]
        assert len(target.requests_to("/on-demand")) == 2
        assert job_of(api, collection, job)["state"] == "Disabled"
    finally:
        target.close()


def test_error_action_runs_once_after_the_main_action_exhausts_its_retries(api: SchedulerApi) -> None:
    target = Target(respond=lambda path: 500 if path == "/main" else 200)
    try:
        collection = api.new_collection()
        main = http(target, "/main", retryPolicy={"retryType": "Fixed", "retryInterval": "PT1S", "retryCount": 1})
        main["errorAction"] = http(target, "/error", retryPolicy={"retryType": "None"})
        job = put_job(api, collection, {"action": main})

        wait_for(lambda: job_of(api, collection, job)["state"] == "Faulted", "the job to fault", deadline=40)
        wait_for(lambda: target.requests_to("/error"), "the error action", deadline=20)
        time.sleep(2)  # room for a wrongful second error action to show up
        assert len(target.requests_to("/main")) == 2
        assert len(target.requests_to("/error")) == 1
        assert target.requests_to("/error")[0].headers["x-ms-scheduler-action"] == "ErrorAction"
        rows = history_of(api, collection, job)
        assert sorted((h["actionName"], h["status"]) for h in rows) == [
            ("ErrorAction", "Completed"),
            ("MainAction", "Failed"),
            ("MainAction", "Failed"),
        ]
        assert job_of(api, collection, job)["status"]["faultedCount"] == 1
    finally:
        target.close()


def test_recurring_job_fires_on_schedule_never_early_and_completes_after_count(
    api: SchedulerApi, target: Target
) -> None:
    collection = api.new_collection(**FAST_QUOTA)
    job = put_job(
        api, collection, {"action": http(target, "/tick"), "recurrence": {"cron": "*/2 * * * * *", "count": 3}}
    )
    put_job(api, collection, {"action": http(target, "/tick-sentinel"), "recurrence": {"cron": "*/2 * * * * *"}})

    wait_for(lambda: job_of(api, collection, job)["state"] == "Completed", "the job to complete", deadline=40)
    last = max(due_of(r) for r in target.requests_to("/tick"))
    wait_until_dispatched_past(target, "/tick-sentinel", last + timedelta(seconds=2), "a fourth occurrence's time")
    received = target.requests_to("/tick")
    assert len(received) == 3
    due = [datetime.fromisoformat(r.headers["x-ms-scheduler-expected-execution-time"]) for r in received]
    assert all(d.second % 2 == 0 and d.microsecond == 0 for d in due)
    assert due == sorted(set(due))
    assert all(r.at >= d for r, d in zip(received, due, strict=True)), "a call arrived before its due time"
    status = job_of(api, collection, job)["status"]
    assert status["executionCount"] == 3 and "nextExecutionTime" not in status


def test_disabling_a_job_stops_its_calls_and_postpones_its_occurrences(api: SchedulerApi, target: Target) -> None:
    collection = api.new_collection(**FAST_QUOTA)
    job = put_job(api, collection, {"action": http(target, "/pause"), "recurrence": {"cron": "*/2 * * * * *"}})
    wait_for(lambda: target.requests_to("/pause"), "the first call", deadline=20)

    patched = api.call("PATCH", api.job_path(collection, job), {"properties": {"state": "Disabled"}})
    assert patched.status_code == 200, patched.text
    disabled_at = datetime.now(UTC)
    wait_for(
        lambda: any(h["status"] == "Postponed" for h in history_of(api, collection, job)),
        "an occurrence to be postponed",
        deadline=20,
    )
    assert [r for r in target.requests_to("/pause") if due_of(r) > disabled_at + CLAIM_LEAD] == []
    postponed = [h for h in history_of(api, collection, job) if h["status"] == "Postponed"]
    assert "disabled" in postponed[0]["message"]


def test_deleting_a_job_stops_its_calls(api: SchedulerApi, target: Target) -> None:
    collection = api.new_collection(**FAST_QUOTA)
    job = put_job(api, collection, {"action": http(target, "/gone"), "recurrence": {"cron": "*/2 * * * * *"}})
    put_job(api, collection, {"action": http(target, "/gone-sentinel"), "recurrence": {"cron": "*/2 * * * * *"}})
    wait_for(lambda: target.requests_to("/gone"), "the first call", deadline=20)

    assert api.call("DELETE", api.job_path(collection, job)).status_code == 200
    deleted_at = datetime.now(UTC)
    wait_until_dispatched_past(target, "/gone-sentinel", deleted_at + timedelta(seconds=4), "two more occurrences")
    assert [r for r in target.requests_to("/gone") if due_of(r) > deleted_at + CLAIM_LEAD] == []
    assert api.call("GET", api.job_path(collection, job)).status_code == 404


def test_a_job_replaced_between_its_occurrences_runs_its_new_action_from_the_next_one(
    api: SchedulerApi, target: Target
) -> None:
    # The next occurrence is already queued when the job is replaced; the replacement keeps the schedule, so that
    # queued occurrence is the one that runs, and it must run what the job says at its instant, not when queued.
    collection = api.new_collection(**FAST_QUOTA)
    recurrence = {"cron": "*/2 * * * * *"}
    job = put_job(api, collection, {"action": http(target, "/before"), "recurrence": recurrence})
    wait_for(lambda: target.requests_to("/before"), "the first call", deadline=20)

    properties = {"action": http(target, "/after"), "recurrence": recurrence}
    replaced = api.call("PUT", api.job_path(collection, job), {"properties": properties})
    assert replaced.status_code == 200, replaced.text
    replaced_at = datetime.now(UTC)
    wait_for(lambda: len(target.requests_to("/after")) >= 2, "calls to the new target", deadline=20)
    assert [r for r in target.requests_to("/before") if due_of(r) > replaced_at + CLAIM_LEAD] == []


def test_a_message_that_reaches_the_poison_queue_is_recorded_as_a_faulted_occurrence(
    api: SchedulerApi, azurite: Azurite, target: Target
) -> None:
    # As the host leaves it after maxDequeueCount failures: the message as it was, base64, on `<queue>-poison`.
    collection = api.new_collection()
    due = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
    job = put_job(api, collection, {"startTime": iso(due), "action": http(target, "/never")})
    message = {"v": 1, "job": ["sub-1", "rg-1", collection, job], "due": due.isoformat(), "id": "x"}  # as api's
    poison = QueueClient.from_connection_string(
        azurite.connection_string, POISON_QUEUE, message_encode_policy=TextBase64EncodePolicy()
    )
    poison.send_message(json.dumps(message))

    wait_for(lambda: history_of(api, collection, job), "the poisoned occurrence in history", deadline=20)
    [row] = history_of(api, collection, job)
    assert row["status"] == "Failed" and row["message"].startswith("Faulted")
    assert row["expectedExecutionTime"].startswith(iso(due)[:19])
    assert job_of(api, collection, job)["status"]["faultedCount"] == 1


def test_a_disabled_collections_occurrences_are_recorded_as_postponed(api: SchedulerApi, target: Target) -> None:
    collection = api.new_collection(**FAST_QUOTA)
    job = put_job(api, collection, {"action": http(target, "/coll"), "recurrence": {"cron": "*/2 * * * * *"}})
    wait_for(lambda: target.requests_to("/coll"), "the first call", deadline=20)

    assert api.call("POST", api.collection_path(collection) + "/disable").status_code == 200
    assert job_of(api, collection, job)["state"] == "Disabled"
    wait_for(
        lambda: any("collection is disabled" in h["message"] for h in history_of(api, collection, job)),
        "an occurrence postponed because the collection is disabled",
        deadline=20,
    )
    assert api.call("POST", api.collection_path(collection) + "/enable").status_code == 200
    enabled_at = datetime.now(UTC)
    wait_for(lambda: any(r.at > enabled_at for r in target.requests_to("/coll")), "calls to resume", deadline=20)
