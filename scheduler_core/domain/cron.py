"""Cron expressions, evaluated on wall-clock time with croniter.

Two flavours, told apart by the number of fields:

* 5 fields, classic cron: ``minute hour day-of-month month day-of-week``;
* 6 fields, NCRONTAB as Azure Functions timer triggers use it: ``second minute hour day-of-month month day-of-week``
  (seconds *first*; croniter's ``second_at_beginning``).

croniter is given naive wall-clock datetimes, so it does plain calendar arithmetic with no DST handling of its own;
`scheduler_core.domain.timezones.to_utc` then applies the project's DST decisions, exactly as for schedules.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from croniter import CroniterBadDateError, croniter

#: A cron that matches nothing for this many years is treated as never firing (croniter's own bounded search).
MAX_YEARS_BETWEEN_MATCHES = 50


def cron_problem(expression: str) -> str | None:
    """Why `expression` is not an accepted cron expression, or None when it is."""
    fields = expression.split()
    if len(fields) not in (5, 6):
        return "a cron expression has 5 fields (minute first) or 6 fields (second first)"
    if any(field.startswith("@") for field in fields):
        return "cron aliases such as @daily are not supported; write the fields"
    if not croniter.is_valid(" ".join(fields), second_at_beginning=len(fields) == 6):
        return "is not a valid cron expression"
    return None


def cron_walls(expression: str, after: datetime) -> Iterator[datetime]:
    """Wall-clock times matching `expression` at or after the naive wall time `after`, ascending.

    Ends (rather than searching forever) when no match exists within `MAX_YEARS_BETWEEN_MATCHES` years.
    """
    fields = expression.split()
    cursor = croniter(
        " ".join(fields),
        after.replace(microsecond=0) - timedelta(seconds=1),  # croniter is strictly-after
        ret_type=datetime,
        second_at_beginning=len(fields) == 6,
        max_years_between_matches=MAX_YEARS_BETWEEN_MATCHES,
    )
    while True:
        try:
            found = cursor.get_next(datetime)
        except CroniterBadDateError:
            return
        if not isinstance(found, datetime):  # for mypy; ret_type=datetime guarantees it
            return
        yield found
