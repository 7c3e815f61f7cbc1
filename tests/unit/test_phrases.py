"""The schedule phrase the console, the CLI and the preview print: one pure function, the zone always named."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from scheduler_core.domain.phrases import describe
from scheduler_core.wire import recurrence_from_wire


@pytest.mark.parametrize(
    ("wire", "phrase"),
    [
        ({"frequency": "Minute", "interval": 15}, "every 15 minutes, UTC"),
        ({"frequency": "Hour"}, "every hour, UTC"),
        ({"frequency": "Day", "interval": 2, "count": 10}, "every 2 days, 10 times, UTC"),
        (
            {"frequency": "Week", "timeZone": "Europe/Berlin",
             "schedule": {"weekDays": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"], "hours": [10, 12],
                          "minutes": [0, 30]}},
            "every weekday at 10:00, 10:30, 12:00 and 12:30, Europe/Berlin",
        ),
        ({"frequency": "Week", "interval": 2, "schedule": {"weekDays": ["sunday", "Saturday"]}},
         "every 2 weeks on weekend day, UTC"),
        (
            {"frequency": "Month",
             "schedule": {"monthlyOccurrences": [{"day": "Friday", "Occurrence": -1}], "hours": [10, 22],
                          "minutes": [0]}},
            "every month on the last Friday at 10:00 and 22:00, UTC",
        ),
        ({"frequency": "Month", "schedule": {"monthDays": [-1, 1, 15]}},
         "every month on day 1, day 15 and the last day, UTC"),
        ({"cron": "0 */5 * * * *"}, "cron 0 */5 * * * *, UTC: every 5 minutes"),
        ({"cron": "30 9 * * 1-5", "timeZone": "America/New_York"},
         "cron 30 9 * * 1-5, America/New_York: at 09:30, Monday through Friday"),
    ],
)
def test_phrase_of_a_schedule(wire: dict, phrase: str) -> None:
    assert describe(recurrence_from_wire(wire)) == phrase


def test_a_one_time_job_reads_as_once_at_its_start_in_utc() -> None:
    assert describe(None, datetime(2026, 12, 2, 10, 0, tzinfo=UTC)) == "once at 2026-12-02 10:00 UTC"


def test_an_until_reads_in_utc() -> None:
    wire = {"frequency": "Hour", "endTime": "2027-01-01T00:00:00+00:00", "timeZone": "Asia/Tokyo"}
    assert describe(recurrence_from_wire(wire)) == "every hour, until 2027-01-01 00:00 UTC, Asia/Tokyo"
