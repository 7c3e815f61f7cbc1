"""Issue 6 end to end: every action type and outbound authentication, through the API on the local host.

This module runs its own Azurite and host: the host gets a token endpoint (`SCHEDULER_OAUTH_AUTHORITY_HOST`) and a
test CA (`REQUESTS_CA_BUNDLE`) that the session host must not share, and a host of its own keeps other tests' hosts
from executing these jobs. Each job is created Disabled with no retries and started with `run`, so it runs once.
After each test the secret values are searched for in every API response, the host log, the history and the raw
table entities: none may appear.
"""

from __future__ import annotations

import base64
import json
import ssl
import threading
import xml.etree.ElementTree as ET
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from azure.data.tables import TableClient, TableServiceClient
from azure.storage.queue import QueueClient, QueueSasPermissions, generate_queue_sas
from cryptography.hazmat.primitives import hashes

from devhost.azurite import ACCOUNT_KEY, ACCOUNT_NAME, Azurite
from devhost.tests.running import Devhost, wait_for
from scheduler_core.adapters.tables import JOBS
from tests.conftest import REPO, start_host
from tests.support.api import SchedulerApi, unique
from tests.support.certs import Issued, issue, make_ca
from tests.support.target import Target

# ---- local servers -------------------------------------------------------------------------------------------------


class _Server(ABC):
    """A ThreadingHTTPServer on 127.0.0.1 whose handler calls `self.handle(handler) -> (status, body)`."""

    def __init__(self, context: ssl.SSLContext | None = None) -> None:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                status, body = owner.handle(self)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = _any

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if context is not None:
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.lock = threading.Lock()
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @abstractmethod
    def handle(self, handler: BaseHTTPRequestHandler) -> tuple[int, bytes]:
        """The status and body to answer `handler`'s request with."""

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class TokenEndpoint(_Server):
    """Issues client-credentials tokens at `/{tenant}/oauth2/token` and records each request's form."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str]]] = []
        super().__init__()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def handle(self, handler: BaseHTTPRequestHandler) -> tuple[int, bytes]:
        length = int(handler.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(handler.rfile.read(length).decode()).items()}
        with self.lock:
            self.requests.append((handler.path, form))
            number = len(self.requests)
        if form.get("client_secret") != "oauth-client-secret-42":
            return 401, b'{"error": "invalid_client"}'
        token = {"access_token": f"token-{number}", "token_type": "Bearer", "expires_in": "3599"}
        return 200, json.dumps(token).encode()


class TlsTarget(_Server):
    """An https target that requires a client certificate from `ca` and records the subjects it saw."""

    def __init__(self, server_cert: tuple[Path, Path], ca_file: Path) -> None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*server_cert)
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(cafile=str(ca_file))
        self.subjects: list[str] = []
        super().__init__(context)
        self.url = f"https://127.0.0.1:{self.server.server_address[1]}"

    def handle(self, handler: BaseHTTPRequestHandler) -> tuple[int, bytes]:
        peer = handler.connection.getpeercert() or {}  # type: ignore[attr-defined]
        subject = ",".join(f"{k}={v}" for rdn in peer.get("subject", ()) for k, v in rdn)
        with self.lock:
            self.subjects.append(subject)
        return 200, b'{"seen": "client certificate"}'


@dataclass
class Stack:
    azurite: Azurite
    host: Devhost
    api: SchedulerApi
    log_path: Path
    tokens: TokenEndpoint
    ca: Issued
    tls: TlsTarget
    secrets: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    folder = tmp_path_factory.mktemp("actions")
    ca = make_ca()
    ca_file = folder / "ca.pem"
    ca_file.write_bytes(ca.pem())
    tls = TlsTarget(issue(ca, "127.0.0.1", server=True).write(folder, "server"), ca_file)
    tokens = TokenEndpoint()
    with Azurite.start(repo_root=REPO) as azurite:
        log_path = folder / "host.log"
        # REQUESTS_CA_BUNDLE: how an operator makes the executor trust a private CA (docs/actions.md).
        host, url = start_host(
            azurite, log_path, SCHEDULER_OAUTH_AUTHORITY_HOST=tokens.url, REQUESTS_CA_BUNDLE=str(ca_file)
        )
        try:
            yield Stack(azurite, host, SchedulerApi(url), log_path, tokens, ca, tls)
        finally:
            host.terminate()
            tls.close()
            tokens.close()


# ---- helpers -------------------------------------------------------------------------------------------------------


def run_once(stack: Stack, action: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """Create a Disabled job with `action` (no retries), run it now, wait for its history row.

    Returns:
        (collection, job, the PUT response body).
    """
    api = stack.api
    collection, job = api.new_collection(), unique("job")
    start = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    body = {"properties": {"startTime": start, "state": "Disabled",
                           "action": {**action, "retryPolicy": {"retryType": "None"}}}}
    created = api.call("PUT", api.job_path(collection, job), body)
    assert created.status_code == 201, created.text
    assert api.call("POST", api.job_path(collection, job) + "/run").status_code == 200
    wait_for(lambda: history(stack, collection, job), "the run to be recorded", deadline=60)
    return collection, job, created.json()


def history(stack: Stack, collection: str, job: str) -> list[dict[str, Any]]:
    response = stack.api.call("GET", stack.api.job_path(collection, job) + "/history")
    return [h["properties"] for h in response.json()["value"]]


def jobs_table(stack: Stack) -> TableClient:
    return TableServiceClient.from_connection_string(stack.azurite.connection_string).get_table_client(JOBS)


def assert_secrets_nowhere(stack: Stack, collection: str, job: str, *secrets: str) -> None:
    """No secret in any API response about the job, the host log, or the raw table entities."""
    api = stack.api
    texts = {
        "GET job": api.call("GET", api.job_path(collection, job)).text,
        "list jobs": api.call("GET", api.collection_path(collection) + "/jobs").text,
        "history": api.call("GET", api.job_path(collection, job) + "/history").text,
        "host log": stack.log_path.read_text(errors="replace"),
    }
    tables = TableServiceClient.from_connection_string(stack.azurite.connection_string)
    for table in tables.list_tables():
        texts[f"table {table.name}"] = "\n".join(
            json.dumps({k: str(v) for k, v in e.items()}) for e in tables.get_table_client(table.name).list_entities()
        )
    for secret in secrets:
        for where, text in texts.items():
            assert secret not in text, f"a secret appears in {where}"


# ---- tests ---------------------------------------------------------------------------------------------------------


def test_basic_authentication_reaches_the_target_with_the_right_header(stack: Stack, target: Target) -> None:
    password = "basic-pass-7f3a9c"
    collection, job, created = run_once(stack, {
        "type": "Http",
        "request": {"uri": f"{target.url}/basic", "method": "POST", "body": "hi",
                    "authentication": {"type": "basic", "username": "scheduler", "password": password}},
    })

    calls = target.requests_to("/basic")
    assert len(calls) == 1
    expected = base64.b64encode(f"scheduler:{password}".encode()).decode()
    assert calls[0].headers["authorization"] == f"Basic {expected}"
    assert created["properties"]["action"]["request"]["authentication"] == {"type": "Basic", "username": "scheduler"}
    assert [h["status"] for h in history(stack, collection, job)] == ["Completed"]
    assert_secrets_nowhere(stack, collection, job, password, expected)
    # (history rows share the jobs table: they have no Name)
    sealed = [e["Secrets"] for e in jobs_table(stack).list_entities() if e.get("Name") == job]
    assert len(sealed) == 1 and sealed[0].startswith("v1:test:"), "secrets at rest are sealed with the active key"


def make_queue(stack: Stack) -> tuple[QueueClient, str]:
    name = unique("q")
    queue = QueueClient.from_connection_string(stack.azurite.connection_string, name)
    queue.create_queue()
    sas = generate_queue_sas(
        ACCOUNT_NAME, name, ACCOUNT_KEY, permission=QueueSasPermissions(add=True),
        expiry=datetime.now(UTC) + timedelta(hours=1),
    )
    return queue, sas


def test_storage_queue_job_posts_the_xml_envelope_through_a_sas_token(stack: Stack) -> None:
    queue, sas = make_queue(stack)
    collection, job, created = run_once(stack, {
        "type": "StorageQueue",
        "queueMessage": {"storageAccount": ACCOUNT_NAME, "queueName": queue.queue_name, "sasToken": sas,
                         "message": "Wake up & <work>"},
    })

    assert [h["status"] for h in history(stack, collection, job)] == ["Completed"], history(stack, collection, job)
    messages = list(queue.receive_messages())
    assert len(messages) == 1
    root = ET.fromstring(messages[0].content.encode("utf-8"))
    fields = {child.tag: child.text for child in root}
    assert root.tag == "StorageQueueMessage"
    assert fields["Message"] == "Wake up & <work>"
    assert fields["SchedulerJobId"] == job and fields["SchedulerJobCollectionId"] == collection
    assert fields["ExecutionTag"] and fields["ClientRequestId"] and fields["ExpectedExecutionTime"]
    assert fields["Region"]
    assert "sasToken" not in json.dumps(created)
    signature = parse_qs(sas)["sig"][0]
    assert_secrets_nowhere(stack, collection, job, sas, signature)


def test_storage_queue_raw_format_posts_the_bare_message(stack: Stack) -> None:
    queue, sas = make_queue(stack)
    collection, job, _ = run_once(stack, {
        "type": "StorageQueue",
        "queueMessage": {"storageAccount": ACCOUNT_NAME, "queueName": queue.queue_name, "sasToken": sas,
                         "message": '{"raw": true}', "messageFormat": "raw"},
    })
    assert [h["status"] for h in history(stack, collection, job)] == ["Completed"]
    assert [m.content for m in queue.receive_messages()] == ['{"raw": true}']


def test_storage_queue_with_a_wrong_sas_token_fails_without_quoting_it(stack: Stack) -> None:
    queue, sas = make_queue(stack)
    forged = sas.replace("sig=", "sig=AAAA")
    collection, job, _ = run_once(stack, {
        "type": "StorageQueue",
        "queueMessage": {"storageAccount": ACCOUNT_NAME, "queueName": queue.queue_name, "sasToken": forged,
                         "message": "never"},
    })
    rows = history(stack, collection, job)
    assert [h["status"] for h in rows] == ["Failed"]
    assert "403" in rows[0]["message"]
    assert_secrets_nowhere(stack, collection, job, forged, parse_qs(forged)["sig"][0])


def test_client_certificate_is_presented_to_a_tls_target_that_requires_it(stack: Stack) -> None:
    password = "pfx-pass-51c0"
    client = issue(stack.ca, "Scheduler Client", server=False)
    pfx = client.pfx(password)
    collection, job, created = run_once(stack, {
        "type": "Https",
        "request": {"uri": f"{stack.tls.url}/cert", "method": "GET",
                    "authentication": {"type": "ClientCertificate", "pfx": pfx, "password": password}},
    })

    rows = history(stack, collection, job)
    assert [h["status"] for h in rows] == ["Completed"], rows
    assert "commonName=Scheduler Client" in stack.tls.subjects
    auth = created["properties"]["action"]["request"]["authentication"]
    assert auth["type"] == "ClientCertificate"
    assert auth["certificateSubjectName"] == "CN=Scheduler Client"
    assert auth["certificateThumbprint"] == client.cert.fingerprint(hashes.SHA1()).hex().upper()
    assert auth["certificateExpirationDate"].startswith(client.cert.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M"))
    assert "pfx" not in auth and "password" not in auth
    assert_secrets_nowhere(stack, collection, job, password, pfx, pfx[100:160])


def test_unreadable_pfx_or_wrong_password_is_a_400_naming_the_field(stack: Stack) -> None:
    api = stack.api
    collection = api.new_collection()
    pfx = issue(stack.ca, "Scheduler Client", server=False).pfx("right-password")
    for auth in ({"pfx": pfx, "password": "wrong-password"}, {"pfx": "bm90IGEgcGZ4", "password": "x"}):
        body = {"properties": {"action": {"type": "Https", "request": {
            "uri": f"{stack.tls.url}/cert", "method": "GET", "authentication": {"type": "ClientCertificate", **auth}}}}}
        response = api.call("PUT", api.job_path(collection, unique("job")), body)
        assert response.status_code == 400, response.text
        targets = [d["target"] for d in response.json()["error"]["details"]]
        assert targets == ["properties.action.request.authentication.pfx"]
        assert "wrong-password" not in response.text


def test_oauth_token_from_the_authority_is_sent_as_bearer_and_cached(stack: Stack, target: Target) -> None:
    secret = "oauth-client-secret-42"
    before = len(stack.tokens.requests)
    action = {
        "type": "Http",
        "request": {"uri": f"{target.url}/oauth", "method": "GET",
                    "authentication": {"type": "ActiveDirectoryOAuth", "tenant": "contoso.onmicrosoft.com",
                                       "audience": "https://management.core.windows.net/", "clientId": "app-1",
                                       "secret": secret}},
    }
    collection, job, created = run_once(stack, action)
    assert stack.api.call("POST", stack.api.job_path(collection, job) + "/run").status_code == 200
    wait_for(lambda: len(history(stack, collection, job)) == 2, "the second run to be recorded", deadline=60)

    assert [h["status"] for h in history(stack, collection, job)] == ["Completed", "Completed"]
    calls = target.requests_to("/oauth")
    assert [c.headers["authorization"] for c in calls] == [f"Bearer token-{before + 1}"] * 2, "one token, cached"
    token_requests = stack.tokens.requests[before:]
    assert len(token_requests) == 1
    path, form = token_requests[0]
    assert path == "/contoso.onmicrosoft.com/oauth2/token"
    assert form == {"grant_type": "client_credentials", "client_id": "app-1", "client_secret": secret,
                    "resource": "https://management.core.windows.net/"}
    assert created["properties"]["action"]["request"]["authentication"] == {
        "type": "ActiveDirectoryOAuth", "tenant": "contoso.onmicrosoft.com",
        "audience": "https://management.core.windows.net/", "clientId": "app-1"}
    assert_secrets_nowhere(stack, collection, job, secret)


def test_oauth_refused_by_the_authority_fails_the_run_with_its_error(stack: Stack, target: Target) -> None:
    wrong = "not-the-client-secret-99"
    collection, job, _ = run_once(stack, {
        "type": "Http",
        "request": {"uri": f"{target.url}/never", "method": "GET",
                    "authentication": {"type": "ActiveDirectoryOAuth", "tenant": "t", "audience": "api://x",
                                       "clientId": "app-2", "secret": wrong}},
    })
    rows = history(stack, collection, job)
    assert [h["status"] for h in rows] == ["Failed"] and "invalid_client" in rows[0]["message"]
    assert not target.requests_to("/never")
    assert_secrets_nowhere(stack, collection, job, wrong)


def test_metadata_address_is_refused_even_though_loopback_is_allowed(stack: Stack) -> None:
    collection, job, _ = run_once(stack, {
        "type": "Http", "request": {"uri": "http://169.254.169.254/metadata/instance", "method": "GET"}})
    rows = history(stack, collection, job)
    assert [h["status"] for h in rows] == ["Failed"]
    assert "SCHEDULER_ALLOW_LINK_LOCAL_TARGETS" in rows[0]["message"]
