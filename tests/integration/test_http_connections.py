"""The Http action against a real keep-alive server on 127.0.0.1: concurrent calls to one target reuse connections
instead of opening a new one per call once more than a handful are in flight."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from scheduler_core.adapters.http_action import HttpActionRunner
from scheduler_core.adapters.target_guard import TargetGuard
from scheduler_core.wire import action_from_wire

CONCURRENT = 24  # more than requests' default pool of 10, at most function_app's attempt threads


@pytest.fixture
def keep_alive_target() -> Iterator[tuple[str, set[int]]]:
    ports: set[int] = set()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keeps connections open, as most real targets do

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with lock:
                ports.add(self.client_address[1])
            time.sleep(0.05)  # long enough for the calls of one round to overlap
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    class Server(ThreadingHTTPServer):
        request_queue_size = 64  # the listen backlog: 24 callers connecting at once overflow the default 5

    server = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", ports
    finally:
        server.shutdown()
        server.server_close()


def test_concurrent_calls_to_one_target_reuse_their_connections(keep_alive_target: tuple[str, set[int]]) -> None:
    uri, ports = keep_alive_target
    runner = HttpActionRunner(guard=TargetGuard(allow_loopback=True))
    action = action_from_wire({"type": "Http", "request": {"uri": uri, "method": "POST", "body": "{}"}})

    with ThreadPoolExecutor(CONCURRENT) as pool:
        for _ in range(3):
            outcomes = list(pool.map(lambda _: runner.run(action, {}, {}), range(CONCURRENT)))
            assert [o.message for o in outcomes if not o.succeeded] == []

    assert len(ports) <= CONCURRENT, f"{len(ports)} connections for {CONCURRENT} concurrent callers"
