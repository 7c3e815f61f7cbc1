"""Job JSON as Azure Scheduler clients send it, and small waits on the API, for the API end-to-end tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from devhost.tests.running import wait_for
from tests.support.api import SchedulerApi

FAR_FUTURE = "2035-01-01T00:00:00Z"


def iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


def http_job(uri: str = "http://127.0.0.1:9/never", **properties: Any) -> dict[str, Any]:
    """A JobDefinition with an Http action (method GET), starting far in the future unless told otherwise."""
    body: dict[str, Any] = {
        "startTime": FAR_FUTURE,
        "action": {"type": "Http", "request": {"uri": uri, "method": "GET"}},
    }
    body.update(properties)
    return {"properties": body}


def hourly_job(uri: str = "http://127.0.0.1:9/never", **properties: Any) -> dict[str, Any]:
    return http_job(uri, recurrence={"frequency": "Hour", "interval": 1}, **properties)


def one_time_job(uri: str, *, in_seconds: float = 2, **action: Any) -> dict[str, Any]:
    """A one-time job firing soon at `uri` (POST), with the given extra action fields (e.g. retryPolicy)."""
    start = (datetime.now(UTC) + timedelta(seconds=in_seconds)).replace(microsecond=0)
    body = http_job(uri, startTime=iso(start))
    body["properties"]["action"]["request"]["method"] = "POST"
    body["properties"]["action"].update(action)
    return body


def put_job(api: SchedulerApi, collection: str, job: str, body: dict[str, Any], expect: int = 201) -> dict[str, Any]:
    response = api.call("PUT", api.job_path(collection, job), body)
    assert response.status_code == expect, response.text
    return dict(response.json())


def get_job(api: SchedulerApi, collection: str, job: str) -> dict[str, Any]:
    response = api.call("GET", api.job_path(collection, job))
    assert response.status_code == 200, response.text
    return dict(response.json())


def wait_state(api: SchedulerApi, collection: str, job: str, state: str, deadline: float = 45) -> dict[str, Any]:
    return wait_for(
        lambda: (got := get_job(api, collection, job))["properties"]["state"] == state and got,
        f"job {job} to become {state}",
        deadline=deadline,
    )


def history(api: SchedulerApi, collection: str, job: str, **params: Any) -> list[dict[str, Any]]:
    response = api.call("GET", api.job_path(collection, job) + "/history", **params)
    assert response.status_code == 200, response.text
    return list(response.json()["value"])


def wait_history(api: SchedulerApi, collection: str, job: str, count: int, deadline: float = 45) -> list[dict]:
    """Wait until the job has at least `count` history rows (following every page) and return them."""

    def rows() -> list[dict] | None:
        found = follow(api, api.job_path(collection, job) + "/history", **{"$top": 100})
        return found if len(found) >= count else None

    return wait_for(rows, f"{count} history rows of job {job}", deadline=deadline)


def follow(api: SchedulerApi, path: str, **params: Any) -> list[dict[str, Any]]:
    """Every item of a listing, following `nextLink` to the end."""
    response = api.call("GET", path, **params)
    assert response.status_code == 200, response.text
    page = response.json()
    items = list(page["value"])
    while page.get("nextLink"):
        response = api.session.get(page["nextLink"], timeout=30)
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["value"]
    return items


def error_targets(response: Any) -> set[str]:
    """The JSON paths a 400 BadRequest names (`error.details[].target`)."""
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "BadRequest"
    return {d["target"] for d in error.get("details", [])}
