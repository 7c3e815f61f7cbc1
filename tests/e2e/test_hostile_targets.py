"""Issue 16 end to end: a job writer cannot reach refused addresses, mint the app's tokens or hold the host.

Two hosts of this module's own, each on its own Azurite (so neither runs the other's jobs): `strict` refuses loopback
targets (as in Azure) and has the ManagedIdentity extension off; `open` allows loopback targets, one audience, and a
local managed identity endpoint (the App Service protocol azure-identity speaks), with a 3-second attempt deadline.
That a narrowed audience setting stops a job already stored is a unit test (tests/unit/test_actions_auth.py).
Jobs are created Disabled without retries and run once with `run`.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from devhost.azurite import Azurite
from devhost.tests.running import Devhost, wait_for
from tests.conftest import REPO, start_host
from tests.support.api import SchedulerApi, unique
from tests.support.target import Target

AUDIENCE = "api://jobs-backend"
TOKEN = "local-mi-token-for-jobs-backend"


class IdentityEndpoint:
    """The App Service managed identity protocol on 127.0.0.1: records each token request, answers with TOKEN."""

    def __init__(self) -> None:
        self.requests: list[dict[str, str]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
                owner.requests.append(query)
                body = json.dumps({"access_token": TOKEN, "expires_on": str(int(time.time()) + 3600),
                                   "resource": query.get("resource", ""), "token_type": "Bearer"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/msi/token"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class HostileTarget:
    """`/drip`: headers, then one byte a second for a minute. `/huge`: a 300 MB body, as fast as it can be read."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                owner.calls.append(self.path)
                try:
                    if self.path == "/drip":
                        self.send_response(200)
                        self.send_header("Content-Length", "60")
                        self.end_headers()
                        for _ in range(60):
                            self.wfile.write(b"x")
                            self.wfile.flush()
                            time.sleep(1)
                    else:
                        size, chunk = 300 * 1024 * 1024, b"y" * (1024 * 1024)
                        self.send_response(200)
                        self.send_header("Content-Length", str(size))
                        self.end_headers()
                        for _ in range(size // len(chunk)):
                            self.wfile.write(chunk)
                except OSError:
                    pass  # the scheduler hung up, as it should

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class Stack:
    strict: SchedulerApi
    open: SchedulerApi
    open_host: Devhost
    identity: IdentityEndpoint
    target: Target
    logs: list[Path]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    folder = tmp_path_factory.mktemp("hostile")
    identity, target = IdentityEndpoint(), Target()
    with Azurite.start(repo_root=REPO) as azurite, Azurite.start(repo_root=REPO) as other:
        strict, strict_url = start_host(azurite, folder / "strict.log", SCHEDULER_ALLOW_LOOPBACK_TARGETS="false")
        opened, open_url = start_host(
            other, folder / "open.log",
            SCHEDULER_MANAGED_IDENTITY_AUDIENCES=AUDIENCE, SCHEDULER_OUTBOUND_IDENTITY_CLIENT_ID="outbound-client",
            IDENTITY_ENDPOINT=identity.url, IDENTITY_HEADER="local-identity-header",
            SCHEDULER_HTTP_TIMEOUT_SECONDS="3",
        )
        try:
            yield Stack(SchedulerApi(strict_url), SchedulerApi(open_url), opened, identity, target,
                        [folder / "strict.log", folder / "open.log"])
        finally:
            strict.terminate()
            opened.terminate()
            identity.close()
            target.close()


def job_body(request: dict[str, Any]) -> dict[str, Any]:
    start = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    return {"properties": {"startTime": start, "state": "Disabled",
                           "action": {"type": "Http", "request": request, "retryPolicy": {"retryType": "None"}}}}


def run_once(api: SchedulerApi, request: dict[str, Any], collection: str | None = None) -> dict[str, Any]:
    """PUT a Disabled job, run it now, and return its one history entry once recorded."""
    collection, job = collection or api.new_collection(), unique("job")
    created = api.call("PUT", api.job_path(collection, job), job_body(request))
    assert created.status_code == 201, created.text
    assert api.call("POST", api.job_path(collection, job) + "/run").status_code == 200

    def recorded() -> list[dict[str, Any]]:
        return [h["properties"] for h in api.call("GET", api.job_path(collection, job) + "/history").json()["value"]]

    return wait_for(recorded, "the run to be recorded", deadline=60)[0]


def test_parser_differential_spellings_are_refused_at_put(stack: Stack) -> None:
    api, port = stack.strict, stack.target.url.rsplit(":", 1)[1]
    collection = api.new_collection()
    for uri in (f"http://127.0.0.1:{port}\\@192.0.2.1/x", f"http://user@127.0.0.1:{port}/",
                f"http://192.0.2.1@127.0.0.1:{port}/", f"http://127.0.0.1:{port}/a\r\nHost: x"):
        response = api.call("PUT", api.job_path(collection, unique("job")), job_body({"uri": uri, "method": "GET"}))
        assert response.status_code == 400, response.text
        assert response.json()["error"]["code"] == "BadRequest"
        assert "properties.action.request.uri" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    "host", ["localhost", "127.1", "2130706433", "0x7f000001", "[::ffff:127.0.0.1]", "[::127.0.0.1]", "0.0.0.0"]
)
def test_loopback_in_any_spelling_never_reaches_the_target(stack: Stack, host: str) -> None:
    port = stack.target.url.rsplit(":", 1)[1]
    path = f"/spelled-{unique('x')}"
    entry = run_once(stack.strict, {"uri": f"http://{host}:{port}{path}", "method": "GET"})
    assert entry["status"] == "Failed"
    assert "SCHEDULER_ALLOW_LOOPBACK_TARGETS" in entry["message"] or "could not be resolved" in entry["message"]
    assert stack.target.requests_to(path) == []


def test_a_managed_identity_job_for_an_audience_the_operator_did_not_allow_is_refused_at_put(stack: Stack) -> None:
    api = stack.open
    collection = api.new_collection()
    for audience, field in (("https://vault.azure.net", "audience"), ("https://management.azure.com/", "audience"),
                            ("api://someone-else", "audience"), (None, "audience")):
        auth = {"type": "ManagedIdentity", **({"audience": audience} if audience else {})}
        request = {"uri": f"{stack.target.url}/mi", "method": "GET", "authentication": auth}
        response = api.call("PUT", api.job_path(collection, unique("job")), job_body(request))
        assert response.status_code == 400, response.text
        assert f"properties.action.request.authentication.{field}" in response.json()["error"]["message"]
    # The extension is off on the strict host whatever the audience.
    request = {"uri": f"{stack.target.url}/mi", "method": "GET",
               "authentication": {"type": "ManagedIdentity", "audience": AUDIENCE}}
    off = stack.strict.call("PUT", api.job_path(stack.strict.new_collection(), unique("job")), job_body(request))
    assert off.status_code == 400 and "authentication.type" in off.json()["error"]["message"]
    assert stack.identity.requests == []


def test_an_allowed_audience_gets_the_outbound_identitys_token(stack: Stack) -> None:
    path = f"/mi-{unique('x')}"
    request = {"uri": f"{stack.target.url}{path}", "method": "GET",
               "authentication": {"type": "ManagedIdentity", "audience": AUDIENCE}}
    entry = run_once(stack.open, request)
    assert entry["status"] == "Completed", entry["message"]
    assert [r.headers["authorization"] for r in stack.target.requests_to(path)] == [f"Bearer {TOKEN}"]
    assert stack.identity.requests[-1]["resource"] == AUDIENCE
    assert stack.identity.requests[-1]["client_id"] == "outbound-client"
    assert TOKEN not in entry["message"]


def rss_mib(host: Devhost) -> float:
    for line in Path(f"/proc/{host.process.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_a_slow_drip_and_a_huge_body_end_at_the_deadline_without_the_host_growing(stack: Stack) -> None:
    hostile = HostileTarget()
    try:
        collection = stack.open.new_collection()
        before = rss_mib(stack.open_host)
        drip = run_once(stack.open, {"uri": f"{hostile.url}/drip", "method": "GET"}, collection)
        assert drip["status"] == "Failed"
        assert "timed out after 3 seconds" in drip["message"]
        started, ended = (datetime.fromisoformat(drip[k].replace("Z", "+00:00")) for k in ("startTime", "endTime"))
        assert (ended - started).total_seconds() < 30, "the attempt outlived its deadline by far"
        huge = run_once(stack.open, {"uri": f"{hostile.url}/huge", "method": "GET"}, collection)
        assert huge["status"] == "Completed", huge["message"]
        assert len(huge["message"]) < 4096, "history keeps a snippet, not the body"
        assert rss_mib(stack.open_host) - before < 50
    finally:
        hostile.close()
