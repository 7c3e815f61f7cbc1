"""Key Vault references in app settings, resolved from a local JSON file instead of a vault.

App Service replaces an app setting whose value is ``@Microsoft.KeyVault(SecretUri=https://<vault>.vault.azure.net/
secrets/<name>[/<version>])`` or ``@Microsoft.KeyVault(VaultName=<vault>;SecretName=<name>[;SecretVersion=<v>])``
with the secret's value before the worker starts; a reference it cannot resolve stays in the setting as its literal
text. devhost does the same with a local file mapping secret URIs to values::

    {"https://my-vault.vault.azure.net/secrets/scheduler-secret-keys": "k1=..."}

A versioned reference takes the entry with its version if there is one, else the versionless entry (the "latest"
version). The file is named by ``DEVHOST_KEY_VAULT_FILE`` (parity mode: ``<state folder>/keyvault.json``); keep it
out of git. Values are never logged.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Mapping, MutableMapping
from pathlib import Path
from urllib.parse import urlsplit

from devhost.config import ConfigError

logger = logging.getLogger("devhost")

FILE_SETTING = "DEVHOST_KEY_VAULT_FILE"
_REFERENCE = re.compile(r"^@Microsoft\.KeyVault\((?P<body>.*)\)$", re.IGNORECASE | re.DOTALL)
_VAULT_HOST_SUFFIX = ".vault.azure.net"


def secret_address(reference_body: str) -> tuple[str, str, str | None]:
    """(vault host, secret name, version or None) of a reference's inside, e.g. ``SecretUri=https://...``.

    Raises:
        ValueError: Neither a SecretUri nor VaultName + SecretName.
    """
    parts = {}
    for item in reference_body.split(";"):
        key, sep, value = item.partition("=")
        if sep:
            parts[key.strip().lower()] = value.strip()
    if "secreturi" in parts:
        uri = urlsplit(parts["secreturi"])
        segments = [s for s in uri.path.split("/") if s]
        if uri.scheme != "https" or not uri.hostname or len(segments) not in (2, 3) or segments[0] != "secrets":
            raise ValueError("SecretUri must look like https://<vault>.vault.azure.net/secrets/<name>[/<version>]")
        return uri.hostname.lower(), segments[1], segments[2] if len(segments) == 3 else None
    if "vaultname" in parts and "secretname" in parts:
        host = f"{parts['vaultname'].lower()}{_VAULT_HOST_SUFFIX}"
        return host, parts["secretname"], parts.get("secretversion") or None
    raise ValueError("a reference needs SecretUri=... or VaultName=...;SecretName=...")


def _key(host: str, name: str, version: str | None) -> str:
    return f"https://{host}/secrets/{name}" + (f"/{version}" if version else "")


def load_secrets(path: Path) -> dict[str, str]:
    """The file's entries, keyed by normalised secret URI (lower-case host, no trailing slash).

    Raises:
        ConfigError: The file is not a JSON object of strings, or a key is not a secret URI.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise ConfigError(f"{path}: expected a JSON object of secret URI -> string value")
    secrets: dict[str, str] = {}
    for uri, value in data.items():
        try:
            secrets[_key(*secret_address(f"SecretUri={uri}"))] = value
        except ValueError as exc:
            raise ConfigError(f"{path}: {uri!r}: {exc}") from exc
    return secrets


def resolve(reference: str, secrets: Mapping[str, str]) -> str | None:
    """The value a reference stands for, or None if it is not a reference or not in secrets.

    Raises:
        ValueError: It is a reference but malformed.
    """
    match = _REFERENCE.match(reference.strip())
    if not match:
        return None
    host, name, version = secret_address(match["body"])
    for key in ([_key(host, name, version)] if version else []) + [_key(host, name, None)]:
        if key in secrets:
            return secrets[key]
    return None


def is_reference(value: str) -> bool:
    """Whether an app setting's value is a Key Vault reference."""
    return bool(_REFERENCE.match(value.strip()))


def resolve_references(env: MutableMapping[str, str] | None = None, source: Path | None = None) -> list[str]:
    """Replaces every Key Vault reference in env with its value from the local file, as App Service would.

    Args:
        env: The app settings (default: the environment), changed in place.
        source: The local file (default: ``DEVHOST_KEY_VAULT_FILE``).

    Returns:
        The names of the settings resolved.

    Raises:
        ConfigError: The file is unreadable.
    """
    env = os.environ if env is None else env
    names = [name for name, value in env.items() if is_reference(value)]
    if not names:
        return []
    path = source or (Path(env[FILE_SETTING]) if env.get(FILE_SETTING) else None)
    secrets = load_secrets(path) if path is not None and path.exists() else {}
    resolved = []
    for name in names:
        try:
            value = resolve(env[name], secrets)
        except ValueError as exc:
            logger.warning("Key Vault reference in app setting %s is malformed (%s); left as is", name, exc)
            continue
        if value is None:
            where = path or f"nowhere ({FILE_SETTING} is not set)"
            logger.warning("Key Vault reference in app setting %s not found in %s; left as is", name, where)
            continue
        env[name] = value
        resolved.append(name)
    return resolved
