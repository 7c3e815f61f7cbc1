"""Human phrases for schedules: "every weekday at 10:00 and 12:30, Europe/Berlin".

Three surfaces print a schedule (the console, the `azsched` CLI and the API's preview) and must agree, so the phrase
is one pure function of the typed values here. The cron half is cron-descriptor's (a well-kept library); the Azure
recurrence half is ours, because no library speaks `monthlyOccurrences`.

The time zone always ends the phrase (`UTC` when none is set), so a reader never has to guess the clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from scheduler_core.domain.recurrence import Frequency, MonthlyOccurrence, Recurrence, RecurrenceSchedule, WeekDay

__all__ = ["describe", "describe_cron", "describe_recurrence"]

_UNIT = {
    Frequency.MINUTE: "minute",
    Frequency.HOUR: "hour",
    Frequency.DAY: "day",
    Frequency.WEEK: "week",
    Frequency.MONTH: "month",
}
_WEEKDAYS = (WeekDay.MONDAY, WeekDay.TUESDAY, WeekDay.WEDNESDAY, WeekDay.THURSDAY, WeekDay.FRIDAY)
_ORDINAL = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth", -1: "last", -2: "second-to-last",
            -3: "third-to-last", -4: "fourth-to-last", -5: "fifth-to-last"}


def describe(recurrence: Recurrence | None, start: datetime | None = None) -> str:
    """The phrase for a job's schedule: a recurrence, a cron, or once at `start`.

    Args:
        recurrence: the job's recurrence, or None for a one-time job.
        start: the job's start time; used for a one-time job ("once at 2026-12-02 10:00 UTC").

    Returns:
        A phrase ending with the time zone.
    """
    if recurrence is None:
        if start is None:
            return "once, now"
        return f"once at {start.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    if recurrence.cron is not None:
        return describe_cron(recurrence.cron, recurrence.time_zone)
    return describe_recurrence(recurrence)


def describe_cron(expression: str, time_zone: str | None = None) -> str:
    """`cron 0 */5 * * * *, UTC: every 5 minutes` (6 fields are NCRONTAB: seconds first)."""
    fields = expression.split()
    zone = time_zone or "UTC"
    try:
        from cron_descriptor import Options, get_description

        options = Options()
        options.use_24hour_time_format = True
        options.verbose = False
        # cron-descriptor reads a 6-field expression as seconds first, like NCRONTAB.
        text = get_description(" ".join(fields), options)
        text = text[:1].lower() + text[1:]
    except Exception:  # an expression the describer cannot read still has a phrase: the expression itself
        return f"cron {' '.join(fields)}, {zone}"
    return f"cron {' '.join(fields)}, {zone}: {text}"


def describe_recurrence(recurrence: Recurrence) -> str:
    """`every 15 minutes, UTC`; `every weekday at 10:00 and 12:30, Europe/Berlin`;
    `every month on the last Friday at 10:00 and 22:00, UTC`; count and end time follow."""
    frequency = recurrence.frequency or Frequency.DAY
    unit = _UNIT[frequency]
    schedule = recurrence.schedule
    every = f"every {unit}" if recurrence.interval == 1 else f"every {recurrence.interval} {unit}s"
    parts: list[str] = []
    if schedule is not None and frequency is Frequency.WEEK and schedule.week_days:
        days = _weekdays(schedule.week_days)
        if recurrence.interval == 1:
            parts.append(f"every {days}")
        else:
            parts.append(f"{every} on {days}")
    elif (
        schedule is not None and frequency is Frequency.MONTH and (schedule.month_days or schedule.monthly_occurrences)
    ):
        parts.append(f"{every} on {_month_days(schedule)}")
    else:
        parts.append(every)
    if schedule is not None:
        at = _times(schedule)
        if at:
            parts.append(at)
    text = " ".join(parts)
    if recurrence.count is not None:
        text += f", {recurrence.count} time{'s' if recurrence.count != 1 else ''}"
    if recurrence.end_time is not None:
        text += f", until {recurrence.end_time.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    return f"{text}, {recurrence.time_zone or 'UTC'}"


def _and(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def _weekdays(days: Sequence[WeekDay]) -> str:
    unique = sorted(set(days), key=list(WeekDay).index)
    if len(unique) == 7:
        return "day"
    if tuple(unique) == _WEEKDAYS:
        return "weekday"
    if set(unique) == {WeekDay.SATURDAY, WeekDay.SUNDAY}:
        return "weekend day"
    return _and([d.value for d in unique])


def _month_day(day: int) -> str:
    if day == -1:
        return "the last day"
    if day < 0:
        return f"the {_ordinal_number(-day)}-to-last day"
    return f"day {day}"


def _ordinal_number(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _occurrence(entry: MonthlyOccurrence) -> str:
    if entry.occurrence is None:
        return f"every {entry.day.value}"
    return f"the {_ORDINAL[entry.occurrence]} {entry.day.value}"


def _month_days(schedule: RecurrenceSchedule) -> str:
    items = [_month_day(d) for d in sorted(set(schedule.month_days), key=lambda d: (d < 0, abs(d)))]
    items += [_occurrence(o) for o in schedule.monthly_occurrences]
    return _and(items)


def _times(schedule: RecurrenceSchedule) -> str:
    hours = sorted(set(schedule.hours))
    minutes = sorted(set(schedule.minutes))
    if hours and minutes:
        times = [f"{h:02d}:{m:02d}" for h in hours for m in minutes]
        if len(times) > 6:
            return f"at minute {_and([str(m) for m in minutes])} of hour {_and([str(h) for h in hours])}"
        return f"at {_and(times)}"
    if hours:
        return f"in hour {_and([str(h) for h in hours])} (at the start time's minute)"
    if minutes:
        return f"at minute {_and([str(m) for m in minutes])} of every hour"
    return ""
