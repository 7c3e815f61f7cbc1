"""Stored wire JSON (canonical, validated by the API) -> domain values the scheduler computes with.

The API validates a request into the wire models and stores their canonical JSON; the planner and the executor read
that JSON back through these functions. Datetimes are ISO 8601 UTC strings, durations ISO 8601.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import isodate

from scheduler_core.domain.recurrence import Frequency, MonthlyOccurrence, Recurrence, RecurrenceSchedule, WeekDay
from scheduler_core.domain.retry import DEFAULT_RETRY, RetryPolicy, RetryType


def format_datetime(value: datetime) -> str:
    """UTC, `Z` suffix, fractional seconds only when present."""
    return f"{value.astimezone(UTC).replace(tzinfo=None).isoformat()}Z"


def parse_instant(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def parse_timespan(value: str | None) -> timedelta | None:
    if not value:
        return None
    parsed = isodate.parse_duration(value)
    return parsed if isinstance(parsed, timedelta) else None


def recurrence_from_wire(recurrence: Mapping[str, Any] | None) -> Recurrence | None:
    """Domain recurrence from wire `recurrence` (raises InvalidInput with JSON paths when the values conflict)."""
    if not recurrence:
        return None
    schedule = recurrence.get("schedule")
    return Recurrence(
        frequency=Frequency(recurrence["frequency"]) if recurrence.get("frequency") else None,
        interval=recurrence.get("interval") or 1,
        count=recurrence.get("count"),
        end_time=parse_instant(recurrence.get("endTime")),
        schedule=_schedule_from_wire(schedule) if schedule else None,
        time_zone=recurrence.get("timeZone"),
        cron=recurrence.get("cron"),
    )


def _schedule_from_wire(schedule: Mapping[str, Any]) -> RecurrenceSchedule:
    return RecurrenceSchedule(
        minutes=tuple(schedule.get("minutes") or ()),
        hours=tuple(schedule.get("hours") or ()),
        week_days=tuple(WeekDay(d) for d in schedule.get("weekDays") or ()),
        month_days=tuple(schedule.get("monthDays") or ()),
        monthly_occurrences=tuple(
            MonthlyOccurrence(WeekDay(o["day"]), o.get("Occurrence")) for o in schedule.get("monthlyOccurrences") or ()
        ),
    )


def retry_policy_from_wire(policy: Mapping[str, Any] | None) -> RetryPolicy:
    """Domain retry policy; absent means the old service's default (Fixed, 4 retries, 30 s apart)."""
    if not policy:
        return DEFAULT_RETRY
    retry_type = RetryType(policy.get("retryType") or "Fixed")
    if retry_type is RetryType.NONE:
        return RetryPolicy(RetryType.NONE, count=0)
    interval = parse_timespan(policy.get("retryInterval"))
    return RetryPolicy(
        retry_type=retry_type,
        interval=DEFAULT_RETRY.interval if interval is None else interval,
        count=policy["retryCount"] if policy.get("retryCount") is not None else DEFAULT_RETRY.count,
        max_interval=parse_timespan(policy.get("maxRetryInterval")),
        multiplier=policy.get("multiplier") or 2.0,
        jitter=policy.get("jitter") or 0.0,
    )
