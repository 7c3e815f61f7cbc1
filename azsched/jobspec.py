"""Job definitions from command-line flags: `jobs create` builds a whole one, `jobs update` a PATCH of only the
flags given. Values stay strings where the API parses them (enums in any case, durations, datetimes), so the API
remains the one place that validates a job and names the offending field."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from enum import Enum
from typing import Any

from azsched.context import Failed


class Kind(str, Enum):
    """The action kinds `jobs create` builds."""

    HTTP = "http"
    STORAGE_QUEUE = "storage-queue"
    SERVICE_BUS_QUEUE = "service-bus-queue"
    SERVICE_BUS_TOPIC = "service-bus-topic"


ACTION_TYPE = {Kind.HTTP: "Http", Kind.STORAGE_QUEUE: "StorageQueue", Kind.SERVICE_BUS_QUEUE: "ServiceBusQueue",
               Kind.SERVICE_BUS_TOPIC: "ServiceBusTopic"}
PAYLOAD = {"http": "request", "https": "request", "storagequeue": "queueMessage",
           "servicebusqueue": "serviceBusQueueMessage", "servicebustopic": "serviceBusTopicMessage"}

_EVERY = re.compile(r"^\s*(\d+)\s*([a-zA-Z]+)\s*$")
_UNITS = {
    "m": "Minute", "min": "Minute", "mins": "Minute", "minute": "Minute", "minutes": "Minute",
    "h": "Hour", "hr": "Hour", "hour": "Hour", "hours": "Hour",
    "d": "Day", "day": "Day", "days": "Day",
    "w": "Week", "wk": "Week", "week": "Week", "weeks": "Week",
    "mo": "Month", "month": "Month", "months": "Month",
}


def parse_every(text: str) -> tuple[str, int]:
    """`15m` -> ("Minute", 15); units m, h, d, w, mo (or their words)."""
    match = _EVERY.match(text)
    unit = _UNITS.get(match[2].lower()) if match else None
    if not match or unit is None or int(match[1]) < 1:
        raise Failed(f"--every '{text}': use a number and a unit: 15m, 2h, 1d, 1w, 3mo", 2)
    return unit, int(match[1])


def _ints(text: str, flag: str) -> list[int]:
    try:
        return [int(part) for part in text.replace(" ", "").split(",") if part]
    except ValueError:
        raise Failed(f"{flag} '{text}': a comma-separated list of integers", 2) from None


def _pairs(items: list[str] | None, flag: str) -> dict[str, str]:
    result: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=") if "=" in item else item.partition(":")
        if not sep or not key.strip():
            raise Failed(f"{flag} '{item}': use NAME=VALUE", 2)
        result[key.strip()] = value.strip()
    return result


def _monthly(text: str) -> list[dict[str, Any]]:
    result = []
    for part in text.split(","):
        day, _, occurrence = part.strip().partition(":")
        entry: dict[str, Any] = {"day": day}
        if occurrence:
            entry["Occurrence"] = _ints(occurrence, "--monthly-occurrences")[0]
        result.append(entry)
    return result


def recurrence(flags: Mapping[str, Any], *, patch: bool) -> dict[str, Any] | None:
    """The `recurrence` the flags describe (None when they name none); in a PATCH, switching between a cron and a
    frequency removes the other with `null`."""
    rec: dict[str, Any] = {}
    if flags.get("every"):
        rec["frequency"], rec["interval"] = parse_every(flags["every"])
    if flags.get("frequency"):
        rec["frequency"] = flags["frequency"]
    if flags.get("interval") is not None:
        rec["interval"] = flags["interval"]
    if flags.get("cron"):
        rec["cron"] = flags["cron"]
        if patch:
            rec.update(frequency=None, interval=None, schedule=None)
    elif patch and "frequency" in rec:
        rec["cron"] = None
    for flag, key in (("time_zone", "timeZone"), ("end", "endTime"), ("count", "count")):
        if flags.get(flag) is not None:
            rec[key] = flags[flag]
    schedule: dict[str, Any] = {}
    for flag, key in (("minutes", "minutes"), ("hours", "hours"), ("month_days", "monthDays")):
        if flags.get(flag):
            schedule[key] = _ints(flags[flag], f"--{flag.replace('_', '-')}")
    if flags.get("week_days"):
        schedule["weekDays"] = [d.strip() for d in flags["week_days"].split(",") if d.strip()]
    if flags.get("monthly_occurrences"):
        schedule["monthlyOccurrences"] = _monthly(flags["monthly_occurrences"])
    if schedule:
        rec["schedule"] = schedule
    return rec or None


def payload(kind_key: str, flags: Mapping[str, Any]) -> dict[str, Any]:
    """The action's payload object (`request`, `queueMessage`, ...) from the flags given."""
    body = flags.get("body")
    if flags.get("body_file"):
        body = flags["body_file"].read_text(encoding="utf-8")
    if kind_key == "request":
        values: dict[str, Any] = {"uri": flags.get("uri"), "method": flags.get("method"), "body": body}
        if flags.get("header"):
            values["headers"] = _pairs(flags["header"], "--header")
        if flags.get("username"):
            values["authentication"] = {"type": "Basic", "username": flags["username"],
                                        "password": flags.get("password") or ""}
    elif kind_key == "queueMessage":
        values = {"storageAccount": flags.get("account"), "queueName": flags.get("queue"),
                  "sasToken": flags.get("sas_token"), "message": flags.get("message") or body}
    else:
        values = {"namespace": flags.get("namespace"), "message": flags.get("message") or body}
        values["queueName" if kind_key == "serviceBusQueueMessage" else "topicPath"] = (
            flags.get("queue") if kind_key == "serviceBusQueueMessage" else flags.get("topic")
        )
        if flags.get("sas_key_name"):
            values["authentication"] = {"type": "SharedAccessKey", "sasKeyName": flags["sas_key_name"],
                                        "sasKey": flags.get("sas_key") or ""}
        if flags.get("property"):
            values["customMessageProperties"] = _pairs(flags["property"], "--property")
    return {k: v for k, v in values.items() if v is not None}


def retry(flags: Mapping[str, Any]) -> dict[str, Any] | None:
    policy = {k: flags.get(f) for f, k in (("retry_type", "retryType"), ("retry_count", "retryCount"),
                                           ("retry_interval", "retryInterval")) if flags.get(f) is not None}
    return policy or None


def error_action(flags: Mapping[str, Any]) -> dict[str, Any] | None:
    if not flags.get("error_uri"):
        return None
    return {"type": "Http", "request": {"uri": flags["error_uri"], "method": flags.get("error_method") or "POST"}}


def build(kind: Kind, flags: Mapping[str, Any], base: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A whole JobDefinition (`{"properties": ...}`) for `jobs create`: `base` (from --from-file) overlaid by flags."""
    properties: dict[str, Any] = copy.deepcopy(dict((base or {}).get("properties") or {}))
    action: dict[str, Any] = properties.get("action") or {}
    if not action.get("type") or _has_payload_flags(flags):
        action["type"] = ACTION_TYPE[kind]
    key = PAYLOAD.get(str(action["type"]).lower())
    if key is None:
        raise Failed(f"unknown action type '{action['type']}'", 2)
    for other in set(PAYLOAD.values()) - {key}:
        action.pop(other, None)
    action[key] = {**(action.get(key) or {}), **payload(key, flags)}
    if key == "request":
        action[key].setdefault("method", "GET")
    if (policy := retry(flags)) is not None:
        action["retryPolicy"] = policy
    if (fallback := error_action(flags)) is not None:
        action["errorAction"] = fallback
    properties["action"] = action
    if (rec := recurrence(flags, patch=False)) is not None:
        properties["recurrence"] = rec
    if flags.get("start"):
        properties["startTime"] = flags["start"]
    if flags.get("disabled"):
        properties["state"] = "Disabled"
    return {"properties": properties}


def patch(action_type: str, flags: Mapping[str, Any]) -> dict[str, Any]:
    """A PATCH body with only what the flags name, for a job whose action is of `action_type`."""
    properties: dict[str, Any] = {}
    action: dict[str, Any] = {}
    key = PAYLOAD[action_type.lower()]
    if values := payload(key, flags):
        action[key] = values
    if (policy := retry(flags)) is not None:
        action["retryPolicy"] = policy
    if (fallback := error_action(flags)) is not None:
        action["errorAction"] = fallback
    if action:
        properties["action"] = action
    if (rec := recurrence(flags, patch=True)) is not None:
        properties["recurrence"] = rec
    if flags.get("start"):
        properties["startTime"] = flags["start"]
    if not properties:
        raise Failed("nothing to change: give at least one flag (see --help)", 2)
    return {"properties": properties}


def _has_payload_flags(flags: Mapping[str, Any]) -> bool:
    return any(flags.get(f) for f in ("uri", "account", "namespace", "queue", "topic", "message"))
