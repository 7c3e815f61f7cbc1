"""Encryption at rest of a job's secrets (AES-256-GCM), with the key id stored beside each ciphertext.

Keys come from the app setting `SCHEDULER_SECRET_KEYS` (`id=<base64 of 32 bytes>;id2=...`, a Key Vault reference in
Azure) and `SCHEDULER_ACTIVE_SECRET_KEY_ID` names the one new secrets are sealed with. Rotation: add a key, make it
active; old ciphertexts still open with the key their id names, and are sealed again with the active key the next
time the job is written.

A sealed value reads `v1:{key id}:{base64(nonce | ciphertext | tag)}`; the version and key id are authenticated as
associated data, so a value cannot be moved to another key id unnoticed.

Failure modes (never a plaintext fallback, never an exception that would make a queue message retry forever):
- `seal` without a usable active key raises `SecretKeyUnavailable`, naming the setting (the API reports the write as
  failed; nothing is stored).
- `unseal_for_storage` of a value that cannot be opened returns a *marker* instead of secrets: the executor then
  records the execution as Failed with the marker's reason (see `unreadable_reason`), the API still reads and lists
  the job, and `seal_for_storage` of a marker writes the original ciphertext back untouched, so a status update by
  the executor never destroys secrets that a corrected key setting would open again.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Mapping

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from scheduler_core.domain.errors import Misconfigured

KEYS_SETTING = "SCHEDULER_SECRET_KEYS"
ACTIVE_KEY_SETTING = "SCHEDULER_ACTIVE_SECRET_KEY_ID"

_VERSION = "v1"
_NONCE_BYTES = 12
# Marker paths start with a segment no definition has, so `secrets.merge_secrets` drops them.
_MARKER_REASON = "$unreadable.reason"
_MARKER_SEALED = "$unreadable.sealed"


class SecretKeyUnavailable(Misconfigured, ValueError):
    """Secrets cannot be sealed or opened with the configured keys; the message names the setting to fix."""


def unreadable_reason(secrets: Mapping[str, str]) -> str | None:
    """The reason a job's secrets could not be decrypted, or None when they were (or there are none)."""
    return secrets.get(_MARKER_REASON)


class SecretBox:
    """Seals and opens text with the configured keys.

    Args:
        keys: key id -> raw key bytes (32 bytes each, AES-256).
        active_key_id: the key new values are sealed with; may be omitted when exactly one key is configured.
    """

    def __init__(self, keys: Mapping[str, bytes], active_key_id: str | None = None) -> None:
        self._keys = {kid: AESGCM(key) for kid, key in keys.items() if len(key) == 32}
        problems = [
            f"app setting {KEYS_SETTING}: key {kid!r} is {len(key)} bytes, AES-256 needs 32 (base64 of 32 random bytes)"
            for kid, key in keys.items()
            if len(key) != 32
        ]
        for kid in keys:
            if not kid or ":" in kid:
                problems.append(f"app setting {KEYS_SETTING}: key id {kid!r} must be non-empty and contain no ':'")
        if active_key_id is None and len(keys) == 1:
            active_key_id = next(iter(keys))
        if not keys:
            problems.append(f"app setting {KEYS_SETTING} is not set: secrets cannot be stored or read")
        elif active_key_id is None:
            problems.append(f"app setting {ACTIVE_KEY_SETTING} is not set and {KEYS_SETTING} holds several keys")
        elif active_key_id not in keys:
            problems.append(f"app setting {ACTIVE_KEY_SETTING} names key {active_key_id!r}, not in {KEYS_SETTING}")
        self._active = active_key_id if not problems else None
        self.problem: str | None = "; ".join(problems) or None
        """What is wrong with the key settings (for a startup log line), or None."""

    def seal(self, text: str) -> str:
        """Encrypt `text` with the active key.

        Raises:
            SecretKeyUnavailable: no usable active key; the message names the setting.
        """
        if self._active is None:
            raise SecretKeyUnavailable(f"secrets cannot be encrypted: {self.problem}")
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._keys[self._active].encrypt(nonce, text.encode("utf-8"), self._aad(self._active))
        return f"{_VERSION}:{self._active}:{base64.b64encode(nonce + sealed).decode('ascii')}"

    def unseal(self, value: str) -> str:
        """Decrypt a value made by `seal` with whichever configured key its id names.

        Raises:
            SecretKeyUnavailable: the value is not sealed, its key is not configured, or the key does not open it.
        """
        version, _, rest = value.partition(":")
        kid, _, payload = rest.partition(":")
        if version != _VERSION or not kid or not payload:
            raise SecretKeyUnavailable("the stored secrets are not in the encrypted format (v1:key id:data)")
        aead = self._keys.get(kid)
        if aead is None:
            raise SecretKeyUnavailable(
                f"the stored secrets were encrypted with key {kid!r}, which app setting {KEYS_SETTING} does not hold"
            )
        try:
            raw = base64.b64decode(payload, validate=True)
            return aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], self._aad(kid)).decode("utf-8")
        except (binascii.Error, InvalidTag, ValueError):
            raise SecretKeyUnavailable(
                f"the stored secrets cannot be decrypted with key {kid!r} of app setting {KEYS_SETTING} "
                "(wrong key or damaged data)"
            ) from None

    # ---- the `seal`/`unseal` pair `TableStorage` takes (JSON text of {path: secret}) ---------------------------

    def seal_for_storage(self, text: str) -> str:
        """`seal`, except that a marker from `unseal_for_storage` gives back the ciphertext it stands for."""
        try:
            loaded = json.loads(text)
        except ValueError:
            loaded = None
        if isinstance(loaded, dict) and _MARKER_SEALED in loaded:
            return str(loaded[_MARKER_SEALED])
        return self.seal(text)

    def unseal_for_storage(self, value: str) -> str:
        """`unseal`, except that a value that cannot be opened (or sealed again) gives a marker, not an error."""
        try:
            if self._active is None:
                # Opening would work, but the next write by the executor could not seal: fail the execution instead.
                raise SecretKeyUnavailable(f"secrets cannot be encrypted again: {self.problem}")
            return self.unseal(value)
        except SecretKeyUnavailable as exc:
            reason = f"The job's secrets cannot be decrypted: {exc}."
            return json.dumps({_MARKER_REASON: reason, _MARKER_SEALED: value})

    @staticmethod
    def _aad(kid: str) -> bytes:
        return f"{_VERSION}:{kid}".encode()


def new_key() -> str:
    """A fresh key, base64, for `SCHEDULER_SECRET_KEYS` (`python -c "from ... import new_key; print(new_key())"`)."""
    return base64.b64encode(os.urandom(32)).decode("ascii")
