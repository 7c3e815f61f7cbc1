"""Service Bus actions: the message and the connection built from a job (no emulator here), and the runner's
decisions around a fake sender."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from scheduler_core.adapters.service_bus_action import (
    ServiceBusActionRunner,
    service_bus_connection,
    service_bus_message,
)
from scheduler_core.adapters.target_guard import TargetGuard
from scheduler_core.wire import action_from_wire
from scheduler_core.wire import service_bus_message_from_wire as typed

HEADERS = {"x-ms-scheduler-jobid": "job-1", "x-ms-scheduler-execution-id": "exec-7"}
SAS_KEY = "c2VjcmV0LXNhcy1rZXktdmFsdWU="


def queue_action(**extra):
    return action_from_wire({"type": "ServiceBusQueue", "serviceBusQueueMessage": payload(**extra)})


def payload(**extra):
    return {
        "namespace": "mysb",
        "queueName": "q1",
        "message": "Some message",
        "transportType": "NetMessaging",
        "authentication": {"type": "SharedAccessKey", "sasKeyName": "QPolicy", "sasKey": SAS_KEY},
        **extra,
    }


def test_message_maps_brokered_and_custom_properties() -> None:
    message = service_bus_message(
        typed(payload(
            brokeredMessageProperties={
                "contentType": "application/json", "correlationId": "corr", "messageId": "m-1", "label": "lbl",
                "sessionId": "s-1", "partitionKey": "s-1", "replyTo": "back", "replyToSessionId": "rs",
                "to": "dest", "timeToLive": "PT1H30M", "scheduledEnqueueTimeUtc": "2030-01-02T03:04:05Z",
                "forcePersistence": True, "viaPartitionKey": "ignored",
            },
            customMessageProperties={"appname": "FromScheduler"},
        )),
        HEADERS,
    )
    assert str(message) == "Some message"
    assert message.content_type == "application/json"
    assert message.correlation_id == "corr" and message.message_id == "m-1" and message.subject == "lbl"
    assert message.session_id == "s-1" and message.partition_key == "s-1"
    assert message.reply_to == "back" and message.reply_to_session_id == "rs" and message.to == "dest"
    assert message.time_to_live == timedelta(hours=1, minutes=30)
    assert message.scheduled_enqueue_time_utc == datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert message.application_properties == {"appname": "FromScheduler", **HEADERS}


def test_message_id_defaults_to_the_execution_id_for_duplicate_detection() -> None:
    message = service_bus_message(typed(payload()), HEADERS)
    assert message.message_id == "exec-7" and message.time_to_live is None and message.content_type is None


def test_a_partition_key_unlike_the_session_id_is_refused() -> None:
    with pytest.raises(ValueError):
        service_bus_message(typed(payload(brokeredMessageProperties={"sessionId": "a", "partitionKey": "b"})), HEADERS)


def test_connection_for_queue_and_topic() -> None:
    queue = service_bus_connection("ServiceBusQueue", typed(payload()))
    assert queue.connection_string == (
        f"Endpoint=sb://mysb.servicebus.windows.net/;SharedAccessKeyName=QPolicy;SharedAccessKey={SAS_KEY}"
    )
    assert (queue.entity, queue.topic, queue.host) == ("q1", False, "mysb.servicebus.windows.net")
    topic_payload = typed({**payload(), "topicPath": "t1", "namespace": "sb.example.cn"})
    topic = service_bus_connection("ServiceBusTopic", topic_payload)
    assert (topic.entity, topic.topic, topic.host) == ("t1", True, "sb.example.cn")


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"namespace": "bad/ns;x"}, "namespace"),
        ({"queueName": ""}, "queueName"),
        ({"authentication": {"sasKeyName": "k"}}, "sasKey"),
        ({"authentication": {"sasKeyName": "k;Endpoint=sb://evil", "sasKey": "x"}}, "';'"),
    ],
)
def test_connection_problems(change, error) -> None:
    with pytest.raises(ValueError, match=error):
        service_bus_connection("ServiceBusQueue", typed({**payload(), **change}))


def test_runner_sends_through_the_sender_and_reports_where() -> None:
    sent = []
    runner = ServiceBusActionRunner(
        guard=TargetGuard(resolver=lambda host: ["20.0.0.1"]), sender=lambda c, m, t: sent.append((c, m, t))
    )
    outcome = runner.run(queue_action(), {}, HEADERS)
    assert outcome.succeeded and "queue 'q1' of namespace 'mysb.servicebus.windows.net'" in outcome.message
    assert sent[0][0].entity == "q1" and str(sent[0][1]) == "Some message"


def test_runner_failure_does_not_quote_the_key() -> None:
    def fail(connection, message, timeout):
        raise RuntimeError(f"CBS auth failed for {connection.connection_string}\nmore details")

    runner = ServiceBusActionRunner(guard=TargetGuard(resolver=lambda host: ["20.0.0.1"]), sender=fail)
    topic = action_from_wire({"type": "ServiceBusTopic", "serviceBusTopicMessage": {**payload(), "topicPath": "t"}})
    outcome = runner.run(topic, {}, HEADERS)
    assert not outcome.succeeded and "RuntimeError" in outcome.message
    assert SAS_KEY not in outcome.message and "more details" not in outcome.message


def test_runner_refuses_a_namespace_resolving_to_the_metadata_address() -> None:
    runner = ServiceBusActionRunner(guard=TargetGuard(resolver=lambda host: ["169.254.169.254"]),
                                    sender=lambda *a: pytest.fail("sent"))
    outcome = runner.run(queue_action(), {}, HEADERS)
    assert not outcome.succeeded and "SCHEDULER_ALLOW_LINK_LOCAL_TARGETS" in outcome.message
