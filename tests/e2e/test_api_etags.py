"""Issue 15: no lost updates. Concurrent PATCHes all land; ETag, If-Match and If-None-Match on jobs and collections."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from devhost.tests.running import wait_for
from tests.support.api import API_VERSION, SchedulerApi, unique
from tests.support.target import Target
from tests.support.wire import hourly_job, put_job

CLIENTS = 20


def call(api: SchedulerApi, method: str, path: str, body: Any = None, **headers: str) -> requests.Response:
    """One request with its own connection (concurrent clients) and conditional headers."""
    return requests.request(
        method, f"{api.base_url}{path}", json=body, params={"api-version": API_VERSION}, headers=headers, timeout=60
    )


def assert_precondition_failed(response: requests.Response) -> None:
    assert response.status_code == 412, response.text
    assert response.json()["error"]["code"] == "PreconditionFailed"


def test_twenty_concurrent_patches_of_one_job_each_add_their_header(api: SchedulerApi) -> None:
    collection = api.new_collection()
    put_job(api, collection, "racy", hourly_job())
    path = api.job_path(collection, "racy")

    def add_header(i: int) -> int:
        patch = {"properties": {"action": {"request": {"headers": {f"x-client-{i}": str(i)}}}}}
        return call(api, "PATCH", path, patch).status_code

    with ThreadPoolExecutor(CLIENTS) as pool:
        statuses = list(pool.map(add_header, range(CLIENTS)))

    assert statuses == [200] * CLIENTS
    headers = api.call("GET", path).json()["properties"]["action"]["request"]["headers"]
    assert headers == {f"x-client-{i}": str(i) for i in range(CLIENTS)}


def test_twenty_concurrent_patches_of_one_collection_each_add_their_tag(api: SchedulerApi) -> None:
    collection = api.new_collection()
    path = api.collection_path(collection)

    def add_tag(i: int) -> int:
        return call(api, "PATCH", path, {"tags": {f"client-{i}": str(i)}}).status_code

    with ThreadPoolExecutor(CLIENTS) as pool:
        statuses = list(pool.map(add_tag, range(CLIENTS)))

    assert statuses == [200] * CLIENTS
    assert api.call("GET", path).json()["tags"] == {f"client-{i}": str(i) for i in range(CLIENTS)}


def test_a_job_write_with_a_stale_if_match_is_refused_and_changes_nothing(api: SchedulerApi) -> None:
    collection = api.new_collection()
    path = api.job_path(collection, "guarded")
    created = call(api, "PUT", path, hourly_job(), **{"If-None-Match": "*"})
    assert created.status_code == 201, created.text
    first = created.headers["ETag"]
    assert api.call("GET", path).headers["ETag"] == first

    patched = call(api, "PATCH", path, {"properties": {"recurrence": {"interval": 2}}}, **{"If-Match": first})
    assert patched.status_code == 200, patched.text
    second = patched.headers["ETag"]
    assert second != first

    later = {"properties": {"recurrence": {"interval": 3}}}
    assert_precondition_failed(call(api, "PATCH", path, later, **{"If-Match": first}))
    assert_precondition_failed(call(api, "PUT", path, hourly_job(), **{"If-Match": first}))
    assert_precondition_failed(call(api, "PUT", path, hourly_job(), **{"If-None-Match": "*"}))
    assert_precondition_failed(call(api, "DELETE", path, **{"If-Match": first}))
    got = api.call("GET", path)
    assert got.json()["properties"]["recurrence"]["interval"] == 2 and got.headers["ETag"] == second

    replaced = call(api, "PUT", path, hourly_job(), **{"If-Match": second})
    assert replaced.status_code == 200, replaced.text
    assert call(api, "DELETE", path, **{"If-Match": replaced.headers["ETag"]}).status_code == 200
    assert api.call("GET", path).status_code == 404
    assert_precondition_failed(call(api, "PUT", path, hourly_job(), **{"If-Match": "*"}))


def test_a_collection_write_with_a_stale_if_match_is_refused_and_changes_nothing(api: SchedulerApi) -> None:
    path = api.collection_path(unique("jc"))
    body = {"location": "local", "properties": {"sku": {"name": "Standard"}}}
    created = call(api, "PUT", path, body, **{"If-None-Match": "*"})
    assert created.status_code == 201, created.text
    first = created.headers["ETag"]
    assert_precondition_failed(call(api, "PUT", path, body, **{"If-None-Match": "*"}))

    patched = call(api, "PATCH", path, {"tags": {"team": "a"}}, **{"If-Match": first})
    assert patched.status_code == 200, patched.text
    assert_precondition_failed(call(api, "PATCH", path, {"tags": {"team": "b"}}, **{"If-Match": first}))
    assert_precondition_failed(call(api, "DELETE", path, **{"If-Match": first}))
    got = api.call("GET", path)
    assert got.json()["tags"] == {"team": "a"} and got.headers["ETag"] == patched.headers["ETag"]

    assert call(api, "DELETE", path, **{"If-Match": patched.headers["ETag"]}).status_code == 200


def test_a_job_that_runs_keeps_its_etag(api: SchedulerApi, target: Target) -> None:
    """The ETag follows what users write, not executions: a client's If-Match is not spoiled by a run."""
    collection = api.new_collection()
    path = api.job_path(collection, "runs")
    etag = call(api, "PUT", path, hourly_job(f"{target.url}/ran"), **{"If-None-Match": "*"}).headers["ETag"]
    assert api.call("POST", path + "/run").status_code == 200

    ran = wait_for(
        lambda: (got := api.call("GET", path)).json()["properties"]["status"]["executionCount"] == 1 and got,
        "the run to be counted",
    )
    assert ran.headers["ETag"] == etag
    assert call(api, "PATCH", path, {"properties": {"recurrence": {"interval": 2}}}, **{"If-Match": etag}).ok
