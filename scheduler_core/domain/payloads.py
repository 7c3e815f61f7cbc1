"""What an action carries (its payload kinds) and how an Http(s) action authenticates (authentication kinds), as
typed, frozen values. Parsed once from wire JSON (`scheduler_core/wire.py`); the runners in `adapters/` read only
these fields.

Secret fields (`password`, `pfx`, `secret`, `sasToken`, `sasKey`) are stored apart from the definition, by JSON path
(`scheduler_core/secrets.py`): in a stored definition they are None, and `secrets.with_secrets` fills them in just
before a runner performs the action. They are left out of every `repr`, so a log line or a traceback that prints a
value never shows one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from scheduler_core.domain.job import WireEnum

# ---- authentication kinds (Http and Https actions) ---------------------------------------------------------------


class AuthenticationType(WireEnum):
    """The kinds of outbound authentication of an Http(s) action (wire `authentication.type`)."""

    CLIENT_CERTIFICATE = "ClientCertificate"
    BASIC = "Basic"
    ACTIVE_DIRECTORY_OAUTH = "ActiveDirectoryOAuth"
    MANAGED_IDENTITY = "ManagedIdentity"  # extension
    NOT_SPECIFIED = "NotSpecified"


@dataclass(frozen=True)
class ClientCertificate:
    """TLS client authentication with a certificate and its key (wire `ClientCertAuthentication`).

    Attributes:
        pfx: the base64 PKCS#12 file (secret).
        password: the pfx's password (secret).
        thumbprint: SHA-1 of the certificate, upper-case hex, read from the pfx at PUT (`certificateThumbprint`).
        subject_name: the certificate's subject, read at PUT (`certificateSubjectName`).
        expiration: when the certificate expires, read at PUT (`certificateExpirationDate`).
    """

    pfx: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)
    thumbprint: str | None = None
    subject_name: str | None = None
    expiration: datetime | None = None

    @property
    def type(self) -> AuthenticationType:
        return AuthenticationType.CLIENT_CERTIFICATE


@dataclass(frozen=True)
class Basic:
    """HTTP Basic authentication (wire `BasicAuthentication`).

    Attributes:
        username: the user name (required to send).
        password: the password (secret); none sends an empty one.
    """

    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @property
    def type(self) -> AuthenticationType:
        return AuthenticationType.BASIC


@dataclass(frozen=True)
class ActiveDirectoryOAuth:
    """A bearer token from Entra ID for an app registration's client secret (wire `OAuthAuthentication`).

    Attributes:
        tenant: the tenant id (GUID) or domain name.
        audience: the resource the token is for (sent as the v1 endpoint's `resource`).
        client_id: the app registration's client id (`clientId`).
        secret: its client secret (secret).
    """

    tenant: str | None = None
    audience: str | None = None
    client_id: str | None = None
    secret: str | None = field(default=None, repr=False)

    @property
    def type(self) -> AuthenticationType:
        return AuthenticationType.ACTIVE_DIRECTORY_OAUTH


@dataclass(frozen=True)
class ManagedIdentity:
    """Extension: a bearer token from the deployment's outbound identity, so the job holds no secret.

    Attributes:
        audience: the resource the token is for; it must be one the operator allowed.
        client_id: the identity's client id (`clientId`); when given, it must name the outbound identity.
    """

    audience: str | None = None
    client_id: str | None = None

    @property
    def type(self) -> AuthenticationType:
        return AuthenticationType.MANAGED_IDENTITY


Authentication = ClientCertificate | Basic | ActiveDirectoryOAuth | ManagedIdentity
"""How an Http(s) action authenticates; None (wire `NotSpecified` or absent) is no authentication."""


# ---- payload kinds -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HttpRequest:
    """The request of an Http or Https action (wire `request`).

    Attributes:
        uri: the URL called (an Https action's is https).
        method: the HTTP method (absent on the wire: GET).
        headers: the job's own request headers, by name.
        body: the request body, or None to send none.
        authentication: how the request authenticates, or None.
    """

    uri: str = ""
    method: str = "GET"
    headers: Mapping[str, str] = field(default_factory=dict)
    body: str | None = None
    authentication: Authentication | None = None


class StorageQueueMessageFormat(WireEnum):
    """Extension: what a StorageQueue action posts (wire `messageFormat`)."""

    ENVELOPE = "StorageQueueMessage"  # the old service's XML document with the message inside
    RAW = "Raw"  # the message alone


@dataclass(frozen=True)
class StorageQueueMessage:
    """The message of a StorageQueue action (wire `queueMessage`).

    Attributes:
        storage_account: the account's name, or a name the operator mapped to an endpoint (`storageAccount`).
        queue_name: the queue (`queueName`).
        message: the text posted (inside the envelope, unless `message_format` is Raw).
        message_format: envelope (default) or raw (`messageFormat`).
        sas_token: the SAS that authorises the post (secret; `sasToken`); None: the app's identity, for the
            queues the operator listed.
    """

    storage_account: str = ""
    queue_name: str = ""
    message: str = ""
    message_format: StorageQueueMessageFormat = StorageQueueMessageFormat.ENVELOPE
    sas_token: str | None = field(default=None, repr=False)


class ServiceBusTransportType(WireEnum):
    """Wire `transportType`: accepted and ignored (azure-servicebus speaks AMQP only)."""

    NOT_SPECIFIED = "NotSpecified"
    NET_MESSAGING = "NetMessaging"
    AMQP = "AMQP"


class ServiceBusAuthenticationType(WireEnum):
    """Wire `authentication.type` of a Service Bus action."""

    NOT_SPECIFIED = "NotSpecified"
    SHARED_ACCESS_KEY = "SharedAccessKey"


@dataclass(frozen=True)
class ServiceBusAuthentication:
    """A shared access key of the namespace (wire `ServiceBusAuthentication`).

    Attributes:
        sas_key_name: the policy's name (`sasKeyName`).
        sas_key: the policy's key (secret; `sasKey`).
        type: NotSpecified or SharedAccessKey; both mean the key.
    """

    sas_key_name: str | None = None
    sas_key: str | None = field(default=None, repr=False)
    type: ServiceBusAuthenticationType = ServiceBusAuthenticationType.NOT_SPECIFIED


@dataclass(frozen=True)
class BrokeredMessageProperties:
    """System properties of a Service Bus message (wire `brokeredMessageProperties`); each maps onto the SDK's field
    of the same meaning (`label` is the AMQP subject). `force_persistence` and `via_partition_key` have no
    counterpart in the SDK and are ignored."""

    content_type: str | None = None
    correlation_id: str | None = None
    force_persistence: bool | None = None
    label: str | None = None
    message_id: str | None = None  # none: the occurrence's execution id (duplicate detection)
    partition_key: str | None = None
    reply_to: str | None = None
    reply_to_session_id: str | None = None
    scheduled_enqueue_time_utc: datetime | None = None
    session_id: str | None = None
    time_to_live: timedelta | None = None
    to: str | None = None
    via_partition_key: str | None = None


@dataclass(frozen=True)
class ServiceBusMessage:
    """The message of a ServiceBusQueue or ServiceBusTopic action (wire `serviceBusQueueMessage` /
    `serviceBusTopicMessage`).

    Attributes:
        namespace: the namespace's name or host.
        queue_name: the queue, for a ServiceBusQueue action (`queueName`).
        topic_path: the topic, for a ServiceBusTopic action (`topicPath`).
        message: the message body.
        authentication: the shared access key that authorises the send, or None.
        transport_type: accepted and ignored (`transportType`).
        brokered_message_properties: the message's system properties.
        custom_message_properties: application properties, by name (`customMessageProperties`).
    """

    namespace: str = ""
    queue_name: str | None = None
    topic_path: str | None = None
    message: str = ""
    authentication: ServiceBusAuthentication | None = None
    transport_type: ServiceBusTransportType = ServiceBusTransportType.NOT_SPECIFIED
    brokered_message_properties: BrokeredMessageProperties = field(default_factory=BrokeredMessageProperties)
    custom_message_properties: Mapping[str, str] = field(default_factory=dict)


Payload = HttpRequest | StorageQueueMessage | ServiceBusMessage
"""What an action carries; its kind follows the action's type (`JobActionType.payload_class`)."""
