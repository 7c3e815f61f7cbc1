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
        start = parse_instant(canonical.get("startTime")) or now
        if start.tzinfo is None:
            start = start.replace(tzinfo=UTC)
        found = occurrences(start, rec, after=now, limit=count)
    except (InvalidInput, ValueError, KeyError) as exc:
        raise Failed(f"invalid schedule: {exc}", 2) from None
    return [format_datetime(t) for t in found], schedule_phrase(canonical)
