"""The one reading of a job's target URL, shared by validation at PUT and the outbound connection.

A URL that two parsers read differently is how a target guard is bypassed: `http://127.0.0.1:8090\\@192.0.2.1/` is
host 192.0.2.1 to `urllib.parse` and 127.0.0.1 to urllib3. So the authority is accepted only in a form every parser
reads the same way: a host name of letters, digits, `-`, `_` and `.`, or an IP literal, and an optional port. No
user information (`user@`), no backslash, no percent-escapes, no whitespace or control character anywhere in the
URL. Credentials belong in the action's `authentication`, never in its URI.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

__all__ = ["Target", "managed_identity_refusal", "normalize_audience", "parse_target"]

_HOST_NAME = re.compile(r"[^\W][\w.-]*", re.UNICODE)
_AUTHORITY = re.compile(r"(?P<host>\[[0-9A-Fa-f:.]+\]|[^\[\]:]+)(?::(?P<port>[0-9]{1,5}))?")
_FORBIDDEN = re.compile(r"[\x00-\x20\x7f\\]")  # control characters, space, DEL, backslash
_DEFAULT_PORT = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Target:
    """A target URL read once: `host` is lowercase, without brackets for IPv6; `port` is explicit or the default."""

    url: str
    scheme: str
    host: str
    port: int

    @property
    def is_literal(self) -> bool:
        """True when the host is an IP address rather than a name."""
        try:
            ipaddress.ip_address(self.host)
        except ValueError:
            return False
        return True


def parse_target(url: object) -> Target:
    """Read an http(s) URL's scheme, host and port, refusing every form another parser could read differently.

    Raises:
        ValueError: the URL is not an absolute http(s) URL in the accepted form; the message says what is wrong and
            does not quote the URL.
    """
    if not isinstance(url, str) or not url:
        raise ValueError("must be an absolute http or https URL")
    if _FORBIDDEN.search(url):
        raise ValueError("must not contain whitespace, control characters or backslashes")
    scheme, sep, rest = url.partition("://")
    scheme = scheme.lower()
    if not sep or scheme not in _DEFAULT_PORT:
        raise ValueError("must be an absolute http or https URL")
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    if "@" in authority:
        raise ValueError("must not carry user information (user@host); use the action's authentication")
    if "%" in authority:
        raise ValueError("must not percent-encode the host")
    match = _AUTHORITY.fullmatch(authority)
    if not match:
        raise ValueError("must name a host, optionally with a port")
    host = match["host"].lower()
    if host.startswith("["):
        try:
            host = str(ipaddress.IPv6Address(host[1:-1]))
        except ValueError:
            raise ValueError("has an IPv6 address that is not valid") from None
    elif not _HOST_NAME.fullmatch(host) or ".." in host:
        raise ValueError("must name a host of letters, digits, '-', '_' and '.'")
    port = int(match["port"]) if match["port"] else _DEFAULT_PORT[scheme]
    if not 1 <= port <= 65535:
        raise ValueError("has a port outside 1-65535")
    return Target(url=url, scheme=scheme, host=host.rstrip("."), port=port)


# ---- the ManagedIdentity extension: which tokens a job may have ------------------------------------------------------
# A job's author is not trusted with the app's own identity. Tokens come only from the operator's outbound identity
# and only for audiences the operator lists; the app's own kinds of resource (Key Vault, storage, ARM) are refused
# even when listed, so a job can never carry a token that opens the vault holding every job's secret key.

OWN_RESOURCE_AUDIENCES = frozenset(
    {"https://vault.azure.net", "https://storage.azure.com", "https://management.azure.com",
     "https://management.core.windows.net"}
)
_OWN_RESOURCE_SUFFIXES = (".vault.azure.net", ".core.windows.net")


def normalize_audience(audience: str) -> str:
    """An audience as compared: lowercase, without a `/.default` scope suffix or a trailing slash."""
    return audience.strip().lower().removesuffix("/.default").rstrip("/")


def managed_identity_refusal(
    audience: str | None, client_id: str | None, *, allowed: frozenset[str], outbound_client_id: str | None
) -> tuple[str, str] | None:
    """Why a job may not get a managed identity token: (the authentication field at fault, why); None: it may.

    Args:
        audience: the job's `authentication.audience` (required: no default audience is assumed).
        client_id: the job's `authentication.clientId`; absent or the outbound identity's.
        allowed: normalized audiences from SCHEDULER_MANAGED_IDENTITY_AUDIENCES.
        outbound_client_id: SCHEDULER_OUTBOUND_IDENTITY_CLIENT_ID.
    """
    if not allowed:
        return "type", (
            "ManagedIdentity authentication is off on this deployment (SCHEDULER_MANAGED_IDENTITY_AUDIENCES is empty)"
        )
    if not audience:
        return "audience", "is required for ManagedIdentity authentication"
    wanted = normalize_audience(audience)
    host = wanted.partition("://")[2].split("/")[0]
    if wanted in OWN_RESOURCE_AUDIENCES or host.endswith(_OWN_RESOURCE_SUFFIXES):
        return "audience", "is a kind of resource the scheduler itself uses (Key Vault, storage, ARM): no token for it"
    if wanted not in allowed:
        return "audience", "is not an audience the operator allows (SCHEDULER_MANAGED_IDENTITY_AUDIENCES)"
    if client_id and (outbound_client_id is None or client_id.lower() != outbound_client_id.lower()):
        return "clientId", "names an identity other than the deployment's outbound identity"
    return None


# ---- names the other action types connect to ----------------------------------------------------------------------
# Checked at PUT and again when the action runs, with `fullmatch` (a trailing newline is not a name).

# What can never name an account, a queue or a namespace (a dot, a slash, a port) is refused at PUT; the finer rules
# (Azure wants 3-24 characters for an account, 6-50 for a namespace) are Azure's to answer when the action runs.
_STORAGE_ACCOUNT = re.compile(r"[a-z0-9]{1,24}")
_QUEUE_NAME = re.compile(r"[a-z0-9-]{1,63}")
_SB_NAMESPACE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,48}[A-Za-z0-9])?")
_SB_HOST = re.compile(r"[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_SB_ENTITY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/~-]{0,259}")
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # RFC 9110 token
_HEADER_VALUE_FORBIDDEN = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # control characters but HTAB
_TENANT_FORBIDDEN = re.compile(r"[/\\?#%@:\x00-\x1f\x7f]|\.\.")  # what would change the token URL's path or host


def is_storage_account(name: str) -> bool:
    """Lower-case letters and digits only (a host name or a path is not an account)."""
    return bool(_STORAGE_ACCOUNT.fullmatch(name))


def is_queue_name(name: str) -> bool:
    """Up to 63 lower-case letters, digits and hyphens."""
    return bool(_QUEUE_NAME.fullmatch(name))


def service_bus_host(namespace: str) -> str:
    """`{namespace}.servicebus.windows.net`, or the namespace itself when it is a full host name (no port, no path).

    Raises:
        ValueError: not a namespace name or host name (the message does not quote it).
    """
    if _SB_NAMESPACE.fullmatch(namespace):
        return f"{namespace}.servicebus.windows.net"
    if _SB_HOST.fullmatch(namespace):
        return namespace
    raise ValueError("is not a Service Bus namespace name or host name (no port, path or scheme)")


def is_service_bus_entity(path: str) -> bool:
    """A queue name or topic path: letters, digits, '.', '_', '-', '/', '~', up to 260 characters."""
    return bool(_SB_ENTITY.fullmatch(path))


def is_http_token(value: str) -> bool:
    """An HTTP method or header name (RFC 9110 token: no space, no separator, no control character)."""
    return bool(_HEADER_NAME.fullmatch(value))


def is_header_value(value: str) -> bool:
    """A header value without CR, LF or other control characters (a tab is allowed)."""
    return not _HEADER_VALUE_FORBIDDEN.search(value)


def is_tenant(value: str) -> bool:
    """An Entra tenant (a GUID or a domain name): nothing in it may change the token URL's host or path."""
    return bool(value.strip()) and not _TENANT_FORBIDDEN.search(value)
