"""One factory for storage clients, from a connection string (locally) or identity-based settings (in Azure).

The Functions convention: `AzureWebJobsStorage` holds a connection string, or `AzureWebJobsStorage__tableServiceUri`
and `__queueServiceUri` name the endpoints and `__credential=managedidentity` (+ `__clientId` for a user-assigned
identity) says how to authenticate. Without `__credential`, `DefaultAzureCredential` serves a developer's login.
"""

from __future__ import annotations

from typing import Any

import requests
from azure.core.pipeline.transport import RequestsTransport
from azure.data.tables import TableServiceClient
from azure.storage.queue import QueueClient, QueueServiceClient, TextBase64DecodePolicy, TextBase64EncodePolicy
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from scheduler_core.adapters.environment import OutboundEnvironment
from scheduler_core.settings import CONCURRENT_ATTEMPTS, StorageConnection

_DEVELOPMENT_STORAGE = (
    "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
    "AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;"
    "BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1;"
    "TableEndpoint=http://127.0.0.1:10002/devstoreaccount1;"
)


def _connection_string(connection: StorageConnection) -> str | None:
    value = connection.connection_string
    if value and value.replace(" ", "").lower() == "usedevelopmentstorage=true":
        return _DEVELOPMENT_STORAGE
    return value


def _credential(connection: StorageConnection) -> Any:
    from azure.identity import DefaultAzureCredential, ManagedIdentityCredential

    if (connection.credential or "").lower() == "managedidentity":
        return ManagedIdentityCredential(client_id=connection.client_id) if connection.client_id else (
            ManagedIdentityCredential()
        )
    return DefaultAzureCredential(managed_identity_client_id=connection.client_id)


def storage_credential(connection: StorageConnection) -> Any:
    """The token credential of an identity-based connection (the app's managed identity in Azure)."""
    return _credential(connection)


def queue_service_url(connection: StorageConnection) -> str | None:
    """The queue endpoint of the app's own storage account, or None when storage is not configured."""
    conn_str = _connection_string(connection)
    if conn_str:
        try:
            return str(QueueServiceClient.from_connection_string(conn_str).url)
        except ValueError:
            return None
    return connection.queue_service_uri


def _transport() -> RequestsTransport:
    """azure-core's requests transport (retries are the SDK's policy's, not urllib3's), keeping as many connections
    per host as attempts run at once: its default of 10 opens and drops a connection per request beyond the tenth, a
    new TLS handshake each against Azure Storage."""
    environment = OutboundEnvironment.read()
    session = environment.apply(requests.Session())
    adapter = HTTPAdapter(
        pool_maxsize=CONCURRENT_ATTEMPTS, max_retries=Retry(total=False, redirect=False, raise_on_status=False)
    )
    for scheme in ("http://", "https://"):
        session.mount(scheme, adapter)
    # azure-core passes its own `verify` with each request, so the CA bundle goes to it as well.
    return RequestsTransport(session=session, session_owner=True, connection_verify=environment.verify)


def table_service(connection: StorageConnection, **options: Any) -> TableServiceClient:
    """A Table service client for the configured account.

    Args:
        connection: the storage connection settings.
        options: client options (benchmarks count requests with a `raw_request_hook`).

    Raises:
        ValueError: neither a connection string nor a table service URI is configured.
    """
    options = {"transport": _transport(), **options}
    conn_str = _connection_string(connection)
    if conn_str:
        return TableServiceClient.from_connection_string(conn_str, **options)
    if connection.table_service_uri:
        return TableServiceClient(connection.table_service_uri, credential=_credential(connection), **options)
    raise ValueError("storage is not configured: set AzureWebJobsStorage or AzureWebJobsStorage__tableServiceUri")


def queue_client(connection: StorageConnection, name: str, **options: Any) -> QueueClient:
    """A client for queue `name` whose messages are base64, as the Functions queue trigger expects.

    (The codec must be given to the queue client itself: `QueueServiceClient.get_queue_client` does not pass the
    service client's codec on.)

    Raises:
        ValueError: neither a connection string nor a queue service URI is configured.
    """
    options = {
        "transport": _transport(),
        **options,
        "message_encode_policy": TextBase64EncodePolicy(),
        "message_decode_policy": TextBase64DecodePolicy(),
    }
    conn_str = _connection_string(connection)
    if conn_str:
        return QueueClient.from_connection_string(conn_str, name, **options)
    if connection.queue_service_uri:
        return QueueClient(connection.queue_service_uri, name, credential=_credential(connection), **options)
    raise ValueError("storage is not configured: set AzureWebJobsStorage or AzureWebJobsStorage__queueServiceUri")
