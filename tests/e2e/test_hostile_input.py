"""Issue 16, items 3, 6 and 7: malformed requests get a 4xx in the ARM envelope (never a 500) and change nothing;
concurrent identical PUTs never exhaust a quota; an unreachable storage answers 503 with Retry-After."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devhost.azurite import Azurite
from tests.conftest import REPO, start_host
from tests.support.api import SchedulerApi, unique

PREVIEW = "/providers/Microsoft.Scheduler/previewRecurrence"
SECRET_LOOKING = "Zx9-very-distinct-submitted-value"


def http_job(**properties: Any) -> dict[str, Any]:
    action = {"type": "Http", "request": {"uri": "https://example.invalid/", "method": "GET"}}
    return {"properties": {"startTime": "2026-12-31T00:00:00Z", "state": "Disabled", "action": action, **properties}}


def raw(api: SchedulerApi, method: str, path: str, data: bytes, content_type: str = "application/json") -> Any:
    return api.session.request(method, f"{api.base_url}{path}", data=data, params={"api-version": "2016-03-01"},
                               headers={"Content-Type": content_type}, timeout=60)


def assert_refused(response: requests.Response, status: int = 400) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.text[:300])
    error = response.json()["error"]
    assert error["code"] and error["message"]
    return error


def nested(depth: int) -> bytes:
    return b'{"properties": ' + b"[" * depth + b"]" * depth + b"}"


@pytest.mark.parametrize("depth", [100, 100_000])
def test_deeply_nested_json_is_a_400_everywhere(api: SchedulerApi, depth: int) -> None:
    collection = api.new_collection()
    job = unique("job")
    assert api.call("PUT", api.job_path(collection, job), http_job()).status_code == 201
    for method, path in (("PUT", api.job_path(collection, unique("job"))), ("PATCH", api.job_path(collection, job)),
                         ("PUT", api.collection_path(unique("jc"))), ("POST", PREVIEW)):
        assert_refused(raw(api, method, path, nested(depth)))
    assert api.call("GET", api.job_path(collection, job)).json()["properties"]["action"]["request"]["method"] == "GET"


@pytest.mark.parametrize("where", ["subscription", "group", "collection", "job"])
def test_a_name_ending_in_a_newline_is_a_400(api: SchedulerApi, where: str) -> None:
    names = {"subscription": "sub-1", "group": "rg-1", "collection": unique("jc"), "job": unique("job")}
    names[where] += "\n"
    path = (f"/subscriptions/{names['subscription']}/resourceGroups/{names['group']}/providers/Microsoft.Scheduler"
            f"/jobCollections/{names['collection']}")
    collection_body = {"location": "local", "properties": {"sku": {"name": "Standard"}}}
    if where == "job":
        assert api.call("PUT", path.replace("\n", ""), collection_body).status_code == 201
        error = assert_refused(api.call("PUT", f"{path.replace(chr(10), '')}/jobs/{names['job']}", http_job()))
    else:
        error = assert_refused(api.call("PUT", path, collection_body))
    assert "\n" not in error["message"]


@pytest.mark.parametrize(
    ("tags", "status"),
    [({"big": "v" * 200_000}, 400), ({f"t{i}": "v" for i in range(10_000)}, 400), ({"huge": "v" * 10_000_000}, 413)],
    ids=["200KB-value", "10000-tags", "10MB-body"],
)
def test_collection_tags_are_bounded(api: SchedulerApi, tags: dict[str, str], status: int) -> None:
    name = unique("jc")
    body = {"location": "local", "tags": tags, "properties": {"sku": {"name": "Standard"}}}
    assert_refused(api.call("PUT", api.collection_path(name), body), status)
    assert api.call("GET", api.collection_path(name)).status_code == 404, "nothing stored"


def test_fifty_ordinary_tags_are_fine(api: SchedulerApi) -> None:
    body = {"location": "local", "tags": {f"t{i}": "v" * 256 for i in range(50)}, "properties": {}}
    assert api.call("PUT", api.collection_path(unique("jc")), body).status_code == 201


@pytest.mark.parametrize(
    "properties",
    [
        {"startTime": "9999-12-31T00:00:00Z", "recurrence": {"frequency": "Day"}},
        {"startTime": "9999-12-31T23:59:00Z", "recurrence": {"frequency": "Minute", "interval": 5}},
        {"recurrence": {"frequency": "Day", "endTime": "9999-12-31T23:59:59Z"}, "startTime": "9998-01-01T00:00:00Z"},
        {"startTime": 1735689600},
        {"startTime": "2026-12-31T00:00:00Z", "recurrence": {"frequency": "Hour", "interval": "2"}},
        {"startTime": "2026-12-31T00:00:00Z", "recurrence": {"frequency": "Hour", "count": "3"}},
        {"startTime": "2026-12-31T00:00:00Z", "recurrence": {"frequency": "Week",
                                                              "schedule": {"hours": ["10"], "minutes": [0]}}},
    ],
    ids=["year-9999-daily", "year-9999-minutes", "end-9999", "number-start", "string-interval", "string-count",
         "string-hour"],
)
def test_dates_at_the_end_of_the_calendar_and_coercible_types_are_a_400(api: SchedulerApi, properties: dict) -> None:
    collection = api.new_collection()
    assert_refused(api.call("PUT", api.job_path(collection, unique("job")), http_job(**properties)))


def test_preview_from_the_end_of_the_calendar_is_a_400(api: SchedulerApi) -> None:
    body = {"count": 5, "from": "9999-12-31T23:59:59Z", "recurrence": {"frequency": "Minute"}}
    assert_refused(api.call("POST", PREVIEW, body))


def test_a_utf16_body_is_refused_not_guessed(api: SchedulerApi) -> None:
    body = '{"location": "local", "properties": {}}'.encode("utf-16")
    assert_refused(raw(api, "PUT", api.collection_path(unique("jc")), body))


def test_error_messages_do_not_quote_submitted_values(api: SchedulerApi) -> None:
    collection = api.new_collection()
    bad = [
        http_job(recurrence={"frequency": "Hour", "timeZone": SECRET_LOOKING}),
        http_job(recurrence={"cron": f"* * * * {SECRET_LOOKING}"}),
        http_job(recurrence={"frequency": SECRET_LOOKING}),
        http_job(startTime=SECRET_LOOKING),
    ]
    for body in bad:
        assert SECRET_LOOKING not in assert_refused(api.call("PUT", api.job_path(collection, "j1"), body))["message"]
    query = {"$filter": f"state eq {SECRET_LOOKING}"}
    listing = api.call("GET", api.collection_path(collection) + "/jobs", None, **query)
    assert SECRET_LOOKING not in assert_refused(listing)["message"]


def test_concurrent_identical_puts_of_one_new_job_take_one_quota_slot(api: SchedulerApi) -> None:
    name = unique("jc")
    free = {"location": "local", "properties": {"sku": {"name": "Free"}}}
    assert api.call("PUT", api.collection_path(name), free).status_code == 201
    path = api.job_path(name, "same")

    def put(_: int) -> int:
        return SchedulerApi(api.base_url).call("PUT", path, http_job()).status_code

    with ThreadPoolExecutor(10) as pool:
        statuses = sorted(pool.map(put, range(10)))
    assert set(statuses) <= {200, 201} and statuses.count(201) == 1, statuses
    for i in range(4):  # the Free plan's other four slots are still free
        assert api.call("PUT", api.job_path(name, f"other{i}"), http_job()).status_code == 201
    full = assert_refused(api.call("PUT", api.job_path(name, "sixth"), http_job()), 409)
    assert "maxJobCount" in full["message"]
    assert len(api.call("GET", api.collection_path(name) + "/jobs").json()["value"]) == 5


_names = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=12)
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=20,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=_names, body=_json)
def test_no_name_and_no_body_makes_a_server_error(api: SchedulerApi, name: str, body: Any) -> None:
    quoted = requests.utils.quote(name, safe="")
    for method, path in (("PUT", f"{api.collection_path('jc-fuzz')}/jobs/{quoted}"),
                         ("PUT", api.collection_path(quoted)), ("POST", PREVIEW)):
        response = api.call(method, path, {"properties": body})
        assert response.status_code < 500, (method, path, response.text[:200])


@pytest.fixture
def doomed(tmp_path: Path) -> Iterator[tuple[Azurite, SchedulerApi]]:
    with Azurite.start(repo_root=REPO) as azurite:
        host, url = start_host(azurite, tmp_path / "host.log")
        try:
            yield azurite, SchedulerApi(url)
        finally:
            # Its storage is gone: its timers are deep in the SDK's retries, so it is stopped without a drain.
            host.process.kill()
            host.process.wait()


def test_an_unreachable_storage_answers_503_with_retry_after(doomed: tuple[Azurite, SchedulerApi]) -> None:
    azurite, api = doomed
    collection = api.new_collection()
    azurite.stop()
    response = api.call("GET", api.collection_path(collection))
    error = assert_refused(response, 503)
    assert error["code"] == "ServiceUnavailable"
    assert int(response.headers["Retry-After"]) > 0


LONE = '"\\ud800"'  # JSON text for a string holding an unpaired UTF-16 surrogate


@pytest.mark.parametrize(
    ("template", "target"),
    [
        ('{"properties": {"action": {"type": "Http", "request": {"uri": @}}}}', "properties.action.request.uri"),
        ('{"properties": {"action": {"type": "Http", "request": {"uri": "https://a.invalid/", "body": @}}}}',
         "properties.action.request.body"),
        ('{"properties": {"action": {"type": "Http", "request": {"uri": "https://a.invalid/", "headers": {"h": @}}}}}',
         "properties.action.request.headers.h"),
        ('{"properties": {"action": {"type": "Http", "request": {"uri": "https://a.invalid/", "authentication": '
         '{"type": "Basic", "username": "u", "password": @}}}}}', "properties.action.request.authentication.password"),
    ],
    ids=["uri", "body", "header", "password"],
)
def test_a_lone_surrogate_is_a_400_and_never_stored(api: SchedulerApi, template: str, target: str) -> None:
    # It used to be stored, and then every GET of the job and every list of its collection answered 500.
    collection = api.new_collection()
    job = unique("job")
    assert api.call("PUT", api.job_path(collection, job), http_job()).status_code == 201
    body = template.replace("@", LONE).encode()
    for method, path in (("PUT", api.job_path(collection, unique("job"))), ("PATCH", api.job_path(collection, job))):
        assert assert_refused(raw(api, method, path, body))["details"][0]["target"] == target
    assert api.call("GET", api.job_path(collection, job)).json()["properties"]["action"]["request"]["method"] == "GET"
    assert len(api.call("GET", api.collection_path(collection) + "/jobs").json()["value"]) == 1


def test_a_lone_surrogate_in_a_collection_tag_is_a_400(api: SchedulerApi) -> None:
    name = unique("jc")
    body = '{"location": "local", "tags": {"t": @}, "properties": {}}'.replace("@", LONE).encode()
    assert assert_refused(raw(api, "PUT", api.collection_path(name), body))["details"][0]["target"] == "tags.t"
    assert api.call("GET", api.collection_path(name)).status_code == 404


def test_a_number_with_thousands_of_digits_is_a_400(api: SchedulerApi) -> None:
    collection = api.new_collection()
    body = b'{"properties": {"recurrence": {"frequency": "Hour", "count": ' + b"9" * 5000 + b"}}}"
    assert_refused(raw(api, "PUT", api.job_path(collection, unique("job")), body))


@pytest.mark.parametrize("number", ["NaN", "Infinity", "1e309", "0"])
def test_a_retry_multiplier_that_is_no_usable_number_is_a_400(api: SchedulerApi, number: str) -> None:
    # NaN and infinities were stored and then failed the response (500); 0 silently became the default 2.
    collection = api.new_collection()
    job = unique("job")
    policy = '{"retryType": "Exponential", "retryInterval": "PT30S", "retryCount": 3, "multiplier": @}'
    body = ('{"properties": {"action": {"type": "Http", "request": {"uri": "https://a.invalid/"}, "retryPolicy": @}}}'
            .replace("@", policy.replace("@", number)).encode())
    error = assert_refused(raw(api, "PUT", api.job_path(collection, job), body))
    assert error["details"][0]["target"] == "properties.action.retryPolicy.multiplier"
    assert api.call("GET", api.job_path(collection, job)).status_code == 404


@pytest.mark.parametrize("entry", [{}, {"Occurrence": 1}, {"day": None}], ids=["empty", "no-day", "null-day"])
def test_a_monthly_occurrence_without_a_day_is_a_400(api: SchedulerApi, entry: dict[str, Any]) -> None:
    collection = api.new_collection()
    recurrence = {"frequency": "Month", "schedule": {"monthlyOccurrences": [entry]}}
    error = assert_refused(api.call("PUT", api.job_path(collection, unique("job")), http_job(recurrence=recurrence)))
    assert error["details"][0]["target"] == "properties.recurrence.schedule.monthlyOccurrences[0].day"
    # The preview names the field where its own body has it.
    error = assert_refused(api.call("POST", PREVIEW, {"recurrence": recurrence}))
    assert error["details"][0]["target"] == "recurrence.schedule.monthlyOccurrences[0].day"


def test_a_time_zone_name_too_long_for_a_file_name_is_a_400(api: SchedulerApi) -> None:
    collection = api.new_collection()
    body = http_job(recurrence={"frequency": "Day", "timeZone": "Europe/" + "x" * 5000})
    error = assert_refused(api.call("PUT", api.job_path(collection, unique("job")), body))
    assert error["details"][0]["target"] == "properties.recurrence.timeZone"


@pytest.mark.parametrize(
    ("properties", "target"),
    [
        ({"startTime": "0001-01-01T00:00:00+00:01"}, "properties.startTime"),
        ({"recurrence": {"frequency": "Hour", "endTime": "9999-12-31T23:59:59-14:00"}},
         "properties.recurrence.endTime"),
        ({"action": {"type": "Http", "request": {"uri": "https://a.invalid/"},
                     "retryPolicy": {"retryType": "Fixed", "retryInterval": "P99999999999999D"}}},
         "properties.action.retryPolicy.retryInterval"),
        ({"action": {"type": "Http", "request": {"uri": "https://a.invalid/"},
                     "retryPolicy": {"retryType": "Fixed", "retryInterval": "00:99:99"}}},
         "properties.action.retryPolicy.retryInterval"),
    ],
    ids=["start-before-year-1-in-utc", "end-after-9999-in-utc", "duration-overflow", "timespan-99-minutes"],
)
def test_dates_and_durations_outside_the_calendar_name_their_field(api: SchedulerApi, properties: dict,
                                                                   target: str) -> None:
    collection = api.new_collection()
    error = assert_refused(api.call("PUT", api.job_path(collection, unique("job")), http_job(**properties)))
    assert error["details"][0]["target"] == target


def test_preview_from_before_the_first_utc_instant_names_from(api: SchedulerApi) -> None:
    body = {"recurrence": {"frequency": "Minute"}, "from": "0001-01-01T00:00:00+01:00"}
    assert assert_refused(api.call("POST", PREVIEW, body))["details"][0]["target"] == "from"


@pytest.mark.parametrize(("body", "target"), [({"count": True}, "count"), ({"cuont": 3}, "cuont")])
def test_preview_refuses_a_boolean_count_and_unknown_fields(api: SchedulerApi, body: dict, target: str) -> None:
    response = api.call("POST", PREVIEW, {"recurrence": {"frequency": "Hour"}, **body})
    assert assert_refused(response)["details"][0]["target"] == target


def test_a_console_state_change_to_an_unknown_state_changes_nothing(api: SchedulerApi) -> None:
    collection = api.new_collection()
    assert api.call("PUT", api.job_path(collection, "j"), http_job(state="Enabled")).status_code == 201
    console = f"{api.base_url}/console/sub-1/rg-1/{collection}"
    assert api.session.get(f"{console}/", timeout=30).status_code == 200
    token = api.session.cookies["console_token"]
    response = api.session.post(f"{console}/state", data={"state": "garbage"}, timeout=30,
                                headers={"X-Console-Token": token, "HX-Request": "true"})
    assert response.headers["X-Console-Status"] == "400"
    assert api.call("GET", api.collection_path(collection)).json()["properties"]["state"] == "Enabled"
    assert api.call("GET", api.job_path(collection, "j")).json()["properties"]["state"] == "Enabled"


def test_a_body_with_thousands_of_problems_gets_a_short_answer_naming_the_first_ones(api: SchedulerApi) -> None:
    collection = api.new_collection()
    path = api.collection_path(collection)
    before = api.call("GET", path).json()
    body = {"location": "westus", **{f"colour{i}": i for i in range(40_000)}}

    response = api.call("PUT", path, body)

    assert response.status_code == 400
    assert len(response.content) < 10_000  # not one entry per key: 40,000 of them were 4.9 MB
    error = response.json()["error"]
    assert [d["target"] for d in error["details"]] == [f"colour{i}" for i in range(20)]
    assert error["message"].endswith("; and 39980 more problems")
    assert api.call("GET", path).json() == before
