"""PowerShell output, best effort: `Get-AzureRmSchedulerJob | ConvertTo-Json`, and Scheduler objects with a
`Properties` member (`Get-AzureRmResource -ExpandProperties`, the .NET SDK's JobDefinition) `| ConvertTo-Json`.

The cmdlet's objects (PSSchedulerJobDefinition, AzureRM.Scheduler) flatten a job: `JobName`, `JobCollectionName`,
`Status`, `StartTime`, `Recurrence` as a sentence built from the frequency and interval only ("Every 1 Days"),
`EndSchedule` as a sentence ("Until 5 executions.", "On 12/31/2027 00:00:00.", "None", "Run once"), `Lastrun` and
`Nextrun`, and `JobAction` / `JobErrorAction` with `JobActionType` and the action's details. The recurrence's
schedule (hours, minutes, week days, month days, monthly occurrences) and the retry policy are not in the object at
all; the hour and minute (and the week day or month day) of a daily, weekly or monthly job are read back from
`Nextrun` (or `Lastrun`) when they differ from `StartTime`'s, which recovers a schedule of one time a day and not
more. ConvertTo-Json writes enums as numbers and, past its depth (2 by default), objects as their .NET type names.
Every loss is a warning of the job (docs/migration.md lists them).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from dateutil import parser as dateparser

from azsched.importers import rest
from azsched.importers.model import ImportedJob

_RECURRENCE = re.compile(r"(?i)(?:every\s+)?(\d+)\s*(minute|hour|day|week|month)")
_MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")
_COUNT = re.compile(r"(?i)until\s+(\d+)\s+(?:executions|times|occurrences)")
_ON = re.compile(r"(?i)(?:^|\bor\s+)on\s+(.+?)\.?(?:\s+whichever occurs first\.?)?$")
_UNTIL_DATE = re.compile(r"(?i)^until\s+(?!\d+\s+(?:executions|times|occurrences))(.+?)\.?$")

# ConvertTo-Json writes an enum as its number: the SDK's enums (Microsoft.Azure.Management.Scheduler.Models).
_ACTION_TYPES = ("Http", "Https", "StorageQueue", "ServiceBusQueue", "ServiceBusTopic")
_ENUMS: dict[str, tuple[str, ...]] = {
    "frequency": ("Minute", "Hour", "Day", "Week", "Month"),
    "state": ("Enabled", "Disabled", "Faulted", "Completed"),
    "type": _ACTION_TYPES,
    "retrytype": ("None", "Fixed"),
    "weekdays": ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"),  # DayOfWeek
    "day": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),  # JobScheduleDay
    "transporttype": ("NotSpecified", "NetMessaging", "AMQP"),
}
# `type` of an authentication object: HttpAuthenticationType, ServiceBusAuthenticationType.
_HTTP_AUTH_TYPES = ("NotSpecified", "ClientCertificate", "ActiveDirectoryOAuth", "Basic")
_BUS_AUTH_TYPES = ("NotSpecified", "SharedAccessKey")
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")  # datetime.weekday()


def is_powershell(node: Any) -> bool:
    """A PSSchedulerJobDefinition, or a PowerShell object of a job with a `Properties` member."""
    if not isinstance(node, Mapping):
        return False
    if "JobName" in node and ("JobAction" in node or "JobCollectionName" in node):
        return True
    return _is_resource_object(node)


def _is_resource_object(node: Mapping[str, Any]) -> bool:
    properties = node.get("Properties")
    return isinstance(properties, Mapping) and any(k.lower() == "action" for k in properties) and any(
        k in node for k in ("Name", "ResourceName", "ResourceId", "Id"))


def read_powershell(node: Mapping[str, Any], source: str) -> ImportedJob:
    if "JobName" in node:
        return _read_cmdlet_object(node, source)
    return _read_resource_object(node, source)


# ---- Get-AzureRmResource -ExpandProperties, the SDK's JobDefinition --------------------------------------------------


def _read_resource_object(node: Mapping[str, Any], source: str) -> ImportedJob:
    """`Name` ("jc/job"), `ResourceId` or `Id`, and `Properties` as the API's JobDefinition properties, their member
    names in either case, enums as numbers or names, TimeSpans as objects or strings, dates as `/Date(ms)/`."""
    warnings: list[str] = []
    properties = _camel(node["Properties"], "", warnings)
    assert isinstance(properties, dict)
    name = str(node.get("Name") or node.get("ResourceName") or "")
    job = rest.read_job({"name": name, "id": node.get("ResourceId") or node.get("Id") or "",
                         "properties": properties}, source)
    job.warnings += warnings
    return job


def _camel(node: Any, path: str, warnings: list[str]) -> Any:
    """Member names in the API's case (`Occurrence` keeps its capital, as on the wire), enum numbers as names,
    unset (null) members left out. `path` is the dotted, lowercased path of `node` in the job's properties."""
    if isinstance(node, Mapping):
        if "Ticks" in node and "TotalSeconds" in node:  # a TimeSpan, as ConvertTo-Json writes it
            return _iso_duration(float(node["TotalSeconds"]))
        out: dict[str, Any] = {}
        for k, v in node.items():
            if v is None:  # the SDK's unset members
                continue
            name = "Occurrence" if k.lower() == "occurrence" else k[:1].lower() + k[1:]
            out[name] = _camel(v, f"{path}.{name.lower()}" if path else name.lower(), warnings)
        return out
    if isinstance(node, list):
        return [_camel(item, path, warnings) for item in node]
    if isinstance(node, int) and not isinstance(node, bool):
        names = _enum_names(path)
        if names is None:
            return node
        if 0 <= node < len(names):
            return names[node]
        warnings.append(f"{path} {node} is not a known value")
    if isinstance(node, str) and _MS_DATE.match(node.strip().replace("\\/", "/")):
        return _date(node)
    return node


def _enum_names(path: str) -> tuple[str, ...] | None:
    """The SDK enum whose numbers a member at `path` holds (None: not an enum)."""
    if path.endswith("request.authentication.type"):
        return _HTTP_AUTH_TYPES
    if path.endswith("message.authentication.type"):
        return _BUS_AUTH_TYPES
    return _ENUMS.get(path.rsplit(".", 1)[-1])


def _iso_duration(seconds: float) -> str:
    whole = int(seconds)
    hours, rest_ = divmod(whole, 3600)
    minutes, secs = divmod(rest_, 60)
    days, hours = divmod(hours, 24)
    text = "P" + (f"{days}D" if days else "")
    clock = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "") + (f"{secs}S" if secs else "")
    return text + ("T" + clock if clock else ("" if days else "T0S"))


# ---- Get-AzureRmSchedulerJob --------------------------------------------------------------------------------------


def _date(value: Any) -> str | None:
    """PowerShell 5 writes `/Date(ms)/`, PowerShell 7 ISO 8601; both become ISO 8601 UTC."""
    parsed = _datetime(value)
    return parsed.isoformat().replace("+00:00", "Z") if parsed else (value if isinstance(value, str) else None)


def _datetime(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().replace("\\/", "/")
    if match := _MS_DATE.match(text):
        return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=int(match[1]))
    try:
        parsed = dateparser.parse(text)
    except (ValueError, OverflowError):
        return None
    # .NET writes the SDK's dates (parsed from the API's UTC) without an offset.
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _get(node: Any, *names: str) -> Any:
    if not isinstance(node, Mapping):
        return None
    for name in names:
        for key, value in node.items():
            if key.lower() == name.lower() and value not in (None, ""):
                return value
    return None


def _truncated(value: Any) -> bool:
    """ConvertTo-Json past its depth writes an object as its .NET type name."""
    return isinstance(value, str) and bool(re.match(r"^(System|Microsoft)\.[\w.`\[\], ]+$", value))


def _action_type(details: Mapping[str, Any]) -> str:
    kind = _get(details, "JobActionType", "Type")
    if isinstance(kind, int) and not isinstance(kind, bool) and 0 <= kind < len(_ACTION_TYPES):
        return _ACTION_TYPES[kind]
    return str(kind or "").replace(" ", "")


def _action(details: Any, warnings: list[str], where: str) -> dict[str, Any] | None:
    if not isinstance(details, Mapping):
        if details:
            why = "cut by ConvertTo-Json depth" if _truncated(details) else "unknown shape"
            warnings.append(f"{where} could not be read ({why})")
        return None
    kind = _action_type(details)
    action: dict[str, Any] = {"type": kind or "Http"}
    lowered = kind.lower()
    if lowered in ("http", "https", ""):
        request: dict[str, Any] = {"uri": _get(details, "Uri"), "method": _get(details, "RequestMethod", "Method")}
        if body := _get(details, "RequestBody", "Body"):
            request["body"] = body
        headers = _get(details, "RequestHeaders", "Headers")
        if isinstance(headers, Mapping):
            request["headers"] = {str(k): str(v) for k, v in headers.items()}
        elif headers:
            warnings.append(f"{where}: headers were not carried over (cut by ConvertTo-Json depth: use -Depth 5)")
        auth = _get(details, "HttpJobAuthentication", "HttpAuthentication", "Authentication")
        if isinstance(auth, Mapping):
            auth_type = str(_get(auth, "HttpAuthType", "Type") or "")
            if auth_type and auth_type.lower() not in ("none", "notspecified"):
                request["authentication"] = {k: v for k, v in {
                    "type": {"clientcertificate": "ClientCertificate", "basic": "Basic",
                             "activedirectoryoauth": "ActiveDirectoryOAuth"}.get(auth_type.lower(), auth_type),
                    "username": _get(auth, "Username"), "tenant": _get(auth, "Tenant"),
                    "audience": _get(auth, "Audience"), "clientId": _get(auth, "ClientId"),
                }.items() if v}
        elif auth:
            warnings.append(f"{where}: authentication was not carried over (cut by ConvertTo-Json depth)")
        action["request"] = {k: v for k, v in request.items() if v is not None}
    elif lowered == "storagequeue":
        action["queueMessage"] = {k: v for k, v in {
            "storageAccount": _get(details, "StorageAccount", "StorageAccountName"),
            "queueName": _get(details, "StorageQueueName", "QueueName"),
            "message": _get(details, "StorageQueueMessage", "Message"),
            "sasToken": _get(details, "StorageSasToken", "SasToken"),
        }.items() if v is not None}
    elif lowered in ("servicebusqueue", "servicebustopic"):
        key = "serviceBusQueueMessage" if lowered == "servicebusqueue" else "serviceBusTopicMessage"
        message: dict[str, Any] = {
            "namespace": _get(details, "ServiceBusNamespaceProperty", "ServiceBusNamespace", "Namespace"),
            "message": _get(details, "ServiceBusMessage", "Message"),
            "transportType": _get(details, "ServiceBusTransportType", "TransportType"),
        }
        if key == "serviceBusQueueMessage":
            message["queueName"] = _get(details, "ServiceBusQueueName", "QueueName")
        else:
            message["topicPath"] = _get(details, "ServiceBusTopicPath", "TopicPath")
        auth = _get(details, "ServiceBusAuthentication", "Authentication")
        key_name = _get(auth, "ServiceBusSasKeyName", "SasKeyName") or _get(details, "ServiceBusSasKeyName")
        if key_name:
            message["authentication"] = {"type": "SharedAccessKey", "sasKeyName": key_name}
            if sas_key := _get(auth, "ServiceBusSasKey", "SasKey"):
                message["authentication"]["sasKey"] = sas_key
        elif _truncated(auth):
            warnings.append(f"{where}: authentication was not carried over (cut by ConvertTo-Json depth)")
        action[key] = {k: v for k, v in message.items() if v is not None}
    else:
        warnings.append(f"{where}: action type '{kind}' is not known")
        return None
    return action


def _end(text: Any, recurrence: dict[str, Any], warnings: list[str]) -> None:
    """`EndSchedule`: "Until N executions.", "On DATE.", both ("... Or on DATE whichever occurs first."), "None"."""
    if not isinstance(text, str) or text.strip().lower() in ("", "none", "run once", "run indefinitely"):
        return
    if count := _COUNT.search(text):
        recurrence["count"] = int(count[1])
    until = _ON.search(text) or _UNTIL_DATE.search(text.strip())
    if until:
        end = _datetime(until[1].strip())
        if end is None:
            warnings.append(f"EndSchedule '{text}': the end time could not be read; imported without it")
        else:
            recurrence["endTime"] = end.isoformat().replace("+00:00", "Z")
            if not re.search(r"(?i)(z|[+-]\d\d:?\d\d|/date\(.*)$", until[1].strip()):
                warnings.append(f"EndSchedule '{text}': the end time has no offset (it is the culture's rendering of "
                                "the API's UTC time); read as UTC, month before day")
    elif "count" not in recurrence:
        warnings.append(f"EndSchedule '{text}' could not be read; imported without an end")


def _schedule_from_runs(node: Mapping[str, Any], recurrence: dict[str, Any], start: datetime | None,
                        warnings: list[str]) -> None:
    """The cmdlet's object has no schedule; a run's time of day (and week day or month day) that differs from the
    start's can only come from one: carry that one over."""
    frequency = str(recurrence.get("frequency", "")).lower()
    run = _datetime(_get(node, "Nextrun", "NextRun")) or _datetime(_get(node, "Lastrun", "LastRun"))
    if frequency not in ("hour", "day", "week", "month") or run is None or start is None:
        if frequency in ("hour", "day", "week", "month"):
            warnings.append("PowerShell output: the recurrence's schedule (hours, minutes, days) is not in it and no "
                            "Nextrun or Lastrun shows one; check the schedule")
        return
    schedule: dict[str, Any] = {}
    if run.minute != start.minute or (frequency != "hour" and run.hour != start.hour):
        schedule["minutes"] = [run.minute]
        if frequency != "hour":
            schedule["hours"] = [run.hour]
    if frequency == "week" and run.weekday() != start.weekday():
        schedule["weekDays"] = [_WEEKDAYS[run.weekday()]]
    if frequency == "month" and run.day != start.day:
        schedule["monthDays"] = [run.day]
    if schedule:
        recurrence["schedule"] = schedule
        shown = ", ".join(f"{k} {v}" for k, v in schedule.items())
        warnings.append(f"PowerShell output: the recurrence's schedule is not in it; {shown} (UTC) read from the job's "
                        "next or last run; a schedule with several times or days needs them added (--set "
                        "JOB:recurrence.schedule.hours=[...])")
    else:
        warnings.append("PowerShell output: the recurrence's schedule is not in it; the job's runs fall at its start "
                        "time's time of day, so none was assumed; check the schedule")


def _read_cmdlet_object(node: Mapping[str, Any], source: str) -> ImportedJob:
    """One PSSchedulerJobDefinition object."""
    warnings: list[str] = ["PowerShell output: the retry policy and every secret are not in it"]
    properties: dict[str, Any] = {}
    start = _datetime(_get(node, "StartTime"))
    if start is not None:
        properties["startTime"] = start.isoformat().replace("+00:00", "Z")
    recurrence: dict[str, Any] = {}
    text = _get(node, "Recurrence")
    if isinstance(text, Mapping):  # not the cmdlet's own object, but one with the recurrence itself
        recurrence = _camel(text, "recurrence", warnings)
    elif isinstance(text, str) and (match := _RECURRENCE.search(text)):
        recurrence = {"frequency": match[2].capitalize(), "interval": int(match[1])}
        _schedule_from_runs(node, recurrence, start, warnings)
    elif text:
        warnings.append(f"recurrence '{text}' could not be read; imported as a one-time job")
    if recurrence:
        _end(_get(node, "EndSchedule"), recurrence, warnings)
        properties["recurrence"] = recurrence
    if action := _action(_get(node, "JobAction"), warnings, "JobAction"):
        if error := _action(_get(node, "JobErrorAction"), warnings, "JobErrorAction"):
            action["errorAction"] = error
        properties["action"] = action
    state = _get(node, "Status", "State")
    if isinstance(state, int) and not isinstance(state, bool):
        state = _camel(state, "state", warnings)
    if isinstance(state, str) and state:
        properties["state"] = state
    job = ImportedJob(source, _get(node, "JobCollectionName"), str(_get(node, "JobName") or ""), properties,
                      warnings=warnings)
    if "action" not in properties:
        job.problems.append("no action could be read from the PowerShell output")
    return job
