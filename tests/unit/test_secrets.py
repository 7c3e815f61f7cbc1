"""Which fields of a job definition are secrets: the model's secret fields, never the user's own names."""

from __future__ import annotations

import json
from urllib.parse import quote, quote_plus

import pytest

from scheduler_core.secrets import merge_secrets, rebound_secrets, redact, split_secrets


def test_a_header_or_message_property_named_like_a_secret_field_is_kept_in_the_definition() -> None:
    definition = {
        "action": {
            "request": {
                "uri": "https://example.com/",
                "headers": {"secret": "not hidden", "password": "nor this"},
                "authentication": {"type": "Basic", "username": "u", "password": "hidden"},
            },
            "serviceBusQueueMessage": {"customMessageProperties": {"sasKey": "a property"}},
        }
    }

    kept, secrets = split_secrets(definition)

    assert secrets == {"action.request.authentication.password": "hidden"}
    assert kept["action"]["request"]["headers"] == {"secret": "not hidden", "password": "nor this"}
    assert kept["action"]["serviceBusQueueMessage"]["customMessageProperties"] == {"sasKey": "a property"}
    assert merge_secrets(kept, secrets) == definition


def test_redact_hides_a_secret_as_json_url_and_html_text_would_spell_it_and_a_cut_tail() -> None:
    secret = 'p/ss w+rd"é<'
    hidden = {"action.request.authentication.password": secret}
    spellings = [secret, quote(secret, safe=""), quote_plus(secret), json.dumps(secret)[1:-1],
                 json.dumps(secret, ensure_ascii=False)[1:-1].replace("/", "\\/"), "p/ss w+rd&quot;é&lt;"]
    for spelling in spellings:
        assert redact(f"Body: [{spelling}]", hidden) == "Body: [***]", spelling
    assert redact(f"Body: {secret[:6]}", hidden) == "Body: ***"  # a snippet that ends inside the secret
    assert redact("Body: p/s", hidden) == "Body: p/s"  # too short a prefix to tell anything
    assert redact("nothing to hide", hidden) == "nothing to hide"


def _basic(uri: str, **auth: str) -> dict:
    return {"action": {"type": "Http", "request": {"uri": uri, "method": "GET", "authentication": {
        "type": "Basic", "username": "alice", **auth}}}}


PASSWORD = "action.request.authentication.password"


@pytest.mark.parametrize(
    ("uri", "given", "moved"),
    [
        ("https://example.invalid/other/path?x=1", {}, []),  # the same origin: kept
        ("HTTPS://EXAMPLE.invalid:443/hook", {}, []),  # the same origin, spelt otherwise
        ("https://collector.example/hook", {}, [PASSWORD]),
        ("https://example.invalid:8443/hook", {}, [PASSWORD]),
        ("http://example.invalid/hook", {}, [PASSWORD]),
        ("https://collector.example/hook", {"action": {"request": {"authentication": {"password": "pw"}}}}, []),
    ],
)
def test_a_stored_secret_is_bound_to_the_origin_it_is_sent_to(uri: str, given: dict, moved: list[str]) -> None:
    stored = _basic("https://example.invalid/hook")
    merged = _basic(uri, password="pw")
    assert rebound_secrets(stored, {PASSWORD: "pw"}, merged, given) == moved


def test_a_secret_given_a_new_value_or_removed_is_not_carried() -> None:
    stored = _basic("https://example.invalid/hook")
    assert rebound_secrets(stored, {PASSWORD: "pw"}, _basic("https://x.example/", password="new"), {}) == []
    assert rebound_secrets(stored, {PASSWORD: "pw"}, _basic("https://x.example/"), {}) == []


def test_another_username_or_type_needs_the_password_again() -> None:
    stored = _basic("https://example.invalid/hook")
    merged = _basic("https://example.invalid/hook", password="pw", username="mallory")
    assert rebound_secrets(stored, {PASSWORD: "pw"}, merged, {}) == [PASSWORD]
