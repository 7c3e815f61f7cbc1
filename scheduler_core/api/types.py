"""Wire scalar types: case-insensitive enums, lenient datetimes, ISO 8601 / .NET TimeSpan durations, int32 integers.

Azure Scheduler accepted enum values in any case and emitted canonical case; datetimes without an offset are UTC and
a date alone is midnight UTC; `retryInterval` came as ISO 8601 (`PT30S`) or .NET TimeSpan (`00:00:30`). Everything
is emitted canonically: enums as declared, datetimes in UTC with `Z`, durations in ISO 8601.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Annotated, Any, TypeVar

import isodate
from pydantic import AfterValidator, BeforeValidator, Field, PlainSerializer, WithJsonSchema

from scheduler_core.wire import format_datetime

E = TypeVar("E", bound=Enum)


def case_insensitive(enum: type[E]) -> BeforeValidator:
    """A validator that maps any casing of an enum value to the member (unknown values fail enum validation)."""
    lookup = {str(member.value).lower(): member for member in enum}
    # Not the submitted value: error messages never quote one (docs/api.md).
    allowed = f"must be one of {', '.join(str(member.value) for member in enum)}"

    def parse(value: Any) -> Any:
        if isinstance(value, enum):
            return value
        member = lookup.get(value.lower()) if isinstance(value, str) else None
        if member is None:
            raise ValueError(allowed)
        return member

    return BeforeValidator(parse)


def canonical_literal(value: str) -> BeforeValidator:
    """A validator for a discriminator literal that accepts any casing of `value`."""

    def parse(raw: Any) -> Any:
        return value if isinstance(raw, str) and raw.lower() == value.lower() else raw

    return BeforeValidator(parse)


def parse_datetime(value: Any) -> Any:
    """ISO 8601 date or date-time; no offset means UTC. Returns an aware UTC datetime (other types pass through)."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError("is not an ISO 8601 date-time") from None
    else:
        return value
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+01:00 is before the first UTC instant there is
        raise ValueError("is outside the years 1 to 9999 in UTC") from None


_TIMESPAN = re.compile(r"^(?:(?P<days>\d+)\.)?(?P<h>\d{1,2}):(?P<m>\d{2}):(?P<s>\d{2})(?:\.(?P<frac>\d{1,7}))?$")


def parse_duration(value: Any) -> Any:
    """ISO 8601 duration (`PT30S`, `P1D`) or .NET TimeSpan (`00:00:30`, `1.00:00:00`) -> timedelta."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    match = _TIMESPAN.match(text)
    if match:
        if int(match["h"]) > 23 or int(match["m"]) > 59 or int(match["s"]) > 59:  # as .NET's TimeSpan.Parse
            raise ValueError("is not a TimeSpan: hours 0-23, minutes and seconds 0-59 (1.02:03:04)")
        fraction = float(f"0.{match['frac']}") if match["frac"] else 0.0
        try:
            return timedelta(
                days=int(match["days"] or 0),
                hours=int(match["h"]),
                minutes=int(match["m"]),
                seconds=int(match["s"]) + fraction,
            )
        except OverflowError:
            raise ValueError("is longer than any duration can be") from None
    try:
        parsed = isodate.parse_duration(text.upper())  # designators in any case, like the enums
    except (isodate.ISO8601Error, ValueError):
        raise ValueError("is not an ISO 8601 duration (PT30S) or a TimeSpan (00:00:30)") from None
    except OverflowError:
        raise ValueError("is longer than any duration can be") from None
    if not isinstance(parsed, timedelta):
        # Years and months have no fixed length; the old service's maximum (18 months) is stated in days here.
        raise ValueError("use days, hours, minutes or seconds, not years or months")
    return parsed


def format_duration(value: timedelta) -> str:
    return str(isodate.duration_isoformat(value))


UtcDateTime = Annotated[
    datetime,
    BeforeValidator(parse_datetime),
    PlainSerializer(format_datetime, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]

Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema({"type": "string", "format": "duration", "example": "PT30S"}),
]

# The swagger's `integer` has no `format`, which AutoRest generates as int32 (.NET `int?`, Go `*int32`, the
# Az.Scheduler cmdlets' `Int32`): a larger value stored would come back in a response those clients cannot read.
Int32 = Annotated[int, Field(ge=-(2**31), le=2**31 - 1)]


def _positive(value: timedelta) -> timedelta:
    if value <= timedelta(0):
        raise ValueError("must be longer than zero")
    return value


PositiveDuration = Annotated[Duration, AfterValidator(_positive)]
