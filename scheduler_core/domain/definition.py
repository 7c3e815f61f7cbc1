"""A job's definition as typed, frozen values: what it does (its action, retries, error action) and when (start,
recurrence, catch-up window). Parsed once from wire JSON at the edges (`scheduler_core/wire.py`, used by the API and
the storage adapter); the service reasons only about these fields.

Each value keeps the canonical wire JSON it was parsed from (`wire`, secrets excluded), which the API renders back;
the action runners read the typed payload (`Action.payload`, kinds in `domain/payloads.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from scheduler_core.domain.job import JobState, WireEnum
from scheduler_core.domain.payloads import HttpRequest, Payload, ServiceBusMessage, StorageQueueMessage
from scheduler_core.domain.recurrence import Recurrence
from scheduler_core.domain.retry import DEFAULT_RETRY, RetryPolicy


class JobActionType(WireEnum):
    """The kinds of action (wire `action.type`): the one list of them. Each carries one kind of payload
    (`payload_class`) under one wire field (`payload_field`)."""

    HTTP = "Http"
    HTTPS = "Https"
    STORAGE_QUEUE = "StorageQueue"
    SERVICE_BUS_QUEUE = "ServiceBusQueue"
    SERVICE_BUS_TOPIC = "ServiceBusTopic"

    @property
    def payload_field(self) -> str:
        """The wire field of this kind's payload: `request`, `queueMessage`, `serviceBusQueueMessage`, ..."""
        return _PAYLOADS[self][0]

    @property
    def payload_class(self) -> type[Payload]:
        """The typed payload of this kind: `HttpRequest`, `StorageQueueMessage` or `ServiceBusMessage`."""
        return _PAYLOADS[self][1]


_PAYLOADS: dict[JobActionType, tuple[str, type[Payload]]] = {
    JobActionType.HTTP: ("request", HttpRequest),
    JobActionType.HTTPS: ("request", HttpRequest),
    JobActionType.STORAGE_QUEUE: ("queueMessage", StorageQueueMessage),
    JobActionType.SERVICE_BUS_QUEUE: ("serviceBusQueueMessage", ServiceBusMessage),
    JobActionType.SERVICE_BUS_TOPIC: ("serviceBusTopicMessage", ServiceBusMessage),
}


@dataclass(frozen=True)
class Action:
    """What a job does at an occurrence (wire `JobAction`).

    Attributes:
        type: the kind of action.
        payload: what it sends, of the kind its type names (`type.payload_class`); its secret fields are None
            until `secrets.with_secrets` fills them in to run it.
        retry_policy: how a failed attempt is retried (absent on the wire: Fixed, 4 retries, 30 s apart).
        error_action: what runs once the retries are exhausted, or None. It has no error action of its own.
        wire: the action's canonical wire JSON, secrets excluded (`errorAction` included), for rendering.
        path: where it sits in the job's wire JSON (`action`, `action.errorAction`): the prefix of its secrets.

    Raises:
        ValueError: the payload is not of the kind the type names.
    """

    type: JobActionType
    payload: Payload
    retry_policy: RetryPolicy = DEFAULT_RETRY
    error_action: Action | None = None
    wire: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    path: str = "action"

    def __post_init__(self) -> None:
        if not isinstance(self.payload, self.type.payload_class):
            raise ValueError(f"an action of type {self.type} carries a {self.type.payload_class.__name__}")


@dataclass(frozen=True)
class JobDefinition:
    """A job's definition (wire `JobProperties` without `state` and `status`).

    Attributes:
        action: what it does.
        start_time: its first occurrence (aware), or None: anchored at its creation.
        recurrence: how it repeats, or None for a one-time job.
        catch_up_window: how late a missed occurrence may still run (extension `catchUpWindow`); None: the app's
            setting.
        wire: the canonical wire JSON it was parsed from, secrets excluded; equality is by it.
    """

    action: Action = field(compare=False)
    start_time: datetime | None = field(default=None, compare=False)
    recurrence: Recurrence | None = field(default=None, compare=False)
    catch_up_window: timedelta | None = field(default=None, compare=False)
    wire: Mapping[str, Any] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class JobWrite:
    """What a PUT or PATCH asks a job to be.

    Attributes:
        definition: the new definition.
        secrets: its secret fields by JSON path (`action.request.authentication.password`), kept apart from it.
        state: the state asked for; None keeps the current one (Enabled for a new job).
    """

    definition: JobDefinition
    secrets: Mapping[str, str] = field(default_factory=dict, repr=False)
    state: JobState | None = None
