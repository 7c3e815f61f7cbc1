"""Job JSON in the API's canonical form, computed here: what a GET would return for what a PUT sends.

Import compares a job it read from a file with the job the API holds, so both must be in one form: enum values in
their canonical case, `Occurrence` with a capital O, durations in ISO 8601 (`00:00:30` -> `PT30S`), datetimes in
UTC with `Z`; minus what a GET never returns (secrets, `status`) and what the API computes (a certificate's details).
The API stays the judge of validity: a value this module does not recognise is left as it is.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any

import isodate

from scheduler_core.domain.collection import JobCollectionState, QuotaFrequency, SkuDefinition
from scheduler_core.domain.definition import JobActionType
from scheduler_core.domain.job import JobState
from scheduler_core.domain.payloads import (
    AuthenticationType,
    ServiceBusAuthenticationType,
    ServiceBusTransportType,
    StorageQueueMessageFormat,
)
from scheduler_core.domain.recurrence import WeekDay
from scheduler_core.domain.retry import RetryType

SECRET_FIELDS = frozenset({"password", "pfx", "secret", "sasToken", "sasKey"})
USER_MAPS = frozenset({"headers", "customMessageProperties"})  # the user's own names: never secrets, never enums
COMPUTED = frozenset({"certificateThumbprint", "certificateExpirationDate", "certificateSubjectName",
                      "certificateExpiration"})


def _canonical(*enums: type[Enum]) -> dict[str, str]:
    return {str(member.value).lower(): str(member.value) for enum in enums for member in enum}


# Each vocabulary is the scheduler's own enum (scheduler_core/domain), so a value added there is known here too.
_ENUMS = {
    "type": _canonical(JobActionType, AuthenticationType, ServiceBusAuthenticationType),
    "frequency": _canonical(QuotaFrequency),  # a recurrence's, or a quota's (which adds Second)
    "retryType": _canonical(RetryType),
    "transportType": _canonical(ServiceBusTransportType),
    "state": _canonical(JobState, JobCollectionState),
    "day": _canonical(WeekDay),
    "weekDays": _canonical(WeekDay),
    "messageFormat": _canonical(StorageQueueMessageFormat),
    "name": _canonical(SkuDefinition),  # sku.name (only under `sku`)
}
_DURATIONS = frozenset({"retryInterval", "maxRetryInterval", "timeToLive", "catchUpWindow"})
_DATETIMES = frozenset({"startTime", "endTime", "scheduledEnqueueTimeUtc"})
_TIMESPAN = re.compile(r"^(?:(?P<days>\d+)\.)?(?P<h>\d{1,2}):(?P<m>\d{2}):(?P<s>\d{2})(?:\.(?P<frac>\d{1,7}))?$")


def duration(value: str) -> str:
    """ISO 8601 (`PT30S`, any case) or .NET TimeSpan (`00:00:30`) -> the API's ISO 8601 form; else unchanged."""
    text = value.strip()
    match = _TIMESPAN.match(text)
    try:
        if match:
            parsed: Any = timedelta(days=int(match["days"] or 0), hours=int(match["h"]), minutes=int(match["m"]),
                                    seconds=int(match["s"]) + (float(f"0.{match['frac']}") if match["frac"] else 0))
        else:
            parsed = isodate.parse_duration(text.upper())
    except (isodate.ISO8601Error, ValueError):
        return value
    return str(isodate.duration_isoformat(parsed)) if isinstance(parsed, timedelta) else value


def instant(value: str) -> str:
    """An ISO 8601 date or datetime (no offset: UTC) -> UTC with `Z`, as the API returns it; else unchanged."""
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return value
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return f"{parsed.astimezone(UTC).replace(tzinfo=None).isoformat()}Z"


_LISTS = frozenset({"hours", "minutes", "monthDays"})


def canonical(node: Any, key: str = "", parent: str = "") -> Any:
    """`node` (any JSON) with enums, `Occurrence`, durations and datetimes in the API's canonical form."""
    if isinstance(node, Mapping):
        if key in USER_MAPS:
            return dict(node)
        result = {}
        for k, v in node.items():
            name = "Occurrence" if k == "occurrence" and key == "monthlyOccurrences" else k
            if key == "schedule" and k in _LISTS and isinstance(v, int) and not isinstance(v, bool):
                v = [v]  # `"minutes": 15` (the 2016 docs allowed a lone integer) comes back as [15]
            result[name] = canonical(v, name, key)
        return result
    if isinstance(node, list):
        return [canonical(item, key, parent) for item in node]
    if isinstance(node, str):
        if key in _ENUMS and (key != "name" or parent == "sku"):
            return _ENUMS[key].get(node.lower(), node)
        if key in _DURATIONS:
            return duration(node)
        if key in _DATETIMES:
            return instant(node)
    return node


def canonical_properties(properties: Mapping[str, Any]) -> dict[str, Any]:
    """Job `properties` in canonical form."""
    result: dict[str, Any] = canonical(copy.deepcopy(dict(properties)))
    return result


def without(node: Any, fields: frozenset[str]) -> Any:
    """`node` without the keys in `fields` at any depth (user maps kept whole), and without None values."""
    if isinstance(node, Mapping):
        return {k: (v if k in USER_MAPS else without(v, fields)) for k, v in node.items()
                if k not in fields and v is not None}
    if isinstance(node, list):
        return [without(item, fields) for item in node]
    return node


def secret_paths(node: Any, path: str = "") -> list[str]:
    """The dotted paths of secret fields present (holding a string) in `node`."""
    found: list[str] = []
    if isinstance(node, Mapping):
        for k, v in node.items():
            child = f"{path}.{k}" if path else k
            if k in SECRET_FIELDS:
                found.append(child)
            elif k not in USER_MAPS:
                found += secret_paths(v, child)
    return found


def comparable(properties: Mapping[str, Any]) -> dict[str, Any]:
    """What a GET of the job would show of `properties`, for "unchanged": canonical, no secrets, no status, no state
    (state is compared on its own: the API keeps a Completed job's state), no computed certificate details."""
    result: dict[str, Any] = without(canonical_properties(properties), SECRET_FIELDS | COMPUTED | {"status", "state"})
    return result
