"""The `ServiceBusQueue` / `ServiceBusTopic` actions: one message on a Service Bus queue or topic.

The message and the connection are built by pure functions (`service_bus_message`, `service_bus_connection`), which
the unit tests pin; `send_with_sdk` is the thin part that talks AMQP. `transportType` (NetMessaging, AMQP) is accepted
and ignored: azure-servicebus speaks AMQP only. `forcePersistence` and `viaPartitionKey` have no counterpart in the
SDK and are ignored too (docs/actions.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from azure.servicebus import ServiceBusClient
from azure.servicebus import ServiceBusMessage as SdkMessage

from scheduler_core.adapters.target_guard import TargetGuard, TargetRefused
from scheduler_core.domain.definition import Action, JobActionType
from scheduler_core.domain.payloads import ServiceBusMessage
from scheduler_core.domain.targets import service_bus_host
from scheduler_core.ports import Outcome
from scheduler_core.secrets import redact


@dataclass(frozen=True)
class ServiceBusConnection:
    """Where to send: the namespace host, the connection string (holds the key) and the queue or topic."""

    host: str
    connection_string: str
    entity: str
    topic: bool


def service_bus_connection(action_type: JobActionType, payload: ServiceBusMessage) -> ServiceBusConnection:
    """The connection of a ServiceBusQueue/ServiceBusTopic payload (its sasKey filled in) (pure).

    Raises:
        ValueError: the namespace, entity or SAS key is missing or malformed (the message quotes no key).
    """
    topic = action_type == JobActionType.SERVICE_BUS_TOPIC
    entity = (payload.topic_path if topic else payload.queue_name) or ""
    if not entity:
        raise ValueError(f"the {'topicPath' if topic else 'queueName'} is missing")
    host = service_bus_host(payload.namespace)
    auth = payload.authentication
    key_name, key = (auth.sas_key_name or "", auth.sas_key or "") if auth else ("", "")
    if not key_name or not key:
        raise ValueError("authentication needs sasKeyName and sasKey")
    if ";" in key_name or ";" in key:
        raise ValueError("authentication.sasKeyName and sasKey must not contain ';'")
    connection = f"Endpoint=sb://{host}/;SharedAccessKeyName={key_name};SharedAccessKey={key}"
    return ServiceBusConnection(host=host, connection_string=connection, entity=entity, topic=topic)


def service_bus_message(payload: ServiceBusMessage, headers: Mapping[str, str]) -> SdkMessage:
    """The message of a ServiceBusQueue/ServiceBusTopic payload (pure).

    `brokeredMessageProperties` map onto the SDK's fields (`label` is the AMQP subject); `customMessageProperties`
    and the scheduler headers of the occurrence become application properties. Without a `messageId` the
    occurrence's execution id is used, so Service Bus duplicate detection drops a redelivered attempt.

    Raises:
        ValueError: a property has a value Service Bus refuses (say, a partition key unlike the session id).
    """
    props = payload.brokered_message_properties
    application: dict[str | bytes, Any] = {}
    application.update(payload.custom_message_properties)
    application.update(headers)
    return SdkMessage(
        payload.message,
        application_properties=application,
        content_type=props.content_type,
        correlation_id=props.correlation_id,
        message_id=props.message_id or headers.get("x-ms-scheduler-execution-id"),
        session_id=props.session_id,
        partition_key=props.partition_key,
        time_to_live=props.time_to_live,
        subject=props.label,
        reply_to=props.reply_to,
        reply_to_session_id=props.reply_to_session_id,
        to=props.to,
        scheduled_enqueue_time_utc=props.scheduled_enqueue_time_utc,
    )


Sender = Callable[[ServiceBusConnection, SdkMessage, float], None]


def send_with_sdk(connection: ServiceBusConnection, message: SdkMessage, timeout: float) -> None:
    """Send one message with azure-servicebus (AMQP over TLS, port 5671)."""
    with ServiceBusClient.from_connection_string(connection.connection_string, retry_total=0) as client:
        get_sender = client.get_topic_sender if connection.topic else client.get_queue_sender
        with get_sender(connection.entity) as sender:
            sender.send_messages(message, timeout=timeout)


class ServiceBusActionRunner:
    """Sends the message of a ServiceBusQueue or ServiceBusTopic action."""

    def __init__(
        self, *, timeout_seconds: float = 60.0, guard: TargetGuard | None = None, sender: Sender = send_with_sdk
    ) -> None:
        self._timeout = timeout_seconds
        self._guard = guard or TargetGuard()
        self._send = sender

    def run(self, action: Action, secrets: Mapping[str, str], headers: Mapping[str, str]) -> Outcome:
        """Send the action's message (its sasKey filled in); `secrets` are kept out of the message."""
        kind = action.type
        payload = action.payload
        if not isinstance(payload, ServiceBusMessage):
            return Outcome(False, f"{kind} Action - An action of type {kind} has no Service Bus message.")
        hidden = {**secrets, "sasKey": (payload.authentication.sas_key if payload.authentication else None) or ""}
        hidden["sasKey.quoted"] = quote(hidden["sasKey"], safe="")
        try:
            connection = service_bus_connection(kind, payload)
            message = service_bus_message(payload, headers)
            self._guard.check_host(connection.host)
        except (ValueError, TargetRefused) as exc:
            return Outcome(False, redact(f"{kind} Action - {str(exc).rstrip('.')}.", hidden))
        where = f"{'topic' if connection.topic else 'queue'} '{connection.entity}' of namespace '{connection.host}'"
        try:
            self._send(connection, message, self._timeout)
        except Exception as exc:  # azure-servicebus raises many types; only the first line is kept, secrets removed
            text = str(exc).splitlines()[0] if str(exc) else ""
            return Outcome(False, redact(f"{kind} Action - Sending to {where} failed: {type(exc).__name__}: {text}",
                                         hidden))
        return Outcome(True, f"{kind} Action - Message sent to {where}.")
