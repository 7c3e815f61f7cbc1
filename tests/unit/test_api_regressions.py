"""Regressions found by the model-based test (test_api_stateful.py), each shrunk to the few requests that show it,
through HTTP on the in-memory ports with a simulated clock."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from scheduler_core.api.app import create_app
from tests.support.simulation import Simulation

COLLECTION = "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Scheduler/jobCollections/jc"
ACTION = {"type": "Http", "request": {"uri": "https://target.example/hook", "method": "GET"}}


@pytest.fixture
def sim() -> Simulation:
    return Simulation()  # holds the collection `jc`


@pytest.fixture
def client(sim: Simulation) -> TestClient:
    return TestClient(create_app(lambda: sim.services), raise_server_exceptions=False)


def job(properties: dict[str, Any]) -> dict[str, Any]:
    return {"properties": {"action": ACTION, **properties}}


@pytest.mark.parametrize("state", ["Completed", "Faulted"])
def test_a_new_job_cannot_be_created_completed_or_faulted(client: TestClient, state: str) -> None:
    # docs/api.md, Jobs: "Setting state to Completed or Faulted is 400". It used to create the job in that state,
    # with a next execution time it would never run at.
    refused = client.put(f"{COLLECTION}/jobs/j", json=job({"state": state}))

    assert refused.status_code == 400, refused.text
    assert refused.json()["error"]["details"][0]["target"] == "properties.state"
    assert client.get(f"{COLLECTION}/jobs/j").status_code == 404


def test_two_run_now_requests_of_one_instant_run_twice(sim: Simulation, client: TestClient) -> None:
    # docs/api.md, Jobs: each POST run answers 200 and runs the action. Two of the same millisecond (a script's
    # concurrent requests) were one claim, and the second was dropped.
    future = {"startTime": "2030-01-01T00:00:00Z"}
    assert client.put(f"{COLLECTION}/jobs/j", json=job(future)).status_code == 201

    assert client.post(f"{COLLECTION}/jobs/j/run").status_code == 200
    assert client.post(f"{COLLECTION}/jobs/j/run").status_code == 200
    sim.run_for(seconds=10)

    assert len(sim.calls_at) == 2
    assert client.get(f"{COLLECTION}/jobs/j").json()["properties"]["status"]["executionCount"] == 2


def test_a_recurring_job_that_ran_replaced_by_a_one_time_job_runs_once(sim: Simulation, client: TestClient) -> None:
    # Reference (c): a job without recurrence and without startTime runs once immediately. A PUT is a full replace.
    recurring = {"startTime": "2026-06-01T11:30:00Z", "recurrence": {"frequency": "Minute", "interval": 30}}
    assert client.put(f"{COLLECTION}/jobs/j", json=job(recurring)).status_code == 201
    sim.run_for(seconds=65)
    assert len(sim.calls_at) == 1  # at 12:00

    assert client.put(f"{COLLECTION}/jobs/j", json=job({})).status_code == 200
    sim.run_for(seconds=10)

    assert len(sim.calls_at) == 2
    assert client.get(f"{COLLECTION}/jobs/j").json()["properties"]["state"] == "Completed"


def test_a_completed_job_put_back_as_get_returned_it_is_accepted(sim: Simulation, client: TestClient) -> None:
    # docs/api.md, Jobs: a PUT of a Completed job that repeats its state is accepted and keeps it (while a new job
    # cannot be created Completed: the test above).
    assert client.put(f"{COLLECTION}/jobs/j", json=job({})).status_code == 201
    sim.run_for(seconds=5)
    saved = client.get(f"{COLLECTION}/jobs/j").json()
    assert saved["properties"]["state"] == "Completed"

    again = client.put(f"{COLLECTION}/jobs/j", json=saved)

    assert again.status_code == 200, again.text
    assert again.json()["properties"]["state"] == "Completed"


@pytest.mark.parametrize(
    ("created", "patch"),
    [
        # A PATCH of the frequency alone makes a stored Second interval one of months.
        ({"frequency": "Second", "interval": 40_000_000}, {"quota": {"maxRecurrence": {"frequency": "Month"}}}),
        # An interval without a frequency is one of the plan's (Minute for Standard, Hour for Free).
        ({"interval": 700_000}, {"sku": {"name": "Free"}}),
    ],
)
def test_a_collection_patch_cannot_leave_a_quota_beyond_18_months(
    client: TestClient, created: dict[str, Any], patch: dict[str, Any]
) -> None:
    # docs/api.md, Job collections: maxRecurrence allows at most 18 months between runs, else 400 naming the field.
    # Only the request body was checked, so a PATCH could store what a PUT is refused, and every job PUT in the
    # collection was then a pathless 400 again.
    jc = COLLECTION + "2"
    body = {"location": "x", "properties": {"sku": {"name": "Standard"}, "quota": {"maxRecurrence": created}}}
    assert client.put(jc, json=body).status_code == 201

    refused = client.patch(jc, json={"properties": patch})

    assert refused.status_code == 400, refused.text
    assert refused.json()["error"]["details"][0]["target"] == "properties.quota.maxRecurrence.interval"
    assert client.get(jc).json()["properties"]["quota"]["maxRecurrence"] == {
        "frequency": created.get("frequency", "Minute"), "interval": created["interval"]}
