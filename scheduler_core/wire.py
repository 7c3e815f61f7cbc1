"""Canonical wire JSON (validated by the API) <-> the domain values the scheduler computes with.

The API validates a request into its canonical JSON and parses it here into a `JobDefinition`; the storage adapter
stores that JSON and parses it here when it reads a row. Nothing past these two edges reads wire JSON. Datetimes are
ISO 8601 UTC strings, durations ISO 8601.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import isodate

from scheduler_core.domain.definition import Action, JobActionType, JobDefinition
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
    # Thousands of stored jobs share a few schedules, and checking a cron takes a tenth of a millisecond: one parse
    # per distinct recurrence (the value is frozen, so sharing it is safe; a refusal is never cached).
    return _parsed_recurrence(json.dumps(recurrence, sort_keys=True))


@lru_cache(maxsize=4096)
def _parsed_recurrence(text: str) -> Recurrence:
    recurrence = json.loads(text)
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


def action_from_wire(action: Mapping[str, Any], path: str = "action") -> Action:
    """Typed action from canonical wire `action` at `path` (validated already: the type is one of `JobActionType`)."""
    error = action.get("errorAction")
    return Action(
        type=JobActionType(action["type"]),
        retry_policy=retry_policy_from_wire(action.get("retryPolicy")),
        error_action=action_from_wire(error, f"{path}.errorAction") if error else None,
        wire=action,
        path=path,
    )


def definition_from_wire(properties: Mapping[str, Any]) -> JobDefinition:
    """Typed definition from canonical wire `properties` (without `state`, `status` and secrets)."""
    return JobDefinition(
        action=action_from_wire(properties.get("action") or {"type": JobActionType.HTTP.value}),
        start_time=parse_instant(properties.get("startTime")),
        recurrence=recurrence_from_wire(properties.get("recurrence")),
        catch_up_window=parse_timespan(properties.get("catchUpWindow")),
        wire=properties,
    )
