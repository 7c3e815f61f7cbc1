"""A model-based test of the REST API: random sequences of what users do, checked after every step against a small
model of what the spec (docs/api.md, reference sections (a), (e), (g), (h)) says is stored and what runs.

The real FastAPI app runs on the in-memory ports with a simulated clock (`tests/support/simulation.py`): the
planner and the executor run when time advances, so "a disabled job never runs" is observed at the target, and no
Azurite is needed. The model holds, per collection and job, what was written (canonical wire JSON, secrets kept
only to merge PATCHes), the state, the known ETag and every ETag that must no longer match, and the runs seen.

`HYPOTHESIS_PROFILE=stateful-long` runs many more and longer sequences (minutes; for local use).
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import hypothesis.strategies as st
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, event, settings
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from scheduler_core.api.app import create_app
from scheduler_core.domain.definition import Action
from scheduler_core.domain.job import CollectionRef, JobRef
from scheduler_core.domain.occurrence import execution_id
from scheduler_core.ports import Outcome
from tests.support.simulation import Simulation

BASE = "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Scheduler/jobCollections"
COLLECTIONS = ("jc0", "jc1")
JOBS = ("j0", "j1", "j2")
OK_URI = "https://target.example/ok"
FAIL_URI = "https://target.example/fail"
PASSWORD = "pw-never-returned-7f3a"
# Reference (e), quotas per plan: (maxJobCount, maxRecurrence).
PLANS: Mapping[str, tuple[int, dict[str, Any]]] = {
    "Free": (5, {"frequency": "Hour", "interval": 1}),
    "Standard": (50, {"frequency": "Minute", "interval": 1}),
    "P10Premium": (50, {"frequency": "Minute", "interval": 1}),
    "P20Premium": (1000, {"frequency": "Minute", "interval": 1}),
}
PERIOD = {"Minute": 60, "Hour": 3600, "Day": 86400}
LIVE = ("Enabled", "Disabled")
# An occurrence due this long after a change or the start of an advance must have run by its end (the planner's and
# the executor's leads are a few seconds).
SLACK = timedelta(seconds=5)

# The suite's run is derandomized (the same sequences every time, so a gate never turns red by luck); the long
# profile explores new ones.
settings.register_profile(
    "stateful", max_examples=25, stateful_step_count=40, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
settings.register_profile(
    "stateful-long", max_examples=500, stateful_step_count=80, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
PROFILE = "stateful-long" if os.environ.get("HYPOTHESIS_PROFILE") == "stateful-long" else "stateful"


def iso(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


def cased(name: str, upper: bool) -> str:
    """Names are case-insensitive (docs/api.md, Requests)."""
    return name.upper() if upper else name


def merge(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge(result.get(key), value)
    return result


def without_secrets(properties: dict[str, Any]) -> dict[str, Any]:
    shown = copy.deepcopy(properties)
    auth = shown.get("action", {}).get("request", {}).get("authentication")
    if auth is not None:
        auth.pop("password", None)
    return shown


@dataclass(frozen=True)
class Run:
    """One call the target received."""

    collection: str
    job: str
    expected: datetime
    at: datetime
    scheduled: bool
    succeeded: bool


@dataclass
class JobModel:
    name: str  # as created: `name` and `id` keep that casing (of the collection's name too)
    collection: str
    properties: dict[str, Any]  # as written, canonical, secrets included, without state and status
    state: str
    anchor: datetime  # startTime, or the creation instant
    changed_at: datetime  # the last write that may have moved its schedule
    etag: str | None = None  # None: unknown until the next GET
    stale: set[str] = field(default_factory=set)
    runs: list[Run] = field(default_factory=list)  # of this incarnation
    manual_pending: int = 0

    @property
    def one_time(self) -> bool:
        return "recurrence" not in self.properties

    @property
    def succeeds(self) -> bool:
        return self.properties["action"]["request"]["uri"] == OK_URI

    def gap(self) -> timedelta | None:
        """The shortest time between two of its occurrences (None: it does not recur)."""
        recurrence = self.properties.get("recurrence")
        if recurrence is None or recurrence.get("count") == 1:
            return None
        return timedelta(seconds=PERIOD[recurrence["frequency"]] * recurrence.get("interval", 1))


@dataclass
class CollectionModel:
    name: str
    definition: dict[str, Any]  # as written (explicit fields only)
    etag: str | None = None
    stale: set[str] = field(default_factory=set)
    jobs: dict[str, JobModel] = field(default_factory=dict)

    @property
    def enabled(self) -> bool:
        return self.definition.get("properties", {}).get("state", "Enabled") == "Enabled"

    def quota(self) -> tuple[int, dict[str, Any]]:
        """The effective quota: the plan's, overlaid by the explicit fields (docs/api.md, Job collections)."""
        properties = self.definition.get("properties", {})
        max_jobs, max_recurrence = PLANS[properties.get("sku", {}).get("name", "Standard")]
        explicit = properties.get("quota", {})
        return explicit.get("maxJobCount", max_jobs), {**max_recurrence, **explicit.get("maxRecurrence", {})}

    def allows(self, job: JobModel) -> bool:
        gap = job.gap()
        _, limit = self.quota()
        return gap is None or gap >= timedelta(seconds=PERIOD[limit["frequency"]] * limit["interval"])

    def wire(self) -> dict[str, Any]:
        """What GET answers: the definition with the defaults and the effective quota filled in."""
        properties = self.definition.get("properties", {})
        max_jobs, max_recurrence = self.quota()
        quota = {**properties.get("quota", {}), "maxJobCount": max_jobs, "maxRecurrence": max_recurrence}
        body: dict[str, Any] = {
            "id": f"{BASE}/{self.name}",
            "type": "Microsoft.Scheduler/jobCollections",
            "name": self.name,
            "location": self.definition["location"],
            "properties": {
                "sku": {"name": properties.get("sku", {}).get("name", "Standard")},
                "state": properties.get("state", "Enabled"),
                "quota": quota,
            },
        }
        if "tags" in self.definition:
            body["tags"] = self.definition["tags"]
        return body


# ---- strategies: what users send ------------------------------------------------------------------------------------

skus = st.sampled_from(["Free", "Standard", "P10Premium", "P20Premium"])
quotas = st.fixed_dictionaries(
    {},
    optional={
        "maxJobCount": st.integers(1, 4),
        "maxRecurrence": st.fixed_dictionaries(
            {"frequency": st.sampled_from(["Minute", "Hour"]), "interval": st.sampled_from([1, 2, 30])}
        ),
    },
)
collection_bodies = st.fixed_dictionaries(
    {"location": st.sampled_from(["local", "westus"])},
    optional={
        "tags": st.dictionaries(st.sampled_from(["team", "env"]), st.sampled_from(["a", "b"]), max_size=2),
        "properties": st.fixed_dictionaries(
            {},
            optional={
                "sku": st.fixed_dictionaries({"name": skus}),
                "state": st.sampled_from(["Enabled", "Disabled"]),
                "quota": quotas,
            },
        ),
    },
)
collection_patches = st.one_of(
    st.fixed_dictionaries({"properties": st.fixed_dictionaries({"state": st.sampled_from(["Enabled", "Disabled"])})}),
    st.fixed_dictionaries({"properties": st.fixed_dictionaries({"quota": quotas})}),
    st.fixed_dictionaries({"properties": st.fixed_dictionaries({"sku": st.fixed_dictionaries({"name": skus})})}),
    st.fixed_dictionaries({"tags": st.dictionaries(st.sampled_from(["team", "env"]), st.just("c"), max_size=1)}),
)
invalid_collection_bodies = st.sampled_from(
    [
        {"location": "local", "properties": {"sku": {"name": "Gold"}}},
        {"location": "local", "properties": {"colour": "blue"}},
        {"location": "local", "properties": {"quota": {"maxJobCount": "many"}}},
        [],
    ]
)
start_offsets = st.sampled_from([None, -5400, 0, 30, 300, 7200])  # seconds from now; None: no startTime


@st.composite
def job_properties(draw: st.DrawFn, now: datetime) -> dict[str, Any]:
    """A valid job's properties, canonical (what GET must give back), without `state`."""
    uri = draw(st.sampled_from([OK_URI, OK_URI, FAIL_URI]))
    request: dict[str, Any] = {"uri": uri, "method": draw(st.sampled_from(["GET", "POST"]))}
    if draw(st.booleans()):
        request["authentication"] = {"type": "Basic", "username": "u", "password": PASSWORD}
    action: dict[str, Any] = {"type": "Http", "request": request}
    # No retries of a failing target: every call the target sees is a first attempt.
    if uri == FAIL_URI or draw(st.booleans()):
        action["retryPolicy"] = {"retryType": "None"}
    properties: dict[str, Any] = {"action": action}
    offset = draw(start_offsets)
    if offset is not None:
        properties["startTime"] = iso(now.replace(microsecond=0) + timedelta(seconds=offset))
    if draw(st.booleans()):
        recurrence: dict[str, Any] = {
            "frequency": draw(st.sampled_from(["Minute", "Hour"])),
            "interval": draw(st.sampled_from([1, 2, 30])),
        }
        if offset is None and draw(st.booleans()):
            recurrence["count"] = draw(st.sampled_from([2, 5]))
        if draw(st.booleans()):
            recurrence["endTime"] = iso(now.replace(microsecond=0) + timedelta(days=30))
        properties["recurrence"] = recurrence
    return properties


invalid_job_bodies = st.sampled_from(
    [
        {"properties": {"action": {"type": "Http"}}},
        {"properties": {"action": {"type": "Http", "request": {"uri": OK_URI, "method": "GET"}},
                        "recurrence": {"frequency": "Minute", "interval": 0}}},
        {"properties": {"action": {"type": "Http", "request": {"uri": OK_URI, "method": "GET"}}, "colour": "red"}},
        {"properties": {"action": {"type": "Http", "request": {"uri": OK_URI, "method": "GET"}},
                        "state": "Completed"}},
        {"properties": {"action": {"type": "Http", "request": {"uri": OK_URI, "method": "GET"}},
                        "recurrence": {"interval": 2}}},
        "not a job",
    ]
)
job_states = st.sampled_from([None, "Enabled", "Disabled"])


class SchedulerApiMachine(RuleBasedStateMachine):
    """Users and time, against the model."""

    def __init__(self) -> None:
        super().__init__()
        self.runs: list[Run] = []
        self.sim = Simulation(respond=self._respond)
        self.client = TestClient(create_app(lambda: self.sim.services), raise_server_exceptions=False)
        self.collections: dict[str, CollectionModel] = {}

    # ---- plumbing ------------------------------------------------------------------------------------------------

    def _respond(self, action: Action, headers: Mapping[str, str]) -> Outcome:
        job, collection = headers["x-ms-scheduler-jobid"], headers["x-ms-scheduler-jobcollectionid"]
        expected = datetime.fromisoformat(headers["x-ms-scheduler-expected-execution-time"])
        ref = JobRef(CollectionRef("sub", "rg", collection), job)
        scheduled = headers["x-ms-scheduler-execution-id"] == execution_id(ref, expected)
        succeeded = action.wire["request"]["uri"] == OK_URI
        self.runs.append(Run(collection.lower(), job.lower(), expected, self.sim.clock.now, scheduled, succeeded))
        return Outcome(succeeded, "Http request succeeded: 200 OK" if succeeded else "Http request failed: 500")

    @property
    def now(self) -> datetime:
        return self.sim.clock.now

    def call(self, method: str, path: str, body: Any = None, if_match: str | None = None, **params: Any) -> Any:
        headers = {"If-Match": if_match} if if_match is not None else {}
        response = self.client.request(method, path, json=body, headers=headers,
                                       params={"api-version": "2016-03-01", **params})
        assert response.status_code < 500, (method, path, response.status_code, response.text)
        event(f"{method} {path.count('/')} {response.status_code}")
        assert PASSWORD not in response.text, (method, path, response.text)
        if response.status_code >= 400:
            error = response.json()["error"]
            assert error["code"] and error["message"], response.text
        return response

    def path(self, collection: str, job: str | None = None, upper: bool = False) -> str:
        path = f"{BASE}/{cased(collection, upper)}"
        return path if job is None else f"{path}/jobs/{cased(job, upper)}"

    def current_etag(self, resource: CollectionModel | JobModel, path: str) -> str:
        if resource.etag is None:
            self.read_etag(resource, path)
        assert resource.etag is not None
        return resource.etag

    def read_etag(self, resource: CollectionModel | JobModel, path: str) -> None:
        response = self.call("GET", path)
        assert response.status_code == 200, response.text
        tag = response.headers["etag"].strip('"')
        assert tag not in resource.stale, "an ETag came back after a write changed it"
        resource.etag = tag

    def choose_if_match(self, resource: CollectionModel | JobModel | None, path: str, choice: str) -> str | None:
        """None (unconditional), the current ETag, `*`, or a stale ETag (when the resource has one)."""
        if resource is None or choice == "none":
            return None
        if choice == "stale" and resource.stale:
            return f'"{sorted(resource.stale)[0]}"'
        if choice == "star":
            return "*"
        return f'"{self.current_etag(resource, path)}"'

    def written(self, resource: CollectionModel | JobModel, response: Any) -> None:
        """A user write succeeded: its ETag is new, and the one before it is stale from now on."""
        tag = response.headers["etag"].strip('"')
        assert tag not in resource.stale, "a write answered an ETag used before"
        if resource.etag is not None:
            assert tag != resource.etag, "a write kept the ETag"
            resource.stale.add(resource.etag)
        resource.etag = tag

    def bump(self, resource: CollectionModel | JobModel) -> None:
        """A user write without an ETag in its answer (POST enable/disable): the known one is stale."""
        if resource.etag is not None:
            resource.stale.add(resource.etag)
        resource.etag = None

    def assert_unchanged(self, collection: str, job: str | None = None) -> None:
        """A refused write changed nothing the user can see."""
        if job is None:
            self.check_collection(collection)
        else:
            self.check_job(collection, job)

    def set_collection_state(self, model: CollectionModel, enabled: bool) -> None:
        """Enabled and Disabled jobs follow their collection's state; Completed and Faulted keep theirs."""
        target = "Enabled" if enabled else "Disabled"
        for job in model.jobs.values():
            if job.state in LIVE and job.state != target:
                job.state = target
                job.changed_at = self.now
                self.bump(job)

    # ---- collections ---------------------------------------------------------------------------------------------

    @initialize(data=st.data(), jobs=st.lists(st.sampled_from(JOBS), min_size=1, max_size=3))
    def start_with_two_collections_and_jobs(self, data: st.DataObject, jobs: list[str]) -> None:
        self.put_collection("jc0", {"location": "local"}, upper=False, if_match="none")
        free = {"location": "local", "properties": {"sku": {"name": "Free"}, "quota": {"maxJobCount": 3}}}
        self.put_collection("jc1", free, upper=False, if_match="none")
        for i, name in enumerate(jobs):
            self.put_job(data, COLLECTIONS[i % 2], name, None, upper=False, if_match="none")

    @rule(name=st.sampled_from(COLLECTIONS), body=collection_bodies, upper=st.booleans(),
          if_match=st.sampled_from(["none", "none", "current", "stale", "star"]))
    def put_collection(self, name: str, body: dict[str, Any], upper: bool, if_match: str) -> None:
        model = self.collections.get(name)
        tag = self.choose_if_match(model, self.path(name), if_match)
        response = self.call("PUT", self.path(name, upper=upper), body, if_match=tag)
        if tag is not None and model is not None and tag.strip('"') in model.stale:
            assert response.status_code == 412, response.text
            return self.assert_unchanged(name)
        if model is None:
            assert response.status_code == 201, response.text
            model = self.collections[name] = CollectionModel(cased(name, upper), copy.deepcopy(body))
            self.written(model, response)
            assert response.json() == model.wire()
            return
        candidate = CollectionModel(model.name, copy.deepcopy(body))
        if not self.fits(model, candidate):
            assert response.status_code == 409, response.text
            assert response.json()["error"]["code"] == "ConflictError"
            return self.assert_unchanged(name)
        self.replaced(model, candidate, response)

    def replaced(self, model: CollectionModel, candidate: CollectionModel, response: Any) -> None:
        """A PUT or PATCH of an existing collection that fits: it answers 200 with the new definition, and a change
        of state reaches its jobs."""
        assert response.status_code == 200, response.text
        was_enabled = model.enabled
        model.definition = candidate.definition
        self.written(model, response)
        if model.enabled != was_enabled:
            self.set_collection_state(model, model.enabled)
        assert response.json() == model.wire()

    def fits(self, model: CollectionModel, candidate: CollectionModel) -> bool:
        """Whether the collection's jobs fit a new definition (docs/api.md: quotas are never exceeded)."""
        max_jobs, _ = candidate.quota()
        live = [job for job in model.jobs.values() if job.state in LIVE]
        return len(model.jobs) <= max_jobs and all(candidate.allows(job) for job in live)

    @rule(name=st.sampled_from(COLLECTIONS), body=invalid_collection_bodies)
    def put_invalid_collection(self, name: str, body: Any) -> None:
        response = self.call("PUT", self.path(name), body)
        assert response.status_code == 400, response.text
        self.assert_unchanged(name)

    @rule(name=st.sampled_from(COLLECTIONS), patch=collection_patches, upper=st.booleans(),
          if_match=st.sampled_from(["none", "none", "current", "stale"]))
    def patch_collection(self, name: str, patch: dict[str, Any], upper: bool, if_match: str) -> None:
        model = self.collections.get(name)
        tag = self.choose_if_match(model, self.path(name), if_match)
        response = self.call("PATCH", self.path(name, upper=upper), patch, if_match=tag)
        if model is None:
            assert response.status_code == 404, response.text
            return
        if tag is not None and tag.strip('"') in model.stale:
            assert response.status_code == 412, response.text
            return self.assert_unchanged(name)
        candidate = CollectionModel(model.name, merge(model.definition, patch))
        if not self.fits(model, candidate):
            assert response.status_code == 409, response.text
            return self.assert_unchanged(name)
        self.replaced(model, candidate, response)

    @rule(name=st.sampled_from(COLLECTIONS), enable=st.booleans(), upper=st.booleans())
    def enable_or_disable_collection(self, name: str, enable: bool, upper: bool) -> None:
        model = self.collections.get(name)
        response = self.call("POST", f"{self.path(name, upper=upper)}/{'enable' if enable else 'disable'}")
        if model is None:
            assert response.status_code == 404, response.text
            return
        assert response.status_code == 200, response.text
        properties = model.definition.setdefault("properties", {})
        properties["state"] = "Enabled" if enable else "Disabled"
        self.bump(model)
        self.set_collection_state(model, enable)

    @rule(name=st.sampled_from(COLLECTIONS), upper=st.booleans(),
          if_match=st.sampled_from(["none", "current", "stale", "stale"]))
    def delete_collection(self, name: str, upper: bool, if_match: str) -> None:
        model = self.collections.get(name)
        tag = self.choose_if_match(model, self.path(name), if_match)
        response = self.call("DELETE", self.path(name, upper=upper), if_match=tag)
        if model is None:
            assert response.status_code == 404, response.text
            return
        if tag is not None and tag.strip('"') in model.stale:
            assert response.status_code == 412, response.text
            return self.assert_unchanged(name)
        assert response.status_code == 200, response.text
        del self.collections[name]

    @rule(name=st.sampled_from(COLLECTIONS))
    def get_collection(self, name: str) -> None:
        self.check_collection(name)

    def check_collection(self, name: str) -> None:
        model = self.collections.get(name)
        response = self.call("GET", self.path(name))
        if model is None:
            assert response.status_code == 404, response.text
            return
        assert response.status_code == 200, response.text
        assert response.json() == model.wire()
        tag = response.headers["etag"].strip('"')
        assert tag not in model.stale
        if model.etag is not None:
            assert tag == model.etag, "the collection's ETag changed without a write by a user"
        model.etag = tag

    @rule()
    def list_collections(self) -> None:
        response = self.call("GET", BASE)
        assert response.status_code == 200, response.text
        names = {c["name"].lower() for c in response.json()["value"]} - {"jc"}  # the simulation's own
        assert names == set(self.collections)

    # ---- jobs ----------------------------------------------------------------------------------------------------

    @rule(data=st.data(), collection=st.sampled_from(COLLECTIONS), name=st.sampled_from(JOBS), state=job_states,
          upper=st.booleans(), if_match=st.sampled_from(["none", "none", "none", "current", "stale", "star"]))
    def put_job(self, data: st.DataObject, collection: str, name: str, state: str | None, upper: bool,
                if_match: str) -> None:
        properties = data.draw(job_properties(self.now))
        body_properties = {**properties, **({"state": state} if state else {})}
        owner = self.collections.get(collection)
        job = owner.jobs.get(name) if owner else None
        tag = self.choose_if_match(job, self.path(collection, name), if_match)
        response = self.call("PUT", self.path(collection, name, upper), {"properties": body_properties}, tag)
        self.after_job_write(response, collection, name, upper, properties, state, tag, created_by_put=True)

    @rule(collection=st.sampled_from(COLLECTIONS), name=st.sampled_from(JOBS), body=invalid_job_bodies)
    def put_invalid_job(self, collection: str, name: str, body: Any) -> None:
        owner = self.collections.get(collection)
        job = owner.jobs.get(name) if owner else None
        if job is not None and isinstance(body, dict) and body["properties"].get("state") == job.state:
            return  # repeating a Completed job's state is accepted (docs/api.md, Jobs)
        response = self.call("PUT", self.path(collection, name), body)
        if collection not in self.collections and response.status_code == 404:
            return  # which of the two problems is reported first is not specified
        assert response.status_code == 400, response.text
        self.assert_unchanged(collection, name)

    @rule(collection=st.sampled_from(COLLECTIONS), name=st.sampled_from(JOBS),
          patch=st.one_of(
              st.fixed_dictionaries({"state": st.sampled_from(["Enabled", "Disabled", "enabled"])}),
              st.fixed_dictionaries({"recurrence": st.fixed_dictionaries(
                  {"frequency": st.sampled_from(["Minute", "Hour"]), "interval": st.sampled_from([1, 2, 30])})}),
              st.fixed_dictionaries({"recurrence": st.none()}),
              st.fixed_dictionaries({"action": st.fixed_dictionaries(
                  {"request": st.fixed_dictionaries({"body": st.sampled_from(["x", "y"])})})}),
              st.fixed_dictionaries({"action": st.fixed_dictionaries(
                  {"request": st.fixed_dictionaries({"authentication": st.none()})})}),
          ),
          upper=st.booleans(), if_match=st.sampled_from(["none", "none", "current", "stale"]))
    def patch_job(self, collection: str, name: str, patch: dict[str, Any], upper: bool, if_match: str) -> None:
        owner = self.collections.get(collection)
        job = owner.jobs.get(name) if owner else None
        tag = self.choose_if_match(job, self.path(collection, name), if_match)
        response = self.call("PATCH", self.path(collection, name, upper), {"properties": patch}, tag)
        if job is None:
            assert response.status_code == 404, response.text
            return
        state = patch.get("state")
        properties = merge(job.properties, {k: v for k, v in patch.items() if k != "state"})
        self.after_job_write(response, collection, name, upper, properties, state and state.capitalize(), tag,
                             created_by_put=False)

    def after_job_write(self, response: Any, collection: str, name: str, upper: bool, properties: dict[str, Any],
                        state: str | None, tag: str | None, *, created_by_put: bool) -> None:
        """Check a PUT's or a PATCH's answer against the rules, in the order the spec gives them, and apply it."""
        owner = self.collections.get(collection)
        if owner is None:
            assert response.status_code == 404, response.text
            return
        job = owner.jobs.get(name)
        if tag is not None and job is not None and tag.strip('"') in job.stale:
            assert response.status_code == 412, response.text
            assert response.json()["error"]["code"] == "PreconditionFailed"
            return self.assert_unchanged(collection, name)
        recurrence = properties.get("recurrence")
        if recurrence is not None and "frequency" not in recurrence:
            assert response.status_code == 400, response.text  # a PATCH left a recurrence without frequency
            return self.assert_unchanged(collection, name)
        candidate = JobModel(name, collection, properties, "Enabled", self.now, self.now)
        conflict = (
            not owner.allows(candidate)
            or (job is None and len(owner.jobs) >= owner.quota()[0])
            or (job is not None and job.state not in LIVE and state is not None and state != job.state)
        )
        if conflict:
            assert response.status_code == 409, response.text
            assert response.json()["error"]["code"] == "ConflictError"
            return self.assert_unchanged(collection, name)
        if job is None:
            assert response.status_code == 201, response.text
            start = properties.get("startTime")
            anchor = datetime.fromisoformat(start) if start else self.now
            job = owner.jobs[name] = JobModel(
                cased(name, upper), cased(collection, upper), properties, "Enabled", anchor, self.now
            )
        else:
            assert response.status_code == 200, response.text
            job.properties = properties
            start = properties.get("startTime")
            if start:
                job.anchor = datetime.fromisoformat(start)
            elif created_by_put and job.one_time:
                job.anchor = self.now
            job.changed_at = self.now
        if state is not None:
            job.state = state
        if job.state == "Enabled" and not owner.enabled:
            job.state = "Disabled"  # docs/api.md: a job in a disabled collection stays Disabled
        self.written(job, response)
        self.assert_job_body(response.json(), owner, job)

    def assert_job_body(self, body: dict[str, Any], owner: CollectionModel, job: JobModel) -> None:
        # docs/api.md: `id` and `name` echo the casing of the request that created the job.
        assert body["id"] == f"{BASE}/{job.collection}/jobs/{job.name}"
        assert body["type"] == "Microsoft.Scheduler/jobCollections/jobs"
        assert body["name"] == f"{job.collection}/{job.name}"
        properties = dict(body["properties"])
        status = properties.pop("status")
        assert properties.pop("state") == job.state, (body, job.state)
        assert properties == without_secrets(job.properties)
        if job.state not in LIVE:
            assert "nextExecutionTime" not in status, status

    @rule(collection=st.sampled_from(COLLECTIONS), name=st.sampled_from(JOBS), upper=st.booleans(),
          if_match=st.sampled_from(["none", "none", "current", "stale", "star"]))
    def delete_job(self, collection: str, name: str, upper: bool, if_match: str) -> None:
        owner = self.collections.get(collection)
        job = owner.jobs.get(name) if owner else None
        tag = self.choose_if_match(job, self.path(collection, name), if_match)
        response = self.call("DELETE", self.path(collection, name, upper), if_match=tag)
        if owner is None or job is None:
            assert response.status_code == 404, response.text
            return
        if tag is not None and tag.strip('"') in job.stale:
            assert response.status_code == 412, response.text
            return self.assert_unchanged(collection, name)
        assert response.status_code == 200, response.text
        del owner.jobs[name]

    @rule(collection=st.sampled_from(COLLECTIONS), name=st.sampled_from(JOBS))
    def get_job(self, collection: str, name: str) -> None:
        self.check_job(collection, name)

    def check_job(self, collection: str, name: str) -> None:
        owner = self.collections.get(collection)
        job = owner.jobs.get(name) if owner else None
        response = self.call("GET", self.path(collection, name))
        if owner is None or job is None:
            assert response.status_code == 404, response.text
            return
        assert response.status_code == 200, response.text
        self.assert_job_body(response.json(), owner, job)
        tag = response.headers["etag"].strip('"')
        assert tag not in job.stale
        if job.etag is not None:
            assert tag == job.etag, "the job's ETag changed without a write by a user"
        job.etag = tag
        status = response.json()["properties"]["status"]
        assert status["executionCount"] == len(job.runs), (status, job.runs)
        assert status["failureCount"] == sum(not run.succeeded for run in job.runs), (status, job.runs)

    @rule(collection=st.sampled_from(COLLECTIONS), name=st.sampled_from(JOBS))
    def re_put_what_get_returned(self, collection: str, name: str) -> None:
        """Saved job JSON (a GET response) is accepted back unchanged (docs/api.md, Requests)."""
        owner = self.collections.get(collection)
        job = owner.jobs.get(name) if owner else None
        if owner is None or job is None or "authentication" in job.properties["action"]["request"]:
            return  # its password is not in what GET returned
        saved = self.call("GET", self.path(collection, name)).json()
        response = self.call("PUT", self.path(collection, name), saved)
        assert response.status_code == 200, response.text
        self.written(job, response)
        self.assert_job_body(response.json(), owner, job)

    @rule(collection=st.sampled_from(COLLECTIONS), top=st.integers(1, 3), skip=st.integers(0, 4),
          state=st.sampled_from([None, "Enabled", "Disabled", "Completed", "Faulted"]))
    def list_jobs(self, collection: str, top: int, skip: int, state: str | None) -> None:
        owner = self.collections.get(collection)
        params: dict[str, Any] = {"$top": top, "$skip": skip}
        if state:
            params["$filter"] = f"state eq '{state}'"
        response = self.call("GET", f"{self.path(collection)}/jobs", **params)
        if owner is None:
            assert response.status_code == 404, response.text
            return
        seen: list[str] = []
        for _ in range(20):
            assert response.status_code == 200, response.text
            page = response.json()
            assert len(page["value"]) <= top
            for item in page["value"]:
                job = owner.jobs[item["name"].split("/")[1].lower()]
                self.assert_job_body(item, owner, job)
                seen.append(item["name"].split("/")[1])
            if "nextLink" not in page:
                break
            link = urlsplit(page["nextLink"])
            response = self.client.get(f"{link.path}?{link.query}")
        expected = sorted((j.name for j in owner.jobs.values() if state in (None, j.state)), key=str.lower)[skip:]
        assert seen == expected, "listing by name, following nextLink, gives every job once"

    @rule(collection=st.sampled_from(COLLECTIONS), name=st.sampled_from(JOBS))
    def run_now(self, collection: str, name: str) -> None:
        owner = self.collections.get(collection)
        job = owner.jobs.get(name) if owner else None
        response = self.call("POST", f"{self.path(collection, name)}/run")
        if owner is None or job is None:
            assert response.status_code == 404, response.text
            return
        assert response.status_code == 200, response.text
        job.manual_pending += 1

    @rule(collection=st.sampled_from(COLLECTIONS), name=st.sampled_from(JOBS),
          status=st.sampled_from([None, "Completed", "Failed", "Postponed"]))
    def list_history(self, collection: str, name: str, status: str | None) -> None:
        owner = self.collections.get(collection)
        job = owner.jobs.get(name) if owner else None
        params = {"$filter": f"status eq {status}"} if status else {}
        response = self.call("GET", f"{self.path(collection, name)}/history", **params)
        if owner is None or job is None:
            assert response.status_code == 404, response.text
            return
        assert response.status_code == 200, response.text
        rows = [row["properties"] for row in response.json()["value"]]
        assert [r["startTime"] for r in rows] == sorted((r["startTime"] for r in rows), reverse=True)
        assert all(status in (None, r["status"]) for r in rows)
        if status in (None, "Completed"):
            assert sum(r["status"] == "Completed" for r in rows) == sum(run.succeeded for run in job.runs)
        if status in (None, "Failed"):
            assert sum(r["status"] == "Failed" for r in rows) == sum(not run.succeeded for run in job.runs)

    # ---- time ----------------------------------------------------------------------------------------------------

    @rule(seconds=st.sampled_from([1, 5, 30, 65]))
    def advance_a_little(self, seconds: int) -> None:
        self.advance_time(seconds)

    @rule(seconds=st.sampled_from([65, 600, 3700]))
    def advance_time(self, seconds: int) -> None:
        started = self.now
        before = {(c, n): (j.state, self.collections[c].enabled) for c in self.collections
                  for n, j in self.collections[c].jobs.items()}
        self.runs.clear()
        self.sim.run_for(seconds=seconds)
        ended = self.now
        for run in self.runs:
            owner = self.collections.get(run.collection)
            job = owner.jobs.get(run.job) if owner else None
            assert job is not None, f"a deleted job ran: {run}"
            assert run.at >= run.expected, f"a job ran early: {run}"
            job.runs.append(run)
            event(f"run scheduled={run.scheduled}")
            if run.scheduled:
                state, enabled = before[(run.collection, run.job)]
                assert enabled, f"a job of a disabled collection ran: {run}"
                assert state == "Enabled", f"a {state} job ran: {run}"
                assert run.expected >= job.changed_at, f"an occurrence of a replaced schedule ran: {run}"
            else:
                assert job.manual_pending > 0, f"a run nobody asked for: {run}"
                job.manual_pending -= 1
        for collection, owner in self.collections.items():
            for name, job in owner.jobs.items():
                assert job.manual_pending == 0, f"run-now of {collection}/{name} did not run"
                self.expect_scheduled_runs(owner, job, started, ended)
                self.settle_state(owner, job)

    def expect_scheduled_runs(self, owner: CollectionModel, job: JobModel, started: datetime,
                              ended: datetime) -> None:
        """An Enabled job of an Enabled collection runs at every occurrence due within the advance."""
        if not owner.enabled or job.state != "Enabled":
            return
        scheduled = [run for run in job.runs if run.scheduled]
        if job.one_time:
            due = max(job.anchor, job.changed_at)
            ran = [run for run in scheduled if run.expected >= job.changed_at]
            if due <= ended - SLACK:
                assert len(ran) == 1, f"one-time job {job.name} due {due} ran {len(ran)} times"
            return
        recurrence = job.properties["recurrence"]
        if "count" in recurrence:
            return
        period = timedelta(seconds=PERIOD[recurrence["frequency"]] * recurrence.get("interval", 1))
        since = max(started, job.changed_at, job.anchor) + SLACK
        steps = max(0, -(-(since - job.anchor) // period))
        due = job.anchor + steps * period
        ran = {run.expected for run in scheduled}
        while due <= ended - SLACK:
            assert due in ran, f"{job.name} did not run at {due} (ran {sorted(ran)})"
            due += period

    def settle_state(self, owner: CollectionModel, job: JobModel) -> None:
        """A job ends Completed or Faulted only when its last occurrence ran (reference (h))."""
        scheduled = [run for run in job.runs if run.scheduled]
        count = job.properties.get("recurrence", {}).get("count")
        ran_once = job.one_time and any(run.expected >= job.changed_at for run in scheduled)
        last = ran_once or (count is not None and len(scheduled) >= count)
        if job.state == "Enabled" and last:
            job.state = "Completed" if scheduled[-1].succeeded else "Faulted"
            event(f"job became {job.state}")

    # ---- after every step ----------------------------------------------------------------------------------------

    @invariant()
    def quotas_hold(self) -> None:
        for owner in self.collections.values():
            max_jobs, _ = owner.quota()
            assert len(owner.jobs) <= max_jobs
            assert all(owner.allows(job) for job in owner.jobs.values() if job.state in LIVE)
            if not owner.enabled:
                assert all(job.state != "Enabled" for job in owner.jobs.values())

    @precondition(lambda self: bool(self.collections))
    @invariant()
    def every_stored_job_is_as_modelled(self) -> None:
        for collection, owner in self.collections.items():
            for name in owner.jobs:
                self.check_job(collection, name)


SchedulerApiMachine.TestCase.settings = settings.get_profile(PROFILE)
test_api_stateful = SchedulerApiMachine.TestCase
