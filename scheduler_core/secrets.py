"""Secret fields of a job definition: split them out before storing or rendering, merge them back to execute.

Reference (h): `password`, `pfx`, `secret`, `sasToken` and `sasKey` are never returned, logged or written to
history. The definition that is stored in clear and rendered never contains them; they travel beside it, keyed by
their JSON path inside the definition (`action.request.authentication.password`), and are encrypted at rest.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from scheduler_core.domain.definition import Action

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


def redact(text: str, secrets: Mapping[str, str]) -> str:
    """`text` with every secret value replaced, for messages that may quote an SDK exception."""
    for value in secrets.values():
        if value and len(value) >= 4:
            text = text.replace(value, "***")
    return text


def with_secrets(action: Action, secrets: Mapping[str, str]) -> dict[str, Any]:
    """The action's wire JSON with its secret fields put back (what a runner performs)."""
    prefix = f"{action.path}."
    return merge_secrets(action.wire, {k[len(prefix) :]: v for k, v in secrets.items() if k.startswith(prefix)})
