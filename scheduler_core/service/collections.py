"""Job collection use cases: create or replace, patch, get, list, delete, enable and disable all jobs.

A collection stores its definition as its owner wrote it (canonical wire JSON); defaults (`sku` Standard, `state`
Enabled, the plan's quota) are filled in when it is rendered, see `quota.effective_quota`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from scheduler_core.domain.errors import ConcurrencyConflict, JobCollectionNotFound, StateConflict
from scheduler_core.domain.job import CollectionRef, DisabledNote, JobState
from scheduler_core.ports import StoredCollection
from scheduler_core.service import jobs as job_use_cases
from scheduler_core.service.context import Services
from scheduler_core.service.merge import merge_patch
from scheduler_core.service.quota import DEFAULT_SKU, check_job_count, check_jobs_fit, effective_quota

_CREATE_ATTEMPTS = 5


def render(collection: StoredCollection) -> dict[str, Any]:
    properties = dict(collection.definition.get("properties") or {})
    properties.update(
        sku={"name": (properties.get("sku") or {}).get("name") or DEFAULT_SKU},
        state=properties.get("state") or "Enabled",
        quota=effective_quota(collection.definition),
    )
    return {
        "id": collection.ref.arm_id,
        "type": "Microsoft.Scheduler/jobCollections",
        "name": collection.ref.name,
        **collection.definition,
        "properties": properties,
    }


def _checked(services: Services, current: StoredCollection, definition: Mapping[str, Any]) -> StoredCollection:
    """`current` with its new definition, if every job it holds still fits the new quota (else QuotaExceeded)."""
    check_job_count(definition, current.job_count)
    live = [
        job.definition
        for job in services.storage.all_jobs(current.ref)
        if job.state in (JobState.ENABLED, JobState.DISABLED)
    ]
    check_jobs_fit(definition, live, services.clock())
    return replace(current, definition=definition)


def put_collection(services: Services, ref: CollectionRef, definition: Mapping[str, Any]) -> tuple[dict, bool]:
    """Create or fully replace; returns (rendered collection, created). A replacement must fit the jobs it holds."""
    for _ in range(_CREATE_ATTEMPTS):
        try:
            previous = services.storage.get_collection(ref)
        except JobCollectionNotFound:
            previous = None
        if previous is None:
            if services.storage.put_collection(StoredCollection(ref, definition)):
                return render(services.storage.get_collection(ref)), True
            continue  # created meanwhile by someone else: replace it under the ETag guard instead
        updated = services.storage.update_collection(ref, lambda current: _checked(services, current, definition))
        _apply_state_to_jobs(services, ref, previous=previous, now_enabled=updated.enabled)
        return render(updated), False
    raise ConcurrencyConflict(f"job collection '{ref.name}' kept changing; try again")


def patch_collection(services: Services, ref: CollectionRef, patch: Mapping[str, Any]) -> dict:
    """Merge `patch` (canonical wire JSON, `null` removes a field) into the stored definition (RFC 7386)."""
    previous = services.storage.get_collection(ref)
    updated = services.storage.update_collection(
        ref, lambda current: _checked(services, current, merge_patch(current.definition, patch))
    )
    _apply_state_to_jobs(services, ref, previous=previous, now_enabled=updated.enabled)
    return render(updated)


def _apply_state_to_jobs(
    services: Services, ref: CollectionRef, *, previous: StoredCollection, now_enabled: bool
) -> None:
    if previous.enabled != now_enabled:
        set_jobs_state(services, ref, JobState.ENABLED if now_enabled else JobState.DISABLED)


def get_collection(services: Services, ref: CollectionRef) -> dict:
    return render(services.storage.get_collection(ref))


def list_collections(services: Services, subscription: str, resource_group: str | None) -> list[dict]:
    return [render(c) for c in services.storage.list_collections(subscription, resource_group)]


def delete_collection(services: Services, ref: CollectionRef) -> None:
    """Delete the collection, its jobs, their pending occurrences and their history (404 when it does not exist)."""
    services.storage.get_collection(ref)
    for job in services.storage.all_jobs(ref):
        services.storage.delete_job(job.ref)
        if job.status.next_execution_time:
            services.storage.remove_due(job.ref, job.status.next_execution_time)
        services.storage.delete_history(job.ref)
    services.storage.delete_collection(ref)


def set_collection_state(
    services: Services, ref: CollectionRef, state: JobState, note: DisabledNote | None = None
) -> None:
    """POST enable/disable: the collection's state, and every job's (Completed and Faulted jobs keep theirs)."""
    wanted = "Enabled" if state is JobState.ENABLED else "Disabled"

    def update(current: StoredCollection) -> StoredCollection:
        properties = {**(current.definition.get("properties") or {}), "state": wanted}
        return replace(current, definition={**current.definition, "properties": properties})

    services.storage.update_collection(ref, update)
    set_jobs_state(services, ref, state, note)


def set_jobs_state(services: Services, ref: CollectionRef, state: JobState, note: DisabledNote | None = None) -> None:
    for job in services.storage.all_jobs(ref):
        if job.state in (JobState.ENABLED, JobState.DISABLED) and job.state is not state:
            try:
                job_use_cases.set_state(services, job.ref, state, note)
            except (ConcurrencyConflict, StateConflict):
                continue  # changed meanwhile (it may have completed); the user's later read shows where it is
