"""A trigger's ``connection`` resolved the way the Functions host resolves it, identity-based settings included.

The host looks the name up as a configuration section, first as ``AzureWebJobs<NAME>`` and then as ``<NAME>``
(app settings use ``__`` for the section separator). A section with a value of its own is a connection string;
otherwise its children describe an identity-based connection:

- ``<NAME>__queueServiceUri`` (or ``<NAME>__accountName``, meaning ``https://<account>.queue.core.windows.net``);
- ``<NAME>__credential``: ``managedidentity`` selects the managed identity (``<NAME>__clientId`` for a user-assigned
  one); without it, ``<NAME>__tenantId`` + ``__clientId`` + ``__clientSecret`` select a service principal, and
  otherwise the developer's own login is used (``DefaultAzureCredential``), as the host does locally.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from azure.storage.queue import QueueServiceClient

from devhost.config import ConfigError

DEFAULT_CONNECTION = "AzureWebJobsStorage"
_PREFIX = "AzureWebJobs"


@dataclass(frozen=True)
class Connection:
    """A resolved storage connection: either a connection string or identity-based settings.

    Attributes:
        setting: The setting (section) name it was found under.
        connection_string: The connection string, or None for an identity-based connection.
        properties: The section's children with lower-case names (``queueserviceuri``, ``credential``, ...).
    """

    setting: str
    connection_string: str | None
    properties: Mapping[str, str]

    @property
    def identity_based(self) -> bool:
        """Whether this connection authenticates with a token credential rather than a key."""
        return self.connection_string is None

    def queue_service_uri(self) -> str:
        """The queue endpoint of an identity-based connection.

        Raises:
            ConfigError: Neither ``queueServiceUri`` nor ``accountName`` is set.
        """
        if "queueserviceuri" in self.properties:
            return self.properties["queueserviceuri"]
        if "accountname" in self.properties:
            return f"https://{self.properties['accountname']}.queue.core.windows.net"
        raise ConfigError(
            f"identity-based connection {self.setting!r} has no {self.setting}__queueServiceUri "
            f"(or {self.setting}__accountName)"
        )

    def credential(self) -> Any:
        """The token credential an identity-based connection names, as the host picks it."""
        from azure.identity import ClientSecretCredential, DefaultAzureCredential, ManagedIdentityCredential

        client_id = self.properties.get("clientid")
        if self.properties.get("credential", "").lower() == "managedidentity":
            return ManagedIdentityCredential(client_id=client_id) if client_id else ManagedIdentityCredential()
        secret, tenant = self.properties.get("clientsecret"), self.properties.get("tenantid")
        if client_id and secret and tenant:
            return ClientSecretCredential(tenant, client_id, secret)
        return DefaultAzureCredential()


def _section(name: str, env: Mapping[str, str]) -> Connection | None:
    value = env.get(name)
    if value:
        return Connection(name, value, {})
    prefix = f"{name}__".lower()
    children = {key[len(prefix):].lower(): val for key, val in env.items() if key.lower().startswith(prefix) and val}
    return Connection(name, None, children) if children else None


def resolve_connection(name: str | None, env: Mapping[str, str] | None = None) -> Connection:
    """Finds the connection a trigger's ``connection`` names.

    Args:
        name: The connection name; empty means ``AzureWebJobsStorage``.
        env: The app settings (default: the environment).

    Raises:
        ConfigError: Nothing is configured under either name.
    """
    env = os.environ if env is None else env
    name = name or DEFAULT_CONNECTION
    candidates = [f"{_PREFIX}{name}", name] if not name.startswith(_PREFIX) else [name]
    for candidate in candidates:
        found = _section(candidate, env)
        if found is not None:
            return found
    raise ConfigError(
        f"connection {name!r} is not configured: set {name} (a connection string) or {name}__queueServiceUri "
        f"with {name}__credential (identity-based)"
    )


def queue_service(name: str | None, **options: Any) -> QueueServiceClient:
    """A queue service client for the connection a trigger names.

    Raises:
        ConfigError: The connection is missing or incomplete.
    """
    connection = resolve_connection(name)
    if connection.connection_string is not None:
        return QueueServiceClient.from_connection_string(connection.connection_string, **options)
    return QueueServiceClient(connection.queue_service_uri(), credential=connection.credential(), **options)

