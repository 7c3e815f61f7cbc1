"""Issue 2, step 3: a one-time Http job created through the API fires once, on time, and is recorded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from devhost.tests.running import wait_for
from tests.support.api import SchedulerApi, unique
from tests.support.target import Target


def test_one_time_http_job_fires_once_not_before_start_and_completes(api: SchedulerApi, target: Target) -> None:
    collection = api.new_collection()
    job = unique("job")
    start = (datetime.now(UTC) + timedelta(seconds=4)).replace(microsecond=0)
    body = {
        "properties": {
            "startTime": start.isoformat().replace("+00:00", "Z"),
            "action": {
                "type": "Http",
                "request": {
                    "uri": f"{target.url}/hook",
                    "method": "POST",
                    "headers": {"x-custom": "walking-skeleton", "Content-Type": "application/json"},
                    "body": '{"hello": "world"}',
                },
            },
        }
    }

    created = api.call("PUT", api.job_path(collection, job), body)
    assert created.status_code == 201, created.text
    assert created.json()["properties"]["status"]["nextExecutionTime"] == body["properties"]["startTime"]

    wait_for(lambda: target.requests_to("/hook"), "the target to be called", deadline=30)
    got = api.call("GET", api.job_path(collection, job)).json()
    wait_for(lambda: api.call("GET", api.job_path(collection, job)).json()["properties"]["state"] == "Completed",
             "the job to complete")
    got = api.call("GET", api.job_path(collection, job)).json()

    calls = target.requests_to("/hook")
    assert len(calls) == 1
    call = calls[0]
    assert call.method == "POST"
    assert call.headers["x-custom"] == "walking-skeleton"
    assert call.body == b'{"hello": "world"}'
    assert call.at >= start, f"fired {start - call.at} early"
    assert call.at - start < timedelta(seconds=1), f"fired {call.at - start} late"
    assert call.headers["x-ms-scheduler-jobid"] == job

    status = got["properties"]["status"]
    assert status["executionCount"] == 1
    assert "lastExecutionTime" in status and "nextExecutionTime" not in status

    history = api.call("GET", api.job_path(collection, job) + "/history").json()["value"]
    assert [h["properties"]["status"] for h in history] == ["Completed"]
    assert history[0]["properties"]["expectedExecutionTime"] == body["properties"]["startTime"]
