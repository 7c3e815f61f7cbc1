"""A job collection's definition as a typed, frozen value, and the quota its plan gives it (reference (e)).

Parsed once from wire JSON where it enters (the API, the storage adapter: `scheduler_core/wire.py`) and rendered
back there. A collection keeps only what its owner set (None: never set), so changing the plan brings the new plan's
defaults for every quota field never set by hand; `effective_quota` overlays the two.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from scheduler_core.domain.job import WireEnum


class SkuDefinition(WireEnum):
    """A collection's plan (wire `sku.name`); absent: Standard."""

    STANDARD = "Standard"
    FREE = "Free"
    P10_PREMIUM = "P10Premium"
    P20_PREMIUM = "P20Premium"


class JobCollectionState(WireEnum):
    """A collection's state (wire `state`); absent: Enabled. Only Enabled runs its jobs."""

    ENABLED = "Enabled"
    DISABLED = "Disabled"
    SUSPENDED = "Suspended"
    DELETED = "Deleted"


class QuotaFrequency(WireEnum):
    """The unit of `maxRecurrence`: `RecurrenceFrequency` plus `Second` (extension: cron schedules can fire every few
    seconds). A month counts as 28 days, the shortest one."""

    SECOND = "Second"
    MINUTE = "Minute"
    HOUR = "Hour"
    DAY = "Day"
    WEEK = "Week"
    MONTH = "Month"

    @property
    def period(self) -> timedelta:
        """The shortest length of one unit."""
        return _PERIODS[self]


_PERIODS = {
    QuotaFrequency.SECOND: timedelta(seconds=1),
    QuotaFrequency.MINUTE: timedelta(minutes=1),
    QuotaFrequency.HOUR: timedelta(hours=1),
    QuotaFrequency.DAY: timedelta(days=1),
    QuotaFrequency.WEEK: timedelta(weeks=1),
    QuotaFrequency.MONTH: timedelta(days=28),
}


#: The longest a job may recur (18 months: reference (c)); a quota allowing only longer gaps would refuse every
#: recurring job and, beyond timedelta's range, could not even be compared with one.
LONGEST_QUOTA_GAP = timedelta(days=548)


def max_quota_interval(frequency: QuotaFrequency | None) -> int:
    """The largest `maxRecurrence.interval` for `frequency` (None: the plan's, at the finest a second)."""
    return LONGEST_QUOTA_GAP // (frequency or QuotaFrequency.SECOND).period


@dataclass(frozen=True)
class MaxRecurrence:
    """How often a job of the collection may recur at most (wire `maxRecurrence`): once per `interval` `frequency`s.

    Attributes:
        frequency: the unit; None: the plan's.
        interval: how many units (at least 1); None: the plan's.
    """

    frequency: QuotaFrequency | None = None
    interval: int | None = None


@dataclass(frozen=True)
class CollectionQuota:
    """A collection's quota (wire `quota`); each field None when its owner did not set it.

    Attributes:
        max_job_count: how many jobs it may hold (`maxJobCount`).
        max_job_occurrence: accepted and kept, not enforced (`maxJobOccurrence`).
        max_recurrence: how often a job may recur at most (`maxRecurrence`).
    """

    max_job_count: int | None = None
    max_job_occurrence: int | None = None
    max_recurrence: MaxRecurrence | None = None


@dataclass(frozen=True)
class QuotaInForce:
    """The quota a collection's jobs are held to: its plan's, overlaid by what its owner set.

    Attributes:
        max_job_count: how many jobs it may hold.
        frequency: with `interval`, how often a job may recur at most: once per `interval` `frequency`s.
        interval: see `frequency` (at least 1).
        max_job_occurrence: as its owner set it, or None (kept and returned, not enforced).
    """

    max_job_count: int
    frequency: QuotaFrequency
    interval: int = 1
    max_job_occurrence: int | None = None

    @property
    def shortest_gap(self) -> timedelta:
        """The shortest time allowed between two occurrences of a job."""
        return self.frequency.period * self.interval


PLAN_QUOTAS: Mapping[SkuDefinition, QuotaInForce] = {
    SkuDefinition.FREE: QuotaInForce(5, QuotaFrequency.HOUR),
    SkuDefinition.STANDARD: QuotaInForce(50, QuotaFrequency.MINUTE),
    SkuDefinition.P10_PREMIUM: QuotaInForce(50, QuotaFrequency.MINUTE),
    SkuDefinition.P20_PREMIUM: QuotaInForce(1000, QuotaFrequency.MINUTE),
}
"""Reference (e), quotas per plan: jobs per collection and the shortest recurrence."""


@dataclass(frozen=True)
class CollectionDefinition:
    """A job collection as its owner wrote it (wire `JobCollectionDefinition` without `id`, `type`, `name`).

    Attributes:
        location: the Azure region it claims to be in (kept and returned; the app runs where it is deployed).
        tags: ARM tags by name, or None when never set.
        sku: its plan; None: Standard.
        state: its state; None: Enabled.
        quota: what its owner set of the quota, or None; see `effective_quota`.
    """

    location: str | None = None
    tags: Mapping[str, str] | None = field(default=None, hash=False)
    sku: SkuDefinition | None = None
    state: JobCollectionState | None = None
    quota: CollectionQuota | None = None

    @property
    def plan(self) -> SkuDefinition:
        """The plan in force (Standard when none was set)."""
        return self.sku or SkuDefinition.STANDARD

    @property
    def enabled(self) -> bool:
        """Whether its jobs run (no state set is Enabled)."""
        return self.state in (None, JobCollectionState.ENABLED)

    def effective_quota(self) -> QuotaInForce:
        """The quota in force: the plan's, overlaid by every field its owner set."""
        plan, own = PLAN_QUOTAS[self.plan], self.quota or CollectionQuota()
        recurrence = own.max_recurrence or MaxRecurrence()
        return QuotaInForce(
            max_job_count=plan.max_job_count if own.max_job_count is None else own.max_job_count,
            frequency=recurrence.frequency or plan.frequency,
            interval=plan.interval if recurrence.interval is None else recurrence.interval,
            max_job_occurrence=own.max_job_occurrence,
        )
