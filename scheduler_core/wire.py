"""Canonical wire JSON (validated by the API) <-> the domain values the scheduler computes with.

The API validates a request into its canonical JSON and parses it here into a `JobDefinition` (its action's payload
included) or a `CollectionDefinition`; the storage adapter stores that JSON and parses it here when it reads a row.
Nothing past these two edges reads wire JSON. Datetimes are ISO 8601 UTC strings, durations ISO 8601.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import isodate

from scheduler_core.domain.collection import (
    CollectionDefinition,
    CollectionQuota,
    JobCollectionState,
    MaxRecurrence,
    QuotaFrequency,
    QuotaInForce,
    SkuDefinition,
)
from scheduler_core.domain.definition import Action, JobActionType, JobDefinition
from scheduler_core.domain.payloads import (
    ActiveDirectoryOAuth,
    Authentication,
    AuthenticationType,
    Basic,
    BrokeredMessageProperties,
    ClientCertificate,
    HttpRequest,
    ManagedIdentity,
    Payload,
    ServiceBusAuthentication,
    ServiceBusAuthenticationType,
    ServiceBusMessage,
    ServiceBusTransportType,
    StorageQueueMessage,
    StorageQueueMessageFormat,
)
from scheduler_core.domain.recurrence import Frequency, MonthlyOccurrence, Recurrence, RecurrenceSchedule, WeekDay
from scheduler_core.domain.retry import DEFAULT_RETRY, RetryPolicy, RetryType


def format_datetime(value: datetime) -> str:
    """UTC, `Z` suffix, fractional seconds only when present."""
    return f"{value.astimezone(UTC).replace(tzinfo=None).isoformat()}Z"


def parse_instant(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def parse_timespan(value: str | None) -> timedelta | None:
    """An ISO 8601 duration of days and time (None for none, or for years and months)."""
    return _timespan(value) if value else None


@lru_cache(maxsize=1024)
def _timespan(value: str) -> timedelta | None:
    # isodate takes several microseconds per duration, and stored jobs share a few (PT30S, PT1H): one parse each.
    parsed = isodate.parse_duration(value)
    return parsed if isinstance(parsed, timedelta) else None


def recurrence_from_wire(recurrence: Mapping[str, Any] | None) -> Recurrence | None:
    """Domain recurrence from wire `recurrence` (raises InvalidInput with JSON paths when the values conflict)."""
    if not recurrence:
        return None
    # Thousands of stored jobs share a few schedules, and checking a cron takes a tenth of a millisecond: one parse
    # per distinct recurrence (the value is frozen, so sharing it is safe; a refusal is never cached).
    return _parsed_recurrence(json.dumps(recurrence, sort_keys=True))


@lru_cache(maxsize=4096)
def _parsed_recurrence(text: str) -> Recurrence:
    recurrence = json.loads(text)
    schedule = recurrence.get("schedule")
    return Recurrence(
        frequency=Frequency(recurrence["frequency"]) if recurrence.get("frequency") else None,
        interval=recurrence.get("interval") or 1,
        count=recurrence.get("count"),
        end_time=parse_instant(recurrence.get("endTime")),
        schedule=_schedule_from_wire(schedule) if schedule else None,
        time_zone=recurrence.get("timeZone"),
        cron=recurrence.get("cron"),
    )


def _schedule_from_wire(schedule: Mapping[str, Any]) -> RecurrenceSchedule:
    return RecurrenceSchedule(
        minutes=tuple(schedule.get("minutes") or ()),
        hours=tuple(schedule.get("hours") or ()),
        week_days=tuple(WeekDay(d) for d in schedule.get("weekDays") or ()),
        month_days=tuple(schedule.get("monthDays") or ()),
        monthly_occurrences=tuple(
            MonthlyOccurrence(o.get("day"), o.get("Occurrence")) for o in schedule.get("monthlyOccurrences") or ()
        ),
    )


def retry_policy_from_wire(policy: Mapping[str, Any] | None) -> RetryPolicy:
    """Domain retry policy; absent means the old service's default (Fixed, 4 retries, 30 s apart).

    Raises:
        InvalidInput: the values are out of range (with JSON paths).
    """
    if not policy:
        return DEFAULT_RETRY
    # Stored jobs share a few policies and reading their durations takes most of the time a job row takes to parse:
    # one parse per distinct policy (the value is frozen, so sharing it is safe; a refusal is never cached).
    try:
        return _parsed_retry_policy(tuple(sorted(policy.items())))
    except TypeError:  # a value that cannot be a cache key (never in validated JSON): parse it as it is
        return _retry_policy(policy)


@lru_cache(maxsize=1024)
def _parsed_retry_policy(items: tuple[tuple[str, Any], ...]) -> RetryPolicy:
    return _retry_policy(dict(items))


def _retry_policy(policy: Mapping[str, Any]) -> RetryPolicy:
    retry_type = RetryType(policy.get("retryType") or "Fixed")
    if retry_type is RetryType.NONE:
        return RetryPolicy(RetryType.NONE, count=0)
    interval = parse_timespan(policy.get("retryInterval"))
    return RetryPolicy(
        retry_type=retry_type,
        interval=DEFAULT_RETRY.interval if interval is None else interval,
        count=policy["retryCount"] if policy.get("retryCount") is not None else DEFAULT_RETRY.count,
        max_interval=parse_timespan(policy.get("maxRetryInterval")),
        multiplier=policy.get("multiplier") or 2.0,
        jitter=policy.get("jitter") or 0.0,
    )


def authentication_from_wire(auth: Mapping[str, Any] | None) -> Authentication | None:
    """Typed authentication of an Http(s) request (None for `NotSpecified` or absent; secrets read when present).

    Raises:
        ValueError: an unknown `type` (the API refuses it first).
    """
    kind = AuthenticationType((auth or {}).get("type") or AuthenticationType.NOT_SPECIFIED)
    auth = auth or {}
    match kind:
        case AuthenticationType.CLIENT_CERTIFICATE:
            return ClientCertificate(
                pfx=auth.get("pfx"),
                password=auth.get("password"),
                thumbprint=auth.get("certificateThumbprint"),
                subject_name=auth.get("certificateSubjectName"),
                expiration=parse_instant(auth.get("certificateExpirationDate")),
            )
        case AuthenticationType.BASIC:
            return Basic(username=auth.get("username"), password=auth.get("password"))
        case AuthenticationType.ACTIVE_DIRECTORY_OAUTH:
            return ActiveDirectoryOAuth(
                tenant=auth.get("tenant"),
                audience=auth.get("audience"),
                client_id=auth.get("clientId"),
                secret=auth.get("secret"),
            )
        case AuthenticationType.MANAGED_IDENTITY:
            return ManagedIdentity(audience=auth.get("audience"), client_id=auth.get("clientId"))
    return None


def request_from_wire(request: Mapping[str, Any]) -> HttpRequest:
    """Typed `request` of an Http(s) action."""
    return HttpRequest(
        uri=request.get("uri") or "",
        method=request.get("method") or "GET",
        headers=dict(request.get("headers") or {}),
        body=request.get("body"),
        authentication=authentication_from_wire(request.get("authentication")),
    )


def queue_message_from_wire(message: Mapping[str, Any]) -> StorageQueueMessage:
    """Typed `queueMessage` of a StorageQueue action."""
    return StorageQueueMessage(
        storage_account=message.get("storageAccount") or "",
        queue_name=message.get("queueName") or "",
        message=message.get("message") or "",
        message_format=StorageQueueMessageFormat(message.get("messageFormat") or StorageQueueMessageFormat.ENVELOPE),
        sas_token=message.get("sasToken"),
    )


def service_bus_message_from_wire(message: Mapping[str, Any]) -> ServiceBusMessage:
    """Typed `serviceBusQueueMessage` / `serviceBusTopicMessage` of a Service Bus action."""
    auth = message.get("authentication")
    props = message.get("brokeredMessageProperties") or {}
    return ServiceBusMessage(
        namespace=message.get("namespace") or "",
        queue_name=message.get("queueName"),
        topic_path=message.get("topicPath"),
        message=message.get("message") or "",
        authentication=ServiceBusAuthentication(
            sas_key_name=auth.get("sasKeyName"),
            sas_key=auth.get("sasKey"),
            type=ServiceBusAuthenticationType(auth.get("type") or ServiceBusAuthenticationType.NOT_SPECIFIED),
        ) if auth is not None else None,
        transport_type=ServiceBusTransportType(message.get("transportType") or ServiceBusTransportType.NOT_SPECIFIED),
        brokered_message_properties=BrokeredMessageProperties(
            content_type=props.get("contentType"),
            correlation_id=props.get("correlationId"),
            force_persistence=props.get("forcePersistence"),
            label=props.get("label"),
            message_id=props.get("messageId"),
            partition_key=props.get("partitionKey"),
            reply_to=props.get("replyTo"),
            reply_to_session_id=props.get("replyToSessionId"),
            scheduled_enqueue_time_utc=parse_instant(props.get("scheduledEnqueueTimeUtc")),
            session_id=props.get("sessionId"),
            time_to_live=parse_timespan(props.get("timeToLive")),
            to=props.get("to"),
            via_partition_key=props.get("viaPartitionKey"),
        ),
        custom_message_properties=dict(message.get("customMessageProperties") or {}),
    )


def payload_from_wire(action_type: JobActionType, payload: Mapping[str, Any] | None) -> Payload:
    """The typed payload of an action of `action_type` (an absent one is empty: the runner reports what lacks)."""
    if action_type.payload_class is HttpRequest:
        return request_from_wire(payload or {})
    if action_type.payload_class is StorageQueueMessage:
        return queue_message_from_wire(payload or {})
    return service_bus_message_from_wire(payload or {})


def action_from_wire(action: Mapping[str, Any], path: str = "action") -> Action:
    """Typed action from canonical wire `action` at `path`: its payload, retry policy and error action, parsed once
    (validated already: the type is one of `JobActionType`; secret fields are read when present).

    Raises:
        ValueError: an unknown type or enum value (the API refuses them before parsing).
    """
    error = action.get("errorAction")
    kind = JobActionType(action["type"])
    return Action(
        type=kind,
        payload=payload_from_wire(kind, action.get(kind.payload_field)),
        retry_policy=retry_policy_from_wire(action.get("retryPolicy")),
        error_action=action_from_wire(error, f"{path}.errorAction") if error else None,
        wire=action,
        path=path,
    )


def definition_from_wire(properties: Mapping[str, Any]) -> JobDefinition:
    """Typed definition from canonical wire `properties` (without `state`, `status` and secrets)."""
    return JobDefinition(
        action=action_from_wire(properties.get("action") or {"type": JobActionType.HTTP.value}),
        start_time=parse_instant(properties.get("startTime")),
        recurrence=recurrence_from_wire(properties.get("recurrence")),
        catch_up_window=parse_timespan(properties.get("catchUpWindow")),
        wire=properties,
    )


# ---- job collections ---------------------------------------------------------------------------------------------


def collection_definition_from_wire(definition: Mapping[str, Any]) -> CollectionDefinition:
    """Typed collection definition from canonical wire JSON (`location`, `tags`, `properties`; validated already)."""
    properties = definition.get("properties") or {}
    sku = (properties.get("sku") or {}).get("name")
    state = properties.get("state")
    quota = properties.get("quota")
    recurrence = (quota or {}).get("maxRecurrence")
    return CollectionDefinition(
        location=definition.get("location"),
        tags=dict(definition["tags"]) if definition.get("tags") is not None else None,
        sku=SkuDefinition(sku) if sku else None,
        state=JobCollectionState(state) if state else None,
        quota=None if quota is None else CollectionQuota(
            max_job_count=quota.get("maxJobCount"),
            max_job_occurrence=quota.get("maxJobOccurrence"),
            max_recurrence=None if recurrence is None else MaxRecurrence(
                frequency=QuotaFrequency(recurrence["frequency"]) if recurrence.get("frequency") else None,
                interval=recurrence.get("interval"),
            ),
        ),
    )


def collection_definition_to_wire(definition: CollectionDefinition) -> dict[str, Any]:
    """Canonical wire JSON of a collection definition: the fields its owner set, nothing filled in."""
    wire: dict[str, Any] = {}
    if definition.location is not None:
        wire["location"] = definition.location
    if definition.tags is not None:
        wire["tags"] = dict(definition.tags)
    properties: dict[str, Any] = {}
    if definition.sku is not None:
        properties["sku"] = {"name": definition.sku.value}
    if definition.state is not None:
        properties["state"] = definition.state.value
    if definition.quota is not None:
        quota = definition.quota
        recurrence = quota.max_recurrence
        properties["quota"] = _present(
            maxJobCount=quota.max_job_count,
            maxJobOccurrence=quota.max_job_occurrence,
            maxRecurrence=None if recurrence is None else _present(
                frequency=recurrence.frequency.value if recurrence.frequency else None, interval=recurrence.interval
            ),
        )
    if properties:
        wire["properties"] = properties
    return wire


def quota_in_force_to_wire(quota: QuotaInForce) -> dict[str, Any]:
    """The wire `quota` of a collection as it is enforced (what the API returns)."""
    return _present(
        maxJobCount=quota.max_job_count,
        maxRecurrence={"frequency": quota.frequency.value, "interval": quota.interval},
        maxJobOccurrence=quota.max_job_occurrence,
    )


def _present(**fields: Any) -> dict[str, Any]:
    return {name: value for name, value in fields.items() if value is not None}
