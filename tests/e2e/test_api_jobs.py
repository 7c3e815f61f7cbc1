"""Issue 3, jobs: PUT/PATCH/GET/DELETE, listing with $top/$skip/$filter/nextLink, run now, Completed jobs."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from tests.support.api import SchedulerApi, unique
from tests.support.target import Target
from tests.support.wire import (
    get_job,
    hourly_job,
    http_job,
    one_time_job,
    put_job,
    wait_history,
    wait_state,
)

BASIC = {"type": "Basic", "username": "alice", "password": "pw-not-returned"}


def _with_auth(body: dict) -> dict:
    body["properties"]["action"]["request"]["authentication"] = dict(BASIC)
    return body


def test_put_creates_201_then_replaces_200_with_identity(api: SchedulerApi) -> None:
    collection = api.new_collection()
    created = put_job(api, collection, "nightly", hourly_job())
    assert created["id"] == api.job_path(collection, "nightly")
    assert created["type"] == "Microsoft.Scheduler/jobCollections/jobs"
    assert created["name"] == f"{collection}/nightly"
    assert created["properties"]["state"] == "Enabled"

    replaced = put_job(api, collection, "nightly", http_job(recurrence={"frequency": "Day"}), expect=200)
    assert replaced["properties"]["recurrence"] == {"frequency": "Day"}
    assert get_job(api, collection, "nightly")["properties"]["recurrence"] == {"frequency": "Day"}


def test_put_without_authentication_removes_it(api: SchedulerApi) -> None:
    collection = api.new_collection()
    put_job(api, collection, "auth", _with_auth(hourly_job()))
    assert get_job(api, collection, "auth")["properties"]["action"]["request"]["authentication"] == {
        "type": "Basic", "username": "alice"
    }
    put_job(api, collection, "auth", hourly_job(), expect=200)
    assert "authentication" not in get_job(api, collection, "auth")["properties"]["action"]["request"]


def test_patch_merges_and_null_authentication_removes_it(api: SchedulerApi) -> None:
    collection = api.new_collection()
    put_job(api, collection, "p", _with_auth(hourly_job()))

    patched = api.call("PATCH", api.job_path(collection, "p"), {"properties": {"recurrence": {"interval": 2}}})
    assert patched.status_code == 200, patched.text
    got = get_job(api, collection, "p")["properties"]
    assert got["recurrence"] == {"frequency": "Hour", "interval": 2}
    assert got["action"]["request"]["authentication"]["username"] == "alice", "PATCH keeps what it does not name"

    removed = api.call(
        "PATCH", api.job_path(collection, "p"), {"properties": {"action": {"request": {"authentication": None}}}}
    )
    assert removed.status_code == 200, removed.text
    assert "authentication" not in removed.json()["properties"]["action"]["request"]
    got = get_job(api, collection, "p")["properties"]
    assert "authentication" not in got["action"]["request"]
    assert got["action"]["request"]["uri"] == "http://127.0.0.1:9/never"


def test_patch_state_disables_and_enables(api: SchedulerApi) -> None:
    collection = api.new_collection()
    put_job(api, collection, "s", hourly_job())
    path = api.job_path(collection, "s")
    assert api.call("PATCH", path, {"properties": {"state": "disabled"}}).json()["properties"]["state"] == "Disabled"
    assert get_job(api, collection, "s")["properties"]["state"] == "Disabled"
    assert api.call("PATCH", path, {"properties": {"state": "Enabled"}}).json()["properties"]["state"] == "Enabled"


def test_delete_answers_200_and_the_job_is_gone(api: SchedulerApi) -> None:
    collection = api.new_collection()
    put_job(api, collection, "d", hourly_job())
    deleted = api.call("DELETE", api.job_path(collection, "d"))
    assert deleted.status_code == 200, deleted.text
    gone = api.call("GET", api.job_path(collection, "d"))
    assert gone.status_code == 404
    assert gone.json()["error"]["code"] == "ResourceNotFound"
    assert api.call("DELETE", api.job_path(collection, "d")).status_code == 404


def test_missing_job_and_missing_collection_are_404(api: SchedulerApi) -> None:
    collection = api.new_collection()
    for method, path in (
        ("GET", api.job_path(collection, "nope")),
        ("PATCH", api.job_path(collection, "nope")),
        ("POST", api.job_path(collection, "nope") + "/run"),
        ("GET", api.job_path(collection, "nope") + "/history"),
        ("GET", api.collection_path(unique("nope"))),
        ("GET", api.collection_path(unique("nope")) + "/jobs"),
        ("DELETE", api.collection_path(unique("nope"))),
    ):
        response = api.call(method, path, {"properties": {}} if method == "PATCH" else None)
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["error"]["code"] == "ResourceNotFound"
        assert response.headers["x-ms-request-id"]


def test_put_into_a_missing_collection_is_404_and_creates_nothing(api: SchedulerApi) -> None:
    collection = unique("jc")
    response = api.call("PUT", api.job_path(collection, "orphan"), hourly_job())
    assert response.status_code == 404, response.text
    assert response.json()["error"]["code"] == "ResourceNotFound"
    assert api.call("GET", api.collection_path(collection)).status_code == 404


def _jobs(api: SchedulerApi, collection: str, **params: object) -> dict:
    response = api.call("GET", api.collection_path(collection) + "/jobs", **params)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_list_with_top_and_skip(api: SchedulerApi) -> None:
    collection = api.new_collection()
    names = [f"job-{i}" for i in range(5)]
    for name in names:
        put_job(api, collection, name, hourly_job())

    everything = _jobs(api, collection)
    assert sorted(j["name"] for j in everything["value"]) == [f"{collection}/{n}" for n in names]
    assert "nextLink" not in everything
    first_two = _jobs(api, collection, **{"$top": 2})
    assert len(first_two["value"]) == 2
    rest = _jobs(api, collection, **{"$skip": 2})
    assert len(rest["value"]) == 3
    listed = [j["name"] for j in first_two["value"]] + [j["name"] for j in rest["value"]]
    assert sorted(listed) == sorted(j["name"] for j in everything["value"])
    assert _jobs(api, collection, **{"$skip": 5})["value"] == []


def test_list_top_out_of_range_is_400(api: SchedulerApi) -> None:
    collection = api.new_collection()
    for top in (0, 101, "x"):
        response = api.call("GET", api.collection_path(collection) + "/jobs", **{"$top": top})
        assert response.status_code == 400, (top, response.text)
        assert response.json()["error"]["code"] == "BadRequest"
        assert "$top" in {d["target"] for d in response.json()["error"]["details"]}
    assert api.call("GET", api.collection_path(collection) + "/jobs", **{"$top": 100}).status_code == 200


def test_list_filter_on_state_quoted_or_not_any_case(api: SchedulerApi) -> None:
    collection = api.new_collection()
    put_job(api, collection, "on-1", hourly_job())
    put_job(api, collection, "on-2", hourly_job())
    put_job(api, collection, "off", hourly_job(state="Disabled"))
    for text in ("state eq 'Enabled'", "state eq Enabled", "State EQ 'enabled'", "state eq ENABLED"):
        names = {j["name"] for j in _jobs(api, collection, **{"$filter": text})["value"]}
        assert names == {f"{collection}/on-1", f"{collection}/on-2"}, text
    disabled = _jobs(api, collection, **{"$filter": "state eq 'disabled'"})["value"]
    assert [j["name"] for j in disabled] == [f"{collection}/off"]
    bad = api.call("GET", api.collection_path(collection) + "/jobs", **{"$filter": "state eq 'Sleeping'"})
    assert bad.status_code == 400
    assert bad.json()["error"]["details"][0]["target"] == "$filter"


def test_next_link_paging_carries_api_version_and_returns_every_job_once(api: SchedulerApi) -> None:
    collection = api.new_collection()
    names = {f"pg-{i:02d}" for i in range(7)}
    for name in names:
        put_job(api, collection, name, hourly_job())

    page = _jobs(api, collection, **{"$top": 3})
    seen = [j["name"] for j in page["value"]]
    pages = 1
    while page.get("nextLink"):
        link = urlsplit(page["nextLink"])
        assert f"{link.scheme}://{link.netloc}" == api.base_url
        assert parse_qs(link.query)["api-version"] == ["2016-03-01"]
        response = api.session.get(page["nextLink"], timeout=30)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["value"]) <= 3
        seen += [j["name"] for j in page["value"]]
        pages += 1
    assert sorted(seen) == sorted(f"{collection}/{n}" for n in names)
    assert pages >= 3


def test_completed_job_refuses_state_changes_but_can_be_deleted(api: SchedulerApi, target: Target) -> None:
    collection = api.new_collection()
    put_job(api, collection, "once", one_time_job(f"{target.url}/once"))
    done = wait_state(api, collection, "once", "Completed")
    path = api.job_path(collection, "once")

    for method, body in (
        ("PATCH", {"properties": {"state": "Enabled"}}),
        ("PATCH", {"properties": {"state": "Disabled"}}),
        ("PUT", {"properties": {**done["properties"], "state": "Enabled", "status": None}}),
    ):
        response = api.call(method, path, body)
        assert response.status_code == 409, (method, body, response.text)
        assert response.json()["error"]["code"] == "ConflictError"
    assert get_job(api, collection, "once")["properties"]["state"] == "Completed"

    # A PUT that does not ask for another state is accepted and keeps Completed.
    unchanged = {k: v for k, v in done["properties"].items() if k not in ("state", "status")}
    kept = api.call("PUT", path, {"properties": unchanged})
    assert kept.status_code == 200, kept.text
    assert kept.json()["properties"]["state"] == "Completed"

    assert api.call("DELETE", path).status_code == 200
    assert api.call("GET", path).status_code == 404


def test_run_now_runs_the_action_without_changing_the_schedule(api: SchedulerApi, target: Target) -> None:
    collection = api.new_collection()
    created = put_job(api, collection, "r", hourly_job(f"{target.url}/run-now"))
    next_time = created["properties"]["status"]["nextExecutionTime"]

    response = api.call("POST", api.job_path(collection, "r") + "/run")
    assert response.status_code == 200, response.text

    rows = wait_history(api, collection, "r", 1)
    assert len(target.requests_to("/run-now")) == 1
    assert rows[0]["properties"]["status"] == "Completed"
    assert rows[0]["properties"]["actionName"] == "MainAction"
    got = get_job(api, collection, "r")["properties"]
    assert got["status"]["nextExecutionTime"] == next_time
    assert got["state"] == "Enabled"


def test_run_now_works_on_a_disabled_job(api: SchedulerApi, target: Target) -> None:
    collection = api.new_collection()
    put_job(api, collection, "on-demand", http_job(f"{target.url}/on-demand", state="Disabled"))
    assert api.call("POST", api.job_path(collection, "on-demand") + "/run").status_code == 200
    rows = wait_history(api, collection, "on-demand", 1)
    assert rows[0]["properties"]["status"] == "Completed"
    assert len(target.requests_to("/on-demand")) == 1
    assert get_job(api, collection, "on-demand")["properties"]["state"] == "Disabled"
