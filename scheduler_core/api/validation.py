"""Request bodies -> canonical wire JSON, with every problem named by its JSON path.

Pydantic checks shapes and types; this module adds what the wire models cannot say alone (an action's payload must
match its type, limits of reference (e)) and asks the domain to build recurrence and retry values, which validate
themselves. A rejected request changes nothing: validation happens before any write.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from scheduler_core.api.models import JobCollectionDefinition, JobDefinition, JobProperties
from scheduler_core.client_certificates import fill_certificate_details
from scheduler_core.domain.collection import max_quota_interval
from scheduler_core.domain.definition import JobActionType
from scheduler_core.domain.errors import InvalidInput, PayloadTooLarge, Problem
from scheduler_core.domain.payloads import AuthenticationType
from scheduler_core.domain.recurrence import check_fires
from scheduler_core.domain.targets import (
    is_header_value,
    is_http_token,
    is_queue_name,
    is_service_bus_entity,
    is_storage_account,
    is_tenant,
    managed_identity_refusal,
    parse_target,
    service_bus_host,
)
from scheduler_core.settings import IDENTITY_QUEUES_SETTING, Settings
from scheduler_core.wire import parse_instant, recurrence_from_wire, retry_policy_from_wire

M = TypeVar("M", bound=BaseModel)

_TAGS = {kind.value for kind in AuthenticationType}
_PAYLOAD = {kind.value: kind.payload_field for kind in JobActionType}
_REQUIRED = {
    "request": ("uri",),
    "queueMessage": ("storageAccount", "queueName", "sasToken", "message"),
    "serviceBusQueueMessage": ("namespace", "queueName", "message"),
    "serviceBusTopicMessage": ("namespace", "topicPath", "message"),
}


MAX_BODY_BYTES = 1024 * 1024
"""A request body larger than this is refused before parsing (413); a job is at most 16,000 characters anyway."""

MAX_DEPTH = 32
"""Nesting deeper than any wire model needs (a job is about 8 levels deep) is refused before validation."""

_SAS_FORBIDDEN = re.compile(r"[\x00-\x20\x7f]")  # a query string has no whitespace or control characters
_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")  # the only way JSON text can spell a surrogate


def parse_json(body: bytes) -> Any:
    """The request body as JSON: UTF-8 (a byte-order mark is tolerated), at most MAX_BODY_BYTES, MAX_DEPTH deep.

    Raises:
        PayloadTooLarge: the body is larger than MAX_BODY_BYTES.
        InvalidInput: not UTF-8, not JSON, nested too deeply, or a string with an unpaired surrogate.
    """
    if len(body) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"The request body is larger than {MAX_BODY_BYTES} bytes.")
    try:
        text = body.decode("utf-8-sig") if body else "null"
    except UnicodeDecodeError:
        raise InvalidInput("The request body must be JSON encoded as UTF-8.", "") from None
    if _depth(text) > MAX_DEPTH:
        raise InvalidInput(f"The request body is nested more than {MAX_DEPTH} levels deep.", "")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"The request body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}.",
                           "") from None
    except ValueError:  # an integer literal longer than Python converts (4,300 digits)
        raise InvalidInput("The request body has a number with too many digits.", "") from None
    lone = _lone_surrogate(value) if _SURROGATE_ESCAPE.search(text) else None
    if lone is not None:
        # `"\ud800"` decodes to a string that cannot be encoded again: stored, it would fail every later response.
        raise InvalidInput("must not contain a lone surrogate escape (\\ud800-\\udfff)", lone)
    return value


def _lone_surrogate(value: Any, path: str = "") -> str | None:
    """The JSON path of the first string (or key) holding an unpaired UTF-16 surrogate, else None.

    Recursion is bounded: `parse_json` has refused anything nested more than MAX_DEPTH levels.
    """
    if isinstance(value, str):
        return path if _SURROGATE.search(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            if _SURROGATE.search(key):
                return path
            found = _lone_surrogate(item, f"{path}.{key}" if path else key)
            if found is not None:
                return found
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found = _lone_surrogate(item, f"{path}[{i}]")
            if found is not None:
                return found
    return None


def _depth(text: str) -> int:
    """The deepest nesting of brackets outside strings, found without recursion (json.loads would recurse)."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return 0  # cannot be deeper: no need to scan
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_DEPTH:
                    return deepest
        elif char in "]}":
            depth -= 1
    return deepest


def _path(loc: Sequence[Any]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part in _TAGS or str(part).startswith("function-"):
            continue  # discriminator tags and validator names are not part of the JSON path
        else:
            path += f".{part}" if path else str(part)
    return path


def _message(error: Any) -> str:
    """A validator's own sentence without pydantic's "Value error, " in front of it."""
    if error["type"] == "value_error" and "error" in error.get("ctx", {}):
        return str(error["ctx"]["error"])
    return str(error["msg"])


def _validate(model: type[M], raw: Any) -> M:
    try:
        return model.model_validate(raw, strict=True)  # no coercion across JSON types
    except ValidationError as exc:
        problems = [Problem(_path(e["loc"]), _message(e)) for e in exc.errors(include_url=False)]
        raise InvalidInput(problems) from None


def parse_collection(raw: Any, *, partial: bool = False) -> dict[str, Any]:
    """Canonical job collection JSON (`location`, `tags`, `properties`; `id`, `type`, `name` are read-only).

    `partial` for a PATCH body: the fields it sets, an explicit `null` kept (it removes the field on merge).
    """
    if not isinstance(raw, Mapping):
        raise InvalidInput("The request body must be a JSON object (a JobCollectionDefinition).", "")
    model = _validate(JobCollectionDefinition, raw)
    limit = model.properties.quota.maxRecurrence if model.properties and model.properties.quota else None
    if limit is not None and limit.interval is not None and limit.interval > max_quota_interval(limit.frequency):
        # Checked on requests only: a response is validated against the same model, and a row stored under an
        # older rule must stay readable.
        top = max_quota_interval(limit.frequency)
        raise InvalidInput(f"must be at most {top} for this frequency (18 months, the longest a job may recur)",
                           "properties.quota.maxRecurrence.interval")
    read_only = {"id", "type", "name"}
    if partial:
        return model.model_dump(mode="json", exclude_unset=True, exclude=read_only)
    return model.model_dump(mode="json", exclude_none=True, exclude=read_only)


def parse_job(raw: Any, settings: Settings, now: datetime) -> dict[str, Any]:
    """Canonical job `properties` (secrets included, `status` dropped) from a whole JobDefinition body.

    Raises:
        InvalidInput: every offending field, by JSON path.
    """
    if not isinstance(raw, Mapping):
        raise InvalidInput("The request body must be a JSON object (a JobDefinition).", "")
    size = len(json.dumps(raw, separators=(",", ":"), ensure_ascii=False))  # characters, not \u escapes
    if size > settings.max_job_chars:
        raise InvalidInput(f"The job is {size} characters; the maximum job size is {settings.max_job_chars}.", "")
    if "properties" not in raw:
        # azure-mgmt-scheduler serialises any model it is given, and its own test passed a JobProperties as the job.
        misplaced = sorted(k for k in raw if k in JobProperties.model_fields)
        if misplaced:
            raise InvalidInput([Problem(k, "belongs inside properties: a job is {\"properties\": {...}}")
                                for k in misplaced])
    model = _validate(JobDefinition, raw)
    properties: dict[str, Any] | None = model.model_dump(mode="json", exclude_none=True).get("properties")
    if not properties:
        raise InvalidInput("is required", "properties")
    properties.pop("status", None)
    problems = _action_problems(properties.get("action"), "properties.action", settings)
    if properties.get("recurrence") == {}:
        # Not "no recurrence": the SDK re-sends a cron recurrence it read as `{}` (its model has no `cron`), and
        # taking that as absent turned the job into a one-time job without a word.
        problems.append(Problem("properties.recurrence.frequency",
                                "is required when cron is not given (a client that does not know the cron "
                                "extension drops it: change such a job with PATCH)"))
    problems += fill_certificate_details(properties)  # reads each pfx; fills certificateThumbprint & co.
    if problems:
        raise InvalidInput(problems)
    _check_timing(properties, now, settings)
    return properties


def _action_problems(action: Mapping[str, Any] | None, path: str, settings: Settings) -> list[Problem]:
    if not action:
        return [Problem(path, "is required")]
    if not action.get("type"):
        return [Problem(f"{path}.type", "is required")]
    problems: list[Problem] = []
    payload_name = _PAYLOAD[action["type"]]
    payload = action.get(payload_name)
    if not payload:
        problems.append(Problem(f"{path}.{payload_name}", f"is required for an action of type {action['type']}"))
    else:
        problems += [
            Problem(f"{path}.{payload_name}.{field}", _required(payload_name, field))
            for field in _REQUIRED[payload_name]
            if _missing(payload, field) and not _identity_allowed(payload_name, field, payload, settings)
        ]
    for other in set(_PAYLOAD.values()) - {payload_name}:
        if action.get(other):
            problems.append(Problem(f"{path}.{other}", f"does not belong to an action of type {action['type']}"))
    if payload_name == "request" and payload:
        problems += _request_problems(action["type"], payload, f"{path}.request", settings)
    elif payload:
        problems += _payload_problems(payload_name, payload, f"{path}.{payload_name}", settings)
    try:
        policy = retry_policy_from_wire(action.get("retryPolicy"))
        if policy.retries and policy.interval.total_seconds() < settings.min_retry_interval_seconds:
            problems.append(
                Problem(
                    f"{path}.retryPolicy.retryInterval",
                    f"must be at least {settings.min_retry_interval_seconds:g} seconds",
                )
            )
    except InvalidInput as exc:
        problems += [Problem(p.path.replace("properties.action", path, 1), p.message) for p in exc.problems]
    if action.get("errorAction"):
        problems += _action_problems(action["errorAction"], f"{path}.errorAction", settings)
    return problems


def _missing(payload: Mapping[str, Any], field: str) -> bool:
    """Whether a required payload field is absent. A message may be empty: the classic "Create Job" reference's
    storage-queue sample posts `"message": ""` (reference (i))."""
    return payload.get(field) is None if field == "message" else not payload.get(field)


def _identity_allowed(payload_name: str, field: str, payload: Mapping[str, Any], settings: Settings) -> bool:
    """A StorageQueue action may omit its sasToken for a queue the app's identity is allowed to post to."""
    queue = (payload.get("storageAccount"), payload.get("queueName"))
    return payload_name == "queueMessage" and field == "sasToken" and queue in settings.identity_queues


def _required(payload_name: str, field: str) -> str:
    if payload_name == "queueMessage" and field == "sasToken":
        return f"is required (without one, only the queues listed in {IDENTITY_QUEUES_SETTING} can be used)"
    return "is required"


def _request_problems(action_type: str, request: Mapping[str, Any], path: str, settings: Settings) -> list[Problem]:
    problems: list[Problem] = []
    uri = request.get("uri") or ""
    try:
        target = parse_target(uri)  # the one reading the outbound connection uses too
    except ValueError as exc:
        problems.append(Problem(f"{path}.uri", str(exc)))
    else:
        if action_type == JobActionType.HTTPS.value and target.scheme != "https":
            problems.append(Problem(f"{path}.uri", "an Https action needs an https URL"))
    method = request.get("method")
    if method is not None and not is_http_token(method):
        problems.append(Problem(f"{path}.method", "must be an HTTP method name (letters, no spaces or line breaks)"))
    for name, value in (request.get("headers") or {}).items():
        if not is_http_token(name):
            problems.append(Problem(f"{path}.headers", "a header name must be a token (no spaces or separators)"))
        elif not is_header_value(value):
            problems.append(Problem(f"{path}.headers.{name}", "must not contain line breaks or control characters"))
    problems += _authentication_problems(request.get("authentication") or {}, f"{path}.authentication", settings)
    if len(uri) > settings.max_uri_chars:
        problems.append(Problem(f"{path}.uri", f"is longer than {settings.max_uri_chars} characters"))
    if len(request.get("body") or "") > settings.max_request_body_chars:
        problems.append(Problem(f"{path}.body", f"is longer than {settings.max_request_body_chars} characters"))
    headers = request.get("headers") or {}
    if len(headers) > settings.max_headers:
        problems.append(Problem(f"{path}.headers", f"has more than {settings.max_headers} headers"))
    if sum(len(k) + len(v) for k, v in headers.items()) > settings.max_header_chars:
        problems.append(Problem(f"{path}.headers", f"are longer than {settings.max_header_chars} characters in all"))
    return problems


def _authentication_problems(auth: Mapping[str, Any], path: str, settings: Settings) -> list[Problem]:
    kind = auth.get("type")
    if kind == AuthenticationType.MANAGED_IDENTITY:
        refusal = managed_identity_refusal(
            auth.get("audience"), auth.get("clientId"),
            allowed=settings.managed_identity_audiences, outbound_client_id=settings.outbound_identity_client_id,
        )
        return [Problem(f"{path}.{refusal[0]}", refusal[1])] if refusal else []
    if kind == AuthenticationType.ACTIVE_DIRECTORY_OAUTH and auth.get("tenant") and not is_tenant(auth["tenant"]):
        return [Problem(f"{path}.tenant", "must be a tenant id (GUID) or a domain name, without '/', '..' or '%'")]
    return []


def _payload_problems(payload_name: str, payload: Mapping[str, Any], path: str, settings: Settings) -> list[Problem]:
    """Names a StorageQueue or Service Bus action connects to, checked as the runner will read them."""
    problems: list[Problem] = []
    if payload_name == "queueMessage":
        account, queue = payload.get("storageAccount"), payload.get("queueName")
        if account and account not in settings.storage_queue_endpoints and not is_storage_account(account):
            problems.append(Problem(f"{path}.storageAccount", "must be a storage account name (lower-case letters "
                                                              "and digits)"))
        if queue and not is_queue_name(queue):
            problems.append(Problem(f"{path}.queueName", "must be up to 63 lower-case letters, digits and hyphens"))
        sas = payload.get("sasToken")
        if isinstance(sas, str) and _SAS_FORBIDDEN.search(sas):  # the value is a secret: never quoted
            problems.append(Problem(f"{path}.sasToken", "must be a SAS query string, without spaces, line breaks or "
                                                         "control characters"))
    elif payload_name in ("serviceBusQueueMessage", "serviceBusTopicMessage"):
        namespace = payload.get("namespace")
        if namespace:
            try:
                service_bus_host(namespace)
            except ValueError as exc:
                problems.append(Problem(f"{path}.namespace", str(exc)))
        entity_field = "queueName" if payload_name == "serviceBusQueueMessage" else "topicPath"
        entity = payload.get(entity_field)
        if entity and not is_service_bus_entity(entity):
            problems.append(Problem(f"{path}.{entity_field}", "must be letters, digits, '.', '_', '-', '/' or '~'"))
        custom = payload.get("customMessageProperties") or {}
        if any(not is_header_value(str(v)) for v in custom.values()):
            problems.append(Problem(f"{path}.customMessageProperties", "must not contain control characters"))
    return problems


LATEST_INSTANT = datetime(9000, 1, 1, tzinfo=UTC)
"""No startTime or endTime after this: a search past the start (50 years at most) must stay inside the calendar."""


def _check_timing(properties: Mapping[str, Any], now: datetime, settings: Settings) -> None:
    start = parse_instant(properties.get("startTime"))
    end = parse_instant((properties.get("recurrence") or {}).get("endTime"))
    for path, instant in (("properties.startTime", start), ("properties.recurrence.endTime", end)):
        if instant is not None and instant >= LATEST_INSTANT:
            raise InvalidInput("must be before the year 9000", path)
    ahead = settings.max_start_ahead_days
    if start is not None and ahead is not None and start > now + timedelta(days=ahead):
        raise InvalidInput(
            f"must be at most {ahead:g} days ahead (SCHEDULER_MAX_START_AHEAD_DAYS)", "properties.startTime"
        )
    recurrence = recurrence_from_wire(properties.get("recurrence"))
    if recurrence is None:
        return
    start = start or now
    if recurrence.end_time is not None and recurrence.end_time < start:
        raise InvalidInput("must not be before startTime", "properties.recurrence.endTime")
    try:
        check_fires(start, recurrence)
    except OverflowError:
        raise InvalidInput("has no occurrence before the end of the calendar", "properties.recurrence") from None
