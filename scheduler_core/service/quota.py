"""Job collection quotas (reference (e)): the checks a job or a quota change must pass.

A collection stores only what its owner set; the quota in force is its plan's overlaid by the fields set by hand
(`CollectionDefinition.effective_quota`, with the plans' quotas in `scheduler_core/domain/collection.py`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta, tzinfo

from scheduler_core.domain.collection import CollectionDefinition, max_quota_interval
from scheduler_core.domain.definition import JobDefinition
from scheduler_core.domain.errors import InvalidInput, QuotaExceeded
from scheduler_core.domain.recurrence import occurrences
from scheduler_core.domain.timezones import zone

_SAMPLE = 50  # upcoming occurrences compared against maxRecurrence


def check_job_count(definition: CollectionDefinition, job_count: int) -> None:
    """Raises QuotaExceeded when `job_count` jobs do not fit the collection's `maxJobCount`."""
    max_jobs = definition.effective_quota().max_job_count
    if job_count > max_jobs:
        raise QuotaExceeded(
            "maxJobCount", f"The job collection holds {job_count} jobs; its quota maxJobCount is {max_jobs}."
        )


def check_max_recurrence(definition: CollectionDefinition) -> None:
    """Raises InvalidInput when the `maxRecurrence` in force allows only gaps longer than 18 months, the longest a
    job may recur: on the definition a write leaves (a PATCH of the frequency or the plan alone changes what a
    stored interval means), with the plan's frequency when none is set."""
    quota = definition.effective_quota()
    top = max_quota_interval(quota.frequency)
    if quota.interval > top:
        raise InvalidInput(f"must be at most {top} for this frequency (18 months, the longest a job may recur)",
                           "properties.quota.maxRecurrence.interval")


def check_new_job_fits(definition: CollectionDefinition, job_count: int, name: str) -> None:
    """Raises QuotaExceeded when a collection holding `job_count` jobs has no slot left for one more."""
    max_jobs = definition.effective_quota().max_job_count
    if job_count >= max_jobs:
        raise QuotaExceeded(
            "maxJobCount", f"The job collection '{name}' already holds {job_count} jobs, its quota maxJobCount."
        )


def check_recurrence(job: JobDefinition, collection: CollectionDefinition, now: datetime) -> None:
    """Raises QuotaExceeded when the job recurs more often than `maxRecurrence` allows.

    The shortest gap among the next occurrences is what counts, so a schedule (several hours a day) is measured by
    how often it really fires, not by its frequency alone. In a job's time zone a day is as long as its wall clock
    says: a gap next to a change of the zone's UTC offset may fall short by that change (a daily job fires 23 hours
    apart when the clocks spring forward, and is still once a day).
    """
    limit = collection.effective_quota()
    recurrence = job.recurrence
    if recurrence is None:
        return
    allowed = limit.shortest_gap
    start = job.start_time or now
    upcoming = occurrences(start, recurrence, after=max(start, now), limit=_SAMPLE)
    tz = zone(recurrence.time_zone)
    short = [
        b - a
        for a, b in zip(upcoming, upcoming[1:], strict=False)
        if b - a < allowed - _offset_change(tz, (a - allowed, a, b))
    ]
    if short:
        raise QuotaExceeded(
            "maxRecurrence",
            f"The job recurs every {min(short)}, more often than the job collection's quota maxRecurrence "
            f"({limit.interval} {limit.frequency}) allows.",
        )


def _offset_change(tz: tzinfo, instants: Iterable[datetime]) -> timedelta:
    """How far the zone's UTC offset moves across `instants` (zero in UTC)."""
    offsets = [instant.astimezone(tz).utcoffset() or timedelta() for instant in instants]
    return max(offsets) - min(offsets)


def check_jobs_fit(collection: CollectionDefinition, jobs: Iterable[JobDefinition], now: datetime) -> None:
    """A quota change must keep every existing job within `maxRecurrence`."""
    for job in jobs:
        check_recurrence(job, collection, now)
