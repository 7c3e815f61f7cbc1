"""The `StorageQueue` action: one message on an Azure Storage queue, authorised by the job's SAS token, or by the
app's identity for the queues the operator lists in `SCHEDULER_IDENTITY_QUEUES` (a job without a sasToken).

With shared keys off no account-key SAS exists for the deployment's own account, so its queues are reachable only
with the identity; the identity may also read and write the app's own tables and queues, so it is used only for the
listed account/queue pairs, and the app's internal queues are refused whatever the authorization (a job must not
forge execution messages).

Message format (reference (h)): by default the `<StorageQueueMessage>` XML envelope the old service posted, with the
job's `message` as its `Message` element; `messageFormat: "Raw"` (extension) posts the bare message. The text is put
on the queue as is, not base64-encoded, as the old service did: a consumer written for it keeps working; a Functions
queue trigger reading this queue needs `extensions.queues.messageEncoding: "none"` in its host.json (docs/actions.md).

The account resolves to `https://{account}.queue.core.windows.net`, unless `SCHEDULER_STORAGE_QUEUE_ENDPOINTS`
maps it to another endpoint (Azurite locally, sovereign clouds).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Collection, Mapping
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit
from xml.sax.saxutils import escape

from azure.core.credentials import AzureSasCredential
from azure.core.exceptions import AzureError, HttpResponseError
from azure.storage.queue import QueueClient

from scheduler_core.adapters.target_guard import TargetGuard, TargetRefused
from scheduler_core.domain.definition import Action
from scheduler_core.domain.payloads import StorageQueueMessage, StorageQueueMessageFormat
from scheduler_core.domain.targets import is_queue_name, is_storage_account
from scheduler_core.ports import Outcome
from scheduler_core.secrets import redact
from scheduler_core.settings import IDENTITY_QUEUES_SETTING, INTERNAL_QUEUES

# XML 1.0 cannot carry most control characters, even escaped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_REPLACEMENT = "\ufffd"


def storage_queue_envelope(message: str, headers: Mapping[str, str], *, client_request_id: str, region: str) -> str:
    """The `<StorageQueueMessage>` document of reference (h) for one attempt (pure).

    Args:
        message: the job's `message`, escaped into the `Message` element.
        headers: the scheduler headers of the occurrence (`x-ms-scheduler-*`).
        client_request_id: identifies this attempt.
        region: the deployment's region (`REGION_NAME`).
    """
    fields = (
        ("ExecutionTag", headers.get("x-ms-scheduler-execution-id", "")),
        ("ClientRequestId", client_request_id),
        ("ExpectedExecutionTime", headers.get("x-ms-scheduler-expected-execution-time", "")),
        ("SchedulerJobId", headers.get("x-ms-scheduler-jobid", "")),
        ("SchedulerJobCollectionId", headers.get("x-ms-scheduler-jobcollectionid", "")),
        ("Region", region),
        ("Message", message),
    )
    body = "".join(f"  <{name}>{escape(_NOT_XML.sub(_REPLACEMENT, value))}</{name}>\n" for name, value in fields)
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<StorageQueueMessage xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
        f"{body}</StorageQueueMessage>"
    )


def queue_endpoint(account: str, endpoints: Mapping[str, str]) -> str:
    """The queue service URL of a storage account (pure).

    Raises:
        ValueError: the name is neither mapped nor a valid storage account name.
    """
    if account in endpoints:
        return endpoints[account].rstrip("/")
    if not is_storage_account(account):
        raise ValueError("is not a storage account name (lower-case letters and digits)")
    return f"https://{account}.queue.core.windows.net"


def sas_secrets(sas_token: str) -> dict[str, str]:
    """The SAS token and the forms of its signature an error text might quote, for `redact` (pure)."""
    token = sas_token.lstrip("?")
    hidden = {"sasToken": token}
    for i, sig in enumerate(parse_qs(token).get("sig", [])):
        hidden[f"sig{i}"] = sig
        hidden[f"sig{i}.quoted"] = quote(sig, safe="")
    return hidden


def _same_endpoint(a: str, b: str | None) -> bool:
    return b is not None and a.rstrip("/").lower() == b.rstrip("/").lower()


class StorageQueueActionRunner:
    """Posts the `queueMessage` of a StorageQueue action.

    Args:
        endpoints: account name -> queue endpoint overrides (`SCHEDULER_STORAGE_QUEUE_ENDPOINTS`).
        region: the deployment's region, for the envelope.
        timeout_seconds: connect and read timeout.
        guard: the outbound target guard.
        identity_queues: (account, queue) pairs a job without a sasToken may post to with the identity.
        identity: makes the identity's token credential (called once, on first use).
        own_queue_endpoint: the queue endpoint of the app's own account, whose internal queues are refused.
    """

    def __init__(
        self,
        *,
        endpoints: Mapping[str, str] | None = None,
        region: str = "local",
        timeout_seconds: float = 60.0,
        guard: TargetGuard | None = None,
        identity_queues: Collection[tuple[str, str]] = (),
        identity: Callable[[], Any] | None = None,
        own_queue_endpoint: str | None = None,
    ) -> None:
        self._endpoints = dict(endpoints or {})
        self._region = region
        self._timeout = timeout_seconds
        self._guard = guard or TargetGuard()
        self._identity_queues = frozenset(identity_queues)
        self._identity = identity
        self._credential: Any = None
        self._own_queue_endpoint = own_queue_endpoint

    def _authorization(self, account: str, queue: str, sas_token: str) -> Any:
        """The job's SAS, else the identity for an allowed queue.

        Raises:
            ValueError: neither applies (the message says which setting would allow it).
        """
        if sas_token:
            return AzureSasCredential(sas_token)
        if (account, queue) not in self._identity_queues or self._identity is None:
            raise ValueError(
                f"The job has no sasToken, and queue '{queue}' of account '{account}' is not one the app's identity "
                f"may post to ({IDENTITY_QUEUES_SETTING})."
            )
        if self._credential is None:
            self._credential = self._identity()
        return self._credential

    def run(self, action: Action, secrets: Mapping[str, str], headers: Mapping[str, str]) -> Outcome:
        """Post the action's queue message (its sasToken filled in); `secrets` are kept out of the message."""
        payload = action.payload
        if not isinstance(payload, StorageQueueMessage):
            return Outcome(False, f"StorageQueue Action - An action of type {action.type} has no queueMessage.")
        account, queue = payload.storage_account, payload.queue_name
        sas_token = (payload.sas_token or "").lstrip("?")
        hidden = {**secrets, **sas_secrets(sas_token)}
        message = payload.message
        if payload.message_format is not StorageQueueMessageFormat.RAW:
            request_id = headers.get("x-ms-client-request-id") or str(uuid.uuid4())  # the attempt's, as an Http call's
            message = storage_queue_envelope(message, headers, client_request_id=request_id, region=self._region)
        try:
            # Checked again here (the API checks at PUT): a '/' or '..' could address another queue than the
            # internal-queue check below sees.
            if not is_queue_name(queue):
                raise ValueError(f"'{queue}' is not a queue name (lower-case letters, digits and hyphens)")
            endpoint = queue_endpoint(account, self._endpoints)
            if queue in INTERNAL_QUEUES and _same_endpoint(endpoint, self._own_queue_endpoint):
                raise ValueError(f"Queue '{queue}' is the scheduler's own: jobs cannot post to it.")
            credential = self._authorization(account, queue, sas_token)
            self._guard.check_url(endpoint)
            client = QueueClient(
                account_url=endpoint,
                queue_name=queue,
                credential=credential,
                retry_total=0,  # the job's retry policy decides about retries
                connection_timeout=self._timeout,
                read_timeout=self._timeout,
            )
            with client:
                sent = client.send_message(message)
        except (ValueError, TargetRefused) as exc:
            return Outcome(False, redact(f"StorageQueue Action - {exc}", hidden))
        except HttpResponseError as exc:
            code = getattr(exc, "error_code", None) or exc.reason or "error"
            return Outcome(
                False,
                redact(f"StorageQueue Action - Queue '{queue}' of account '{account}' refused the message: "
                       f"{exc.status_code} {code}.", hidden),
            )
        except AzureError as exc:
            text = str(exc).splitlines()[0] if str(exc) else ""
            return Outcome(False, redact(f"StorageQueue Action - Sending failed: {type(exc).__name__}: {text}", hidden))
        host = urlsplit(endpoint).netloc
        return Outcome(
            True, f"StorageQueue Action - Message {sent.id} sent to queue '{queue}' of account '{account}' ({host})."
        )
