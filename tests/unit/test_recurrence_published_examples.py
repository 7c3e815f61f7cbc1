"""Every published Azure Scheduler recurrence example, with the fire times its documentation describes.

Sources (MicrosoftDocs/azure-docs):
  ADV  articles/scheduler/scheduler-advanced-complexity.md, "Build complex schedules and advanced recurrence with
       Azure Scheduler" (final version; the 2016 versions have the same examples table);
  CON  articles/scheduler/scheduler-concepts-terms.md (its sample job);
  LA   articles/logic-apps/concepts-schedule-automated-recurring-tasks-workflows.md and
       articles/connectors/connectors-native-recurrence.md (Logic Apps' Recurrence trigger, the same model).

The schedule JSON is the documentation's, as written there (lowercase `occurrence`, lowercase day names); it goes
through the API's wire model like a job body would. A start time is chosen for each example (the docs give one only
where stated) and the expected UTC fire times are written out by hand from the documented sentence, never computed by
the code under test. Decisions where the docs are silent or contradict each other are in docs/recurrence.md.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from scheduler_core.api.models import JobRecurrence
from scheduler_core.domain.recurrence import Recurrence, occurrences
from scheduler_core.wire import recurrence_from_wire

HOURS = list(range(24))
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday"]


def recurrence(wire: dict[str, Any]) -> Recurrence:
    """The documented JSON, read as the API reads a job's `properties.recurrence`."""
    canonical = JobRecurrence.model_validate(wire).model_dump(mode="json", exclude_none=True)
    parsed = recurrence_from_wire(canonical)
    assert parsed is not None
    return parsed


def at(text: str) -> datetime:
    """An ISO date-time; without an offset it is UTC ("A date-time that doesn't specify a UTC offset is assumed to be
    UTC", ADV)."""
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def iso(instants: list[datetime]) -> list[str]:
    return [i.astimezone(UTC).strftime("%Y-%m-%dT%H:%M") for i in instants]


def case(
    cite: str, start: str, wire: dict[str, Any], expected: list[str], *, after: str | None = None, limit: int = 0
) -> Any:
    """One example: `cite` is the documentation's sentence (and the test id); `limit` defaults to len(expected)."""
    return pytest.param(start, wire, after or start, limit or len(expected), expected, id=cite)


# Start times used below: 2026-03-04 is a Wednesday. March 2026 Fridays: 6, 13, 20, 27; Wednesdays: 4, 11, 18, 25.
# April 2026 Fridays: 3, 10, 17, 24; May: 1, 8, 15, 22, 29; July: 3, 10, 17, 24, 31; October: 2, 9, 16, 23, 30.
WED = "2026-03-04T12:00"

EXAMPLES = [
    # ---- ADV, "Examples: Recurrence schedules" (interval 1 throughout: "These schedules assume that interval is
    # set to 1") ------------------------------------------------------------------------------------------------
    case(
        'ADV {"hours":[5]}: Run at 5 AM every day', WED,
        {"frequency": "day", "schedule": {"hours": [5]}},
        ["2026-03-05T05:00", "2026-03-06T05:00", "2026-03-07T05:00"],
    ),
    case(
        'ADV {"minutes":[15], "hours":[5]}: Run at 5:15 AM every day', WED,
        {"frequency": "day", "schedule": {"minutes": [15], "hours": [5]}},
        ["2026-03-05T05:15", "2026-03-06T05:15", "2026-03-07T05:15"],
    ),
    case(
        'ADV {"minutes":[15], "hours":[5,17]}: Run at 5:15 AM and 5:15 PM every day', WED,
        {"frequency": "day", "schedule": {"minutes": [15], "hours": [5, 17]}},
        ["2026-03-04T17:15", "2026-03-05T05:15", "2026-03-05T17:15", "2026-03-06T05:15"],
    ),
    case(
        'ADV {"minutes":[15,45], "hours":[5,17]}: Run at 5:15 AM, 5:45 AM, 5:15 PM, and 5:45 PM every day', WED,
        {"frequency": "day", "schedule": {"minutes": [15, 45], "hours": [5, 17]}},
        ["2026-03-04T17:15", "2026-03-04T17:45", "2026-03-05T05:15", "2026-03-05T05:45", "2026-03-05T17:15"],
    ),
    case(
        'ADV {"minutes":[0,15,30,45]}: Run every 15 minutes', "2026-03-04T23:10",
        {"frequency": "day", "schedule": {"minutes": [0, 15, 30, 45]}},
        ["2026-03-04T23:15", "2026-03-04T23:30", "2026-03-04T23:45", "2026-03-05T00:00", "2026-03-05T00:15"],
    ),
    case(
        'ADV {"hours":[0..23]}: if the start time is 12:25 PM, the job runs at 00:25, 01:25, 02:25, ..., 23:25',
        "2026-03-04T12:25",
        {"frequency": "day", "schedule": {"hours": HOURS}},
        ["2026-03-04T12:25", "2026-03-04T13:25", "2026-03-04T14:25"]
        + [f"2026-03-04T{h}:25" for h in range(15, 24)]
        + ["2026-03-05T00:25", "2026-03-05T01:25"],
    ),
    case(
        'ADV {"hours":[0..23]}: equivalent to a job with a frequency of "hour", an interval of 1, and no schedule',
        "2026-03-04T12:25",
        {"frequency": "hour", "interval": 1},
        ["2026-03-04T12:25", "2026-03-04T13:25", "2026-03-04T14:25", "2026-03-04T15:25"],
    ),
    case(
        'ADV {"hours":[0..23]}: if frequency is "month", the schedule runs only once a month (one day: every hour)',
        "2026-03-04T22:25",
        {"frequency": "month", "schedule": {"hours": HOURS}},
        ["2026-03-04T22:25", "2026-03-04T23:25", "2026-04-04T00:25", "2026-04-04T01:25"],
    ),
    case(
        'ADV {minutes:[0]}: Run every hour on the hour (12 AM, 1 AM, 2 AM, and so on)', "2026-03-04T22:30",
        {"frequency": "day", "schedule": {"minutes": [0]}},
        ["2026-03-04T23:00", "2026-03-05T00:00", "2026-03-05T01:00", "2026-03-05T02:00"],
    ),
    case(
        'ADV {minutes:[0]}: if the frequency is "week", the schedule executes only one day a week', "2026-03-04T22:30",
        {"frequency": "week", "schedule": {"minutes": [0]}},
        ["2026-03-04T23:00", "2026-03-11T00:00", "2026-03-11T01:00"],
    ),
    case(
        'ADV {minutes:[0]}: if the frequency is "month", the schedule executes only one day a month',
        "2026-03-04T22:30",
        {"frequency": "month", "schedule": {"minutes": [0]}},
        ["2026-03-04T23:00", "2026-04-04T00:00", "2026-04-04T01:00"],
    ),
    case(
        'ADV {"minutes":[15]}: Runs every hour, starting at 00:15 AM, 1:15 AM, 2:15 AM. It ends at 11:15 PM',
        "2026-03-04T00:00",
        {"frequency": "day", "schedule": {"minutes": [15]}},
        [f"2026-03-04T{h:02}:15" for h in range(24)] + ["2026-03-05T00:15"],
    ),
    case(
        'ADV {"hours":[17], "weekDays":["saturday"]}: Run at 5 PM on Saturday every week', "2026-03-04T00:00",
        {"frequency": "week", "schedule": {"hours": [17], "weekDays": ["saturday"]}},
        ["2026-03-07T17:00", "2026-03-14T17:00", "2026-03-21T17:00"],
    ),
    case(
        'ADV {hours":[17], "weekDays":["monday", "wednesday", "friday"]}: Run at 5 PM on Monday, Wednesday, and Friday',
        WED,
        {"frequency": "week", "schedule": {"hours": [17], "weekDays": ["monday", "wednesday", "friday"]}},
        ["2026-03-04T17:00", "2026-03-06T17:00", "2026-03-09T17:00", "2026-03-11T17:00"],
    ),
    case(
        'ADV {"minutes":[15,45], "hours":[17], "weekDays":[M, W, F]}: Run at 5:15 PM and 5:45 PM on M, W and F', WED,
        {"frequency": "week",
         "schedule": {"minutes": [15, 45], "hours": [17], "weekDays": ["monday", "wednesday", "friday"]}},
        ["2026-03-04T17:15", "2026-03-04T17:45", "2026-03-06T17:15", "2026-03-06T17:45", "2026-03-09T17:15"],
    ),
    case(
        'ADV {"hours":[5,17], "weekDays":[M, W, F]}: Run at 5 AM and 5 PM on Monday, Wednesday, and Friday', WED,
        {"frequency": "week", "schedule": {"hours": [5, 17], "weekDays": ["monday", "wednesday", "friday"]}},
        ["2026-03-04T17:00", "2026-03-06T05:00", "2026-03-06T17:00", "2026-03-09T05:00"],
    ),
    case(
        'ADV {"minutes":[15,45], "hours":[5,17], "weekDays":[M, W, F]}: Run at 5:15 AM, 5:45 AM, 5:15 PM, and 5:45 PM '
        "on Monday, Wednesday, and Friday", WED,
        {"frequency": "week",
         "schedule": {"minutes": [15, 45], "hours": [5, 17], "weekDays": ["monday", "wednesday", "friday"]}},
        ["2026-03-04T17:15", "2026-03-04T17:45", "2026-03-06T05:15", "2026-03-06T05:45", "2026-03-06T17:15",
         "2026-03-06T17:45", "2026-03-09T05:15"],
    ),
    case(
        'ADV {"minutes":[0,15,30,45], "weekDays":[Monday..Friday]}: Run every 15 minutes on weekdays',
        "2026-03-06T23:20",
        {"frequency": "week", "schedule": {"minutes": [0, 15, 30, 45], "weekDays": WEEKDAYS}},
        ["2026-03-06T23:30", "2026-03-06T23:45", "2026-03-09T00:00", "2026-03-09T00:15"],
    ),
    case(
        'ADV {"minutes":[0,15,30,45], "hours": [9..16], "weekDays":[Monday..Friday]}: Run every 15 minutes on '
        "weekdays, between 9 AM and 4:45 PM", "2026-03-06T16:00",
        {"frequency": "week",
         "schedule": {"minutes": [0, 15, 30, 45], "hours": list(range(9, 17)), "weekDays": WEEKDAYS}},
        ["2026-03-06T16:00", "2026-03-06T16:15", "2026-03-06T16:30", "2026-03-06T16:45", "2026-03-09T09:00",
         "2026-03-09T09:15"],
    ),
    case(
        'ADV {"weekDays":["sunday"]}: Run on Sundays at start time', WED,
        {"frequency": "week", "schedule": {"weekDays": ["sunday"]}},
        ["2026-03-08T12:00", "2026-03-15T12:00", "2026-03-22T12:00"],
    ),
    case(
        'ADV {"weekDays":["tuesday", "thursday"]}: Run on Tuesdays and Thursdays at start time', WED,
        {"frequency": "week", "schedule": {"weekDays": ["tuesday", "thursday"]}},
        ["2026-03-05T12:00", "2026-03-10T12:00", "2026-03-12T12:00", "2026-03-17T12:00"],
    ),
    case(
        'ADV {"minutes":[0], "hours":[6], "monthDays":[28]}: Run at 6 AM on the twenty-eighth day of every month', WED,
        {"frequency": "month", "schedule": {"minutes": [0], "hours": [6], "monthDays": [28]}},
        ["2026-03-28T06:00", "2026-04-28T06:00", "2026-05-28T06:00"],
    ),
    case(
        'ADV {"minutes":[0], "hours":[6], "monthDays":[-1]}: Run at 6 AM on the last day of the month',
        "2026-01-15T12:00",
        {"frequency": "month", "schedule": {"minutes": [0], "hours": [6], "monthDays": [-1]}},
        ["2026-01-31T06:00", "2026-02-28T06:00", "2026-03-31T06:00", "2026-04-30T06:00"],
    ),
    case(
        'ADV {"minutes":[0], "hours":[6], "monthDays":[1,-1]}: Run at 6 AM on the first and last day of every month',
        "2026-01-15T12:00",
        {"frequency": "month", "schedule": {"minutes": [0], "hours": [6], "monthDays": [1, -1]}},
        ["2026-01-31T06:00", "2026-02-01T06:00", "2026-02-28T06:00", "2026-03-01T06:00", "2026-03-31T06:00"],
    ),
    case(
        'ADV {monthDays":[1,-1]}: Run on the first and last day of every month at start time', "2026-01-15T12:00",
        {"frequency": "month", "schedule": {"monthDays": [1, -1]}},
        ["2026-01-31T12:00", "2026-02-01T12:00", "2026-02-28T12:00", "2026-03-01T12:00"],
    ),
    case(
        'ADV {monthDays":[1,14]}: Run on the first and fourteenth day of every month at start time', WED,
        {"frequency": "month", "schedule": {"monthDays": [1, 14]}},
        ["2026-03-14T12:00", "2026-04-01T12:00", "2026-04-14T12:00", "2026-05-01T12:00"],
    ),
    case(
        'ADV {monthDays":[2]}: Run on the second day of the month at start time', WED,
        {"frequency": "month", "schedule": {"monthDays": [2]}},
        ["2026-04-02T12:00", "2026-05-02T12:00", "2026-06-02T12:00"],
    ),
    case(
        'ADV {"minutes":[0], "hours":[5], "monthlyOccurrences":[{"day":"friday", "occurrence":1}]}: Run on the first '
        "Friday of every month at 5 AM", WED,
        {"frequency": "month",
         "schedule": {"minutes": [0], "hours": [5], "monthlyOccurrences": [{"day": "friday", "occurrence": 1}]}},
        ["2026-03-06T05:00", "2026-04-03T05:00", "2026-05-01T05:00", "2026-06-05T05:00"],
    ),
    case(
        'ADV {"monthlyOccurrences":[{"day":"friday", "occurrence":1}]}: Run on the first Friday of every month at '
        "start time", WED,
        {"frequency": "month", "schedule": {"monthlyOccurrences": [{"day": "friday", "occurrence": 1}]}},
        ["2026-03-06T12:00", "2026-04-03T12:00", "2026-05-01T12:00"],
    ),
    case(
        'ADV {"monthlyOccurrences":[{"day":"friday", "occurrence":-3}]}: Run on the third Friday from the end of the '
        "month, every month, at start time", WED,
        {"frequency": "month", "schedule": {"monthlyOccurrences": [{"day": "friday", "occurrence": -3}]}},
        ["2026-03-13T12:00", "2026-04-10T12:00", "2026-05-15T12:00"],
    ),
    case(
        'ADV {"minutes":[15], "hours":[5], "monthlyOccurrences":[{friday, 1},{friday, -1}]}: Run on the first and last '
        "Friday of every month at 5:15 AM", WED,
        {"frequency": "month",
         "schedule": {"minutes": [15], "hours": [5], "monthlyOccurrences": [
             {"day": "friday", "occurrence": 1}, {"day": "friday", "occurrence": -1}]}},
        ["2026-03-06T05:15", "2026-03-27T05:15", "2026-04-03T05:15", "2026-04-24T05:15", "2026-05-01T05:15",
         "2026-05-29T05:15"],
    ),
    case(
        'ADV {"monthlyOccurrences":[{friday, 1},{friday, -1}]}: Run on the first and last Friday of every month at '
        "start time", WED,
        {"frequency": "month", "schedule": {"monthlyOccurrences": [
            {"day": "friday", "occurrence": 1}, {"day": "friday", "occurrence": -1}]}},
        ["2026-03-06T12:00", "2026-03-27T12:00", "2026-04-03T12:00", "2026-04-24T12:00"],
    ),
    case(
        'ADV {"monthlyOccurrences":[{"day":"friday", "occurrence":5}]}: If there is no fifth Friday in a month, the '
        "job doesn't run", WED,
        {"frequency": "month", "schedule": {"monthlyOccurrences": [{"day": "friday", "occurrence": 5}]}},
        ["2026-05-29T12:00", "2026-07-31T12:00", "2026-10-30T12:00"],
    ),
    case(
        'ADV {"minutes":[0,15,30,45], "monthlyOccurrences":[{"day":"friday", "occurrence":-1}]}: Run every 15 minutes '
        "on the last Friday of the month", WED,
        {"frequency": "month",
         "schedule": {"minutes": [0, 15, 30, 45], "monthlyOccurrences": [{"day": "friday", "occurrence": -1}]}},
        ["2026-03-27T00:00", "2026-03-27T00:15", "2026-03-27T00:30"],
    ),
    case(
        "ADV every 15 minutes on the last Friday of the month: from the end of one last Friday to the next",
        WED,
        {"frequency": "month",
         "schedule": {"minutes": [0, 15, 30, 45], "monthlyOccurrences": [{"day": "friday", "occurrence": -1}]}},
        ["2026-03-27T23:30", "2026-03-27T23:45", "2026-04-24T00:00", "2026-04-24T00:15"],
        after="2026-03-27T23:30",
    ),
    case(
        'ADV {"minutes":[15,45], "hours":[5,17], "monthlyOccurrences":[{"day":"wednesday", "occurrence":3}]}: Run at '
        "5:15 AM, 5:45 AM, 5:15 PM, and 5:45 PM on the third Wednesday of every month", WED,
        {"frequency": "month", "schedule": {"minutes": [15, 45], "hours": [5, 17],
                                            "monthlyOccurrences": [{"day": "wednesday", "occurrence": 3}]}},
        ["2026-03-18T05:15", "2026-03-18T05:45", "2026-03-18T17:15", "2026-03-18T17:45", "2026-04-15T05:15"],
    ),
    # ---- ADV, "Deep dive: schedule" and the element table --------------------------------------------------------
    case(
        'ADV: a job with a frequency of "month" and a schedule that runs only on day 31 runs only in months that have '
        "a thirty-first day", "2026-01-01T12:00",
        {"frequency": "month", "schedule": {"monthDays": [31]}},
        ["2026-01-31T12:00", "2026-03-31T12:00", "2026-05-31T12:00", "2026-07-31T12:00", "2026-08-31T12:00"],
    ),
    case(
        "ADV: a schedule that runs on month days 1 and 2 runs on the first and second days of the month instead of "
        "only once a month", WED,
        {"frequency": "month", "schedule": {"monthDays": [1, 2]}},
        ["2026-04-01T12:00", "2026-04-02T12:00", "2026-05-01T12:00", "2026-05-02T12:00"],
    ),
    case(
        "ADV monthlyOccurrences: day is the day of the week the job runs. For example, {Sunday} is every Sunday of the "
        "month (occurrence is optional)", WED,
        {"frequency": "month", "schedule": {"monthlyOccurrences": [{"day": "sunday"}]}},
        ["2026-03-08T12:00", "2026-03-15T12:00", "2026-03-22T12:00", "2026-03-29T12:00", "2026-04-05T12:00"],
    ),
    case(
        'ADV: if interval is 10 and frequency is "week", the job recurs every 10 weeks', WED,
        {"frequency": "week", "interval": 10},
        ["2026-03-04T12:00", "2026-05-13T12:00", "2026-07-22T12:00"],
    ),
    # ---- ADV, "Deep dive: startTime" -----------------------------------------------------------------------------
    case(
        "ADV: current time 2015-04-08 13:00, startTime 2015-04-07 14:00, every two days: the first execution will be "
        "on 2015-04-09 at 14:00, then 2015-04-11, 2015-04-13, 2015-04-15",
        "2015-04-07T14:00", {"frequency": "day", "interval": 2},
        ["2015-04-09T14:00", "2015-04-11T14:00", "2015-04-13T14:00", "2015-04-15T14:00"],
        after="2015-04-08T13:00",
    ),
    case(
        "ADV: the first execution would be the same whether startTime is 2015-04-05 14:00",
        "2015-04-05T14:00", {"frequency": "day", "interval": 2},
        ["2015-04-09T14:00", "2015-04-11T14:00"], after="2015-04-08T13:00",
    ),
    case(
        "ADV: the first execution would be the same whether startTime is ... or 2015-04-01 14:00",
        "2015-04-01T14:00", {"frequency": "day", "interval": 2},
        ["2015-04-09T14:00", "2015-04-11T14:00"], after="2015-04-08T13:00",
    ),
    case(
        "ADV: Start time in the future, recurrence, no schedule: run once at the specified start time",
        "2026-03-04T12:34", {"frequency": "day"},
        ["2026-03-04T12:34", "2026-03-05T12:34"], after="2026-03-01T00:00",
    ),
    case(
        "ADV: Start time in the past, recurrence with schedule: the job starts no sooner than the specified start "
        "time; the first occurrence is based on the schedule calculated from the start time",
        "2015-04-07T14:00", {"frequency": "day", "schedule": {"hours": [10], "minutes": [0]}},
        ["2015-04-09T10:00", "2015-04-10T10:00"], after="2015-04-08T13:00",
    ),
    case(
        "ADV: Start time in the future, recurrence with schedule: the job starts no sooner than the specified start "
        "time", "2026-03-04T12:00", {"frequency": "day", "schedule": {"hours": [10], "minutes": [0]}},
        ["2026-03-05T10:00", "2026-03-06T10:00"], after="2026-03-01T00:00",
    ),
    case(
        "ADV: when a job has a schedule, if hours and minutes aren't set in the schedule, the values default to the "
        "hours and minutes of the first execution", "2026-03-04T08:37",
        {"frequency": "week", "schedule": {"weekDays": ["friday"]}},
        ["2026-03-06T08:37", "2026-03-13T08:37"],
    ),
    case(
        "ADV: for a job that's executed daily with a count of 5 and a start date of Monday, the job completes after "
        "execution on Friday", "2026-03-02T09:00", {"frequency": "day", "count": 5},
        ["2026-03-02T09:00", "2026-03-03T09:00", "2026-03-04T09:00", "2026-03-05T09:00", "2026-03-06T09:00"],
        limit=10,
    ),
    case(
        "ADV: endTime specifies the date-time beyond which the job doesn't run", "2026-03-02T09:00",
        {"frequency": "day", "endTime": "2026-03-04T09:00:00Z"},
        ["2026-03-02T09:00", "2026-03-03T09:00", "2026-03-04T09:00"], limit=10,
    ),
    # ---- the sample job of ADV ("Create schedule with JSON and REST API") and CON ---------------------------------
    case(
        'CON/ADV sample: startTime 2012-08-04T00:00Z, week, weekDays [monday, wednesday, friday], hours [10, 22], '
        "count 10, endTime 2012-11-04",
        "2012-08-04T00:00Z",
        {"frequency": "week", "interval": 1,
         "schedule": {"weekDays": ["monday", "wednesday", "friday"], "hours": [10, 22]},
         "count": 10, "endTime": "2012-11-04T00:00:00Z"},
        ["2012-08-06T10:00", "2012-08-06T22:00", "2012-08-08T10:00", "2012-08-08T22:00", "2012-08-10T10:00",
         "2012-08-10T22:00", "2012-08-13T10:00", "2012-08-13T22:00", "2012-08-15T10:00", "2012-08-15T22:00"],
        limit=20,
    ),
    # ---- LA: the Recurrence trigger documents the same model -----------------------------------------------------
    case(
        "LA: start Friday, September 18, 2020 at 8:00 AM Pacific Time, schedule 10:30 AM, 12:30 PM, and 2:30 PM on "
        "Mondays only: the first time that the trigger fires is on Monday at 10:30 AM",
        "2020-09-18T08:00",
        {"frequency": "week", "interval": 1, "timeZone": "America/Los_Angeles",
         "schedule": {"hours": [10, 12, 14], "minutes": [30], "weekDays": ["monday"]}},
        ["2020-09-21T17:30", "2020-09-21T19:30", "2020-09-21T21:30", "2020-09-28T17:30"],
    ),
    case(
        "LA: past start time 2017-09-07T14:00:00Z, current time 2017-09-08T13:00:00Z, every two days: first run "
        "2017-09-09 at 2:00 PM, then 09-11, 09-13, 09-15",
        "2017-09-07T14:00:00Z", {"frequency": "day", "interval": 2},
        ["2017-09-09T14:00", "2017-09-11T14:00", "2017-09-13T14:00", "2017-09-15T14:00"],
        after="2017-09-08T13:00:00Z",
    ),
    case(
        'LA "Run every hour, on the hour (with start date and time)": startDateThh:00:00Z, Hour, interval 1',
        "2017-09-09T08:00:00Z", {"frequency": "hour", "interval": 1},
        ["2017-09-09T08:00", "2017-09-09T09:00", "2017-09-09T10:00"],
    ),
    case(
        'LA "Run every 15 minutes past the hour, every hour (with start date and time)": startDateT00:15:00Z, Hour: '
        "at 00:15 AM, 1:15 AM, 2:15 AM", "2017-09-09T00:15:00Z", {"frequency": "hour", "interval": 1},
        ["2017-09-09T00:15", "2017-09-09T01:15", "2017-09-09T02:15"],
    ),
    case(
        'LA "Run every 15 minutes (with start date and time)": Minute, interval 15', "2017-09-09T08:05:00Z",
        {"frequency": "minute", "interval": 15},
        ["2017-09-09T08:05", "2017-09-09T08:20", "2017-09-09T08:35"],
    ),
    case(
        'LA "Run every 15 minutes at the specified minute marks": Day, hours 0..23, minutes 0, 15, 30, 45: doesn\'t '
        "start until the next specified 15-minute mark", "2017-09-09T08:07:00Z",
        {"frequency": "day", "schedule": {"hours": HOURS, "minutes": [0, 15, 30, 45]}},
        ["2017-09-09T08:15", "2017-09-09T08:30", "2017-09-09T08:45", "2017-09-09T09:00"],
    ),
    case(
        'LA "Run daily at 8 AM plus the minute-mark from when you save your logic app": Day, hours [8]',
        "2017-09-09T12:37:00Z", {"frequency": "day", "schedule": {"hours": [8]}},
        ["2017-09-10T08:37", "2017-09-11T08:37"],
    ),
    case(
        'LA "Run daily at 8:00 AM (with start date and time)": Day, startDateT08:00:00Z, no schedule',
        "2017-09-09T08:00:00Z", {"frequency": "day", "interval": 1},
        ["2017-09-09T08:00", "2017-09-10T08:00", "2017-09-11T08:00"],
    ),
    case(
        'LA "Run daily at 8:30 AM and 4:30 PM": Day, hours 8, 16, minutes 30', "2017-09-09T12:00:00Z",
        {"frequency": "day", "schedule": {"hours": [8, 16], "minutes": [30]}},
        ["2017-09-09T16:30", "2017-09-10T08:30", "2017-09-10T16:30"],
    ),
    case(
        'LA "Run daily at 8:30 AM, 8:45 AM, 4:30 PM, and 4:45 PM"', "2017-09-09T12:00:00Z",
        {"frequency": "day", "schedule": {"hours": [8, 16], "minutes": [30, 45]}},
        ["2017-09-09T16:30", "2017-09-09T16:45", "2017-09-10T08:30", "2017-09-10T08:45"],
    ),
    case(
        'LA "Run every Saturday at 5 PM (with start date and time)": start September 9, 2017 at 5:00 PM, weekDays '
        "Saturday: future recurrences run every Saturday at 5:00 PM",
        "2017-09-09T17:00:00Z", {"frequency": "week", "schedule": {"weekDays": ["saturday"]}},
        ["2017-09-09T17:00", "2017-09-16T17:00", "2017-09-23T17:00"],
    ),
    case(
        'LA "Run every 15 minutes biweekly on Mondays only": Week, interval 2, Monday, hours 0..23, minutes 0, 15, 30, '
        "45: every other Monday at every 15-minute mark", "2026-03-02T00:00",
        {"frequency": "week", "interval": 2,
         "schedule": {"weekDays": ["monday"], "hours": HOURS, "minutes": [0, 15, 30, 45]}},
        ["2026-03-02T23:30", "2026-03-02T23:45", "2026-03-16T00:00", "2026-03-16T00:15"],
        after="2026-03-02T23:30",
    ),
    case(
        'LA "Run every month": Month, start date and time; calculates future recurrences on the start date and time',
        "2026-01-15T09:30", {"frequency": "month", "interval": 1},
        ["2026-01-15T09:30", "2026-02-15T09:30", "2026-03-15T09:30"],
    ),
    case(
        'LA "Run every hour for one day per month": Month, hours 0..23: if the start time is 8:25 AM, this schedule '
        "runs at 8:25 AM, 9:25 AM, 10:25 AM, and so on", "2026-03-04T08:25",
        {"frequency": "month", "interval": 1, "schedule": {"hours": HOURS}},
        ["2026-03-04T08:25", "2026-03-04T09:25", "2026-03-04T10:25"],
    ),
    case(
        'LA trigger definition "runs only once on the last day of each month": Month, monthDays [-1]',
        "2026-01-15T09:30", {"frequency": "month", "interval": 1, "schedule": {"monthDays": [-1]}},
        ["2026-01-31T09:30", "2026-02-28T09:30", "2026-03-31T09:30", "2026-04-30T09:30"],
    ),
]


@pytest.mark.parametrize(("start", "wire", "after", "limit", "expected"), EXAMPLES)
def test_published_example(start: str, wire: dict[str, Any], after: str, limit: int, expected: list[str]) -> None:
    found = occurrences(at(start), recurrence(wire), after=at(after), limit=limit)
    assert iso(found) == expected


@pytest.mark.parametrize(
    ("start", "after", "expected"),
    [
        pytest.param("2026-03-04T12:00", "2026-03-05T08:00", "2026-03-05T08:00", id="start in the past: immediately"),
        pytest.param("2026-03-06T12:00", "2026-03-05T08:00", "2026-03-06T12:00", id="start in the future: at start"),
    ],
)
def test_one_time_job(start: str, after: str, expected: str) -> None:
    """ADV startTime table, "No recurrence": "Start time in the past: Run once immediately." / "Start time in the
    future or the current time: Run once at the specified start time." (Then nothing more.)"""
    assert iso(occurrences(at(start), None, after=at(after), limit=5)) == [expected]
