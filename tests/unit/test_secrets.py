"""Which fields of a job definition are secrets: the model's secret fields, never the user's own names."""

from __future__ import annotations

from scheduler_core.secrets import merge_secrets, split_secrets


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
