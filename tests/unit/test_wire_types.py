"""Parsing and rendering of wire scalars: case-insensitive enums, lenient datetimes, ISO 8601 / TimeSpan durations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from scheduler_core.api.models import JobAction, JobRecurrence, JobRecurrenceScheduleMonthlyOccurrence, Sku
from scheduler_core.api.types import format_duration, parse_datetime, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PT30S", timedelta(seconds=30)),
        ("pt30s", timedelta(seconds=30)),
        ("P1D", timedelta(days=1)),
        ("PT1H30M", timedelta(hours=1, minutes=30)),
        ("00:00:30", timedelta(seconds=30)),
        ("00:05:00", timedelta(minutes=5)),
        ("03:00:00", timedelta(hours=3)),
        ("1.00:00:00", timedelta(days=1)),
        ("60.00:00:00", timedelta(days=60)),
        ("00:00:01.5", timedelta(seconds=1.5)),
    ],
)
def test_durations_parse_from_iso_or_timespan(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text",
    ["30 seconds", "P1M", "P1Y", "00:61", "1.2.3", "", "00:99:99", "24:00:00", "P99999999999999D",
     "999999999999.00:00:00"],
)
def test_durations_that_are_neither_iso_nor_timespan_fail(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


@pytest.mark.parametrize(
    ("value", "text"),
    [(timedelta(seconds=30), "PT30S"), (timedelta(days=1), "P1D"), (timedelta(minutes=90), "PT1H30M")],
)
def test_durations_render_as_iso(value: timedelta, text: str) -> None:
    assert format_duration(value) == text
    assert parse_duration(format_duration(value)) == value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2030-01-01T10:00:00+02:00", datetime(2030, 1, 1, 8, tzinfo=UTC)),
        ("2030-01-01T10:00:00-05:30", datetime(2030, 1, 1, 15, 30, tzinfo=UTC)),
        ("2030-01-01T10:00:00Z", datetime(2030, 1, 1, 10, tzinfo=UTC)),
        ("2030-01-01T10:00:00", datetime(2030, 1, 1, 10, tzinfo=UTC)),
        ("2030-01-01", datetime(2030, 1, 1, tzinfo=UTC)),
    ],
)
def test_datetimes_parse_to_utc(text: str, expected: datetime) -> None:
    parsed = parse_datetime(text)
    assert parsed == expected
    assert parsed.utcoffset() == timedelta(0)


def test_datetimes_render_in_utc_with_z() -> None:
    from scheduler_core.wire import format_datetime

    assert format_datetime(datetime(2030, 1, 1, 10, tzinfo=timezone(timedelta(hours=2)))) == "2030-01-01T08:00:00Z"


def test_a_malformed_datetime_fails() -> None:
    with pytest.raises(ValueError):
        parse_datetime("next tuesday")


def test_enums_accept_any_case_and_dump_canonical() -> None:
    action = JobAction.model_validate(
        {"type": "sErViCeBuSqUeUe", "serviceBusQueueMessage": {"transportType": "amqp"},
         "retryPolicy": {"retryType": "FIXED", "retryInterval": "00:00:20"}}
    )
    dumped = action.model_dump(mode="json", exclude_none=True)
    assert dumped["type"] == "ServiceBusQueue"
    assert dumped["serviceBusQueueMessage"]["transportType"] == "AMQP"
    assert dumped["retryPolicy"] == {"retryType": "Fixed", "retryInterval": "PT20S"}
    assert Sku.model_validate({"name": "p10premium"}).model_dump(mode="json") == {"name": "P10Premium"}
    recurrence = JobRecurrence.model_validate({"frequency": "MINUTE", "schedule": {"weekDays": ["sunday"]}})
    assert recurrence.model_dump(mode="json", exclude_none=True) == {
        "frequency": "Minute", "schedule": {"weekDays": ["Sunday"]}
    }


def test_authentication_type_in_any_case_selects_the_subtype() -> None:
    request = JobAction.model_validate(
        {"type": "http", "request": {"uri": "https://x/", "authentication": {"type": "BASIC", "username": "u"}}}
    ).request
    assert request is not None
    assert request.model_dump(mode="json", exclude_none=True)["authentication"] == {"type": "Basic", "username": "u"}


@pytest.mark.parametrize("key", ["Occurrence", "occurrence"])
def test_occurrence_in_either_case_dumps_capitalised(key: str) -> None:
    entry = JobRecurrenceScheduleMonthlyOccurrence.model_validate({"day": "monday", key: -1})
    assert entry.model_dump(mode="json") == {"day": "Monday", "Occurrence": -1}


def test_an_unknown_enum_value_fails() -> None:
    with pytest.raises(ValueError):
        JobRecurrence.model_validate({"frequency": "Fortnight"})


@pytest.mark.parametrize("text", ["0001-01-01T00:00:00+00:01", "9999-12-31T23:59:59-14:00"])
def test_datetimes_outside_the_calendar_in_utc_fail_as_values(text: str) -> None:
    # An OverflowError here used to reach the API's catch-all: a 400 without the field's path.
    with pytest.raises(ValueError, match="outside the years"):
        parse_datetime(text)
