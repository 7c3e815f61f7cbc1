"""Recurrence: when a job runs, as a stateless query over explicit instants.

The values mirror Azure Scheduler's `JobRecurrence` (frequency, interval, count, endTime, schedule) plus two
extensions of this project: `time_zone` (an IANA name; wall-clock rules are evaluated there) and `cron`. They are
validated on construction and raise `InvalidInput` naming the offending field by its wire JSON path.

`next_occurrence` and `occurrences` answer "when next, at or after this instant?"; the caller keeps the last fire
time and the number of executions in storage. Every search is bounded. The semantics, with each decision the Azure
documentation left open, are written down in docs/recurrence.md.
"""

from __future__ import annotations

import heapq
from calendar import monthrange
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import Enum
from functools import lru_cache
from itertools import chain
from math import gcd
from typing import Any

from dateutil import rrule as rr

from scheduler_core.domain.cron import cron_problem, cron_walls
from scheduler_core.domain.errors import InvalidInput, Problem, ScheduleNeverFires
from scheduler_core.domain.timezones import to_utc, to_wall, wall_floor, zone

__all__ = [
    "Frequency",
    "WeekDay",
    "MonthlyOccurrence",
    "RecurrenceSchedule",
    "Recurrence",
    "next_occurrence",
    "occurrences",
    "check_fires",
    "SEARCH_HORIZON",
]

_PATH = "properties.recurrence"
_SCHEDULE = f"{_PATH}.schedule"

#: How far past `max(start, after)` a search looks before answering "no occurrence".
SEARCH_HORIZON = timedelta(days=50 * 366)


class _CaseInsensitive(str, Enum):  # noqa: UP042 - the public API is (str, Enum); str() stays the enum's
    """A wire enum that accepts any casing on input (`"minute"`) and keeps the canonical value (`"Minute"`)."""

    @classmethod
    def _missing_(cls, value: object) -> Any:
        if isinstance(value, str):
            for member in cls:
                if member.value.lower() == value.lower():
                    return member
        return None


class Frequency(_CaseInsensitive):
    """`RecurrenceFrequency` on the wire."""

    MINUTE = "Minute"
    HOUR = "Hour"
    DAY = "Day"
    WEEK = "Week"
    MONTH = "Month"


class WeekDay(_CaseInsensitive):
    """`DayOfWeek` / `JobScheduleDay` on the wire."""

    MONDAY = "Monday"
    TUESDAY = "Tuesday"
    WEDNESDAY = "Wednesday"
    THURSDAY = "Thursday"
    FRIDAY = "Friday"
    SATURDAY = "Saturday"
    SUNDAY = "Sunday"


_RRULE_WEEKDAY = dict(zip(WeekDay, (rr.MO, rr.TU, rr.WE, rr.TH, rr.FR, rr.SA, rr.SU), strict=True))

#: The documented maximum interval per frequency (reference section (c)).
_MAX_INTERVAL = {Frequency.MINUTE: 1000, Frequency.HOUR: 1000, Frequency.DAY: 548, Frequency.WEEK: 78,
                 Frequency.MONTH: 18}

_RRULE_FREQ: dict[Frequency, Any] = {Frequency.MINUTE: rr.MINUTELY, Frequency.HOUR: rr.HOURLY, Frequency.DAY: rr.DAILY,
               Frequency.WEEK: rr.WEEKLY, Frequency.MONTH: rr.MONTHLY}


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _coerce_enum(obj: object, name: str, enum: type[Enum], path: str, problems: list[Problem]) -> None:
    value = getattr(obj, name)
    if value is None or isinstance(value, enum):
        return
    try:
        object.__setattr__(obj, name, enum(value))
    except ValueError:
        allowed = ", ".join(str(m.value) for m in enum)
        problems.append(Problem(path, f"must be one of {allowed}"))


@dataclass(frozen=True)
class MonthlyOccurrence:
    """One `monthlyOccurrences` entry: `{Friday, -1}` is the last Friday of the month.

    `occurrence` is -5..5 and not 0; None means every such weekday. Its range is checked by `RecurrenceSchedule`,
    which knows the entry's index for the error path (`...monthlyOccurrences[1].Occurrence`). `day` accepts a
    `WeekDay` or its name in any case.
    """

    day: WeekDay
    occurrence: int | None = None

    def __post_init__(self) -> None:
        problems: list[Problem] = []
        _coerce_enum(self, "day", WeekDay, f"{_SCHEDULE}.monthlyOccurrences[].day", problems)
        if problems:
            raise InvalidInput(problems)


@dataclass(frozen=True)
class RecurrenceSchedule:
    """`JobRecurrenceSchedule`: limits or expands a recurrence (see docs/recurrence.md for how the fields combine).

    Sequences are stored as tuples; week days accept names in any case.

    Raises:
        InvalidInput: a value out of range, with the path of the offending element.
    """

    minutes: tuple[int, ...] = ()
    hours: tuple[int, ...] = ()
    week_days: tuple[WeekDay, ...] = ()
    month_days: tuple[int, ...] = ()
    monthly_occurrences: tuple[MonthlyOccurrence, ...] = ()

    def __post_init__(self) -> None:
        for name in ("minutes", "hours", "week_days", "month_days", "monthly_occurrences"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        problems = self._problems()
        if problems:
            raise InvalidInput(problems)

    @property
    def is_empty(self) -> bool:
        return not (self.minutes or self.hours or self.week_days or self.month_days or self.monthly_occurrences)

    def _problems(self) -> list[Problem]:
        problems: list[Problem] = []
        for wire, values, low, high in (("minutes", self.minutes, 0, 59), ("hours", self.hours, 0, 23)):
            for i, value in enumerate(values):
                if not _is_int(value) or not low <= value <= high:
                    problems.append(Problem(f"{_SCHEDULE}.{wire}[{i}]", f"must be an integer from {low} to {high}"))
        for i, value in enumerate(self.month_days):
            if not _is_int(value) or not (1 <= value <= 31 or -31 <= value <= -1):
                problems.append(Problem(f"{_SCHEDULE}.monthDays[{i}]", "must be from 1 to 31 or from -31 to -1"))
        days = []
        for i, day in enumerate(self.week_days):
            try:
                days.append(WeekDay(day))
            except ValueError:
                problems.append(Problem(f"{_SCHEDULE}.weekDays[{i}]", "is not a day of the week"))
        object.__setattr__(self, "week_days", tuple(days))
        for i, entry in enumerate(self.monthly_occurrences):
            path = f"{_SCHEDULE}.monthlyOccurrences[{i}]"
            if not isinstance(entry, MonthlyOccurrence):
                problems.append(Problem(path, "must be a MonthlyOccurrence"))
            elif entry.day is None:
                problems.append(Problem(f"{path}.day", "is required"))
            elif entry.occurrence is not None and (
                not _is_int(entry.occurrence) or not -5 <= entry.occurrence <= 5 or entry.occurrence == 0
            ):
                problems.append(Problem(f"{path}.Occurrence", "must be from -5 to 5 and not 0"))
        return problems


@dataclass(frozen=True)
class Recurrence:
    """`JobRecurrence`, plus this project's `timeZone` and `cron`.

    Attributes:
        frequency: the period; None only when `cron` is given.
        interval: how many periods between runs (1..1000 for Minute/Hour, 548 Day, 78 Week, 18 Month).
        count: the maximum number of executions, or None.
        end_time: an aware instant after which the job does not run (an occurrence exactly at it runs), or None.
        schedule: the schedule that limits or expands the recurrence; an empty one counts as none.
        time_zone: the IANA zone whose wall clock the rules use; None is UTC.
        cron: 5 fields (minute first) or 6 fields (second first, NCRONTAB); excludes frequency, interval and schedule.

    Raises:
        InvalidInput: every offending field, each with its wire JSON path.
    """

    frequency: Frequency | None = None
    interval: int = 1
    count: int | None = None
    end_time: datetime | None = None
    schedule: RecurrenceSchedule | None = None
    time_zone: str | None = None
    cron: str | None = None

    def __post_init__(self) -> None:
        problems: list[Problem] = []
        _coerce_enum(self, "frequency", Frequency, f"{_PATH}.frequency", problems)
        if self.schedule is not None and self.schedule.is_empty:
            object.__setattr__(self, "schedule", None)
        if self.cron is not None:
            problems += self._cron_problems()
        elif self.frequency is None:
            if not any(p.path == f"{_PATH}.frequency" for p in problems):
                problems.append(Problem(f"{_PATH}.frequency", "is required when cron is not given"))
        elif isinstance(self.frequency, Frequency):
            problems += self._frequency_problems(self.frequency)
        if self.count is not None and (not _is_int(self.count) or self.count < 1):
            problems.append(Problem(f"{_PATH}.count", "must be a positive integer"))
        if self.end_time is not None and (not isinstance(self.end_time, datetime) or self.end_time.tzinfo is None):
            problems.append(Problem(f"{_PATH}.endTime", "must be a date-time with a UTC offset"))
        if self.time_zone is not None:
            try:
                zone(self.time_zone)
            except (ValueError, TypeError) as exc:
                problems.append(Problem(f"{_PATH}.timeZone", str(exc)))
        if problems:
            raise InvalidInput(problems)

    def _cron_problems(self) -> list[Problem]:
        problems = []
        if self.frequency is not None:
            problems.append(Problem(f"{_PATH}.cron", "cannot be combined with frequency"))
        if self.schedule is not None:
            problems.append(Problem(f"{_PATH}.cron", "cannot be combined with schedule"))
        if self.interval != 1:
            problems.append(Problem(f"{_PATH}.interval", "cannot be combined with cron"))
        why = cron_problem(self.cron) if isinstance(self.cron, str) else "must be a string"
        if why:
            problems.append(Problem(f"{_PATH}.cron", why))
        return problems

    def _frequency_problems(self, frequency: Frequency) -> list[Problem]:
        problems = []
        top = _MAX_INTERVAL[frequency]
        if not _is_int(self.interval) or not 1 <= self.interval <= top:
            problems.append(Problem(f"{_PATH}.interval", f"must be from 1 to {top} for {frequency.value} frequency"))
        schedule = self.schedule
        if schedule is not None:
            if schedule.week_days and frequency is not Frequency.WEEK:
                problems.append(Problem(f"{_SCHEDULE}.weekDays", "can be specified only with Week frequency"))
            if schedule.month_days and frequency is not Frequency.MONTH:
                problems.append(Problem(f"{_SCHEDULE}.monthDays", "can be specified only with Month frequency"))
            if schedule.monthly_occurrences and frequency is not Frequency.MONTH:
                problems.append(
                    Problem(f"{_SCHEDULE}.monthlyOccurrences", "can be specified only with Month frequency")
                )
        return problems


# --------------------------------------------------------------------------------------------------------------------
# Queries


def next_occurrence(
    start: datetime,
    recurrence: Recurrence | None,
    *,
    after: datetime,
    executed: int = 0,
    strictly_after: bool = False,
    immediate: bool = False,
) -> datetime | None:
    """The first occurrence at or after `after`, or None when the job has no further occurrence.

    Args:
        start: the job's startTime (aware). No occurrence is ever earlier.
        recurrence: the recurrence, or None for a one-time job.
        after: the instant to search from (aware), usually now or the last fire time.
        executed: how many occurrences have run; with `recurrence.count` it limits what remains.
        strictly_after: search for an occurrence strictly later than `after`.
        immediate: the series opens with one run at `start`, or at once when `start` has passed, before the
            recurrence's own occurrences (a schedule without startTime: "Run once immediately. Run subsequent
            executions based on a recurrence schedule", reference (c)). It counts as an execution.

    Returns:
        An aware UTC datetime, or None when nothing remains: `count` reached, past `end_time`, or no match within
        `SEARCH_HORIZON`.

    Raises:
        ValueError: `start` or `after` is naive, or `executed` is negative.
    """
    found = occurrences(
        start, recurrence, after=after, limit=1, executed=executed, strictly_after=strictly_after, immediate=immediate
    )
    return found[0] if found else None


def occurrences(
    start: datetime,
    recurrence: Recurrence | None,
    *,
    after: datetime,
    limit: int,
    executed: int = 0,
    strictly_after: bool = False,
    immediate: bool = False,
) -> list[datetime]:
    """Up to `limit` consecutive occurrences from `after` on, by the rules of `next_occurrence`.

    `count` is honoured as `count - executed` remaining occurrences.

    Returns:
        Strictly increasing aware UTC datetimes; empty when nothing remains.

    Raises:
        ValueError: `start` or `after` is naive, or `executed` or `limit` is negative.
    """
    _require_aware(start, "start")
    _require_aware(after, "after")
    if executed < 0 or limit < 0:
        raise ValueError("executed and limit must not be negative")
    start, after = start.astimezone(UTC), after.astimezone(UTC)
    if recurrence is None:
        return _one_time(start, after, executed, strictly_after)[:limit]
    if immediate and executed == 0 and limit > 0:
        first = _one_time(start, after, executed, strictly_after)
        if first and (recurrence.end_time is None or first[0] <= recurrence.end_time):
            # the run at once; the recurrence's occurrences follow strictly after it
            rest = occurrences(start, recurrence, after=first[0], limit=limit - 1, executed=1, strictly_after=True)
            return first + rest
    if recurrence.count is not None:
        limit = min(limit, recurrence.count - executed)
    if limit <= 0:
        return []
    low = max(start, after)
    bound = low + SEARCH_HORIZON
    if recurrence.end_time is not None:
        bound = min(bound, recurrence.end_time.astimezone(UTC))
    found: list[datetime] = []
    for instant in _instants(start, recurrence, low):
        if instant > bound:
            break
        if instant < low or (strictly_after and instant <= after):
            continue
        found.append(instant)
        if len(found) == limit:
            break
    return found


def check_fires(start: datetime, recurrence: Recurrence | None) -> None:
    """Check that a job with this start and recurrence has at least one occurrence.

    Raises:
        ScheduleNeverFires: no occurrence within `SEARCH_HORIZON` of `start` (or before `end_time`); its problem's
            path names the part to change (`properties.recurrence.endTime`, `.schedule`, `.cron` or the recurrence).
        ValueError: `start` is naive.
    """
    if recurrence is None or next_occurrence(start, recurrence, after=start) is not None:
        return
    if recurrence.end_time is not None and next_occurrence(
        start, replace(recurrence, end_time=None), after=start
    ) is not None:
        raise ScheduleNeverFires([Problem(f"{_PATH}.endTime", "is earlier than the first occurrence")])
    if recurrence.cron is not None:
        path = f"{_PATH}.cron"
    elif recurrence.schedule is not None:
        path = _SCHEDULE
    else:
        path = _PATH
    years = SEARCH_HORIZON.days // 366
    raise ScheduleNeverFires([Problem(path, f"has no occurrence within {years} years of startTime")])


def _require_aware(value: datetime, name: str) -> None:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime")


def _one_time(start: datetime, after: datetime, executed: int, strictly_after: bool) -> list[datetime]:
    # A start time in the past means "run once immediately" (reference (c), startTime table), so the occurrence is
    # `after` itself. Strictly after `after` there is nothing left to run immediately: only a future start counts.
    if executed > 0:
        return []
    if strictly_after:
        return [start] if start > after else []
    return [max(start, after)]


# --------------------------------------------------------------------------------------------------------------------
# Candidate streams: ascending, strictly increasing UTC instants, starting no later than the first one >= `low`.


def _instants(start: datetime, recurrence: Recurrence, low: datetime) -> Iterator[datetime]:
    frequency = recurrence.frequency
    if recurrence.cron is None and recurrence.schedule is None and frequency in (Frequency.MINUTE, Frequency.HOUR):
        return _duration_grid(start, recurrence, low)
    tz = zone(recurrence.time_zone)
    if recurrence.cron is not None:
        walls: Iterable[datetime] = cron_walls(recurrence.cron, wall_floor(low, tz))
        micro = 0
    else:
        walls = _rule_walls(to_wall(start, tz).replace(microsecond=0), recurrence, wall_floor(low, tz))
        micro = start.microsecond
    instants = _to_instants(walls, tz, micro)
    if recurrence.schedule is None and recurrence.cron is None and start >= low:
        # "For basic schedules, startTime is the first occurrence", even when its wall reading is the second pass
        # of a repeated hour (which the stream maps to the first pass, before start).
        return _increasing(chain([start], instants))
    return instants


def _duration_grid(start: datetime, recurrence: Recurrence, low: datetime) -> Iterator[datetime]:
    """Minute/Hour without a schedule: `start + k * interval` in real elapsed time, whatever the zone."""
    unit = timedelta(minutes=1) if recurrence.frequency is Frequency.MINUTE else timedelta(hours=1)
    step = unit * recurrence.interval
    k = max(0, -((start - low) // step))  # ceil((low - start) / step)
    while True:
        yield start + k * step
        k += 1


def _to_instants(walls: Iterable[datetime], tz: Any, microsecond: int) -> Iterator[datetime]:
    # Wall times in a DST gap collapse onto one instant (and rules united by heapq.merge may repeat one): fire once.
    return _increasing(to_utc(wall.replace(microsecond=microsecond), tz) for wall in walls)


def _increasing(instants: Iterable[datetime]) -> Iterator[datetime]:
    last: datetime | None = None
    for instant in instants:
        if last is None or instant > last:
            last = instant
            yield instant


def _rule_walls(start: datetime, recurrence: Recurrence, floor: datetime) -> Iterator[datetime]:
    """Wall times of a calendar rule (Day/Week/Month, or any frequency with a schedule), from about `floor` on.

    Built on `dateutil.rrule` with every BYxxx given explicitly, so that `dtstart` only anchors the period that
    `interval` counts from (RFC 5545) and can be moved forward by whole intervals without changing the result.
    """
    frequency = recurrence.frequency
    assert frequency is not None
    schedule = recurrence.schedule or RecurrenceSchedule()
    common: dict[str, Any] = {"interval": recurrence.interval, "wkst": rr.MO, "bysecond": (start.second,)}
    if frequency is Frequency.MINUTE:
        common.update(byhour=schedule.hours or None, byminute=schedule.minutes or None)
    elif frequency is Frequency.HOUR:
        common.update(byhour=schedule.hours or None, byminute=schedule.minutes or (start.minute,))
    else:
        all_hours = tuple(range(24)) if schedule.minutes else (start.hour,)
        common.update(byhour=schedule.hours or all_hours, byminute=schedule.minutes or (start.minute,))
    day_sets: list[dict[str, Any]] = [{}]
    if frequency is Frequency.WEEK:
        days = schedule.week_days or (_weekday(start),)
        day_sets = [{"byweekday": tuple(_RRULE_WEEKDAY[d] for d in days)}]
    elif frequency is Frequency.MONTH:
        day_sets = _month_day_sets(schedule, start)
        if not _month_rule_can_fire(_period(Frequency.MONTH, start), recurrence.interval,
                                    schedule.month_days, schedule.monthly_occurrences):
            return iter(())
    dtstart = _aligned_dtstart(frequency, recurrence.interval, start, floor)
    rules = []
    for day_set in day_sets:
        try:
            rules.append(_guarded(rr.rrule(_RRULE_FREQ[frequency], dtstart=dtstart, **common, **day_set)))
        except ValueError:  # rrule proves at construction that BYxxx and interval never meet (Hour/Minute)
            continue
    return heapq.merge(*rules)


def _guarded(rule: rr.rrule) -> Iterator[datetime]:
    try:
        yield from rule
    except ValueError:  # MINUTELY with BYHOUR that interval steps never reach: rrule finds out on the way
        return


def _weekday(day: datetime) -> WeekDay:
    return list(WeekDay)[day.weekday()]


def _month_day_sets(schedule: RecurrenceSchedule, start: datetime) -> list[dict[str, Any]]:
    """One rrule keyword set per kind of day selector; rrule intersects BYxxx within one rule, Azure unites them."""
    if not (schedule.month_days or schedule.monthly_occurrences):
        return [{"bymonthday": (start.day,)}]
    sets: list[dict[str, Any]] = []
    if schedule.month_days:
        sets.append({"bymonthday": schedule.month_days})
    every = tuple(_RRULE_WEEKDAY[o.day] for o in schedule.monthly_occurrences if o.occurrence is None)
    nth = tuple(_RRULE_WEEKDAY[o.day](o.occurrence) for o in schedule.monthly_occurrences if o.occurrence is not None)
    sets += [{"byweekday": chosen} for chosen in (every, nth) if chosen]
    return sets


def _period(frequency: Frequency, wall: datetime) -> int:
    """The index of the frequency period (minute, hour, day, Monday-based week, month) that contains `wall`."""
    if frequency is Frequency.MONTH:
        return wall.year * 12 + wall.month - 1
    day = wall.toordinal()
    if frequency is Frequency.WEEK:
        return (day - wall.weekday()) // 7
    if frequency is Frequency.DAY:
        return day
    hour = day * 24 + wall.hour
    return hour if frequency is Frequency.HOUR else hour * 60 + wall.minute


def _period_start(frequency: Frequency, index: int) -> datetime:
    if frequency is Frequency.MONTH:
        year, month = divmod(index, 12)
        return datetime(year, month + 1, 1)
    if frequency is Frequency.WEEK:
        return datetime.fromordinal(index * 7 + 1)  # ordinal 1 (0001-01-01) is a Monday
    if frequency is Frequency.DAY:
        return datetime.fromordinal(index)
    if frequency is Frequency.HOUR:
        day, hour = divmod(index, 24)
        return datetime.fromordinal(day).replace(hour=hour)
    day, minute = divmod(index, 24 * 60)
    return datetime.fromordinal(day).replace(hour=minute // 60, minute=minute % 60)


def _aligned_dtstart(frequency: Frequency, interval: int, start: datetime, floor: datetime) -> datetime:
    """The latest dtstart <= `floor` that keeps the periods `start`'s rule fires in, so rrule need not walk from
    `start` when `start` is years ago."""
    first, target = _period(frequency, start), _period(frequency, floor)
    if target <= first:
        return max(start, floor.replace(microsecond=0)) if target == first else start
    skipped = target - first
    if skipped % interval == 0:
        return floor.replace(microsecond=0)
    return _period_start(frequency, first + -(-skipped // interval) * interval)


@lru_cache(maxsize=1024)
def _month_rule_can_fire(
    first_month: int, interval: int, month_days: tuple[int, ...], monthly: tuple[MonthlyOccurrence, ...]
) -> bool:
    """Whether any month the rule visits has one of its days. The Gregorian calendar repeats every 4800 months, so
    that is all there is to look at; rrule itself would search up to year 9999 before giving up."""
    if not (month_days or monthly):
        return True
    for k in range(4800 // gcd(interval, 4800)):
        year, month = divmod(first_month + k * interval, 12)
        if year > 9999:
            return False
        first_weekday, length = monthrange(year, month + 1)
        if any(day <= length if day > 0 else -day <= length for day in month_days):
            return True
        for entry in monthly:
            if entry.occurrence is None:
                return True
            weekday = list(WeekDay).index(entry.day)
            how_many = 4 + (((weekday - first_weekday) % 7) < length - 28)
            if abs(entry.occurrence) <= how_many:
                return True
    return False
