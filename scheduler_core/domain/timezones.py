"""Wall-clock time in an IANA zone <-> UTC instants, with this project's DST decisions.

Recurrence rules are evaluated on naive wall-clock datetimes in the job's zone (hours, minutes and day boundaries are
local), then each candidate is mapped to one UTC instant:

* a wall time that exists once maps to that instant;
* an ambiguous wall time (the repeated hour when clocks fall back) maps to its *first* instance (PEP 495 ``fold=0``);
* a nonexistent wall time (the gap when clocks spring forward) maps to the first instant after the gap, that is the
  transition itself (Europe/Berlin 2026-03-29 02:30 -> 03:00 local = 01:00Z).

The mapping is monotone non-decreasing, so a sorted stream of wall times becomes a sorted stream of instants in which
only gap times can collide; callers drop such duplicates.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_DAY = timedelta(days=1)


@lru_cache(maxsize=256)
def zone(name: str | None) -> tzinfo:
    """The zone for an IANA name; `None` is UTC.

    Raises:
        ValueError: the name is not a known IANA zone.
    """
    if name is None:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:  # malformed keys ("../x"), names too long for a path
        raise ValueError("is not a known IANA time zone") from exc


def to_wall(instant: datetime, tz: tzinfo) -> datetime:
    """The naive wall-clock reading of an aware `instant` in `tz`."""
    return instant.astimezone(tz).replace(tzinfo=None)


def wall_floor(instant: datetime, tz: tzinfo) -> datetime:
    """A naive wall time `w` such that every wall time earlier than `w` maps (by `to_utc`) to before `instant`.

    The reading of `instant` itself is not enough: a gap time just before it can map exactly onto it. Using the smallest
    UTC offset seen over the preceding day covers any single transition, whatever its size.
    """
    if tz is UTC:
        return instant.replace(tzinfo=None)
    utc = instant.astimezone(UTC)
    offsets = (utc.astimezone(tz).utcoffset(), (utc - _DAY).astimezone(tz).utcoffset())
    smallest = min(o for o in offsets if o is not None)
    return (utc + smallest).replace(tzinfo=None)


def to_utc(wall: datetime, tz: tzinfo) -> datetime:
    """The UTC instant at which the naive wall time `wall` in `tz` fires (see the module docstring for DST).

    Args:
        wall: a naive datetime read as wall-clock time in `tz`.
        tz: the zone.

    Returns:
        An aware datetime in UTC.
    """
    if tz is UTC:
        return wall.replace(tzinfo=UTC)
    first = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if first.astimezone(tz).replace(tzinfo=None) == wall:
        return first
    return _gap_end(wall, tz)


def _gap_end(wall: datetime, tz: tzinfo) -> datetime:
    """The transition instant that ends the gap containing the nonexistent wall time `wall`."""
    # PEP 495: in a gap, fold=1 reads the wall time with the offset after the transition (an instant before it) and
    # fold=0 with the offset before (an instant after it). Bisect between them on whole seconds: tzdata transitions
    # fall on whole seconds.
    lo = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
    hi = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if hi < lo:  # a zone whose offset decreases across a gap does not exist in tzdata; be safe anyway
        lo, hi = hi, lo
    before = lo.astimezone(tz).utcoffset()
    lo_s, hi_s = int(lo.timestamp()), int(hi.timestamp()) + 1
    while hi_s - lo_s > 1:
        mid = (lo_s + hi_s) // 2
        if datetime.fromtimestamp(mid, UTC).astimezone(tz).utcoffset() == before:
            lo_s = mid
        else:
            hi_s = mid
    return datetime.fromtimestamp(hi_s, UTC)
