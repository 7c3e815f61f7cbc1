"""Job collection quotas (reference (e)): the plan's defaults, and the checks a job or a quota change must pass.

A collection stores only what its owner set; the effective quota is the plan's (`sku`) defaults overlaid by the
explicit `quota` fields, so changing the plan brings the new plan's defaults for every field never set by hand.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from scheduler_core.domain.definition import JobDefinition
from scheduler_core.domain.errors import QuotaExceeded
from scheduler_core.domain.recurrence import occurrences

DEFAULT_SKU = "Standard"
# Reference (e), quotas per plan: jobs per collection and the shortest recurrence.
SKU_QUOTAS: dict[str, dict[str, Any]] = {
    "Free": {"maxJobCount": 5, "maxRecurrence": {"frequency": "Hour", "interval": 1}},
    "Standard": {"maxJobCount": 50, "maxRecurrence": {"frequency": "Minute", "interval": 1}},
    "P10Premium": {"maxJobCount": 50, "maxRecurrence": {"frequency": "Minute", "interval": 1}},
    "P20Premium": {"maxJobCount": 1000, "maxRecurrence": {"frequency": "Minute", "interval": 1}},
}
_PERIOD = {"Second": 1, "Minute": 60, "Hour": 3600, "Day": 86400, "Week": 7 * 86400, "Month": 28 * 86400}
_SAMPLE = 50  # upcoming occurrences compared against maxRecurrence


def effective_quota(definition: Mapping[str, Any]) -> dict[str, Any]:
    """The quota in force for a stored collection definition: the sku's defaults overlaid by explicit fields."""
    properties = definition.get("properties") or {}
    sku = (properties.get("sku") or {}).get("name") or DEFAULT_SKU
    explicit = {k: v for k, v in (properties.get("quota") or {}).items() if v is not None}
    quota = {**SKU_QUOTAS[sku], **explicit}
    recurrence = {**SKU_QUOTAS[sku]["maxRecurrence"], **(explicit.get("maxRecurrence") or {})}
    return {**quota, "maxRecurrence": recurrence}


def check_job_count(definition: Mapping[str, Any], job_count: int) -> None:
    """Raises QuotaExceeded when `job_count` jobs do not fit the collection's `maxJobCount`."""
    max_jobs = effective_quota(definition)["maxJobCount"]
    if job_count > max_jobs:
        raise QuotaExceeded(
            "maxJobCount", f"The job collection holds {job_count} jobs; its quota maxJobCount is {max_jobs}."
        )


def check_new_job_fits(definition: Mapping[str, Any], job_count: int, name: str) -> None:
    """Raises QuotaExceeded when a collection holding `job_count` jobs has no slot left for one more."""
    max_jobs = effective_quota(definition)["maxJobCount"]
    if job_count >= max_jobs:
        raise QuotaExceeded(
            "maxJobCount", f"The job collection '{name}' already holds {job_count} jobs, its quota maxJobCount."
        )


def check_recurrence(job: JobDefinition, collection: Mapping[str, Any], now: datetime) -> None:
    """Raises QuotaExceeded when the job recurs more often than `maxRecurrence` allows.

    The shortest gap among the next occurrences is what counts, so a schedule (several hours a day) is measured by
    how often it really fires, not by its frequency alone.
    """
    limit = effective_quota(collection)["maxRecurrence"]
    recurrence = job.recurrence
    if recurrence is None:
        return
    allowed = timedelta(seconds=_PERIOD[limit["frequency"]] * (limit.get("interval") or 1))
    start = job.start_time or now
    upcoming = occurrences(start, recurrence, after=max(start, now), limit=_SAMPLE)
    gaps = [b - a for a, b in zip(upcoming, upcoming[1:], strict=False)]
    if gaps and min(gaps) < allowed:
        raise QuotaExceeded(
            "maxRecurrence",
            f"The job recurs every {min(gaps)}, more often than the job collection's quota maxRecurrence "
            f"({limit.get('interval') or 1} {limit['frequency']}) allows.",
        )


def check_jobs_fit(collection: Mapping[str, Any], jobs: Iterable[JobDefinition], now: datetime) -> None:
    """A quota change must keep every existing job within `maxRecurrence`."""
    for job in jobs:
        check_recurrence(job, collection, now)
