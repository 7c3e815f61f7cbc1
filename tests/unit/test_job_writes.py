"""Job and collection writes on the in-memory ports: a PATCH merges inside the guarded write (no lost update), and
If-Match / If-None-Match conditions hold against the version a user's write sets (not a run)."""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest

from scheduler_core.api.models import collection_patch, job_properties_to_wire, job_write_from_wire
from scheduler_core.api.validation import parse_job
from scheduler_core.domain.collection import CollectionDefinition
from scheduler_core.domain.definition import JobWrite
from scheduler_core.domain.errors import PreconditionFailed
from scheduler_core.domain.precondition import Precondition
from scheduler_core.ports import StoredJob
from scheduler_core.service import collections, jobs
from scheduler_core.service.merge import merge_patch
from tests.support.simulation import START, Simulation, http_action, iso


def patcher(sim: Simulation, patch: Mapping[str, Any]) -> Any:
    """What the API's PATCH hands the service: merge into the current job, validate, keep the state."""

    def build(current: StoredJob) -> JobWrite:
        merged = merge_patch({"properties": job_properties_to_wire(current)}, patch)
        properties = parse_job(merged, sim.services.settings, sim.clock.now)
        properties.pop("state", None)
        return job_write_from_wire(properties)

    return build


def test_concurrent_patches_each_adding_a_header_lose_none() -> None:
    sim = Simulation()
    sim.put("racy", {"startTime": iso(START + timedelta(days=1)), "action": http_action()})

    def add(i: int) -> None:
        patch = {"properties": {"action": {"request": {"headers": {f"x-{i}": str(i)}}}}}
        jobs.patch_job(sim.services, sim.ref("racy"), patcher(sim, patch))

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(add, range(20)))

    assert sim.job("racy").definition.action.wire["request"]["headers"] == {f"x-{i}": str(i) for i in range(20)}


def test_if_match_follows_user_writes_not_runs() -> None:
    sim = Simulation()
    first = sim.put("v", {"startTime": iso(START + timedelta(seconds=5)), "action": http_action(),
                          "recurrence": {"frequency": "Hour"}})
    sim.run_for(minutes=1)
    assert sim.job("v").status.execution_count == 1 and sim.job("v").version == first.version

    second = jobs.patch_job(sim.services, sim.ref("v"), patcher(sim, {"properties": {"recurrence": {"interval": 2}}}),
                            Precondition(if_match=(first.version,)))
    assert second.version != first.version
    with pytest.raises(PreconditionFailed):
        jobs.patch_job(sim.services, sim.ref("v"), patcher(sim, {"properties": {}}),
                       Precondition(if_match=(first.version,)))
    with pytest.raises(PreconditionFailed):
        jobs.delete_job(sim.services, sim.ref("v"), Precondition(if_match=(first.version,)))
    replacement = job_write_from_wire(
        parse_job({"properties": {"action": http_action()}}, sim.services.settings, sim.clock.now)
    )
    with pytest.raises(PreconditionFailed):
        jobs.put_job(sim.services, sim.ref("v"), replacement, Precondition(if_none_match=("*",)))
    jobs.delete_job(sim.services, sim.ref("v"), Precondition(if_match=(second.version,)))
    assert sim.stored_collection().job_count == 0


def test_a_collection_patch_with_a_stale_if_match_changes_nothing() -> None:
    sim = Simulation()
    before = sim.stored_collection()
    after = collections.patch_collection(sim.services, sim.collection, collection_patch({"tags": {"a": "1"}}),
                                         Precondition(if_match=(before.version,)))
    with pytest.raises(PreconditionFailed):
        collections.patch_collection(sim.services, sim.collection, collection_patch({"tags": {"b": "2"}}),
                                     Precondition(if_match=(before.version,)))
    assert sim.stored_collection().definition.tags == {"a": "1"}
    assert sim.stored_collection().version == after.version


def test_a_job_created_while_its_collection_is_deleted_does_not_outlive_it(monkeypatch: pytest.MonkeyPatch) -> None:
    sim = Simulation()
    sim.put("early", {"startTime": iso(START + timedelta(days=1)), "action": http_action()})
    listed = sim.storage.all_jobs
    late: list[StoredJob] = []

    def a_put_lands_after_the_listing(collection: Any) -> list[StoredJob]:
        found = listed(collection)
        if not late:  # a client's PUT lands after the delete has listed the jobs, before the collection is gone
            late.append(sim.put("late", {"startTime": iso(START + timedelta(days=1)), "action": http_action()}))
        return found

    monkeypatch.setattr(sim.storage, "all_jobs", a_put_lands_after_the_listing)
    collections.delete_collection(sim.services, sim.collection)
    monkeypatch.undo()

    assert late and listed(sim.collection) == []
    assert [d for d in sim.storage.due_until(START + timedelta(days=2)) if d.job.collection == sim.collection] == []
    recreated, created = collections.put_collection(sim.services, sim.collection, CollectionDefinition(location="x"))
    assert created and recreated.job_count == 0 and listed(sim.collection) == []
