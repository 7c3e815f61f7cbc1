"""Secret fields of a job definition: split them out before storing or rendering, fill them into the typed action
to execute it (`with_secrets`), merge them back into wire JSON for a PATCH to merge into.

Reference (h): `password`, `pfx`, `secret`, `sasToken` and `sasKey` are never returned, logged or written to
history. The definition that is stored in clear and rendered never contains them; they travel beside it, keyed by
their JSON path inside the definition (`action.request.authentication.password`), and are encrypted at rest.
"""

from __future__ import annotations

import copy
import html
import json
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import quote, quote_plus, urlsplit

from scheduler_core.domain.definition import Action
from scheduler_core.domain.payloads import (
    ActiveDirectoryOAuth,
    Authentication,
    Basic,
    ClientCertificate,
    HttpRequest,
    ServiceBusMessage,
    StorageQueueMessage,
)

SECRET_FIELDS = frozenset({"password", "pfx", "secret", "sasToken", "sasKey"})
# Maps whose keys are the user's own names (a header called `secret` is a header, not a secret field): kept whole.
_USER_MAPS = frozenset({"headers", "customMessageProperties"})


def split_secrets(definition: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Return (definition without secret fields, {json path: secret value})."""
    secrets: dict[str, str] = {}

    def strip(node: Any, path: str) -> Any:
        if isinstance(node, Mapping):
            kept = {}
            for key, value in node.items():
                child = f"{path}.{key}" if path else key
                if key in SECRET_FIELDS and isinstance(value, str):
                    secrets[child] = value
                elif key in _USER_MAPS:
                    kept[key] = value
                else:
                    kept[key] = strip(value, child)
            return kept
        if isinstance(node, list):
            return [strip(item, f"{path}[{i}]") for i, item in enumerate(node)]
        return node

    return strip(definition, ""), secrets


def merge_secrets(definition: Mapping[str, Any], secrets: Mapping[str, str]) -> dict[str, Any]:
    """The definition with its secret fields put back (paths whose parent no longer exists are dropped)."""
    merged: dict[str, Any] = copy.deepcopy(dict(definition))
    for path, value in secrets.items():
        *parents, leaf = path.split(".")
        node: Any = merged
        for key in parents:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node[leaf] = value
    return merged


_MISSING = object()


def _at(node: Any, path: str) -> Any:
    for key in path.split(".") if path else []:
        node = node.get(key, _MISSING) if isinstance(node, Mapping) else _MISSING
    return node


def _origin(uri: Any) -> Any:
    """Scheme, host and port of a URI, as a client connects to them (the URI itself when it cannot be read)."""
    try:
        parts = urlsplit(str(uri))
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme.lower())
        return (parts.scheme.lower(), (parts.hostname or "").lower(), port)
    except ValueError:
        return uri


def _destination(properties: Mapping[str, Any], path: str) -> Any:
    """Where the secret at `path` goes, or what it buys: the request's origin (Http), the namespace (Service Bus)
    or the storage account (StorageQueue), and the non-secret fields of its `authentication` (type, username,
    tenant, audience, clientId, sasKeyName: an OAuth secret buys a token for the audience, sent to the origin)."""
    parent = path.rpartition(".")[0]
    identity: Any = ()
    if parent.endswith("authentication"):
        auth = _at(properties, parent)
        if isinstance(auth, Mapping):
            identity = tuple(sorted((k, str(v).lower()) for k, v in auth.items() if k not in SECRET_FIELDS))
        parent = parent.rpartition(".")[0]
    carrier = _at(properties, parent)
    if not isinstance(carrier, Mapping):
        return None
    if "uri" in carrier:
        return _origin(carrier["uri"]), identity
    return str(carrier.get("namespace") or carrier.get("storageAccount") or "").lower(), identity


def rebound_secrets(
    stored: Mapping[str, Any], secrets: Mapping[str, str], merged: Mapping[str, Any], given: Mapping[str, Any]
) -> list[str]:
    """The paths of stored secrets that a PATCH would carry to another destination without giving them again.

    A stored secret is bound to where it is sent: whoever may write a job must not be able to point its stored
    password, pfx, OAuth secret, SAS token or key at a host of their own and collect it. A PATCH that changes the
    destination gives the secret again; one that does not keeps it (`merge_secrets`).

    Args:
        stored: the job's stored `properties` (without secrets).
        secrets: its stored secrets by path.
        merged: the `properties` the PATCH results in, canonical, secrets included.
        given: the PATCH's own `properties`.
    """
    return sorted(
        path
        for path, value in secrets.items()
        if _at(given, path) is _MISSING
        and _at(merged, path) == value
        and _destination(stored, path) != _destination(merged, path)
    )


# Shorter values (and shorter cut-off tails) are left alone: hiding them would garble messages and tell little.
_MIN_REDACTED = 4


def redact(text: str, secrets: Mapping[str, str]) -> str:
    """`text` with every secret value replaced, for messages that may quote an SDK exception or a target's answer.

    A target may quote what it received in any spelling (an echoed Authorization header as JSON with `\\/`, a
    redirect's URL-encoded query, an HTML page), and a body snippet may end inside a secret: each spelling is
    replaced, longest first, and a tail that begins one is cut.
    """
    spellings = sorted(
        {form for value in secrets.values() if value and len(value) >= _MIN_REDACTED for form in _spellings(value)},
        key=len,
        reverse=True,
    )
    for form in spellings:
        text = text.replace(form, "***")
    for form in spellings:
        # The earliest start in the last len(form) - 1 characters from which the rest of the text begins `form`.
        start = text.find(form[0], max(0, len(text) - len(form) + 1))
        while start != -1 and len(text) - start >= _MIN_REDACTED:
            if form.startswith(text[start:]):
                return text[:start] + "***"
            start = text.find(form[0], start + 1)
    return text


def _spellings(value: str) -> set[str]:
    """How text that quotes `value` may spell it: as is, URL-encoded, JSON-escaped, HTML-escaped."""
    as_json = json.dumps(value)[1:-1]
    as_unicode_json = json.dumps(value, ensure_ascii=False)[1:-1]
    return {
        value, quote(value, safe=""), quote_plus(value), html.escape(value),
        as_json, as_unicode_json, as_json.replace("/", "\\/"), as_unicode_json.replace("/", "\\/"),
    }


def with_secrets(action: Action, secrets: Mapping[str, str]) -> Action:
    """The action with its secret fields filled in from `secrets` (by JSON path): what a runner performs.

    A secret whose parent object the action does not have is dropped, as `merge_secrets` drops it.
    """
    prefix = f"{action.path}.{action.type.payload_field}."

    def secret(suffix: str, current: str | None) -> str | None:
        return secrets.get(prefix + suffix, current)

    payload = action.payload
    if isinstance(payload, HttpRequest) and payload.authentication is not None:
        payload = replace(payload, authentication=_authentication_with(payload.authentication, secret))
    elif isinstance(payload, StorageQueueMessage):
        payload = replace(payload, sas_token=secret("sasToken", payload.sas_token))
    elif isinstance(payload, ServiceBusMessage) and payload.authentication is not None:
        auth = payload.authentication
        payload = replace(payload, authentication=replace(auth, sas_key=secret("authentication.sasKey", auth.sas_key)))
    return replace(action, payload=payload)


def _authentication_with(auth: Authentication, secret: Callable[[str, str | None], str | None]) -> Authentication:
    if isinstance(auth, ClientCertificate):
        return replace(
            auth,
            pfx=secret("authentication.pfx", auth.pfx),
            password=secret("authentication.password", auth.password),
        )
    if isinstance(auth, Basic):
        return replace(auth, password=secret("authentication.password", auth.password))
    if isinstance(auth, ActiveDirectoryOAuth):
        return replace(auth, secret=secret("authentication.secret", auth.secret))
    return auth
