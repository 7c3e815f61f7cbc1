"""Import planning and execution: compare each job with what the API holds, then create, update or leave it.

A job is "unchanged" when what a GET would show of it (normalize.comparable) equals what the API holds, so a second
run of the same files writes nothing. Secrets cannot be read back: a job whose only change is a secret is
"unchanged" unless --force. A collection's `maxJobCount` is checked before writing: jobs beyond it get an error each
(in file order) and are not sent. Jobs are written in parallel; one failure does not stop the others.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from azsched.client import ApiError, SchedulerClient
from azsched.importers import ImportedCollection, ImportedJob
from azsched.normalize import comparable

PLAN_MAX_JOBS = {"free": 5, "standard": 50, "p10premium": 50, "p20premium": 1000}

CREATE, UPDATE, UNCHANGED, ERROR = "create", "update", "unchanged", "error"
_FINISHED = ("completed", "faulted")


@dataclass
class Step:
    """One job's line in the plan and, after the run, in the report."""

    job: ImportedJob
    action: str
    message: str = ""
    result: str = ""  # created / updated / unchanged / failed (after the run)
    held_state: str | None = None  # the state of the job the API holds, when it exists

    @property
    def needs_secret(self) -> bool:
        return bool(self.job.missing_secrets)

    def as_json(self) -> dict[str, Any]:
        return {
            "collection": self.job.collection, "job": self.job.name, "source": self.job.source,
            "action": self.action, "result": self.result or None, "message": self.message or None,
            "warnings": self.job.warnings, "needsSecret": self.job.missing_secrets,
        }


@dataclass
class Plan:
    steps: list[Step] = field(default_factory=list)
    new_collections: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> PUT body

    def summary(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for step in self.steps:
            counts[step.result or step.action] += 1
            if step.needs_secret and step.action != ERROR and step.result != "failed":
                counts["needs a secret"] += 1
        return dict(counts)

    @property
    def failed(self) -> bool:
        return any(s.action == ERROR or s.result == "failed" for s in self.steps)


def _collection_body(definitions: list[ImportedCollection], name: str) -> dict[str, Any]:
    for found in definitions:
        if found.name.lower() == name.lower():
            properties: dict[str, Any] = dict(found.definition.get("properties") or {})
            body: dict[str, Any] = {"location": found.definition.get("location") or "local", "properties": properties}
            if tags := found.definition.get("tags"):
                body["tags"] = tags
            properties.setdefault("sku", {"name": "Standard"})
            return body
    return {"location": "local", "properties": {"sku": {"name": "Standard"}}}


def _max_jobs(collection: dict[str, Any]) -> int | None:
    props = collection.get("properties") or {}
    explicit = (props.get("quota") or {}).get("maxJobCount")
    if explicit:
        return int(explicit)
    return PLAN_MAX_JOBS.get(str((props.get("sku") or {}).get("name", "Standard")).lower())


def make_plan(client: SchedulerClient, jobs: list[ImportedJob], collections: list[ImportedCollection],
              *, force: bool = False, threads: int = 8) -> Plan:
    """Read what the API holds for each collection the jobs go to (one list per collection) and decide per job."""
    plan = Plan()
    by_collection: dict[str, list[ImportedJob]] = defaultdict(list)
    for job in jobs:
        if job.problems:
            plan.steps.append(Step(job, ERROR, "; ".join(job.problems)))
        elif not job.collection:
            plan.steps.append(Step(job, ERROR, "no job collection: the file does not say; give --collection"))
        else:
            # Collection names are case-insensitive (as in ARM): one group, named as first written.
            name = next((n for n in by_collection if n.lower() == job.collection.lower()), job.collection)
            by_collection[name].append(job)

    def look(name: str) -> tuple[str, dict[str, Any] | None, dict[str, dict[str, Any]] | ApiError]:
        try:
            existing = client.get_collection(name)
        except ApiError as exc:
            if exc.status == 404:
                return name, None, {}
            return name, None, exc
        try:
            return name, existing, {j["name"].split("/")[-1].lower(): j for j in client.list_jobs(name)}
        except ApiError as exc:
            return name, existing, exc

    with ThreadPoolExecutor(threads) as pool:
        looked = list(pool.map(look, list(by_collection)))
    for name, existing, held in looked:
        if isinstance(held, ApiError):
            reason = f"collection {name}: {held.code}: {held.message}"
            plan.steps += [Step(j, ERROR, reason) for j in by_collection[name]]
            continue
        definition = existing
        if existing is None:
            definition = plan.new_collections[name] = _collection_body(collections, name)
        assert definition is not None
        slots = _max_jobs(definition)
        free = None if slots is None else slots - len(held)
        for job in by_collection[name]:
            current = held.get(job.name.lower())
            if current is None:
                if free is not None and free <= 0:
                    plan.steps.append(Step(job, ERROR, f"quota: collection {name} holds at most {slots} jobs "
                                                       "(maxJobCount); not imported"))
                    continue
                if free is not None:
                    free -= 1
                plan.steps.append(Step(job, CREATE))
                continue
            held_state = str((current.get("properties") or {}).get("state", ""))
            action = UPDATE if force or _differs(job, current) else UNCHANGED
            plan.steps.append(Step(job, action, held_state=held_state))
    order = {id(j): i for i, j in enumerate(jobs)}
    plan.steps.sort(key=lambda s: order[id(s.job)])
    return plan


def _differs(job: ImportedJob, current: dict[str, Any]) -> bool:
    held = current.get("properties") or {}
    wanted_state = job.properties.get("state")
    finished = str(held.get("state", "")).lower() in _FINISHED  # its state can no longer change
    if wanted_state and not finished and str(wanted_state).lower() != str(held.get("state", "")).lower():
        return True
    return comparable(job.properties) != comparable(held)


def execute(client: SchedulerClient, plan: Plan, *, threads: int = 16,
            progress: Callable[[Step], None] | None = None) -> None:
    """Create the new collections, then write every create and update in parallel; results land in the steps."""
    failed_collections: dict[str, str] = {}
    for name, body in plan.new_collections.items():
        try:
            client.put_collection(name, body)
        except ApiError as exc:
            failed_collections[name.lower()] = f"creating collection {name}: {exc.code}: {exc.message}"

    def write(step: Step) -> Step:
        job = step.job
        if step.action == UNCHANGED:
            step.result = "unchanged"
        elif step.action in (CREATE, UPDATE):
            broken = failed_collections.get(str(job.collection).lower())
            if broken:
                step.result, step.message = "failed", broken
            else:
                try:
                    assert job.collection is not None
                    properties = job.properties
                    if str(step.held_state).lower() in _FINISHED:
                        # The API refuses a state change of a finished job; without `state` it keeps it.
                        properties = {k: v for k, v in properties.items() if k != "state"}
                    client.put_job(job.collection, job.name, {"properties": properties})
                    step.result = "created" if step.action == CREATE else "updated"
                except ApiError as exc:
                    step.result, step.message = "failed", f"{exc.code}: {exc.message}"
        else:
            step.result = "failed"
        if progress:
            progress(step)
        return step

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(write, _interleaved(plan.steps)))


def _interleaved(steps: list[Step]) -> list[Step]:
    """Steps taken round-robin across collections: each new job takes a slot of its collection's job count, an
    ETag-guarded write, so parallel writes into one collection would mostly retry each other."""
    queues: dict[str, list[Step]] = defaultdict(list)
    for step in steps:
        queues[str(step.job.collection).lower()].append(step)
    ordered: list[Step] = []
    while queues:
        for key in list(queues):
            ordered.append(queues[key].pop(0))
            if not queues[key]:
                del queues[key]
    return ordered
