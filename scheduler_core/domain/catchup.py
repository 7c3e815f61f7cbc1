"""Misfire planning: what to do with occurrences that were due while the scheduler could not run them.

One pure function of (the occurrences missed so far, now, the catch-up window): by default the most recent missed
occurrence fires once if it is still within the window, and every other one is recorded as `Postponed` with the
reason. Nothing is replayed in a burst and nothing is skipped silently. (Temporal's catch-up window; APScheduler's
misfire_grace_time with coalescing.)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

#: An occurrence this late is considered missed (the scheduler was down), not merely delayed by a busy queue.
MISFIRE_GRACE = timedelta(seconds=30)


@dataclass(frozen=True)
class CatchUp:
    """`fire`: the occurrence to run now (None: none is recent enough); `postponed`: the ones recorded as missed,
    oldest first, at most `limit`; `more`: how many further missed ones were not listed."""

    fire: datetime | None
    postponed: tuple[datetime, ...]
    more: int = 0


def plan_catch_up(missed: Iterable[datetime], now: datetime, window: timedelta, *, limit: int = 100) -> CatchUp:
    """Decide among the occurrences due at or before `now` that have not run, oldest first.

    Args:
        missed: occurrences due at or before `now` that did not run, strictly increasing.
        now: the current instant.
        window: how late the most recent missed occurrence may still fire.
        limit: how many postponed occurrences are listed one by one (the rest are counted in `more`).
    """
    listed: list[datetime] = []
    more = 0
    latest: datetime | None = None
    for instant in missed:
        if instant > now:
            break
        if latest is not None:
            if len(listed) < limit:
                listed.append(latest)
            else:
                more += 1
        latest = instant
    if latest is not None and now - latest > window:
        if len(listed) < limit:
            listed.append(latest)
        else:
            more += 1
        latest = None
    return CatchUp(fire=latest, postponed=tuple(listed), more=more)
