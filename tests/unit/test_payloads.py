"""Action payloads and authentication kinds: parsed once from a request's wire JSON into typed values, secrets kept
apart (out of every repr) and filled in by JSON path only to run, and hostile bodies refused with a path, not a 500."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from scheduler_core.api.models import job_write_from_wire
from scheduler_core.api.validation import parse_job
from scheduler_core.domain.definition import Action, JobActionType, JobWrite
from scheduler_core.domain.errors import InvalidInput
from scheduler_core.domain.job import CollectionRef, JobRef, JobState, JobStatus
from scheduler_core.domain.payloads import (
    ActiveDirectoryOAuth,
    Basic,
    BrokeredMessageProperties,
    ClientCertificate,
    HttpRequest,
    ManagedIdentity,
    ServiceBusAuthentication,
    ServiceBusAuthenticationType,
    ServiceBusMessage,
    ServiceBusTransportType,
    StorageQueueMessage,
    StorageQueueMessageFormat,
)
from scheduler_core.ports import StoredJob
from scheduler_core.secrets import with_secrets
from scheduler_core.settings import Settings, StorageConnection
from tests.support.certs import issue, make_ca

NOW = datetime(2030, 1, 1, tzinfo=UTC)
SETTINGS = Settings(
    storage=StorageConnection(connection_string="UseDevelopmentStorage=true"),
    managed_identity_audiences=frozenset({"api://backend"}),
    outbound_identity_client_id="outbound-1",
)


def write(action: dict[str, Any]) -> JobWrite:
    """What a PUT of a one-time job with `action` stores: through the API's validation, then parsed once."""
    return job_write_from_wire(parse_job({"properties": {"action": action}}, SETTINGS, NOW))


def http(authentication: dict[str, Any] | None = None, **request: Any) -> dict[str, Any]:
    request = {"uri": "https://target.example/hook", **request}
    if authentication is not None:
        request["authentication"] = authentication
    return {"type": "Http", "request": request}


# ---- each kind ---------------------------------------------------------------------------------------------------


def test_an_http_request_is_typed_with_its_defaults() -> None:
    stored = write(http(method="post", headers={"x-a": "1"}, body="{}"))
    assert stored.definition.action.type is JobActionType.HTTP
    assert stored.definition.action.payload == HttpRequest(
        uri="https://target.example/hook", method="post", headers={"x-a": "1"}, body="{}"
    )
    assert write(http()).definition.action.payload == HttpRequest(uri="https://target.example/hook", method="GET")


@pytest.mark.parametrize(
    ("wire", "typed", "secrets"),
    [
        ({"type": "basic", "username": "u", "password": "pw"}, Basic(username="u"),
         {"action.request.authentication.password": "pw"}),
        ({"type": "ActiveDirectoryOAuth", "tenant": "contoso.com", "audience": "https://api/", "clientId": "c",
          "secret": "s3"}, ActiveDirectoryOAuth(tenant="contoso.com", audience="https://api/", client_id="c"),
         {"action.request.authentication.secret": "s3"}),
        ({"type": "ManagedIdentity", "audience": "api://backend"}, ManagedIdentity(audience="api://backend"), {}),
        ({"type": "NotSpecified"}, None, {}),
    ],
)
def test_each_authentication_kind_is_one_typed_value_its_secrets_by_path(wire, typed, secrets) -> None:
    stored = write(http(wire))
    assert stored.definition.action.payload == HttpRequest(uri="https://target.example/hook", authentication=typed)
    assert dict(stored.secrets) == secrets


def test_a_client_certificate_keeps_what_was_read_from_its_pfx_and_not_the_pfx() -> None:
    ca = make_ca()
    client = issue(ca, "client.example", server=False)
    stored = write(http({"type": "ClientCertificate", "pfx": client.pfx("pw"), "password": "pw"}))
    auth = stored.definition.action.payload.authentication  # type: ignore[union-attr]
    assert isinstance(auth, ClientCertificate) and auth.pfx is None and auth.password is None
    assert auth.thumbprint and len(auth.thumbprint) == 40 and "client.example" in (auth.subject_name or "")
    assert auth.expiration is not None and auth.expiration.tzinfo is not None
    assert set(stored.secrets) == {"action.request.authentication.pfx", "action.request.authentication.password"}


def test_a_storage_queue_message_is_typed_and_its_sas_token_is_a_secret() -> None:
    stored = write({"type": "StorageQueue", "queueMessage": {
        "storageAccount": "acct1", "queueName": "jobs", "sasToken": "?sv=1&sig=abc", "message": "m",
        "messageFormat": "raw"}})
    assert stored.definition.action.payload == StorageQueueMessage(
        storage_account="acct1", queue_name="jobs", message="m", message_format=StorageQueueMessageFormat.RAW
    )
    assert dict(stored.secrets) == {"action.queueMessage.sasToken": "?sv=1&sig=abc"}


def test_service_bus_queue_and_topic_messages_are_typed() -> None:
    queue = write({"type": "ServiceBusQueue", "serviceBusQueueMessage": {
        "namespace": "mysb", "queueName": "q1", "message": "hello", "transportType": "netmessaging",
        "authentication": {"type": "SharedAccessKey", "sasKeyName": "send", "sasKey": "k3y"},
        "brokeredMessageProperties": {"label": "l", "timeToLive": "PT1H", "scheduledEnqueueTimeUtc": "2030-01-02"},
        "customMessageProperties": {"app": "x"}}})
    assert queue.definition.action.payload == ServiceBusMessage(
        namespace="mysb", queue_name="q1", message="hello",
        authentication=ServiceBusAuthentication(
            sas_key_name="send", type=ServiceBusAuthenticationType.SHARED_ACCESS_KEY
        ),
        transport_type=ServiceBusTransportType.NET_MESSAGING,
        brokered_message_properties=BrokeredMessageProperties(
            label="l", time_to_live=timedelta(hours=1), scheduled_enqueue_time_utc=datetime(2030, 1, 2, tzinfo=UTC)
        ),
        custom_message_properties={"app": "x"},
    )
    assert dict(queue.secrets) == {"action.serviceBusQueueMessage.authentication.sasKey": "k3y"}
    topic = write({"type": "ServiceBusTopic", "serviceBusTopicMessage": {
        "namespace": "mysb", "topicPath": "t/sub", "message": "m"}})
    assert topic.definition.action.payload == ServiceBusMessage(namespace="mysb", topic_path="t/sub", message="m")


def test_the_error_action_is_typed_too_and_its_secrets_have_their_own_path() -> None:
    stored = write({**http(), "errorAction": http({"type": "Basic", "username": "e", "password": "epw"})})
    error = stored.definition.action.error_action
    assert error is not None and error.path == "action.errorAction"
    assert error.payload == HttpRequest(uri="https://target.example/hook", authentication=Basic(username="e"))
    assert dict(stored.secrets) == {"action.errorAction.request.authentication.password": "epw"}


def test_a_payload_of_another_kind_than_the_type_is_refused_on_construction() -> None:
    with pytest.raises(ValueError, match="StorageQueue"):
        Action(type=JobActionType.STORAGE_QUEUE, payload=HttpRequest(uri="https://x/"))


# ---- secrets -----------------------------------------------------------------------------------------------------


def test_secrets_are_filled_in_by_path_only_to_run_and_never_in_a_repr() -> None:
    stored = write({**http({"type": "Basic", "username": "u", "password": "main-pw"}),
                    "errorAction": {"type": "StorageQueue", "queueMessage": {
                        "storageAccount": "acct1", "queueName": "q", "sasToken": "sig=queue-sas", "message": "m"}}})
    action = stored.definition.action
    assert "main-pw" not in repr(stored.definition) and "queue-sas" not in repr(stored.definition)
    performed = with_secrets(action, stored.secrets)
    assert performed.payload.authentication == Basic(username="u", password="main-pw")  # type: ignore[union-attr]
    assert "main-pw" not in repr(performed)
    assert action.error_action is not None
    performed_error = with_secrets(action.error_action, stored.secrets)
    assert performed_error.payload.sas_token == "sig=queue-sas"  # type: ignore[union-attr]
    assert "queue-sas" not in repr(performed_error)
    assert action.payload.authentication.password is None  # type: ignore[union-attr]  # the stored value is untouched


def test_a_secret_whose_parent_is_gone_is_dropped() -> None:
    action = write(http()).definition.action
    performed = with_secrets(action, {"action.request.authentication.password": "stale"})
    assert performed.payload == action.payload


def test_service_bus_keys_are_filled_in_for_queue_and_topic() -> None:
    stored = write({"type": "ServiceBusTopic", "serviceBusTopicMessage": {
        "namespace": "mysb", "topicPath": "t", "message": "m", "authentication": {"sasKeyName": "n", "sasKey": "k"}}})
    performed = with_secrets(stored.definition.action, stored.secrets)
    assert performed.payload.authentication == ServiceBusAuthentication(sas_key_name="n", sas_key="k")  # type: ignore[union-attr]
    assert "'k'" not in repr(performed)


# ---- hostile input -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "path"),
    [
        (http({"type": "Basic", "username": 5}), "properties.action.request.authentication.username"),
        (http({"type": "Kerberos"}), "properties.action.request.authentication"),
        (http({"type": ["Basic"]}), "properties.action.request.authentication"),
        (http(headers={"a": 1}), "properties.action.request.headers.a"),
        (http(method=7), "properties.action.request.method"),
        ({"type": "StorageQueue", "queueMessage": {"storageAccount": "a", "queueName": "q", "sasToken": "s",
                                                   "message": "m", "messageFormat": 3}},
         "properties.action.queueMessage.messageFormat"),
        ({"type": "StorageQueue", "queueMessage": {"storageAccount": "a", "queueName": "q", "sasToken": "s",
                                                   "message": "m", "messageFormat": "Json"}},
         "properties.action.queueMessage.messageFormat"),
        ({"type": "ServiceBusQueue", "serviceBusQueueMessage": {
            "namespace": "n", "queueName": "q", "message": "m", "brokeredMessageProperties": {"timeToLive": 5}}},
         "properties.action.serviceBusQueueMessage.brokeredMessageProperties.timeToLive"),
        ({"type": "ServiceBusQueue", "serviceBusQueueMessage": {
            "namespace": "n", "queueName": "q", "message": "m", "customMessageProperties": {"a": {"b": 1}}}},
         "properties.action.serviceBusQueueMessage.customMessageProperties.a"),
        ({"type": "ServiceBusQueue", "serviceBusQueueMessage": {
            "namespace": "n", "queueName": "q", "message": "m", "authentication": "key"}},
         "properties.action.serviceBusQueueMessage.authentication"),
        ({"type": "ServiceBusQueue", "serviceBusQueueMessage": {
            "namespace": "n", "queueName": "q", "message": "m", "transportType": "Pigeon"}},
         "properties.action.serviceBusQueueMessage.transportType"),
    ],
)
def test_wrong_types_are_refused_with_their_path_before_anything_is_parsed(action, path) -> None:
    with pytest.raises(InvalidInput) as caught:
        write(action)
    assert path in {p.path for p in caught.value.problems}


def test_a_job_write_and_a_stored_job_keep_their_secrets_out_of_repr() -> None:
    stored = write(http({"type": "Basic", "username": "u", "password": "hidden-pw"}))
    job = StoredJob(JobRef(CollectionRef("s", "g", "c"), "j"), stored.definition, JobState.ENABLED, JobStatus(), NOW,
                    secrets=stored.secrets)
    assert "hidden-pw" not in repr(stored) and "hidden-pw" not in repr(job)
