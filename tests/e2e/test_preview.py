"""Issue 4 through HTTP: the preview of a job's next fire times, the what-if preview, and never-firing schedules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.support.api import SchedulerApi, unique

PREVIEW = "/providers/Microsoft.Scheduler/previewRecurrence"
HTTP_ACTION = {"type": "Http", "request": {"uri": "https://example.invalid/hook", "method": "GET"}}


def put(api: SchedulerApi, collection: str, properties: dict) -> str:
    job = unique("job")
    response = api.call("PUT", api.job_path(collection, job), {"properties": {"action": HTTP_ACTION, **properties}})
    assert response.status_code == 201, response.text
    return job


def preview(api: SchedulerApi, collection: str, job: str, **params: object) -> list[str]:
    response = api.call("GET", api.job_path(collection, job) + "/preview", **params)
    assert response.status_code == 200, response.text
    return response.json()["value"]


def test_preview_gives_the_next_calendar_occurrences_in_the_jobs_time_zone(api: SchedulerApi) -> None:
    collection = api.new_collection()
    recurrence = {
        "frequency": "Month",
        "schedule": {"monthlyOccurrences": [{"day": "Friday", "occurrence": -1}], "hours": [10, 22], "minutes": [0]},
        "timeZone": "Europe/Berlin",
    }
    job = put(api, collection, {"startTime": "2026-01-01T00:00:00Z", "recurrence": recurrence})

    got = preview(api, collection, job, count=4, **{"from": "2026-03-01T00:00:00Z"})
    # Last Fridays: 27 March (CET, before the 29 March switch: UTC+1) and 24 April (CEST: UTC+2).
    assert got == ["2026-03-27T09:00:00Z", "2026-03-27T21:00:00Z", "2026-04-24T08:00:00Z", "2026-04-24T20:00:00Z"]


def test_next_execution_time_is_the_first_instant_of_the_preview(api: SchedulerApi) -> None:
    collection = api.new_collection()
    start = (datetime.now(UTC) - timedelta(days=3)).replace(microsecond=0)
    job = put(
        api,
        collection,
        {"startTime": start.isoformat(), "recurrence": {"frequency": "Hour", "interval": 5, "count": 1000}},
    )
    status = api.call("GET", api.job_path(collection, job)).json()["properties"]["status"]
    assert preview(api, collection, job, count=1) == [status["nextExecutionTime"]]


def test_preview_honours_count_and_end_time_and_works_for_a_disabled_job(api: SchedulerApi) -> None:
    collection = api.new_collection()
    job = put(
        api,
        collection,
        {
            "startTime": "2030-01-01T08:00:00Z",
            "state": "Disabled",
            "recurrence": {"frequency": "Day", "count": 3, "endTime": "2030-01-10T00:00:00Z"},
        },
    )
    assert preview(api, collection, job, count=10) == [
        "2030-01-01T08:00:00Z",
        "2030-01-02T08:00:00Z",
        "2030-01-03T08:00:00Z",
    ]
    ends = put(
        api,
        collection,
        {"startTime": "2030-01-01T08:00:00Z", "recurrence": {"frequency": "Day", "endTime": "2030-01-02T09:00:00Z"}},
    )
    assert preview(api, collection, ends, count=10) == ["2030-01-01T08:00:00Z", "2030-01-02T08:00:00Z"]


def test_preview_count_is_bounded(api: SchedulerApi) -> None:
    collection = api.new_collection()
    job = put(api, collection, {"recurrence": {"frequency": "Minute"}})
    assert len(preview(api, collection, job, count=1000)) == 1000
    too_many = api.call("GET", api.job_path(collection, job) + "/preview", count=1001)
    assert too_many.status_code == 400
    assert too_many.json()["error"]["code"] == "BadRequest"


def test_what_if_preview_without_a_job_supports_cron_in_a_zone(api: SchedulerApi) -> None:
    body = {
        "startTime": "2026-03-28T00:00:00Z",
        "from": "2026-03-28T00:00:00Z",
        "count": 3,
        "recurrence": {"cron": "30 2 * * *", "timeZone": "Europe/Berlin"},
    }
    response = api.call("POST", PREVIEW, body)
    assert response.status_code == 200, response.text
    # 28 March 02:30 CET; on 29 March 02:30 does not exist and fires at the first instant after the gap (03:00 CEST).
    assert response.json()["value"] == ["2026-03-28T01:30:00Z", "2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z"]


def test_a_schedule_that_can_never_fire_is_rejected_at_put(api: SchedulerApi) -> None:
    collection = api.new_collection()
    job = unique("job")
    never = {
        "startTime": "2026-02-01T00:00:00Z",
        "recurrence": {"frequency": "Month", "interval": 12, "schedule": {"monthDays": [30]}},
    }
    response = api.call("PUT", api.job_path(collection, job), {"properties": {"action": HTTP_ACTION, **never}})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["details"][0]["target"].startswith("properties.recurrence")
    assert api.call("GET", api.job_path(collection, job)).status_code == 404
