"""The Azure Scheduler 2016-03-01 wire models, field names exactly as on the wire (reference section (b)).

Attribute names are the wire names on purpose: a reader can hold this file next to the swagger. Our extensions are
marked as such; old clients never send them and ignore them in responses.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import Enum
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Discriminator, Field, Tag

from scheduler_core.api.types import Duration, Int32, PositiveDuration, UtcDateTime, canonical_literal, case_insensitive
from scheduler_core.domain.collection import CollectionDefinition, JobCollectionState, QuotaFrequency, SkuDefinition
from scheduler_core.domain.definition import JobActionType, JobWrite
from scheduler_core.domain.job import JobExecutionStatus, JobHistoryActionName, JobState
from scheduler_core.domain.payloads import (
    AuthenticationType,
    ServiceBusAuthenticationType,
    ServiceBusTransportType,
    StorageQueueMessageFormat,
)
from scheduler_core.domain.recurrence import Frequency, WeekDay
from scheduler_core.domain.retry import RetryType
from scheduler_core.ports import HistoryEntry, StoredCollection, StoredJob
from scheduler_core.secrets import merge_secrets, split_secrets
from scheduler_core.service.merge import merge_patch
from scheduler_core.wire import (
    collection_definition_from_wire,
    collection_definition_to_wire,
    definition_from_wire,
    format_datetime,
    quota_in_force_to_wire,
)


class Wire(BaseModel):
    """Base of every wire model: unknown fields are an error (a typo must not be silently dropped). Requests are
    validated strictly (api/validation.py): `"interval": "2"` or a number as `startTime` is an error, not a guess."""

    # NaN and infinities (`NaN`, `1e309`) are no numbers a job can use, and no response could render them.
    model_config = ConfigDict(extra="forbid", populate_by_name=True, use_enum_values=False, allow_inf_nan=False)


# ---- enums: each vocabulary is one domain enum (domain/), accepted here in any case --------------------------------


def _enum(enum: type[Enum]) -> Any:
    return Annotated[enum, case_insensitive(enum)]


# ---- job collections -----------------------------------------------------------------------------------------


class Sku(Wire):
    name: _enum(SkuDefinition) | None = None  # type: ignore[valid-type]


class JobMaxRecurrence(Wire):
    frequency: _enum(QuotaFrequency) | None = None  # type: ignore[valid-type]
    interval: Int32 | None = Field(default=None, ge=1)


class JobCollectionQuota(Wire):
    maxJobCount: Int32 | None = Field(default=None, ge=1)
    maxJobOccurrence: Int32 | None = Field(default=None, ge=1)
    maxRecurrence: JobMaxRecurrence | None = None


class JobCollectionProperties(Wire):
    sku: Sku | None = None
    state: _enum(JobCollectionState) | None = None  # type: ignore[valid-type]
    quota: JobCollectionQuota | None = None


class JobCollectionDefinition(Wire):
    id: str | None = None
    type: str | None = None
    name: str | None = None
    location: str | None = Field(default=None, max_length=256)
    # ARM's limits: 50 tags, names up to 512 characters, values up to 256.
    tags: dict[Annotated[str, Field(min_length=1, max_length=512)], Annotated[str, Field(max_length=256)]] | None = (
        Field(default=None, max_length=50)
    )
    properties: JobCollectionProperties | None = None


class JobCollectionListResult(Wire):
    value: list[JobCollectionDefinition] = []
    nextLink: str | None = None


# ---- retry ---------------------------------------------------------------------------------------------------


class RetryPolicy(Wire):
    """`maxRetryInterval`, `multiplier` and `jitter` are extensions for `Exponential`."""

    retryType: _enum(RetryType) | None = None  # type: ignore[valid-type]
    retryInterval: Duration | None = None
    retryCount: Int32 | None = None
    maxRetryInterval: Duration | None = None
    multiplier: float | None = Field(default=None, ge=1)  # 0 must not silently become the default 2
    jitter: float | None = None


# ---- outbound authentication ---------------------------------------------------------------------------------


class ClientCertAuthentication(Wire):
    type: Annotated[Literal["ClientCertificate"], canonical_literal("ClientCertificate")]
    password: str | None = None
    pfx: str | None = None
    certificateThumbprint: str | None = None
    certificateExpirationDate: UtcDateTime | None = None
    certificateSubjectName: str | None = None
    # Read-only: Azure Scheduler's own responses spelt the expiry so (the outbound-authentication doc's samples), so a
    # job saved from it carries it. Accepted and dropped: the pfx decides the certificate's details.
    certificateExpiration: UtcDateTime | None = Field(default=None, exclude=True)


class BasicAuthentication(Wire):
    type: Annotated[Literal["Basic"], canonical_literal("Basic")]
    username: str | None = None
    password: str | None = None


class OAuthAuthentication(Wire):
    type: Annotated[Literal["ActiveDirectoryOAuth"], canonical_literal("ActiveDirectoryOAuth")]
    secret: str | None = None
    tenant: str | None = None
    audience: str | None = None
    clientId: str | None = None


class ManagedIdentityAuthentication(Wire):
    """Extension: a token from the function app's own identity, so no secret is stored."""

    type: Annotated[Literal["ManagedIdentity"], canonical_literal("ManagedIdentity")]
    audience: str | None = None
    clientId: str | None = None


class NoAuthentication(Wire):
    type: Annotated[Literal["NotSpecified"], canonical_literal("NotSpecified")]


_AUTH_TAGS = {kind.value.lower(): kind.value for kind in AuthenticationType}


def _auth_tag(value: Any) -> str | None:
    raw = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return _AUTH_TAGS.get(raw.lower()) if isinstance(raw, str) else None


HttpAuthentication = Annotated[
    Annotated[ClientCertAuthentication, Tag("ClientCertificate")]
    | Annotated[BasicAuthentication, Tag("Basic")]
    | Annotated[OAuthAuthentication, Tag("ActiveDirectoryOAuth")]
    | Annotated[ManagedIdentityAuthentication, Tag("ManagedIdentity")]
    | Annotated[NoAuthentication, Tag("NotSpecified")],
    Discriminator(
        _auth_tag,
        custom_error_type="invalid_authentication_type",
        custom_error_message="authentication.type must be one of " + ", ".join(_AUTH_TAGS.values()),
    ),
]


# ---- actions -------------------------------------------------------------------------------------------------


class HttpRequest(Wire):
    authentication: HttpAuthentication | None = None
    uri: str | None = None
    method: str | None = None
    body: str | None = None
    headers: dict[str, str] | None = None


class StorageQueueMessage(Wire):
    storageAccount: str | None = None
    queueName: str | None = None
    sasToken: str | None = None
    message: str | None = None
    messageFormat: _enum(StorageQueueMessageFormat) | None = None  # type: ignore[valid-type]  # extension


class ServiceBusAuthentication(Wire):
    sasKey: str | None = None
    sasKeyName: str | None = None
    type: _enum(ServiceBusAuthenticationType) | None = None  # type: ignore[valid-type]


class ServiceBusBrokeredMessageProperties(Wire):
    contentType: str | None = None
    correlationId: str | None = None
    forcePersistence: bool | None = None
    label: str | None = None
    messageId: str | None = None
    partitionKey: str | None = None
    replyTo: str | None = None
    replyToSessionId: str | None = None
    scheduledEnqueueTimeUtc: UtcDateTime | None = None
    sessionId: str | None = None
    timeToLive: PositiveDuration | None = None  # Service Bus refuses a message that has expired already
    to: str | None = None
    viaPartitionKey: str | None = None


class ServiceBusMessage(Wire):
    authentication: ServiceBusAuthentication | None = None
    brokeredMessageProperties: ServiceBusBrokeredMessageProperties | None = None
    customMessageProperties: dict[str, str] | None = None
    message: str | None = None
    namespace: str | None = None
    transportType: _enum(ServiceBusTransportType) | None = None  # type: ignore[valid-type]


class ServiceBusQueueMessage(ServiceBusMessage):
    queueName: str | None = None


class ServiceBusTopicMessage(ServiceBusMessage):
    topicPath: str | None = None


class JobErrorAction(Wire):
    type: _enum(JobActionType) | None = None  # type: ignore[valid-type]
    request: HttpRequest | None = None
    queueMessage: StorageQueueMessage | None = None
    serviceBusQueueMessage: ServiceBusQueueMessage | None = None
    serviceBusTopicMessage: ServiceBusTopicMessage | None = None
    retryPolicy: RetryPolicy | None = None


class JobAction(JobErrorAction):
    errorAction: JobErrorAction | None = None


# ---- recurrence ----------------------------------------------------------------------------------------------


class JobRecurrenceScheduleMonthlyOccurrence(Wire):
    day: _enum(WeekDay) | None = None  # type: ignore[valid-type]
    # Capital O on the wire (swagger and SDK); the docs' samples write lowercase, so both are accepted.
    Occurrence: Int32 | None = Field(default=None, validation_alias=AliasChoices("Occurrence", "occurrence"))


def _one_or_many(value: Any) -> Any:
    """A lone integer as a list of one: the 2016 concepts doc allowed `"minutes": "Integer, or Array of integers"`."""
    return [value] if isinstance(value, int) and not isinstance(value, bool) else value


_IntegerList = Annotated[list[Int32], BeforeValidator(_one_or_many)]


class JobRecurrenceSchedule(Wire):
    weekDays: list[_enum(WeekDay)] | None = None  # type: ignore[valid-type]
    hours: _IntegerList | None = None  # an array on the way out, always
    minutes: _IntegerList | None = None
    monthDays: _IntegerList | None = None
    monthlyOccurrences: list[JobRecurrenceScheduleMonthlyOccurrence] | None = None


class JobRecurrence(Wire):
    frequency: _enum(Frequency) | None = None  # type: ignore[valid-type]
    interval: Int32 | None = Field(default=None, ge=1)  # the upper bound depends on frequency: domain.recurrence
    count: Int32 | None = None
    endTime: UtcDateTime | None = None
    schedule: JobRecurrenceSchedule | None = None
    timeZone: str | None = None  # extension: IANA zone for schedule hours and minutes
    cron: str | None = None  # extension: 5-field cron (6 with seconds first), instead of frequency and schedule


# ---- jobs ----------------------------------------------------------------------------------------------------


class JobStatus(Wire):
    executionCount: Int32 | None = None
    failureCount: Int32 | None = None
    faultedCount: Int32 | None = None
    lastExecutionTime: UtcDateTime | None = None
    nextExecutionTime: UtcDateTime | None = None


class JobProperties(Wire):
    startTime: UtcDateTime | None = None
    action: JobAction | None = None
    recurrence: JobRecurrence | None = None
    state: _enum(JobState) | None = None  # type: ignore[valid-type]
    status: JobStatus | None = None  # read-only: accepted on input (saved job JSON carries it) and ignored
    catchUpWindow: Duration | None = None  # extension: how late a missed occurrence may still fire


class JobDefinition(Wire):
    id: str | None = None
    type: str | None = None
    name: str | None = None
    properties: JobProperties | None = None


class JobListResult(Wire):
    value: list[JobDefinition] = []
    nextLink: str | None = None


class JobHistoryDefinitionProperties(Wire):
    startTime: UtcDateTime | None = None
    endTime: UtcDateTime | None = None
    expectedExecutionTime: UtcDateTime | None = None
    actionName: JobHistoryActionName | None = None
    status: JobExecutionStatus | None = None
    message: str | None = None
    retryCount: Int32 | None = None
    repeatCount: Int32 | None = None


class JobHistoryDefinition(Wire):
    id: str | None = None
    type: str | None = None
    name: str | None = None
    properties: JobHistoryDefinitionProperties | None = None


class JobHistoryListResult(Wire):
    value: list[JobHistoryDefinition] = []
    nextLink: str | None = None


# ---- errors --------------------------------------------------------------------------------------------------


class ErrorDetail(Wire):
    code: str
    target: str | None = None  # the JSON path of the offending field, or the query parameter
    message: str


class ErrorBody(Wire):
    code: str  # BadRequest, ResourceNotFound, ConflictError, InvalidHttpVerb, InternalError
    message: str
    details: list[ErrorDetail] | None = None


class ErrorResponse(Wire):
    """The ARM error envelope every failed request answers with."""

    error: ErrorBody


# ---- typed values -> wire (responses) ----------------------------------------------------------------------------


def job_to_wire(job: StoredJob) -> dict[str, Any]:
    """A stored job as a `JobDefinition` response (secrets never included)."""
    status: dict[str, Any] = {
        "executionCount": job.status.execution_count,
        "failureCount": job.status.failure_count,
        "faultedCount": job.status.faulted_count,
    }
    if job.status.last_execution_time:
        status["lastExecutionTime"] = format_datetime(job.status.last_execution_time)
    if job.status.next_execution_time and job.state is JobState.ENABLED:
        # A Disabled job does not run at the time kept for when it is enabled again; the real service answered
        # Disabled jobs without it (reference (i), the .NET SDK's session records).
        status["nextExecutionTime"] = format_datetime(job.status.next_execution_time)
    return {
        "id": job.ref.arm_id,
        "type": "Microsoft.Scheduler/jobCollections/jobs",
        "name": f"{job.ref.collection.name}/{job.ref.name}",
        "properties": {**job.definition.wire, "state": job.state.value, "status": status},
    }


# ---- wire -> typed values (requests) -----------------------------------------------------------------------------


def job_write_from_wire(properties: Mapping[str, Any]) -> JobWrite:
    """What a validated job `properties` (canonical, secrets included) asks for: definition, secrets, state."""
    definition = {k: v for k, v in properties.items() if k not in ("state", "status")}
    public, secrets = split_secrets(definition)
    state = properties.get("state")
    return JobWrite(definition_from_wire(public), secrets, JobState(state) if state else None)


def job_properties_to_wire(job: StoredJob) -> dict[str, Any]:
    """The stored job's `properties` with its secrets and state (not its status): the base a PATCH merges into."""
    return {**merge_secrets(job.definition.wire, job.secrets), "state": job.state.value}


def history_to_wire(entry: HistoryEntry) -> dict[str, Any]:
    """A history row as a `JobHistoryDefinition`."""
    name = f"{entry.execution_id}-{entry.action_name.value}-{entry.retry_count}"
    return {
        "id": f"{entry.job.arm_id}/history/{name}",
        "type": "Microsoft.Scheduler/jobCollections/jobs/history",
        "name": f"{entry.job.collection.name}/{entry.job.name}/{name}",
        "properties": {
            "startTime": format_datetime(entry.start_time),
            "endTime": format_datetime(entry.end_time),
            "expectedExecutionTime": format_datetime(entry.expected_execution_time),
            "actionName": entry.action_name.value,
            "status": entry.status.value,
            "message": entry.message,
            "retryCount": entry.retry_count,
            "repeatCount": entry.repeat_count,
        },
    }


def collection_to_wire(collection: StoredCollection) -> dict[str, Any]:
    """A stored collection as a `JobCollectionDefinition`, defaults (sku, state, the plan's quota) filled in."""
    definition = collection.definition
    wire = collection_definition_to_wire(definition)
    properties = dict(wire.get("properties") or {})
    properties.update(
        sku={"name": definition.plan.value},
        state=(definition.state or JobCollectionState.ENABLED).value,
        quota=quota_in_force_to_wire(definition.effective_quota()),
    )
    return {
        "id": collection.ref.arm_id,
        "type": "Microsoft.Scheduler/jobCollections",
        "name": collection.ref.name,
        **wire,
        "properties": properties,
    }


def collection_patch(patch: Mapping[str, Any]) -> Callable[[CollectionDefinition], CollectionDefinition]:
    """The update a validated PATCH body (canonical, `null` removes a field) makes to a collection definition: a JSON
    merge patch (RFC 7386) of its wire JSON."""

    def patched(current: CollectionDefinition) -> CollectionDefinition:
        return collection_definition_from_wire(merge_patch(collection_definition_to_wire(current), patch))

    return patched
