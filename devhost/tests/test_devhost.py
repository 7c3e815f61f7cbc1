"""End-to-end: python -m devhost serving a throwaway app against Azurite, observed over HTTP and storage."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.storage.queue import QueueClient, QueueMessage, TextBase64EncodePolicy

from devhost.azurite import DEFAULT_PORTS, Azurite, connection_string, free_port, free_ports, port_in_use
from devhost.tests.running import Devhost, devhost_env, wait_for
from devhost.tests.sample_app import records, write_app

pytestmark = pytest.mark.e2e

FAST_POLLING = {"maxPollingInterval": "00:00:00.500", "maxDequeueCount": 3}
NEVER = "0 0 0 1 1 *"


@dataclass
class Running:
    """A devhost started for this module."""

    base_url: str
    record_dir: Path
    connection_string: str


@pytest.fixture(scope="module")
def azurite() -> Iterator[Azurite]:
    with Azurite.start() as emulator:
        yield emulator


def _start(root: Path, queues: dict[str, object], env: dict[str, str], extra_args: Sequence[str] = ()) -> Devhost:
    app_dir = write_app(root / "app", queues)
    (root / "records").mkdir()
    env = dict(env, RECORD_DIR=str(root / "records"))
    process = Devhost(["--app-dir", str(app_dir), *extra_args], env, root / "devhost.log")
    process.wait_ready()
    return process


@pytest.fixture(scope="module")
def host(azurite: Azurite, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    root = tmp_path_factory.mktemp("devhost")
    port = free_port()
    env = devhost_env(
        AzureWebJobsStorage=azurite.connection_string,
        TICK_SCHEDULE="* * * * * *",
        WORK_QUEUE="devhost-work",
        FAIL_QUEUE="devhost-fail",
    )
    process = _start(root, FAST_POLLING, env, ["--port", str(port)])
    try:
        yield Running(f"http://127.0.0.1:{port}", root / "records", azurite.connection_string)
    finally:
        process.terminate()


def _base64_queue(connection_string: str, name: str) -> QueueClient:
    return QueueClient.from_connection_string(connection_string, name, message_encode_policy=TextBase64EncodePolicy())


def _peek(queue: QueueClient) -> list[QueueMessage]:
    try:
        return list(queue.peek_messages(max_messages=32))
    except ResourceNotFoundError:
        return []


def test_http_route_parameters_under_the_route_prefix(host: Running) -> None:
    response = httpx.get(f"{host.base_url}/v1/hello/ada", params={"q": "x"})

    assert response.status_code == 200
    assert response.json() == {"name": "ada", "q": "x", "function": "hello"}
    assert response.headers.get_list("set-cookie") == ["a=1", "b=2"]
    assert response.headers["content-type"] == "application/json"


def test_http_outside_the_route_prefix_or_method_is_not_found(host: Running) -> None:
    assert httpx.get(f"{host.base_url}/api/hello/ada").status_code == 404
    assert httpx.get(f"{host.base_url}/hello/ada").status_code == 404


def test_http_function_that_raises_answers_500(host: Running) -> None:
    assert httpx.get(f"{host.base_url}/v1/broken").status_code == 500


def test_asgi_app_is_served_with_an_invocation_context(host: Running) -> None:
    response = httpx.get(f"{host.base_url}/v1/fast/items/7")

    assert response.status_code == 200
    assert response.json()["item"] == "7"
    assert response.json()["invocation_id"]


def test_base64_message_is_delivered_once_with_dequeue_count_1(host: Running) -> None:
    _base64_queue(host.connection_string, "devhost-work").send_message("hello base64")

    received = wait_for(lambda: records(host.record_dir, "work"), "the work function")

    assert [(r["body"], r["dequeue_count"]) for r in received] == [("hello base64", 1)]


def test_failing_message_is_retried_then_moved_to_poison(host: Running) -> None:
    queue = _base64_queue(host.connection_string, "devhost-fail")
    poison = QueueClient.from_connection_string(host.connection_string, "devhost-fail-poison")
    queue.send_message("doomed")

    moved = wait_for(lambda: _peek(poison), "the poison queue")

    assert [m.content for m in moved] == [base64.b64encode(b"doomed").decode()]
    assert sorted(r["dequeue_count"] for r in records(host.record_dir, "fail")) == [1, 2, 3]
    assert _peek(queue) == []


def test_timer_with_app_setting_schedule_fires(host: Running) -> None:
    fired = wait_for(lambda: len(records(host.record_dir, "timer")) >= 2, "two timer invocations")

    assert fired


def test_plain_messages_with_encoding_none_then_sigterm_exits_0(azurite: Azurite, tmp_path: Path) -> None:
    env = devhost_env(
        AzureWebJobsStorage=azurite.connection_string,
        TICK_SCHEDULE=NEVER,
        WORK_QUEUE="devhost-plain-work",
        FAIL_QUEUE="devhost-plain-fail",
    )
    process = _start(tmp_path, {**FAST_POLLING, "messageEncoding": "none"}, env, ["--port", str(free_port())])
    try:
        QueueClient.from_connection_string(azurite.connection_string, "devhost-plain-work").send_message("plain")
        received = wait_for(lambda: records(tmp_path / "records", "work"), "the work function")
    finally:
        code = process.terminate()

    assert [(r["body"], r["dequeue_count"]) for r in received] == [("plain", 1)]
    assert code == 0, process.output()
    assert process.lines[-1] == "devhost: stopped"


def test_azurite_option_keeps_data_in_the_directory_and_stops_azurite(tmp_path: Path) -> None:
    # Free ports rather than Azurite's defaults, so the test runs beside a developer's `make run`; devhost then points
    # AzureWebJobsStorage (UseDevelopmentStorage=true in the app's settings) at them.
    blob, queue, table = free_ports(3)
    ports = (blob, queue, table)
    env = devhost_env(TICK_SCHEDULE=NEVER, WORK_QUEUE="devhost-devstore", FAIL_QUEUE="devhost-devstore-fail")
    env["AzureWebJobsStorage"] = "UseDevelopmentStorage=true"
    args = [
        "--port",
        str(free_port()),
        "--azurite",
        str(tmp_path / "data"),
        "--azurite-ports",
        ",".join(map(str, ports)),
    ]
    process = _start(tmp_path, FAST_POLLING, env, args)
    try:
        _base64_queue(connection_string(ports), "devhost-devstore").send_message("via devstore")
        received = wait_for(lambda: records(tmp_path / "records", "work"), "the work function")
    finally:
        code = process.terminate()

    assert [r["body"] for r in received] == ["via devstore"]
    assert code == 0, process.output()
    assert any((tmp_path / "data").iterdir()), "Azurite kept no data in the directory"
    assert "devhost: Azurite stopped" in process.lines
    pid = int(next(line for line in process.lines if "Azurite (pid" in line).split("pid ")[1].split(")")[0])
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert not any(port_in_use(port) for port in ports)


def test_azurite_ports_default_to_what_use_development_storage_means() -> None:
    from devhost.__main__ import _parse_args

    assert _parse_args(["--azurite", "x"]).azurite_ports == DEFAULT_PORTS == (10000, 10001, 10002)
