"""Daylight saving time: wall-clock rules in a zone, gaps fire at the first instant after, overlaps fire once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from scheduler_core.domain.recurrence import (
    Frequency,
    MonthlyOccurrence,
    Recurrence,
    RecurrenceSchedule,
    WeekDay,
    next_occurrence,
    occurrences,
)
from scheduler_core.domain.timezones import to_utc, zone

BERLIN, NEW_YORK, LORD_HOWE = "Europe/Berlin", "America/New_York", "Australia/Lord_Howe"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def local(text: str, name: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(name))


def iso(instants: list[datetime]) -> list[str]:
    return [i.strftime("%Y-%m-%dT%H:%M") for i in instants]


def daily(name: str, **fields: object) -> Recurrence:
    return Recurrence(Frequency.DAY, time_zone=name, **fields)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------------------------------
# The wall-clock -> UTC mapping


@pytest.mark.parametrize(
    ("name", "wall", "expected"),
    [
        (BERLIN, "2026-03-29T02:00", "2026-03-29T01:00"),  # gap 02:00-03:00 CET -> CEST: the transition
        (BERLIN, "2026-03-29T02:30", "2026-03-29T01:00"),
        (BERLIN, "2026-03-29T03:00", "2026-03-29T01:00"),
        (BERLIN, "2026-10-25T02:30", "2026-10-25T00:30"),  # ambiguous: first instance, CEST
        (NEW_YORK, "2026-03-08T02:30", "2026-03-08T07:00"),
        (NEW_YORK, "2026-11-01T01:30", "2026-11-01T05:30"),  # ambiguous: first instance, EDT
        (LORD_HOWE, "2026-10-04T02:15", "2026-10-03T15:30"),  # 30-minute gap 02:00-02:30
        (LORD_HOWE, "2026-04-05T01:45", "2026-04-04T14:45"),  # 30-minute overlap 01:30-02:00, first is +11:00
    ],
)
def test_wall_time_to_utc(name: str, wall: str, expected: str) -> None:
    assert to_utc(datetime.fromisoformat(wall), zone(name)) == utc(expected)


# --------------------------------------------------------------------------------------------------------------------
# Daily jobs keep their local wall time


@pytest.mark.parametrize(
    ("name", "start", "after", "expected_utc"),
    [
        (BERLIN, "2026-03-27T09:00", "2026-03-27T00:00",
         ["2026-03-27T08:00", "2026-03-28T08:00", "2026-03-29T07:00", "2026-03-30T07:00"]),
        (BERLIN, "2026-10-23T09:00", "2026-10-23T00:00",
         ["2026-10-23T07:00", "2026-10-24T07:00", "2026-10-25T08:00", "2026-10-26T08:00"]),
        (NEW_YORK, "2026-03-06T09:00", "2026-03-06T00:00",
         ["2026-03-06T14:00", "2026-03-07T14:00", "2026-03-08T13:00", "2026-03-09T13:00"]),
        (LORD_HOWE, "2026-10-02T09:00", "2026-10-01T00:00",
         ["2026-10-01T22:30", "2026-10-02T22:30", "2026-10-03T22:00", "2026-10-04T22:00"]),
    ],
)
def test_daily_job_keeps_local_wall_time(name: str, start: str, after: str, expected_utc: list[str]) -> None:
    found = occurrences(local(start, name), daily(name), after=utc(after), limit=4)
    assert iso(found) == expected_utc
    assert {f.astimezone(ZoneInfo(name)).strftime("%H:%M") for f in found} == {"09:00"}


def test_daily_job_in_the_gap_fires_at_the_end_of_the_gap_then_returns_to_its_time() -> None:
    found = occurrences(local("2026-03-27T02:30", BERLIN), daily(BERLIN), after=utc("2026-03-27T00:00"), limit=4)
    assert [f.astimezone(ZoneInfo(BERLIN)).strftime("%d %H:%M") for f in found] == [
        "27 02:30", "28 02:30", "29 03:00", "30 02:30"
    ]


def test_daily_job_in_the_overlap_fires_once_at_the_first_instance() -> None:
    found = occurrences(local("2026-10-24T02:30", BERLIN), daily(BERLIN), after=utc("2026-10-24T00:00"), limit=3)
    assert iso(found) == ["2026-10-24T00:30", "2026-10-25T00:30", "2026-10-26T01:30"]


def test_start_in_the_repeated_hour_is_still_the_first_occurrence() -> None:
    start = utc("2026-10-25T01:30")  # 02:30 CET, the second pass of 02:30 in Berlin
    found = occurrences(start, daily(BERLIN), after=start, limit=3)
    assert iso(found) == ["2026-10-25T01:30", "2026-10-26T01:30", "2026-10-27T01:30"]


def test_weekly_and_monthly_rules_use_local_days() -> None:
    # Monday 00:30 in Berlin is Sunday 23:30 UTC: the day selection is local.
    weekly = Recurrence(Frequency.WEEK, time_zone=BERLIN,
                        schedule=RecurrenceSchedule(week_days=(WeekDay.MONDAY,), hours=(0,), minutes=(30,)))
    found = occurrences(utc("2026-03-20T00:00"), weekly, after=utc("2026-03-20T00:00"), limit=2)
    assert iso(found) == ["2026-03-22T23:30", "2026-03-29T22:30"]
    monthly = Recurrence(Frequency.MONTH, time_zone=NEW_YORK,
                         schedule=RecurrenceSchedule(monthly_occurrences=(MonthlyOccurrence(WeekDay.SUNDAY, 2),),
                                                     hours=(2,), minutes=(30,)))
    found = occurrences(utc("2026-02-01T00:00"), monthly, after=utc("2026-02-01T00:00"), limit=3)
    # The second Sunday of March 2026 is the spring-forward day: 02:30 does not exist, so 03:00 EDT.
    assert iso(found) == ["2026-02-08T07:30", "2026-03-08T07:00", "2026-04-12T06:30"]


# --------------------------------------------------------------------------------------------------------------------
# Hourly schedules across the transitions: no duplicates, nothing out of order


def test_hourly_schedule_across_the_gap_fires_once_at_its_end() -> None:
    recurrence = daily(BERLIN, schedule=RecurrenceSchedule(minutes=(0, 30)))
    found = occurrences(utc("2026-03-28T23:00"), recurrence, after=utc("2026-03-28T23:00"), limit=5)
    # 00:00 00:30 01:00 01:30 CET, then 02:00 02:30 03:00 all land on 03:00 CEST (one fire), then 03:30 CEST.
    assert iso(found) == ["2026-03-28T23:00", "2026-03-28T23:30", "2026-03-29T00:00", "2026-03-29T00:30",
                          "2026-03-29T01:00"]
    assert next_occurrence(utc("2026-03-28T23:00"), recurrence, after=utc("2026-03-29T01:00"), strictly_after=True) \
        == utc("2026-03-29T01:30")


def test_hourly_schedule_across_the_overlap_skips_the_repeated_hour() -> None:
    recurrence = daily(BERLIN, schedule=RecurrenceSchedule(minutes=(30,)))
    found = occurrences(utc("2026-10-24T22:00"), recurrence, after=utc("2026-10-24T22:00"), limit=4)
    # 00:30 01:30 02:30 CEST (first instance); the 02:30 CET repeat is not a second fire; then 03:30 CET.
    assert iso(found) == ["2026-10-24T22:30", "2026-10-24T23:30", "2026-10-25T00:30", "2026-10-25T02:30"]


def test_search_from_inside_the_repeated_hour() -> None:
    recurrence = daily(BERLIN, schedule=RecurrenceSchedule(minutes=(30,)))
    # 01:10Z is 02:10 CET, the second time 02:10 reads on the clock; 02:30 already fired at 00:30Z.
    assert next_occurrence(utc("2026-10-01T00:00"), recurrence, after=utc("2026-10-25T01:10")) == utc(
        "2026-10-25T02:30"
    )


def test_lord_howe_half_hour_gap() -> None:
    recurrence = daily(LORD_HOWE, schedule=RecurrenceSchedule(minutes=(0, 15, 30, 45)))
    found = occurrences(utc("2026-10-03T15:00"), recurrence, after=utc("2026-10-03T15:00"), limit=4)
    # 01:30 01:45 +10:30, then 02:00 02:15 (gap) and 02:30 +11:00 share the transition, then 02:45.
    assert iso(found) == ["2026-10-03T15:00", "2026-10-03T15:15", "2026-10-03T15:30", "2026-10-03T15:45"]


# --------------------------------------------------------------------------------------------------------------------
# Minute and Hour grids are real durations


@pytest.mark.parametrize(("name", "day"), [(BERLIN, "2026-03-29"), (BERLIN, "2026-10-25"), (LORD_HOWE, "2026-10-04")])
def test_minute_grid_is_absolute_across_transitions(name: str, day: str) -> None:
    recurrence = Recurrence(Frequency.MINUTE, interval=90, time_zone=name)
    start = local(f"{day}T00:00", name) - timedelta(days=1)
    found = occurrences(start, recurrence, after=start, limit=40)
    assert all(b - a == timedelta(minutes=90) for a, b in zip(found, found[1:], strict=False))


# --------------------------------------------------------------------------------------------------------------------
# Cron in a zone


def test_cron_in_a_zone_keeps_local_time_across_dst() -> None:
    recurrence = Recurrence(cron="0 9 * * *", time_zone=BERLIN)
    found = occurrences(utc("2026-03-28T00:00"), recurrence, after=utc("2026-03-28T00:00"), limit=2)
    assert iso(found) == ["2026-03-28T08:00", "2026-03-29T07:00"]


def test_cron_in_the_gap_fires_once() -> None:
    recurrence = Recurrence(cron="*/15 * * * *", time_zone=BERLIN)
    found = occurrences(utc("2026-03-29T00:40"), recurrence, after=utc("2026-03-29T00:40"), limit=3)
    assert iso(found) == ["2026-03-29T00:45", "2026-03-29T01:00", "2026-03-29T01:15"]


def test_six_field_cron_in_the_overlap_fires_once() -> None:
    recurrence = Recurrence(cron="0 30 2 * * *", time_zone=NEW_YORK)
    found = occurrences(utc("2026-10-31T00:00"), recurrence, after=utc("2026-10-31T00:00"), limit=3)
    assert iso(found) == ["2026-10-31T06:30", "2026-11-01T07:30", "2026-11-02T07:30"]
    recurrence = Recurrence(cron="0 30 1 * * *", time_zone=NEW_YORK)
    found = occurrences(utc("2026-10-31T00:00"), recurrence, after=utc("2026-10-31T00:00"), limit=3)
    assert iso(found) == ["2026-10-31T05:30", "2026-11-01T05:30", "2026-11-02T06:30"]
