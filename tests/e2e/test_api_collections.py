"""Issue 3, job collections: create/replace/patch/get/list/delete, enable/disable, sku defaults and quotas."""

from __future__ import annotations

import threading

import requests

from tests.support.api import SchedulerApi, unique
from tests.support.target import Target
from tests.support.wire import get_job, hourly_job, http_job, one_time_job, put_job, wait_state


def _states(api: SchedulerApi, collection: str) -> dict[str, str]:
    listed = api.call("GET", api.collection_path(collection) + "/jobs").json()["value"]
    return {j["name"].split("/")[1]: j["properties"]["state"] for j in listed}


def test_put_creates_with_201_then_replaces_with_200(api: SchedulerApi) -> None:
    name = unique("jc")
    path = api.collection_path(name)
    body = {"location": "westus", "tags": {"team": "a"}, "properties": {"sku": {"name": "Standard"}}}
    created = api.call("PUT", path, body)
    assert created.status_code == 201, created.text
    replaced = api.call("PUT", path, {"location": "westus", "properties": {"sku": {"name": "P20Premium"}}})
    assert replaced.status_code == 200, replaced.text

    got = api.call("GET", path).json()
    assert got["id"] == path
    assert got["type"] == "Microsoft.Scheduler/jobCollections"
    assert got["name"] == name
    assert got["properties"]["sku"] == {"name": "P20Premium"}
    assert "tags" not in got, "PUT replaces the whole definition"


def test_sku_defaults_to_standard_and_quota_follows_the_sku(api: SchedulerApi) -> None:
    bare = unique("jc")
    got = api.call("PUT", api.collection_path(bare), {"location": "westus"}).json()
    assert got["properties"]["sku"] == {"name": "Standard"}
    assert got["properties"]["state"] == "Enabled"
    assert got["properties"]["quota"] == {"maxJobCount": 50, "maxRecurrence": {"frequency": "Minute", "interval": 1}}

    free = unique("jc")
    got = api.call("PUT", api.collection_path(free), {"location": "westus", "properties": {"sku": {"name": "free"}}})
    assert got.json()["properties"]["quota"] == {
        "maxJobCount": 5, "maxRecurrence": {"frequency": "Hour", "interval": 1}
    }
    # Upgrading the plan by PATCH brings the new plan's defaults (the quota was never set explicitly).
    patched = api.call("PATCH", api.collection_path(free), {"properties": {"sku": {"name": "P20Premium"}}})
    assert patched.status_code == 200, patched.text
    assert patched.json()["properties"]["quota"]["maxJobCount"] == 1000


def test_patch_merges_into_the_collection(api: SchedulerApi) -> None:
    name = unique("jc")
    path = api.collection_path(name)
    api.call("PUT", path, {"location": "westus", "tags": {"a": "1"}, "properties": {"quota": {"maxJobCount": 7}}})
    quota = {"maxRecurrence": {"frequency": "hour", "interval": 2}}
    patched = api.call("PATCH", path, {"tags": {"b": "2"}, "properties": {"quota": quota}})
    assert patched.status_code == 200, patched.text
    got = api.call("GET", path).json()
    assert got["location"] == "westus"
    assert got["tags"] == {"a": "1", "b": "2"}
    assert got["properties"]["quota"] == {"maxJobCount": 7, "maxRecurrence": {"frequency": "Hour", "interval": 2}}


def test_list_by_resource_group_and_by_subscription(api: SchedulerApi) -> None:
    subscription = unique("sub")
    names = {
        (group, name)
        for group in ("rg-a", "rg-b")
        for name in (unique("jc"), unique("jc"))
    }
    for group, name in names:
        path = api.collection_path(name, subscription=subscription, group=group)
        assert api.call("PUT", path, {"location": "westus"}).status_code == 201

    by_group = api.call(
        "GET", f"/subscriptions/{subscription}/resourceGroups/rg-a/providers/Microsoft.Scheduler/jobCollections"
    )
    assert by_group.status_code == 200, by_group.text
    assert {c["name"] for c in by_group.json()["value"]} == {n for g, n in names if g == "rg-a"}
    prefix = f"/subscriptions/{subscription}/resourceGroups/rg-a/"
    assert all(c["id"].startswith(prefix) for c in by_group.json()["value"])

    by_subscription = api.call("GET", f"/subscriptions/{subscription}/providers/Microsoft.Scheduler/jobCollections")
    assert by_subscription.status_code == 200, by_subscription.text
    assert {c["name"] for c in by_subscription.json()["value"]} == {n for _, n in names}


def test_delete_removes_the_collection_its_jobs_and_their_history(api: SchedulerApi, target: Target) -> None:
    collection = api.new_collection()
    put_job(api, collection, "kept-briefly", hourly_job())
    put_job(api, collection, "ran", http_job(f"{target.url}/ran"))
    assert api.call("POST", api.job_path(collection, "ran") + "/run").status_code == 200
    wait_state_history = api.job_path(collection, "ran") + "/history"
    from devhost.tests.running import wait_for

    wait_for(lambda: api.call("GET", wait_state_history).json()["value"], "a history row")

    deleted = api.call("DELETE", api.collection_path(collection))
    assert deleted.status_code == 200, deleted.text
    assert api.call("GET", api.collection_path(collection)).status_code == 404
    for job in ("kept-briefly", "ran"):
        gone = api.call("GET", api.job_path(collection, job))
        assert gone.status_code == 404
        assert gone.json()["error"]["code"] == "ResourceNotFound"
    # Re-creating the collection and the job does not resurrect old history.
    api.call("PUT", api.collection_path(collection), {"location": "westus"})
    put_job(api, collection, "ran", http_job(f"{target.url}/ran"))
    assert api.call("GET", wait_state_history).json()["value"] == []


def test_disable_and_enable_change_every_job_but_completed_ones(api: SchedulerApi, target: Target) -> None:
    collection = api.new_collection()
    put_job(api, collection, "one", hourly_job())
    put_job(api, collection, "two", hourly_job(state="Disabled"))
    put_job(api, collection, "done", one_time_job(f"{target.url}/done"))
    wait_state(api, collection, "done", "Completed")

    disabled = api.call("POST", api.collection_path(collection) + "/disable")
    assert disabled.status_code == 200, disabled.text
    assert _states(api, collection) == {"one": "Disabled", "two": "Disabled", "done": "Completed"}
    assert api.call("GET", api.collection_path(collection)).json()["properties"]["state"] == "Disabled"

    enabled = api.call("POST", api.collection_path(collection) + "/enable")
    assert enabled.status_code == 200, enabled.text
    assert _states(api, collection) == {"one": "Enabled", "two": "Enabled", "done": "Completed"}
    assert api.call("GET", api.collection_path(collection)).json()["properties"]["state"] == "Enabled"


def test_enable_or_disable_a_missing_collection_is_404(api: SchedulerApi) -> None:
    response = api.call("POST", api.collection_path(unique("missing")) + "/disable")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "ResourceNotFound"


def test_a_job_beyond_max_job_count_is_409_naming_the_quota(api: SchedulerApi) -> None:
    collection = api.new_collection(quota={"maxJobCount": 2})
    put_job(api, collection, "a", hourly_job())
    put_job(api, collection, "b", hourly_job())
    third = api.call("PUT", api.job_path(collection, "c"), hourly_job())
    assert third.status_code == 409, third.text
    assert third.json()["error"]["code"] == "ConflictError"
    assert "maxJobCount" in third.json()["error"]["message"]
    assert api.call("GET", api.job_path(collection, "c")).status_code == 404
    # Replacing an existing job does not need a free slot.
    put_job(api, collection, "b", hourly_job(), expect=200)


def test_a_job_recurring_more_often_than_max_recurrence_is_409(api: SchedulerApi) -> None:
    collection = api.new_collection(quota={"maxRecurrence": {"frequency": "Hour", "interval": 1}})
    every_minute = http_job(recurrence={"frequency": "Minute", "interval": 30})
    response = api.call("PUT", api.job_path(collection, "often"), every_minute)
    assert response.status_code == 409, response.text
    assert response.json()["error"]["code"] == "ConflictError"
    assert "maxRecurrence" in response.json()["error"]["message"]
    assert api.call("GET", api.job_path(collection, "often")).status_code == 404

    put_job(api, collection, "hourly", hourly_job())
    more_often = {"properties": {"recurrence": {"frequency": "Minute"}}}
    patched = api.call("PATCH", api.job_path(collection, "hourly"), more_often)
    assert patched.status_code == 409, patched.text
    assert get_job(api, collection, "hourly")["properties"]["recurrence"]["frequency"] == "Hour"


def test_lowering_max_job_count_below_current_use_is_refused(api: SchedulerApi) -> None:
    collection = api.new_collection(quota={"maxJobCount": 5})
    for job in ("a", "b", "c"):
        put_job(api, collection, job, hourly_job())
    path = api.collection_path(collection)
    before = api.call("GET", path).json()

    patched = api.call("PATCH", path, {"properties": {"quota": {"maxJobCount": 2}}})
    assert patched.status_code == 409, patched.text
    assert "maxJobCount" in patched.json()["error"]["message"]
    smaller = {"location": "westus", "properties": {"sku": {"name": "Free"}, "quota": {"maxJobCount": 1}}}
    replaced = api.call("PUT", path, smaller)
    assert replaced.status_code == 409, replaced.text
    assert api.call("GET", path).json() == before

    assert api.call("PATCH", path, {"properties": {"quota": {"maxJobCount": 3}}}).status_code == 200


def test_two_clients_racing_for_the_last_slot_exactly_one_wins(api: SchedulerApi) -> None:
    for _ in range(4):
        collection = api.new_collection(quota={"maxJobCount": 2})
        put_job(api, collection, "first", hourly_job())
        barrier = threading.Barrier(2)
        codes: dict[str, int] = {}

        def create(job: str, collection: str, barrier: threading.Barrier, codes: dict[str, int]) -> None:
            barrier.wait()
            url = f"{api.base_url}{api.job_path(collection, job)}"
            response = requests.put(url, json=hourly_job(), params={"api-version": "2016-03-01"}, timeout=30)
            codes[job] = response.status_code

        threads = [
            threading.Thread(target=create, args=(job, collection, barrier, codes)) for job in ("left", "right")
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert sorted(codes.values()) == [201, 409], codes
        listed = api.call("GET", api.collection_path(collection) + "/jobs").json()["value"]
        assert len(listed) == 2


def test_eight_clients_racing_into_a_collection_of_five_slots_leave_exactly_five_jobs(api: SchedulerApi) -> None:
    collection = api.new_collection(quota={"maxJobCount": 5})
    barrier = threading.Barrier(8)
    codes: dict[str, int] = {}

    def create(job: str) -> None:
        barrier.wait()
        url = f"{api.base_url}{api.job_path(collection, job)}"
        response = requests.put(url, json=hourly_job(), params={"api-version": "2016-03-01"}, timeout=30)
        codes[job] = response.status_code

    threads = [threading.Thread(target=create, args=(f"job-{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(codes.values()) == [201] * 5 + [409] * 3, codes
    listed = api.call("GET", api.collection_path(collection) + "/jobs").json()["value"]
    assert {j["name"].split("/")[1] for j in listed} == {job for job, code in codes.items() if code == 201}
    refused = api.call("PUT", api.job_path(collection, "ninth"), hourly_job())
    assert refused.status_code == 409, refused.text


def test_a_daily_job_in_a_zone_with_daylight_saving_time_fits_a_once_a_day_quota(api: SchedulerApi) -> None:
    collection = api.new_collection(quota={"maxRecurrence": {"frequency": "Day", "interval": 1}})
    # 02:30 in Berlin every day: on 2030-03-31 the clocks spring forward and it fires 23.5 hours after the day before.
    nightly = http_job(startTime="2030-03-01T01:30:00Z", recurrence={"frequency": "Day", "timeZone": "Europe/Berlin"})
    response = api.call("PUT", api.job_path(collection, "nightly"), nightly)
    assert response.status_code == 201, response.text


def test_a_job_enabled_by_hand_in_a_disabled_collection_waits_for_the_collection(api: SchedulerApi) -> None:
    collection = api.new_collection()
    put_job(api, collection, "one", hourly_job())
    assert api.call("POST", api.collection_path(collection) + "/disable").status_code == 200

    replaced = api.call("PUT", api.job_path(collection, "one"), hourly_job(state="Enabled"))
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["properties"]["state"] == "Disabled", "it would run while its collection is disabled"
    patched = api.call("PATCH", api.job_path(collection, "one"), {"properties": {"state": "Enabled"}})
    assert patched.status_code == 200, patched.text
    assert patched.json()["properties"]["state"] == "Disabled"

    assert api.call("POST", api.collection_path(collection) + "/enable").status_code == 200
    assert get_job(api, collection, "one")["properties"]["state"] == "Enabled"
