"""Issue 17: the app run as deployed, through `python -m devhost --parity` (devhost/parity.py).

One parity stack for the module: the app settings of infra/modules/functionapp.bicep, identity-based storage on
Azurite over HTTPS that demands bearer tokens (`--oauth basic`), tokens from the local managed-identity endpoint, the
job-secret keyring from the Key Vault reference, and no connection string anywhere. The environment overrides only
what a test needs and the Bicep must not say: loopback targets, a 5-second tick, a short lookahead and retry
interval, and the queues the identity may post to.

The test itself reaches storage the way an operator with a data role would: a bearer token, over HTTPS.
"""

from __future__ import annotations

import base64
import json
import secrets
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from azure.core.credentials import AccessToken
from azure.storage.queue import QueueClient, QueueSasPermissions, TextBase64EncodePolicy, generate_queue_sas

from devhost.azurite import ACCOUNT_KEY, ACCOUNT_NAME, endpoint, free_ports
from devhost.identity import mint_token
from devhost.parity import LOCAL_CLIENT_ID, local_client_id
from devhost.tests.running import Devhost, devhost_env, wait_for
from scheduler_core.settings import EXECUTIONS_QUEUE, POISON_QUEUE
from tests.conftest import REPO
from tests.support.api import SchedulerApi, job_of, put_job, unique
from tests.support.target import Target

pytestmark = pytest.mark.e2e

ALLOWED_QUEUE = "parity-allowed"
BACKEND_AUDIENCE = "api://parity-backend"
FAST_QUOTA = {"quota": {"maxJobCount": 50, "maxRecurrence": {"frequency": "Second", "interval": 1}}}


class BearerToken:
    """A token credential for Azurite in OAuth mode, as an operator's own Entra token would be."""

    def __init__(self) -> None:
        self._key = secrets.token_bytes(32)

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        token, expires_on = mint_token(scopes[0], client_id="parity-test-operator", key=self._key)
        return AccessToken(token, expires_on)


@dataclass
class Stack:
    host: Devhost
    api: SchedulerApi
    state: Path
    queue_port: int

    @property
    def cert(self) -> str:
        return str(self.state / "tls" / "cert.pem")

    def queue(self, name: str, **options: Any) -> QueueClient:
        """A queue of the parity account, reached with a bearer token over HTTPS."""
        url = endpoint(self.queue_port, https=True)
        return QueueClient(url, name, credential=BearerToken(), connection_verify=self.cert, **options)

    def log(self) -> str:
        return self.host.log_path.read_text(errors="replace")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    folder = tmp_path_factory.mktemp("parity")
    port, blob, queue, table = free_ports(4)
    env = devhost_env(
        SCHEDULER_ALLOW_LOOPBACK_TARGETS="true",
        SCHEDULER_TICK_SCHEDULE="*/5 * * * * *",
        SCHEDULER_LOOKAHEAD_SECONDS="20",
        SCHEDULER_MIN_RETRY_INTERVAL_SECONDS="1",
        SCHEDULER_IDENTITY_QUEUES=f"{ACCOUNT_NAME}/{ALLOWED_QUEUE}",
        SCHEDULER_MANAGED_IDENTITY_AUDIENCES=BACKEND_AUDIENCE,
        DEVHOST_QUEUE_LEASE_SECONDS="6",
    )
    for name in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "IDENTITY_ENDPOINT", "IDENTITY_HEADER"):
        env.pop(name, None)
    state = folder / "state"
    args = ["--app-dir", str(REPO), "--port", str(port), "--parity", str(state)]
    args += ["--azurite-ports", f"{blob},{queue},{table}"]
    host = Devhost(args, env, folder / "host.log")
    try:
        host.wait_ready()
        yield Stack(host, SchedulerApi(f"http://127.0.0.1:{port}"), state, queue)
    finally:
        assert host.terminate() == 0, host.output()


def iso(when: datetime) -> str:
    return when.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def history_of(api: SchedulerApi, collection: str, job: str) -> list[dict[str, Any]]:
    return [h["properties"] for h in api.call("GET", api.job_path(collection, job) + "/history").json()["value"]]


def run_once(api: SchedulerApi, action: dict[str, Any]) -> tuple[str, str]:
    """A Disabled job with action and no retries, run now; waits for its history row."""
    collection = api.new_collection()
    start = iso(datetime.now(UTC) + timedelta(days=1))
    action = {**action, "retryPolicy": {"retryType": "None"}}
    job = put_job(api, collection, {"startTime": start, "state": "Disabled", "action": action})
    assert api.call("POST", api.job_path(collection, job) + "/run").status_code == 200
    wait_for(lambda: history_of(api, collection, job), "the run to be recorded", deadline=60)
    return collection, job


# ---- the stack is the deployment's ----------------------------------------------------------------------------------


def test_the_stack_runs_on_the_bicep_settings_and_the_identity_without_a_connection_string(stack: Stack) -> None:
    output = "\n".join(stack.host.lines)
    assert "over HTTPS with OAuth" in output and "no connection string" in output
    log = stack.log()
    assert f"token for https://storage.azure.com issued to client id {LOCAL_CLIENT_ID}" in log
    assert "refused a token" not in log
    assert "not found in" not in log, "the Key Vault reference was left unresolved"
    assert "AccountKey" not in output + log
    # The state folder holds the certificate and the local vault; nothing of it is a connection string.
    vault = json.loads((stack.state / "keyvault.json").read_text())
    assert list(vault) == ["https://devhost-parity.vault.azure.net/secrets/scheduler-secret-keys"]
    assert (stack.state / "tls" / "cert.pem").exists()


# ---- the walking skeleton, recurrence, retries, the poison sweep ----------------------------------------------------


def test_one_time_http_job_with_a_secret_fires_once_and_is_recorded(stack: Stack) -> None:
    # Basic authentication: its password is sealed with the keyring that the Key Vault reference resolved to.
    api, target = stack.api, Target()
    try:
        collection = api.new_collection()
        start = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=4)
        request = {
            "uri": f"{target.url}/hook",
            "method": "POST",
            "body": "hello",
            "authentication": {"type": "Basic", "username": "ops", "password": "parity-pass-29"},
        }
        job = put_job(api, collection, {"startTime": iso(start), "action": {"type": "Http", "request": request}})

        wait_for(lambda: job_of(api, collection, job)["state"] == "Completed", "the job to complete", deadline=40)
        [call] = target.requests_to("/hook")
        assert call.body == b"hello" and call.at >= start
        assert call.headers["authorization"] == "Basic b3BzOnBhcml0eS1wYXNzLTI5"  # ops:parity-pass-29
        assert [h["status"] for h in history_of(api, collection, job)] == ["Completed"]
        assert job_of(api, collection, job)["status"]["executionCount"] == 1
        assert "parity-pass-29" not in stack.log()
    finally:
        target.close()


def test_recurring_job_fires_through_the_due_index_and_completes_after_count(stack: Stack) -> None:
    api, target = stack.api, Target()
    try:
        collection = api.new_collection(**FAST_QUOTA)
        action = {"type": "Http", "request": {"uri": f"{target.url}/tick", "method": "GET"}}
        job = put_job(api, collection, {"action": action, "recurrence": {"cron": "*/2 * * * * *", "count": 3}})

        wait_for(lambda: job_of(api, collection, job)["state"] == "Completed", "the job to complete", deadline=40)
        received = target.requests_to("/tick")
        due = [datetime.fromisoformat(r.headers["x-ms-scheduler-expected-execution-time"]) for r in received]
        assert len(received) == 3 and due == sorted(set(due))
        assert all(r.at >= d for r, d in zip(received, due, strict=True))
        assert [h["status"] for h in history_of(api, collection, job)] == ["Completed"] * 3
    finally:
        target.close()


def test_a_failing_action_is_retried_then_its_error_action_runs_once(stack: Stack) -> None:
    api = stack.api
    target = Target(respond=lambda path: 500 if path == "/main" else 200)
    try:
        collection = api.new_collection()
        retry = {"retryType": "Fixed", "retryInterval": "PT1S", "retryCount": 1}
        main = {"type": "Http", "request": {"uri": f"{target.url}/main", "method": "POST"}, "retryPolicy": retry}
        main["errorAction"] = {"type": "Http", "request": {"uri": f"{target.url}/error", "method": "POST"}}
        job = put_job(api, collection, {"action": main})

        wait_for(lambda: job_of(api, collection, job)["state"] == "Faulted", "the job to fault", deadline=40)
        wait_for(lambda: len(history_of(api, collection, job)) == 3, "the error action's history", deadline=20)
        assert len(target.requests_to("/main")) == 2
        assert [r.headers["x-ms-scheduler-action"] for r in target.requests_to("/error")] == ["ErrorAction"]
        assert sorted((h["actionName"], h["status"]) for h in history_of(api, collection, job)) == [
            ("ErrorAction", "Completed"),
            ("MainAction", "Failed"),
            ("MainAction", "Failed"),
        ]
    finally:
        target.close()


def test_a_message_on_the_poison_queue_is_swept_into_history_as_faulted(stack: Stack) -> None:
    # As the host leaves it after maxDequeueCount failures: the message as it was, base64, on `<queue>-poison`.
    api = stack.api
    collection = api.new_collection()
    due = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    action = {"type": "Http", "request": {"uri": "http://127.0.0.1:9/never", "method": "GET"}}
    job = put_job(api, collection, {"startTime": iso(due), "action": action})
    message = {"v": 1, "job": ["sub-1", "rg-1", collection, job], "due": due.isoformat(), "id": "x"}
    stack.queue(POISON_QUEUE, message_encode_policy=TextBase64EncodePolicy()).send_message(json.dumps(message))

    wait_for(lambda: history_of(api, collection, job), "the poisoned occurrence in history", deadline=20)
    [row] = history_of(api, collection, job)
    assert row["status"] == "Failed" and row["message"].startswith("Faulted")
    assert job_of(api, collection, job)["status"]["faultedCount"] == 1


def test_a_managed_identity_job_gets_its_token_from_the_outbound_identity_not_the_apps(stack: Stack) -> None:
    api, target = stack.api, Target()
    try:
        request = {"uri": f"{target.url}/backend", "method": "GET",
                   "authentication": {"type": "ManagedIdentity", "audience": BACKEND_AUDIENCE}}
        collection, job = run_once(api, {"type": "Http", "request": request})

        assert [h["status"] for h in history_of(api, collection, job)] == ["Completed"]
        [call] = target.requests_to("/backend")
        scheme, _, token = call.headers["authorization"].partition(" ")
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        assert scheme == "Bearer" and claims["aud"] == BACKEND_AUDIENCE
        assert claims["appid"] == local_client_id("outboundIdentityClientId") != LOCAL_CLIENT_ID
    finally:
        target.close()


# ---- StorageQueue actions with the identity ------------------------------------------------------------------------


def test_a_storage_queue_action_without_sas_posts_with_the_identity_to_an_allowed_queue(stack: Stack) -> None:
    queue = stack.queue(ALLOWED_QUEUE)
    queue.create_queue()
    message = {"storageAccount": ACCOUNT_NAME, "queueName": ALLOWED_QUEUE, "message": "by identity"}
    collection, job = run_once(stack.api, {"type": "StorageQueue", "queueMessage": message})

    rows = history_of(stack.api, collection, job)
    assert [h["status"] for h in rows] == ["Completed"], rows
    [received] = list(queue.receive_messages())
    fields = {child.tag: child.text for child in ET.fromstring(received.content.encode())}
    assert fields["Message"] == "by identity" and fields["SchedulerJobId"] == job


def test_a_storage_queue_action_without_sas_to_a_queue_not_allowed_is_refused(stack: Stack) -> None:
    api = stack.api
    collection = api.new_collection()
    message = {"storageAccount": ACCOUNT_NAME, "queueName": "parity-not-allowed", "message": "never"}
    body = {"properties": {"action": {"type": "StorageQueue", "queueMessage": message}}}

    response = api.call("PUT", api.job_path(collection, unique("job")), body)

    assert response.status_code == 400, response.text
    details = json.dumps(response.json())
    assert "sasToken" in details and "SCHEDULER_IDENTITY_QUEUES" in details


def test_no_job_can_post_to_the_schedulers_own_executions_queue_even_with_a_sas(stack: Stack) -> None:
    # Azurite still honours its well-known key, so a SAS for the app's own account can be made here; in Azure,
    # with shared keys off, it cannot. Either way the executor refuses: a job must not forge execution messages.
    sas = generate_queue_sas(
        ACCOUNT_NAME,
        EXECUTIONS_QUEUE,
        ACCOUNT_KEY,
        permission=QueueSasPermissions(add=True),
        expiry=datetime.now(UTC) + timedelta(hours=1),
    )
    forged = {"v": 1, "job": ["sub-1", "rg-1", "c", "j"], "due": iso(datetime.now(UTC)), "id": "forged"}
    message = {"storageAccount": ACCOUNT_NAME, "queueName": EXECUTIONS_QUEUE, "sasToken": sas,
               "message": json.dumps(forged), "messageFormat": "Raw"}
    collection, job = run_once(stack.api, {"type": "StorageQueue", "queueMessage": message})

    [row] = history_of(stack.api, collection, job)
    assert row["status"] == "Failed"
    assert f"Queue '{EXECUTIONS_QUEUE}' is the scheduler's own" in row["message"]
