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

from azure.servicebus import ServiceBusClient, ServiceBusMessage

from scheduler_core.adapters.target_guard import TargetGuard, TargetRefused
from scheduler_core.domain.targets import service_bus_host
from scheduler_core.ports import Outcome
from scheduler_core.secrets import redact
from scheduler_core.wire import parse_instant, parse_timespan

PAYLOADS = {"ServiceBusQueue": "serviceBusQueueMessage", "ServiceBusTopic": "serviceBusTopicMessage"}


@dataclass(frozen=True)
class ServiceBusConnection:
    """Where to send: the namespace host, the connection string (holds the key) and the queue or topic."""

    host: str
    connection_string: str
    entity: str
    topic: bool


def service_bus_connection(action_type: str, payload: Mapping[str, Any]) -> ServiceBusConnection:
    """The connection of a ServiceBusQueue/ServiceBusTopic payload (secrets merged in) (pure).

    Raises:
        ValueError: the namespace, entity or SAS key is missing or malformed (the message quotes no key).
    """
    topic = action_type == "ServiceBusTopic"
    entity = payload.get("topicPath" if topic else "queueName") or ""
    if not entity:
        raise ValueError(f"the {'topicPath' if topic else 'queueName'} is missing")
    host = service_bus_host(payload.get("namespace") or "")
    auth = payload.get("authentication") or {}
    key_name, key = auth.get("sasKeyName") or "", auth.get("sasKey") or ""
    if not key_name or not key:
        raise ValueError("authentication needs sasKeyName and sasKey")
    if ";" in key_name or ";" in key:
        raise ValueError("authentication.sasKeyName and sasKey must not contain ';'")
    connection = f"Endpoint=sb://{host}/;SharedAccessKeyName={key_name};SharedAccessKey={key}"
    return ServiceBusConnection(host=host, connection_string=connection, entity=entity, topic=topic)


def service_bus_message(payload: Mapping[str, Any], headers: Mapping[str, str]) -> ServiceBusMessage:
    """The message of a ServiceBusQueue/ServiceBusTopic payload (pure).

    `brokeredMessageProperties` map onto the SDK's fields (`label` is the AMQP subject); `customMessageProperties`
    and the scheduler headers of the occurrence become application properties. Without a `messageId` the
    occurrence's execution id is used, so Service Bus duplicate detection drops a redelivered attempt.

    Raises:
        ValueError: a property has a value Service Bus refuses (say, a partition key unlike the session id).
    """
    props = payload.get("brokeredMessageProperties") or {}
    application: dict[str | bytes, Any] = {**(payload.get("customMessageProperties") or {})}
    application.update(headers)
    return ServiceBusMessage(
        payload.get("message") or "",
        application_properties=application,
        content_type=props.get("contentType"),
        correlation_id=props.get("correlationId"),
        message_id=props.get("messageId") or headers.get("x-ms-scheduler-execution-id"),
        session_id=props.get("sessionId"),
        partition_key=props.get("partitionKey"),
        time_to_live=parse_timespan(props.get("timeToLive")),
        subject=props.get("label"),
        reply_to=props.get("replyTo"),
        reply_to_session_id=props.get("replyToSessionId"),
        to=props.get("to"),
        scheduled_enqueue_time_utc=parse_instant(props.get("scheduledEnqueueTimeUtc")),
    )


Sender = Callable[[ServiceBusConnection, ServiceBusMessage, float], None]


def send_with_sdk(connection: ServiceBusConnection, message: ServiceBusMessage, timeout: float) -> None:
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

    def run(self, action: Mapping[str, Any], secrets: Mapping[str, str], headers: Mapping[str, str]) -> Outcome:
        kind = action.get("type") or ""
        payload = action.get(PAYLOADS.get(kind, "")) or {}
        hidden = {**secrets, "sasKey": (payload.get("authentication") or {}).get("sasKey") or ""}
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
