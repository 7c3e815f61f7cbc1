"""Recurrence rules from reference section (c) and the decisions in (h), in UTC (DST cases: test_dst.py)."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone

import pytest

from scheduler_core.domain.errors import InvalidInput, ScheduleNeverFires
from scheduler_core.domain.recurrence import (
    Frequency,
    MonthlyOccurrence,
    Recurrence,
    RecurrenceSchedule,
    WeekDay,
    check_fires,
    next_occurrence,
    occurrences,
)


def at(text: str) -> datetime:
    """`2015-04-07T14:00` read as UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def iso(instants: list[datetime]) -> list[str]:
    return [i.astimezone(UTC).strftime("%Y-%m-%dT%H:%M") for i in instants]


def schedule(**fields: object) -> RecurrenceSchedule:
    return RecurrenceSchedule(**fields)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------------------------------
# Without a schedule: the grid start + k * interval, past instances discarded


@pytest.mark.parametrize("start", ["2015-04-07T14:00", "2015-04-05T14:00", "2015-04-01T14:00"])
def test_worked_example_discards_past_instances_and_keeps_the_grid(start: str) -> None:
    recurrence = Recurrence(Frequency.DAY, interval=2)
    found = occurrences(at(start), recurrence, after=at("2015-04-08T13:00"), limit=4)
    assert iso(found) == ["2015-04-09T14:00", "2015-04-11T14:00", "2015-04-13T14:00", "2015-04-15T14:00"]


@pytest.mark.parametrize(
    ("frequency", "interval", "start", "after", "expected"),
    [
        (Frequency.MINUTE, 7, "2015-01-01T00:00", "2026-03-25T12:13", ["2026-03-25T12:13", "2026-03-25T12:20"]),
        (Frequency.HOUR, 5, "2026-03-01T01:30", "2026-03-02T00:00", ["2026-03-02T02:30", "2026-03-02T07:30"]),
        (Frequency.DAY, 1, "2026-03-01T09:00", "2026-03-01T09:00", ["2026-03-01T09:00", "2026-03-02T09:00"]),
        (Frequency.WEEK, 3, "2026-01-05T08:00", "2026-01-06T00:00", ["2026-01-26T08:00", "2026-02-16T08:00"]),
        (Frequency.MONTH, 1, "2026-01-31T08:00", "2026-01-31T08:01", ["2026-03-31T08:00", "2026-05-31T08:00"]),
        (Frequency.MONTH, 12, "2024-02-29T12:00", "2024-03-01T00:00", ["2028-02-29T12:00", "2032-02-29T12:00"]),
    ],
)
def test_basic_grid(frequency: Frequency, interval: int, start: str, after: str, expected: list[str]) -> None:
    found = occurrences(at(start), Recurrence(frequency, interval=interval), after=at(after), limit=2)
    assert iso(found) == expected


def test_start_in_the_future_is_the_first_occurrence() -> None:
    found = next_occurrence(at("2026-05-01T10:17"), Recurrence(Frequency.HOUR), after=at("2026-01-01T00:00"))
    assert found == at("2026-05-01T10:17")


def test_strictly_after_skips_an_occurrence_at_after() -> None:
    recurrence = Recurrence(Frequency.HOUR)
    start = at("2026-01-01T00:00")
    assert next_occurrence(start, recurrence, after=at("2026-01-01T03:00")) == at("2026-01-01T03:00")
    assert next_occurrence(start, recurrence, after=at("2026-01-01T03:00"), strictly_after=True) == at(
        "2026-01-01T04:00"
    )


def test_results_are_utc_whatever_the_input_offset() -> None:
    plus_two = timezone(timedelta(hours=2))
    found = next_occurrence(
        datetime(2026, 1, 1, 12, tzinfo=plus_two), Recurrence(Frequency.DAY), after=at("2026-01-05T00:00")
    )
    assert found is not None and found.tzinfo is UTC and found == at("2026-01-05T10:00")


def test_sub_second_start_is_kept_in_every_occurrence() -> None:
    start = at("2026-01-01T09:00") + timedelta(microseconds=500)
    for frequency in (Frequency.HOUR, Frequency.DAY):
        found = occurrences(start, Recurrence(frequency), after=start, limit=2)
        assert found[0] == start and found[1].microsecond == 500


# --------------------------------------------------------------------------------------------------------------------
# With a schedule


@pytest.mark.parametrize(
    ("frequency", "interval", "fields", "start", "expected"),
    [
        pytest.param(
            Frequency.MONTH, 1,
            {"hours": (10, 22), "monthly_occurrences": (MonthlyOccurrence(WeekDay.FRIDAY, -1),)},
            "2026-01-01T00:00",
            ["2026-01-30T10:00", "2026-01-30T22:00", "2026-02-27T10:00", "2026-02-27T22:00", "2026-03-27T10:00"],
            id="last Friday at 10:00 and 22:00",
        ),
        pytest.param(
            Frequency.MONTH, 1, {"monthly_occurrences": (MonthlyOccurrence(WeekDay.WEDNESDAY, 3),)},
            "2026-01-01T06:45",
            ["2026-01-21T06:45", "2026-02-18T06:45", "2026-03-18T06:45"],
            id="third Wednesday, time of start",
        ),
        pytest.param(
            Frequency.MONTH, 1, {"month_days": (-1,), "hours": (23,), "minutes": (0,)}, "2026-01-15T00:00",
            ["2026-01-31T23:00", "2026-02-28T23:00", "2026-03-31T23:00", "2026-04-30T23:00"],
            id="last day of the month",
        ),
        pytest.param(
            Frequency.MONTH, 1, {"month_days": (31,)}, "2026-01-01T12:00",
            ["2026-01-31T12:00", "2026-03-31T12:00", "2026-05-31T12:00", "2026-07-31T12:00", "2026-08-31T12:00"],
            id="day 31 skips short months",
        ),
        pytest.param(
            Frequency.MONTH, 1,
            {"month_days": (1, 15), "monthly_occurrences": (MonthlyOccurrence(WeekDay.MONDAY, 1),)},
            "2026-05-01T08:00",
            ["2026-05-01T08:00", "2026-05-04T08:00", "2026-05-15T08:00", "2026-06-01T08:00", "2026-06-15T08:00"],
            id="monthDays and monthlyOccurrences unite, one fire when both pick a day",
        ),
        pytest.param(
            Frequency.MONTH, 1, {"monthly_occurrences": (MonthlyOccurrence(WeekDay.SUNDAY),)}, "2026-02-01T07:00",
            ["2026-02-01T07:00", "2026-02-08T07:00", "2026-02-15T07:00", "2026-02-22T07:00", "2026-03-01T07:00"],
            id="every Sunday of the month",
        ),
        pytest.param(
            Frequency.MONTH, 1, {"monthly_occurrences": (MonthlyOccurrence(WeekDay.FRIDAY, 5),)}, "2026-01-01T07:00",
            ["2026-01-30T07:00", "2026-05-29T07:00", "2026-07-31T07:00"],
            id="fifth Friday only in months that have one",
        ),
        pytest.param(
            Frequency.WEEK, 1,
            {"week_days": (WeekDay.MONDAY, WeekDay.WEDNESDAY, WeekDay.FRIDAY), "hours": (9,), "minutes": (30,)},
            "2026-01-06T00:00",
            ["2026-01-07T09:30", "2026-01-09T09:30", "2026-01-12T09:30", "2026-01-14T09:30"],
            id="Mon Wed Fri 9:30, no sooner than start",
        ),
        pytest.param(
            Frequency.WEEK, 2, {"week_days": (WeekDay.MONDAY, WeekDay.FRIDAY), "hours": (9,), "minutes": (0,)},
            "2026-01-07T00:00",  # a Wednesday: its week is period 0
            ["2026-01-09T09:00", "2026-01-19T09:00", "2026-01-23T09:00", "2026-02-02T09:00"],
            id="interval 2 skips whole weeks counted from the week of start",
        ),
        pytest.param(
            Frequency.MONTH, 2, {"month_days": (1,)}, "2026-01-20T06:00",
            ["2026-03-01T06:00", "2026-05-01T06:00"],
            id="interval 2 skips whole months counted from the month of start",
        ),
        pytest.param(
            Frequency.DAY, 1, {"minutes": (0, 30)}, "2026-01-01T10:10",
            ["2026-01-01T10:30", "2026-01-01T11:00", "2026-01-01T11:30", "2026-01-01T12:00"],
            id="Day with only minutes fires every hour",
        ),
        pytest.param(
            Frequency.DAY, 1, {"hours": (6, 18)}, "2026-01-01T10:10",
            ["2026-01-01T18:10", "2026-01-02T06:10", "2026-01-02T18:10"],
            id="hours without minutes take the minute of start",
        ),
        pytest.param(
            Frequency.DAY, 3, {"hours": (8,), "minutes": (0,)}, "2026-01-01T09:00",
            ["2026-01-04T08:00", "2026-01-07T08:00"],
            id="Day interval 3 counts days from the day of start",
        ),
        pytest.param(
            Frequency.HOUR, 3, {"minutes": (0, 20)}, "2026-01-01T10:10",
            ["2026-01-01T10:20", "2026-01-01T13:00", "2026-01-01T13:20", "2026-01-01T16:00"],
            id="Hour with minutes: those minutes of every third hour",
        ),
        pytest.param(
            Frequency.HOUR, 1, {"hours": (9, 10)}, "2026-01-01T10:10",
            ["2026-01-01T10:10", "2026-01-02T09:10", "2026-01-02T10:10"],
            id="Hour with hours: only those hours",
        ),
        pytest.param(
            Frequency.MINUTE, 15, {"hours": (9,)}, "2026-01-01T08:00",
            ["2026-01-01T09:00", "2026-01-01T09:15", "2026-01-01T09:30", "2026-01-01T09:45", "2026-01-02T09:00"],
            id="Minute with hours: every 15 minutes within those hours",
        ),
        pytest.param(
            Frequency.MINUTE, 1, {"minutes": (0, 30)}, "2026-01-01T08:10",
            ["2026-01-01T08:30", "2026-01-01T09:00"],
            id="Minute with minutes: those minutes",
        ),
    ],
)
def test_schedule(
    frequency: Frequency, interval: int, fields: dict[str, object], start: str, expected: list[str]
) -> None:
    recurrence = Recurrence(frequency, interval=interval, schedule=schedule(**fields))
    assert iso(occurrences(at(start), recurrence, after=at(start), limit=len(expected))) == expected


def test_schedule_with_old_start_jumps_to_after_keeping_alignment() -> None:
    recurrence = Recurrence(
        Frequency.WEEK, interval=2, schedule=schedule(week_days=(WeekDay.MONDAY,), hours=(9,), minutes=(0,))
    )
    # 2016-01-04 is a Monday; 2026-01-05 is 261 fortnights later, 2026-01-12 is not on the grid.
    found = occurrences(at("2016-01-04T09:00"), recurrence, after=at("2026-01-01T00:00"), limit=2)
    assert iso(found) == ["2026-01-05T09:00", "2026-01-19T09:00"]
    found = occurrences(at("2016-01-11T09:00"), recurrence, after=at("2026-01-01T00:00"), limit=2)
    assert iso(found) == ["2026-01-12T09:00", "2026-01-26T09:00"]


def test_empty_schedule_counts_as_none() -> None:
    assert Recurrence(Frequency.DAY, schedule=RecurrenceSchedule()).schedule is None


# --------------------------------------------------------------------------------------------------------------------
# count, endTime, executed


def test_count_limits_the_remaining_occurrences() -> None:
    recurrence = Recurrence(Frequency.DAY, count=3)
    start = at("2026-01-01T09:00")
    assert len(occurrences(start, recurrence, after=start, limit=10)) == 3
    assert len(occurrences(start, recurrence, after=start, limit=10, executed=2)) == 1
    assert next_occurrence(start, recurrence, after=start, executed=3) is None
    assert next_occurrence(start, recurrence, after=start, executed=4) is None


def test_end_time_is_inclusive_and_stops_the_series() -> None:
    recurrence = Recurrence(Frequency.DAY, end_time=at("2026-01-03T09:00"))
    found = occurrences(at("2026-01-01T09:00"), recurrence, after=at("2026-01-01T00:00"), limit=10)
    assert iso(found) == ["2026-01-01T09:00", "2026-01-02T09:00", "2026-01-03T09:00"]
    assert next_occurrence(at("2026-01-01T09:00"), recurrence, after=at("2026-01-03T09:01")) is None


@pytest.mark.parametrize(("count", "end", "expected"), [(2, "2026-01-05T00:00", 2), (10, "2026-01-03T12:00", 3)])
def test_count_and_end_time_whichever_comes_first(count: int, end: str, expected: int) -> None:
    recurrence = Recurrence(Frequency.DAY, count=count, end_time=at(end))
    start = at("2026-01-01T09:00")
    assert len(occurrences(start, recurrence, after=start, limit=20)) == expected


# --------------------------------------------------------------------------------------------------------------------
# One-time jobs


def test_one_time_job_in_the_past_runs_once_immediately() -> None:
    start, now = at("2026-01-01T09:00"), at("2026-02-01T00:00")
    assert next_occurrence(start, None, after=now) == now
    assert next_occurrence(start, None, after=now, executed=1) is None


def test_one_time_job_in_the_future_runs_at_start() -> None:
    start, now = at("2026-03-01T09:00"), at("2026-02-01T00:00")
    assert occurrences(start, None, after=now, limit=5) == [start]


def test_one_time_job_strictly_after() -> None:
    start = at("2026-03-01T09:00")
    assert next_occurrence(start, None, after=at("2026-02-01T00:00"), strictly_after=True) == start
    assert next_occurrence(start, None, after=start, strictly_after=True) is None


# --------------------------------------------------------------------------------------------------------------------
# Cron


@pytest.mark.parametrize(
    ("cron", "expected"),
    [
        ("30 9 * * 1-5", ["2026-01-01T09:30", "2026-01-02T09:30", "2026-01-05T09:30"]),  # Thu, Fri, Mon
        ("*/20 * * * *", ["2026-01-01T08:20", "2026-01-01T08:40", "2026-01-01T09:00"]),
        ("15 0 */6 * * *", ["2026-01-01T12:00", "2026-01-01T18:00", "2026-01-02T00:00"]),  # seconds first
        ("0 0 0 1 * *", ["2026-02-01T00:00", "2026-03-01T00:00", "2026-04-01T00:00"]),
    ],
)
def test_cron(cron: str, expected: list[str]) -> None:
    start = at("2026-01-01T08:05")
    found = occurrences(start, Recurrence(cron=cron), after=start, limit=3)
    assert iso(found) == expected


def test_six_field_cron_puts_seconds_first() -> None:
    found = next_occurrence(at("2026-01-01T08:05"), Recurrence(cron="15 0 */6 * * *"), after=at("2026-01-01T08:05"))
    assert found == at("2026-01-01T12:00") + timedelta(seconds=15)


def test_cron_never_before_start_and_honours_count() -> None:
    recurrence = Recurrence(cron="0 * * * *", count=2)
    found = occurrences(at("2026-01-01T10:30"), recurrence, after=at("2025-01-01T00:00"), limit=5)
    assert iso(found) == ["2026-01-01T11:00", "2026-01-01T12:00"]


# --------------------------------------------------------------------------------------------------------------------
# Never fires


@pytest.mark.parametrize(
    ("start", "recurrence", "path"),
    [
        (
            "2026-02-01T00:00",
            Recurrence(Frequency.MONTH, interval=12, schedule=RecurrenceSchedule(month_days=(31,))),
            "properties.recurrence.schedule",
        ),
        (
            "2026-04-01T00:00",
            Recurrence(Frequency.MONTH, interval=12, schedule=RecurrenceSchedule(month_days=(-31,))),
            "properties.recurrence.schedule",
        ),
        (
            "2026-01-01T01:00",
            Recurrence(Frequency.HOUR, interval=6, schedule=RecurrenceSchedule(hours=(3,))),
            "properties.recurrence.schedule",
        ),
        (
            "2026-01-01T00:00",
            Recurrence(Frequency.MINUTE, interval=2, schedule=RecurrenceSchedule(minutes=(5,))),
            "properties.recurrence.schedule",
        ),
        (
            "2026-01-01T09:00",
            Recurrence(Frequency.WEEK, end_time=at("2026-01-01T08:00")),
            "properties.recurrence.endTime",
        ),
        ("2026-01-01T00:00", Recurrence(cron="0 0 30 2 *"), "properties.recurrence.cron"),
    ],
)
def test_never_fires(start: str, recurrence: Recurrence, path: str) -> None:
    assert next_occurrence(at(start), recurrence, after=at(start)) is None
    assert occurrences(at(start), recurrence, after=at(start), limit=3) == []
    with pytest.raises(ScheduleNeverFires) as caught:
        check_fires(at(start), recurrence)
    assert [p.path for p in caught.value.problems] == [path]


def test_check_fires_accepts_a_rare_but_real_schedule() -> None:
    recurrence = Recurrence(Frequency.MONTH, interval=12, schedule=RecurrenceSchedule(month_days=(29,)))
    check_fires(at("2026-02-01T00:00"), recurrence)  # 2028-02-29
    assert next_occurrence(at("2026-02-01T00:00"), recurrence, after=at("2026-02-01T00:00")) == at("2028-02-29T00:00")


# --------------------------------------------------------------------------------------------------------------------
# Validation


def paths(**fields: object) -> list[str]:
    with pytest.raises(InvalidInput) as caught:
        Recurrence(**fields)  # type: ignore[arg-type]
    return [p.path for p in caught.value.problems]


P = "properties.recurrence"


@pytest.mark.parametrize(
    ("frequency", "interval", "ok"),
    [("Minute", 1000, True), ("Minute", 1001, False), ("Hour", 1000, True), ("Hour", 1001, False),
     ("Day", 548, True), ("Day", 549, False), ("Week", 78, True), ("Week", 79, False), ("Month", 18, True),
     ("Month", 19, False), ("Day", 0, False), ("Day", -1, False)],
)
def test_interval_range_per_frequency(frequency: str, interval: int, ok: bool) -> None:
    if ok:
        Recurrence(Frequency(frequency), interval=interval)
    else:
        assert paths(frequency=Frequency(frequency), interval=interval) == [f"{P}.interval"]


def test_enums_accept_any_case_and_keep_the_canonical_value() -> None:
    recurrence = Recurrence("minute", schedule=RecurrenceSchedule(minutes=(5,)))  # type: ignore[arg-type]
    assert recurrence.frequency is Frequency.MINUTE and recurrence.frequency.value == "Minute"
    assert RecurrenceSchedule(week_days=("FRIDAY",)).week_days == (WeekDay.FRIDAY,)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"frequency": "Fortnight"}, [f"{P}.frequency"]),
        ({}, [f"{P}.frequency"]),
        ({"frequency": Frequency.DAY, "count": 0}, [f"{P}.count"]),
        ({"frequency": Frequency.DAY, "end_time": datetime(2026, 1, 1)}, [f"{P}.endTime"]),
        ({"frequency": Frequency.DAY, "time_zone": "Mars/Olympus_Mons"}, [f"{P}.timeZone"]),
        ({"cron": "* * *"}, [f"{P}.cron"]),
        ({"cron": "61 * * * *"}, [f"{P}.cron"]),
        ({"cron": "@daily"}, [f"{P}.cron"]),
        ({"cron": "0 * * * *", "frequency": Frequency.HOUR}, [f"{P}.cron"]),
        ({"cron": "0 * * * *", "schedule": RecurrenceSchedule(minutes=(1,))}, [f"{P}.cron"]),
        ({"cron": "0 * * * *", "interval": 2}, [f"{P}.interval"]),
        ({"frequency": Frequency.DAY, "schedule": RecurrenceSchedule(week_days=(WeekDay.MONDAY,))},
         [f"{P}.schedule.weekDays"]),
        ({"frequency": Frequency.DAY, "schedule": RecurrenceSchedule(month_days=(1,))}, [f"{P}.schedule.monthDays"]),
        ({"frequency": Frequency.WEEK,
          "schedule": RecurrenceSchedule(monthly_occurrences=(MonthlyOccurrence(WeekDay.MONDAY, 1),))},
         [f"{P}.schedule.monthlyOccurrences"]),
        ({"frequency": Frequency.DAY, "interval": 0, "count": -1}, [f"{P}.interval", f"{P}.count"]),
    ],
)
def test_recurrence_validation_paths(fields: dict[str, object], expected: list[str]) -> None:
    assert paths(**fields) == expected


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"minutes": (0, 60)}, ["minutes[1]"]),
        ({"hours": (24,)}, ["hours[0]"]),
        ({"hours": (-1,)}, ["hours[0]"]),
        ({"month_days": (0, 1, 32, -31, -32)}, ["monthDays[0]", "monthDays[2]", "monthDays[4]"]),
        ({"week_days": ("Funday",)}, ["weekDays[0]"]),
        ({"monthly_occurrences": (MonthlyOccurrence(WeekDay.MONDAY, 5), MonthlyOccurrence(WeekDay.FRIDAY, 0))},
         ["monthlyOccurrences[1].Occurrence"]),
        ({"monthly_occurrences": (MonthlyOccurrence(WeekDay.MONDAY, -6),)}, ["monthlyOccurrences[0].Occurrence"]),
    ],
)
def test_schedule_validation_paths(fields: dict[str, object], expected: list[str]) -> None:
    with pytest.raises(InvalidInput) as caught:
        RecurrenceSchedule(**fields)  # type: ignore[arg-type]
    assert [p.path for p in caught.value.problems] == [f"{P}.schedule.{e}" for e in expected]


def test_monthly_occurrence_rejects_an_unknown_day() -> None:
    with pytest.raises(InvalidInput):
        MonthlyOccurrence("Funday")  # type: ignore[arg-type]


def test_naive_datetimes_are_rejected() -> None:
    with pytest.raises(ValueError):
        next_occurrence(datetime(2026, 1, 1), Recurrence(Frequency.DAY), after=at("2026-01-01T00:00"))
    with pytest.raises(ValueError):
        next_occurrence(at("2026-01-01T00:00"), None, after=datetime(2026, 1, 1))


def test_values_are_frozen_and_hashable() -> None:
    from_list = Recurrence(Frequency.WEEK, schedule=RecurrenceSchedule(week_days=[WeekDay.MONDAY]))  # type: ignore[arg-type]
    from_tuple = Recurrence(Frequency.WEEK, schedule=RecurrenceSchedule(week_days=(WeekDay.MONDAY,)))
    assert from_list == from_tuple and hash(from_list) == hash(from_tuple)


def test_the_recurrence_engine_imports_no_azure_module() -> None:
    code = "import sys, scheduler_core.domain.recurrence; print(any(m.split('.')[0] == 'azure' for m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
