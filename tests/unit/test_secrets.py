"""Which fields of a job definition are secrets: the model's secret fields, never the user's own names."""

from __future__ import annotations

import json
from urllib.parse import quote, quote_plus

from scheduler_core.secrets import merge_secrets, redact, split_secrets


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
