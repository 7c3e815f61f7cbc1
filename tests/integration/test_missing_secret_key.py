"""A deployment without a usable secret key refuses jobs with secrets clearly and stores nothing of them."""

from __future__ import annotations

from fastapi.testclient import TestClient

from devhost.azurite import Azurite
from scheduler_core.api.app import create_app
from scheduler_core.bootstrap import build_services
from scheduler_core.settings import Settings
from tests.support.api import unique

PATH = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Scheduler/jobCollections/{jc}"
BASIC = {"type": "Basic", "username": "u", "password": "p4ssw0rd-never-stored"}


def test_a_job_with_secrets_is_refused_naming_the_setting_and_nothing_is_stored(azurite: Azurite) -> None:
    settings = Settings.from_env({"AzureWebJobsStorage": azurite.connection_string})  # no SCHEDULER_SECRET_KEYS
    services = build_services(settings)
    client = TestClient(create_app(lambda: services))
    collection = PATH.format(jc=unique("jc"))
    assert client.put(collection, json={"location": "x", "properties": {}}).status_code == 201
    request = {"uri": "https://example.invalid/", "method": "GET", "authentication": BASIC}

    refused = client.put(f"{collection}/jobs/j", json={"properties": {"action": {"type": "Https", "request": request}}})

    assert refused.status_code == 500
    assert refused.json()["error"]["code"] == "InternalError"
    assert "SCHEDULER_SECRET_KEYS" in refused.json()["error"]["message"]
    assert "p4ssw0rd" not in refused.text
    assert client.get(f"{collection}/jobs/j").status_code == 404
    assert client.get(collection).status_code == 200
    # The refusal left nothing behind: the same job without a secret is created afresh (201, not 200).
    without_secret = {"action": {"type": "Https", "request": {"uri": "https://example.invalid/", "method": "GET"}}}
    assert client.put(f"{collection}/jobs/j", json={"properties": without_secret}).status_code == 201
