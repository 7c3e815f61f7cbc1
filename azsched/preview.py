"""Fire times of a schedule computed on this machine with the scheduler's own pure domain (no request)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from azsched.context import Failed
from azsched.normalize import canonical_properties
from azsched.output import schedule_phrase
from scheduler_core.domain.errors import InvalidInput
from scheduler_core.domain.recurrence import occurrences
from scheduler_core.wire import format_datetime, parse_instant, recurrence_from_wire


def local_preview(properties: dict[str, Any], count: int, now: datetime) -> tuple[list[str], str]:
    """(next `count` fire times as wire datetimes, the schedule phrase) of job `properties`, from `now` on.

    Raises:
        Failed: the schedule is not valid (the domain's message, with the field's path).
    """
    canonical = canonical_properties(properties)
    try:
        rec = recurrence_from_wire(canonical.get("recurrence"))
        start = parse_instant(canonical.get("startTime")) or _anchor(now, canonical.get("recurrence"))
        if start.tzinfo is None:
            start = start.replace(tzinfo=UTC)
        found = occurrences(start, rec, after=now, limit=count)
    except (InvalidInput, ValueError, KeyError) as exc:
        raise Failed(f"invalid schedule: {exc}", 2) from None
    return [format_datetime(t) for t in found], schedule_phrase(canonical)


def _anchor(now: datetime, recurrence: dict[str, Any] | None) -> datetime:
    """As the API anchors a job without startTime: the start of the minute when a schedule or a cron picks the times
    (so "hours 9, minutes 30" fires at 09:30:00), else now."""
    if recurrence and (recurrence.get("schedule") or recurrence.get("cron")):
        return now.replace(second=0, microsecond=0)
    return now.replace(microsecond=0)
