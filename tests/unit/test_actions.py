"""Actions without the network: limits, target guard, StorageQueue envelope and endpoints, dispatcher decisions."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from scheduler_core.adapters.actions import ActionDispatcher
from scheduler_core.adapters.http_action import HttpActionRunner, OutboundLimits
from scheduler_core.adapters.secret_box import SecretBox
from scheduler_core.adapters.storage_queue_action import queue_endpoint, sas_secrets, storage_queue_envelope
from scheduler_core.adapters.target_guard import TargetGuard, TargetRefused
from scheduler_core.domain.definition import Action
from scheduler_core.ports import Outcome
from scheduler_core.settings import Settings, StorageConnection
from scheduler_core.wire import action_from_wire
from tests.support.target import Target

HEADERS = {
    "x-ms-scheduler-jobid": "job-1",
    "x-ms-scheduler-jobcollectionid": "jc-1",
    "x-ms-scheduler-expected-execution-time": "2024-05-01T10:00:00+00:00",
    "x-ms-scheduler-execution-id": "exec-123",
    "x-ms-scheduler-retry-count": "0",
}


# ---- target guard --------------------------------------------------------------------------------------------------


def fixed(*addresses: str):
    return lambda host: list(addresses)


@pytest.mark.parametrize(
    "address", ["169.254.169.254", "169.254.0.1", "fd00:ec2::254", "fe80::1", "::ffff:169.254.169.254"]
)
def test_link_local_and_metadata_addresses_are_refused_by_default(address: str) -> None:
    guard = TargetGuard(allow_loopback=True, resolver=fixed(address))
    with pytest.raises(TargetRefused, match="SCHEDULER_ALLOW_LINK_LOCAL_TARGETS"):
        guard.check_url("http://innocent.example.com/path")
    TargetGuard(allow_link_local=True, resolver=fixed(address)).check_url("http://innocent.example.com/")


def test_a_literal_metadata_address_is_refused_without_resolving() -> None:
    guard = TargetGuard(resolver=lambda host: pytest.fail("resolved a literal address"))
    with pytest.raises(TargetRefused, match="169.254.169.254"):
        guard.check_url("http://169.254.169.254/metadata/identity/oauth2/token")
    with pytest.raises(TargetRefused, match="fd00:ec2::254"):
        guard.check_url("http://[fd00:ec2::254]/latest/meta-data")


@pytest.mark.parametrize("address", ["127.0.0.1", "127.5.5.5", "::1", "0.0.0.0"])
def test_loopback_only_when_the_setting_allows_it(address: str) -> None:
    with pytest.raises(TargetRefused, match="SCHEDULER_ALLOW_LOOPBACK_TARGETS"):
        TargetGuard(resolver=fixed(address)).check_host("localhost")
    TargetGuard(allow_loopback=True, resolver=fixed(address)).check_host("localhost")


def test_any_forbidden_address_among_several_refuses_the_name() -> None:
    with pytest.raises(TargetRefused):
        TargetGuard(resolver=fixed("20.1.2.3", "169.254.169.254")).check_host("mixed.example.com")
    TargetGuard(resolver=fixed("20.1.2.3", "2603:1000::1")).check_host("public.example.com")


def test_unresolvable_host_is_a_clear_refusal() -> None:
    def fail(host: str) -> list[str]:
        raise OSError(-2, "Name or service not known")

    with pytest.raises(TargetRefused, match="could not be resolved"):
        TargetGuard(resolver=fail).check_host("nowhere.invalid")


# ---- Http runner decisions that need no network ------------------------------------------------------------------


def test_outbound_limits_are_enforced_at_execution() -> None:
    limits = OutboundLimits(max_uri_chars=30, max_body_chars=5, max_headers=2, max_header_chars=10)
    assert "URI" in limits.problem("http://x/" + "a" * 30, None, {})
    assert "body" in limits.problem("http://x/", "123456", {})
    assert "3 headers" in limits.problem("http://x/", None, {"a": "1", "b": "2", "c": "3"})
    assert "11 characters" in limits.problem("http://x/", None, {"abcde": "123456"})
    assert limits.problem("http://x/", "12345", {"a": "1"}) is None
    assert OutboundLimits().problem("http://x/" + "a" * 2000, "b" * 8192, {f"h{i}": "v" for i in range(50)}) is None


def test_http_runner_refuses_a_metadata_target_before_sending() -> None:
    runner = HttpActionRunner(guard=TargetGuard())
    action = action_from_wire({"type": "Http", "request": {"uri": "http://169.254.169.254/x", "method": "GET"}})
    outcome = runner.run(action, {}, {})
    assert not outcome.succeeded and "SCHEDULER_ALLOW_LINK_LOCAL_TARGETS" in outcome.message


def test_http_runner_failure_messages_do_not_quote_the_password() -> None:
    runner = HttpActionRunner(guard=TargetGuard(allow_loopback=True))
    action = {
        "type": "Http",
        "request": {
            "uri": "http://127.0.0.1:9/s3cr3t-pass",  # discard port: connection refused, the URL is in the error
            "method": "GET",
            "authentication": {"type": "Basic", "username": "u", "password": "s3cr3t-pass"},
        },
    }
    outcome = runner.run(action_from_wire(action), {"action.request.authentication.password": "s3cr3t-pass"}, {})
    assert not outcome.succeeded and "s3cr3t-pass" not in outcome.message and "***" in outcome.message



def test_http_history_never_quotes_basic_credentials_in_any_spelling() -> None:
    """A target that echoes the Authorization header: JSON with escaped slashes (PHP's json_encode), URL-encoded in a
    redirect's Location, or cut by the body snippet; none of them may show the credentials."""
    import base64
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from urllib.parse import quote

    class Echo(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            auth = self.headers.get("Authorization", "")
            if self.path == "/redirect":
                self.send_response(302)
                self.send_header("Location", "https://login.example/?return=" + quote(auth, safe=""))
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = json.dumps({"authorization": auth}).replace("/", "\\/").encode()
            if self.path == "/cut":  # the credentials straddle the end of the 2,048-byte snippet
                body = b"x" * 2036 + auth.encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    password = "hunter2???>>~~"  # its Basic credentials hold '/', '+' and '='
    credentials = base64.b64encode(f"u:{password}".encode()).decode()
    assert {"/", "+", "="} <= set(credentials)
    runner = HttpActionRunner(guard=TargetGuard(allow_loopback=True))
    try:
        for path in ("/json", "/redirect", "/cut"):
            action = action_from_wire({"type": "Http", "request": {
                "uri": f"http://127.0.0.1:{server.server_address[1]}{path}", "method": "GET",
                "authentication": {"type": "Basic", "username": "u", "password": password}}})
            outcome = runner.run(action, {"action.request.authentication.password": password}, {})
            assert "***" in outcome.message, path
            for spelling in (credentials, credentials.replace("/", "\\/"), quote(credentials, safe=""),
                             credentials[:8]):
                assert spelling not in outcome.message, f"{path}: {outcome.message[-120:]}"
    finally:
        server.shutdown()
        server.server_close()

# ---- StorageQueue --------------------------------------------------------------------------------------------------


def test_envelope_carries_the_occurrence_and_escapes_the_message() -> None:
    text = storage_queue_envelope('<b>&"fish"</b>\x01', HEADERS, client_request_id="req-9", region="West Europe")
    root = ET.fromstring(text.encode("utf-8"))
    assert root.tag == "StorageQueueMessage"
    fields = {child.tag: child.text for child in root}
    assert fields == {
        "ExecutionTag": "exec-123",
        "ClientRequestId": "req-9",
        "ExpectedExecutionTime": "2024-05-01T10:00:00+00:00",
        "SchedulerJobId": "job-1",
        "SchedulerJobCollectionId": "jc-1",
        "Region": "West Europe",
        "Message": '<b>&"fish"</b>\ufffd',
    }


def test_queue_endpoint_resolution() -> None:
    assert queue_endpoint("myaccount", {}) == "https://myaccount.queue.core.windows.net"
    mapped = {"devstoreaccount1": "http://127.0.0.1:10001/devstoreaccount1/"}
    assert queue_endpoint("devstoreaccount1", mapped) == "http://127.0.0.1:10001/devstoreaccount1"
    with pytest.raises(ValueError, match="storage account name"):
        queue_endpoint("evil.example.com/x", {})


def test_sas_redaction_covers_the_signature_in_any_quoting() -> None:
    hidden = sas_secrets("?sv=2024&sig=ab%2Bc%3D&se=x")
    assert hidden["sasToken"] == "sv=2024&sig=ab%2Bc%3D&se=x"
    assert "ab+c=" in hidden.values() and "ab%2Bc%3D" in hidden.values()


# ---- dispatcher --------------------------------------------------------------------------------------------------


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[Action, dict, dict]] = []

    def run(self, action, secrets, headers) -> Outcome:
        self.calls.append((action, dict(secrets), dict(headers)))
        return Outcome(True, "ok")


def settings() -> Settings:
    return Settings(storage=StorageConnection())


def test_dispatcher_routes_by_type() -> None:
    http, queue = Recorder(), Recorder()
    dispatcher = ActionDispatcher(settings(), runners={"Http": http, "StorageQueue": queue})
    assert dispatcher.run(action_from_wire({"type": "StorageQueue"}), {}, HEADERS).succeeded
    assert len(queue.calls) == 1 and not http.calls
    with pytest.raises(ValueError):  # an unknown type is refused where the wire JSON is parsed
        action_from_wire({"type": "Carrier pigeon"})


def test_undecryptable_secrets_fail_the_execution_with_the_setting_named() -> None:
    sealed = SecretBox({"old": b"k" * 32}, "old").seal(json.dumps({"action.request.authentication.password": "pw"}))
    secrets = json.loads(SecretBox({"new": b"n" * 32}, "new").unseal_for_storage(sealed))
    http = Recorder()
    outcome = ActionDispatcher(settings(), runners={"Http": http}).run(
        action_from_wire({"type": "Http"}), secrets, HEADERS
    )
    assert not outcome.succeeded and "SCHEDULER_SECRET_KEYS" in outcome.message and "'old'" in outcome.message
    assert not http.calls, "nothing is sent without the job's credentials"


def test_a_jobs_framing_headers_are_left_to_the_http_client() -> None:
    # `Transfer-Encoding: chunked` went out beside the computed Content-Length: a request a proxy may frame otherwise
    target = Target()
    try:
        runner = HttpActionRunner(guard=TargetGuard(allow_loopback=True))
        headers = {"Transfer-Encoding": "chunked", "content-length": "999", "Connection": "close", "X-Kept": "yes"}
        action = action_from_wire(
            {"type": "Http", "request": {"uri": f"{target.url}/framed", "method": "POST", "body": "hello",
                                         "headers": headers}}
        )

        assert runner.run(action, {}, {}).succeeded

        [received] = target.requests_to("/framed")
        assert received.body == b"hello"
        assert received.headers["content-length"] == "5"
        assert "transfer-encoding" not in received.headers
        assert received.headers["connection"] == "keep-alive"
        assert received.headers["x-kept"] == "yes"
    finally:
        target.close()
