"""Next-occurrence computations per second: `scheduler_core.domain.recurrence.next_occurrence` against plain
`dateutil.rrule(...).after(now)` for the same rules, over a mix of schedules with old start times.

Run with `python -m bench.recurrence`. Prints one line per schedule and one for the mix (each schedule asked equally
often), with the ratio engine / baseline. No figure is asserted.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from dateutil import rrule as rr

from scheduler_core.domain.recurrence import (
    Frequency,
    MonthlyOccurrence,
    Recurrence,
    RecurrenceSchedule,
    WeekDay,
    next_occurrence,
)

#: Each measurement runs for at least this long (and at least `MIN_CALLS` calls).
BUDGET_SECONDS = 0.4
MIN_CALLS = 3

#: The instants asked about: 2026, every 7 hours 13 minutes, so the answers vary.
NOWS = tuple(datetime(2026, 1, 1, tzinfo=UTC) + k * timedelta(hours=7, minutes=13) for k in range(200))


@dataclass(frozen=True)
class Case:
    name: str
    start: datetime
    recurrence: Recurrence
    baseline: rr.rrule  # the same rule as plain dateutil, dtstart = start


def cases() -> list[Case]:
    berlin = ZoneInfo("Europe/Berlin")
    minute_start = datetime(2025, 1, 1, 0, 3, tzinfo=UTC)
    hour_start = datetime(2018, 6, 1, 0, 20, tzinfo=UTC)
    week_start = datetime(2020, 1, 6, 0, 0, tzinfo=UTC)
    month_start = datetime(2016, 1, 1, 0, 0, tzinfo=UTC)
    day_start = datetime(2019, 1, 1, 9, 0, tzinfo=berlin)
    return [
        Case("every 5 minutes since 2025", minute_start, Recurrence(Frequency.MINUTE, interval=5),
             rr.rrule(rr.MINUTELY, interval=5, dtstart=minute_start)),
        Case("every 3 hours since 2018", hour_start, Recurrence(Frequency.HOUR, interval=3),
             rr.rrule(rr.HOURLY, interval=3, dtstart=hour_start)),
        Case("Mon/Wed/Fri 09:30 since 2020", week_start,
             Recurrence(Frequency.WEEK, schedule=RecurrenceSchedule(
                 week_days=(WeekDay.MONDAY, WeekDay.WEDNESDAY, WeekDay.FRIDAY), hours=(9,), minutes=(30,))),
             rr.rrule(rr.WEEKLY, byweekday=(rr.MO, rr.WE, rr.FR), byhour=9, byminute=30, bysecond=0,
                      dtstart=week_start)),
        Case("last Friday 10:00+22:00 since 2016", month_start,
             Recurrence(Frequency.MONTH, schedule=RecurrenceSchedule(
                 hours=(10, 22), minutes=(0,), monthly_occurrences=(MonthlyOccurrence(WeekDay.FRIDAY, -1),))),
             rr.rrule(rr.MONTHLY, byweekday=rr.FR(-1), byhour=(10, 22), byminute=0, bysecond=0,
                      dtstart=month_start)),
        Case("daily 09:00 Berlin since 2019", day_start, Recurrence(Frequency.DAY, time_zone="Europe/Berlin"),
             rr.rrule(rr.DAILY, dtstart=day_start)),
    ]


def rate(call: Callable[[datetime], object]) -> float:
    """Calls per second of `call(now)`, cycling through `NOWS`."""
    calls, began = 0, time.perf_counter()
    while True:
        call(NOWS[calls % len(NOWS)])
        calls += 1
        elapsed = time.perf_counter() - began
        if calls >= MIN_CALLS and elapsed >= BUDGET_SECONDS:
            return calls / elapsed


def check(case: Case) -> None:
    """Both sides must agree, or the comparison means nothing."""
    for now in NOWS[:5]:
        ours = next_occurrence(case.start, case.recurrence, after=now)
        theirs = case.baseline.after(now, inc=True)
        if ours != theirs:
            raise AssertionError(f"{case.name}: engine {ours} != rrule {theirs} after {now}")


def _engine(case: Case, now: datetime) -> object:
    return next_occurrence(case.start, case.recurrence, after=now)


def _baseline(case: Case, now: datetime) -> object:
    return case.baseline.after(now, inc=True)


def main() -> None:
    print("recurrence: next_occurrence/s vs dateutil rrule(...).after(now)/s, same rules, same run")
    print(f"  {'schedule':<36} {'engine/s':>12} {'rrule/s':>12} {'ratio':>9}")
    ours_total = theirs_total = 0.0
    all_cases = cases()
    for case in all_cases:
        check(case)
        ours = rate(partial(_engine, case))
        theirs = rate(partial(_baseline, case))
        ours_total += 1 / ours
        theirs_total += 1 / theirs
        print(f"  {case.name:<36} {ours:>12,.0f} {theirs:>12,.1f} {ours / theirs:>8,.1f}x")
    ours_mix, theirs_mix = len(all_cases) / ours_total, len(all_cases) / theirs_total
    print(f"  {'mix (each schedule equally often)':<36} {ours_mix:>12,.0f} {theirs_mix:>12,.1f} "
          f"{ours_mix / theirs_mix:>8,.1f}x")


if __name__ == "__main__":
    main()
