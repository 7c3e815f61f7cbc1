"""`Get-AzureRmSchedulerJob | ConvertTo-Json` output, best effort.

The cmdlet's objects (PSSchedulerJobDefinition) flatten a job into PowerShell properties (`JobName`, `Status`,
`StartTime`, `Recurrence` as a sentence, `EndSchedule`, `JobAction` with `JobActionType` and its details), and
ConvertTo-Json's default depth of 2 turns deeper objects (headers, authentication) into their type names. What the
output does not carry (schedule details, headers cut by the depth, every secret) is written down as a warning of
the job.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from azsched.importers.model import ImportedJob

_RECURRENCE = re.compile(r"(?i)(?:every\s+)?(\d+)\s*(minute|hour|day|week|month)s?")
_MS_DATE = re.compile(r"^/Date\((-?\d+)(?:[+-]\d{4})?\)/$")
_UNTIL = re.compile(r"(?i)until\s+(.+)$")
_TIMES = re.compile(r"(?i)(\d+)\s+(?:times|executions|occurrences)")


def is_powershell(node: Any) -> bool:
    return isinstance(node, Mapping) and "JobName" in node and ("JobAction" in node or "JobCollectionName" in node)


def _date(value: Any) -> str | None:
    """PowerShell 5 writes `/Date(ms)/`, PowerShell 7 ISO 8601; both become ISO 8601 UTC."""
    if not isinstance(value, str) or not value:
        return None
    match = _MS_DATE.match(value.strip().replace("\\/", "/"))
    if match:
        return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=int(match[1]))).isoformat()
    return value


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


def _action(details: Any, warnings: list[str], where: str) -> dict[str, Any] | None:
    if not isinstance(details, Mapping):
        if details:
            why = "cut by ConvertTo-Json depth" if _truncated(details) else "unknown shape"
            warnings.append(f"{where} could not be read ({why})")
        return None
    kind = str(_get(details, "JobActionType", "Type") or "").replace(" ", "")
    action: dict[str, Any] = {"type": kind or "Http"}
    lowered = kind.lower()
    if lowered in ("http", "https", ""):
        request: dict[str, Any] = {"uri": _get(details, "Uri"), "method": _get(details, "RequestMethod", "Method")}
        if body := _get(details, "RequestBody", "Body"):
            request["body"] = body
        headers = _get(details, "Headers", "RequestHeaders")
        if isinstance(headers, Mapping):
            request["headers"] = {str(k): str(v) for k, v in headers.items()}
        elif headers:
            warnings.append(f"{where}: headers were not carried over (cut by ConvertTo-Json depth: use -Depth 5)")
        auth = _get(details, "HttpAuthentication", "Authentication")
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
        }.items() if v is not None}
    elif lowered in ("servicebusqueue", "servicebustopic"):
        key = "serviceBusQueueMessage" if lowered == "servicebusqueue" else "serviceBusTopicMessage"
        message: dict[str, Any] = {
            "namespace": _get(details, "ServiceBusNamespace", "Namespace"),
            "message": _get(details, "ServiceBusMessage", "Message"),
            "transportType": _get(details, "ServiceBusTransportType", "TransportType"),
        }
        if key == "serviceBusQueueMessage":
            message["queueName"] = _get(details, "ServiceBusQueueName", "QueueName")
        else:
            message["topicPath"] = _get(details, "ServiceBusTopicPath", "TopicPath")
        auth = _get(details, "ServiceBusAuthentication", "Authentication")
        if isinstance(auth, Mapping) and _get(auth, "SasKeyName"):
            message["authentication"] = {"type": "SharedAccessKey", "sasKeyName": _get(auth, "SasKeyName")}
        elif _get(details, "ServiceBusSasKeyName"):
            message["authentication"] = {"type": "SharedAccessKey", "sasKeyName": _get(details, "ServiceBusSasKeyName")}
        action[key] = {k: v for k, v in message.items() if v is not None}
    else:
        warnings.append(f"{where}: action type '{kind}' is not known")
        return None
    return action


def read_powershell(node: Mapping[str, Any], source: str) -> ImportedJob:
    """One PSSchedulerJobDefinition object."""
    warnings: list[str] = ["PowerShell output: recurrence schedule details (hours, minutes, days) and secrets are "
                           "not in it; check the schedule"]
    properties: dict[str, Any] = {}
    if start := _date(_get(node, "StartTime")):
        properties["startTime"] = start
    recurrence: dict[str, Any] = {}
    text = _get(node, "Recurrence")
    if isinstance(text, Mapping):  # -Depth high enough: the object itself
        recurrence = {k[:1].lower() + k[1:]: v for k, v in text.items() if v is not None}
    elif isinstance(text, str) and (match := _RECURRENCE.search(text)):
        recurrence = {"frequency": match[2].capitalize(), "interval": int(match[1])}
    elif text:
        warnings.append(f"recurrence '{text}' could not be read; imported as a one-time job")
    end = _get(node, "EndSchedule")
    if recurrence and isinstance(end, str):
        if until := _UNTIL.search(end):
            recurrence["endTime"] = _date(until[1].strip()) or until[1].strip()
        elif times := _TIMES.search(end):
            recurrence["count"] = int(times[1])
    if recurrence:
        properties["recurrence"] = recurrence
    if action := _action(_get(node, "JobAction"), warnings, "JobAction"):
        if error := _action(_get(node, "JobErrorAction"), warnings, "JobErrorAction"):
            action["errorAction"] = error
        properties["action"] = action
    state = _get(node, "Status", "State")
    if isinstance(state, str) and state:
        properties["state"] = state
    job = ImportedJob(source, _get(node, "JobCollectionName"), str(_get(node, "JobName") or ""), properties,
                      warnings=warnings)
    if "action" not in properties:
        job.problems.append("no action could be read from the PowerShell output")
    return job
