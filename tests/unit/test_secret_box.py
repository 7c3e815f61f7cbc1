"""Secrets at rest: AES-GCM with the key id beside the ciphertext, rotation, and clear failures without plaintext."""

from __future__ import annotations

import base64
import json
import os

import pytest

from scheduler_core.adapters.secret_box import SecretBox, SecretKeyUnavailable, unreadable_reason
from scheduler_core.secrets import merge_secrets

SECRETS = json.dumps({"action.request.authentication.password": "hunter2-very-secret"})


def key() -> bytes:
    return os.urandom(32)


def test_sealed_value_names_its_key_and_hides_the_text() -> None:
    box = SecretBox({"k1": key()}, "k1")
    sealed = box.seal(SECRETS)
    assert sealed.startswith("v1:k1:")
    assert "hunter2" not in sealed and "hunter2" not in base64.b64decode(sealed.split(":")[2]).decode("latin-1")
    assert box.unseal(sealed) == SECRETS
    assert box.seal(SECRETS) != sealed, "a fresh nonce every time"


def test_rotation_opens_with_any_configured_key_and_seals_with_the_active_one() -> None:
    old, new = key(), key()
    sealed_old = SecretBox({"old": old}, "old").seal(SECRETS)
    rotated = SecretBox({"old": old, "new": new}, "new")
    assert rotated.unseal(sealed_old) == SECRETS
    assert rotated.seal_for_storage(rotated.unseal_for_storage(sealed_old)).startswith("v1:new:")


def test_a_single_key_is_active_without_naming_it() -> None:
    box = SecretBox({"only": key()})
    assert box.problem is None
    assert box.unseal(box.seal("x")) == "x"


@pytest.mark.parametrize(
    ("keys", "active", "setting"),
    [
        ({}, None, "SCHEDULER_SECRET_KEYS"),
        ({"a": os.urandom(32), "b": os.urandom(32)}, None, "SCHEDULER_ACTIVE_SECRET_KEY_ID"),
        ({"a": os.urandom(32)}, "zzz", "SCHEDULER_ACTIVE_SECRET_KEY_ID"),
        ({"a": os.urandom(16)}, "a", "SCHEDULER_SECRET_KEYS"),
    ],
)
def test_unusable_key_settings_refuse_to_seal_and_name_the_setting(keys, active, setting) -> None:
    box = SecretBox(keys, active)
    assert box.problem and setting in box.problem
    with pytest.raises(SecretKeyUnavailable, match=setting):
        box.seal(SECRETS)


def test_missing_key_gives_a_marker_that_fails_the_execution_and_keeps_the_ciphertext() -> None:
    sealed = SecretBox({"gone": key()}, "gone").seal(SECRETS)
    box = SecretBox({"other": key()}, "other")
    with pytest.raises(SecretKeyUnavailable, match="'gone'.*SCHEDULER_SECRET_KEYS"):
        box.unseal(sealed)
    secrets = json.loads(box.unseal_for_storage(sealed))
    reason = unreadable_reason(secrets)
    assert reason and "SCHEDULER_SECRET_KEYS" in reason and "hunter2" not in reason
    # The executor writing the job back must not replace the ciphertext with anything else.
    assert box.seal_for_storage(json.dumps(secrets)) == sealed
    # The marker never reaches the definition that is rendered or executed.
    assert merge_secrets({"action": {"type": "Http"}}, secrets) == {"action": {"type": "Http"}}


def test_wrong_key_under_the_same_id_is_a_clear_error() -> None:
    sealed = SecretBox({"k": key()}, "k").seal(SECRETS)
    with pytest.raises(SecretKeyUnavailable, match="wrong key"):
        SecretBox({"k": key()}, "k").unseal(sealed)


def test_plaintext_in_storage_is_not_accepted_as_secrets() -> None:
    box = SecretBox({"k": key()}, "k")
    secrets = json.loads(box.unseal_for_storage(SECRETS))
    assert unreadable_reason(secrets) and "encrypted format" in unreadable_reason(secrets)
    assert "action.request.authentication.password" not in secrets


def test_tampered_key_id_is_detected() -> None:
    k = key()
    box = SecretBox({"a": k, "b": k}, "a")
    sealed = box.seal(SECRETS)
    with pytest.raises(SecretKeyUnavailable):
        box.unseal(sealed.replace("v1:a:", "v1:b:"))


def test_without_an_active_key_stored_secrets_fail_executions_rather_than_writes() -> None:
    k = key()
    sealed = SecretBox({"a": k}, "a").seal(SECRETS)
    misconfigured = SecretBox({"a": k}, "b")
    secrets = json.loads(misconfigured.unseal_for_storage(sealed))
    assert "SCHEDULER_ACTIVE_SECRET_KEY_ID" in unreadable_reason(secrets)
    assert misconfigured.seal_for_storage(json.dumps(secrets)) == sealed
