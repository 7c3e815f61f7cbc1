"""Job collection use cases: create or replace, patch, get, list, delete, enable and disable all jobs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from scheduler_core.domain.errors import ConcurrencyConflict, JobCollectionNotFound, QuotaExceeded
from scheduler_core.domain.job import CollectionRef, JobState
from scheduler_core.ports import StoredCollection
from scheduler_core.service import jobs as job_use_cases
from scheduler_core.service.context import Services
from scheduler_core.service.merge import merge_patch

# Reference (e), quotas per plan: jobs per collection and the shortest recurrence.
SKU_QUOTAS: dict[str, dict[str, Any]] = {
    "Free": {"maxJobCount": 5, "maxRecurrence": {"frequency": "Hour", "interval": 1}},
    "Standard": {"maxJobCount": 50, "maxRecurrence": {"frequency": "Minute", "interval": 1}},
    "P10Premium": {"maxJobCount": 50, "maxRecurrence": {"frequency": "Minute", "interval": 1}},
    "P20Premium": {"maxJobCount": 1000, "maxRecurrence": {"frequency": "Minute", "interval": 1}},
}


def effective(definition: Mapping[str, Any]) -> dict[str, Any]:
    """The definition with its defaults filled in: sku Standard, state Enabled, the sku's quota where unset."""
    properties = dict(definition.get("properties") or {})
    sku = (properties.get("sku") or {}).get("name") or "Standard"
    quota = {**SKU_QUOTAS[sku], **{k: v for k, v in (properties.get("quota") or {}).items() if v is not None}}
    properties.update(sku={"name": sku}, state=properties.get("state") or "Enabled", quota=quota)
    return {**definition, "properties": properties}


def render(collection: StoredCollection) -> dict[str, Any]:
    return {
        "id": collection.ref.arm_id,
        "type": "Microsoft.Scheduler/jobCollections",
        "name": collection.ref.name,
        **effective(collection.definition),
    }


def _check_quota(definition: Mapping[str, Any], job_count: int) -> None:
    max_jobs = effective(definition)["properties"]["quota"]["maxJobCount"]
    if max_jobs < job_count:
        raise QuotaExceeded(
            "maxJobCount", f"The job collection holds {job_count} jobs; quota maxJobCount {max_jobs} is below that."
        )


def put_collection(services: Services, ref: CollectionRef, definition: Mapping[str, Any]) -> tuple[dict, bool]:
    """Create or replace; returns (rendered collection, created)."""
    stored = effective(definition)
    try:
        current = services.storage.get_collection(ref)
    except JobCollectionNotFound:
        current = None
    if current is not None:
        _check_quota(stored, current.job_count)
    created = services.storage.put_collection(StoredCollection(ref, stored))
    _apply_state_to_jobs(services, ref, previous=current, now_enabled=stored["properties"]["state"] == "Enabled")
    return render(services.storage.get_collection(ref)), created


def patch_collection(services: Services, ref: CollectionRef, patch: Mapping[str, Any]) -> dict:
    def update(current: StoredCollection) -> StoredCollection:
        merged = effective(merge_patch(current.definition, patch))
        _check_quota(merged, current.job_count)
        return replace(current, definition=merged)

    previous = services.storage.get_collection(ref)
    updated = services.storage.update_collection(ref, update)
    _apply_state_to_jobs(services, ref, previous=previous, now_enabled=updated.enabled)
    return render(updated)


def _apply_state_to_jobs(
    services: Services, ref: CollectionRef, *, previous: StoredCollection | None, now_enabled: bool
) -> None:
    if previous is not None and previous.enabled != now_enabled:
        set_jobs_state(services, ref, JobState.ENABLED if now_enabled else JobState.DISABLED)


def get_collection(services: Services, ref: CollectionRef) -> dict:
    return render(services.storage.get_collection(ref))


def list_collections(services: Services, subscription: str, resource_group: str | None) -> list[dict]:
    return [render(c) for c in services.storage.list_collections(subscription, resource_group)]


def delete_collection(services: Services, ref: CollectionRef) -> None:
    """Delete the collection, its jobs and their history (404 when it does not exist)."""
    services.storage.get_collection(ref)
    for job in services.storage.all_jobs(ref):
        services.storage.delete_job(job.ref)
        services.storage.delete_history(job.ref)
    services.storage.delete_collection(ref)


def set_collection_state(services: Services, ref: CollectionRef, state: JobState) -> None:
    """POST enable/disable: the collection's state, and every job's (Completed and Faulted jobs keep theirs)."""
    wanted = "Enabled" if state is JobState.ENABLED else "Disabled"

    def update(current: StoredCollection) -> StoredCollection:
        properties = {**(current.definition.get("properties") or {}), "state": wanted}
        return replace(current, definition={**current.definition, "properties": properties})

    services.storage.update_collection(ref, update)
    set_jobs_state(services, ref, state)


def set_jobs_state(services: Services, ref: CollectionRef, state: JobState) -> None:
    for job in services.storage.all_jobs(ref):
        if job.state in (JobState.ENABLED, JobState.DISABLED) and job.state is not state:
            try:
                job_use_cases.set_state(services, job.ref, state)
            except ConcurrencyConflict:
                continue
