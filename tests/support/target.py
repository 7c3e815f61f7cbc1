"""A real HTTP target on 127.0.0.1 that records every request it receives, with the instant it arrived.

It behaves like a production web server's front (nginx, Kestrel) in the two ways that matter under a burst: a listen
backlog of 1,024 (the kernel caps it at `net.core.somaxconn`) instead of socketserver's 5, so a burst of new
connections waits in the accept queue instead of being dropped and retried a second later by the client's SYN
retransmit; and HTTP/1.1 keep-alive, so a client's pooled connection carries call after call. Each connection has a
thread of its own.

On Linux every request also carries the target's own delay (`Received.waited`): from the request's first byte
reaching the target's kernel (its receive timestamp, `SO_TIMESTAMPNS`) to the target reading it, i.e. the accept
queue, the connection's thread starting and its wake-up. A benchmark subtracts it or reports it beside lateness, so
that what it attributes to the caller is the caller's.
"""

from __future__ import annotations

import socket
import struct
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LISTEN_BACKLOG = 1024
# Linux only; the constant is missing from some builds of the socket module. On 64-bit Linux the value 35 delivers a
# 16-byte timespec (seconds, nanoseconds).
_SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35) if sys.platform == "linux" else None
_TIMESPEC = struct.Struct("qq")


@dataclass(frozen=True)
class Received:
    """One request as the target read it; `waited`: seconds from its first byte's arrival to its read (None when
    the platform gives no receive timestamp)."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: datetime
    waited: float | None = None


class _Server(ThreadingHTTPServer):
    request_queue_size = LISTEN_BACKLOG

    def server_bind(self) -> None:
        super().server_bind()
        if _SO_TIMESTAMPNS is not None:
            # Accepted sockets inherit it; setting it also turns the kernel's receive timestamps on.
            self.socket.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)


def _first_byte_wait(connection: socket.socket) -> float | None:
    """Block until the next request's first byte is readable; how long it waited in the kernel before that."""
    if _SO_TIMESTAMPNS is None:
        return None
    try:
        _, ancillary, _, _ = connection.recvmsg(1, socket.CMSG_SPACE(_TIMESPEC.size), socket.MSG_PEEK)
    except OSError:
        return None  # reset or closed: the handler's own read reports it
    now = time.time()
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == _SO_TIMESTAMPNS and len(data) >= _TIMESPEC.size:
            seconds, nanoseconds = _TIMESPEC.unpack_from(data)
            return max(0.0, now - (seconds + nanoseconds / 1e9))
    return None


class Target:
    """Records requests; `respond(path) -> status` decides the answer (default 200)."""

    def __init__(self, respond: Callable[[str], int] | None = None, *, port: int = 0) -> None:
        self.received: list[Received] = []
        self.respond = respond or (lambda path: 200)
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        target = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive; every answer carries a Content-Length
            # As production servers do (Kestrel, nginx): without it each answer on a kept-alive connection waits for
            # the client's delayed ACK (about 40 ms on Linux).
            disable_nagle_algorithm = True

            def setup(self) -> None:
                super().setup()
                with target._lock:
                    target._connections.add(self.connection)

            def finish(self) -> None:
                with target._lock:
                    target._connections.discard(self.connection)
                super().finish()

            def handle_one_request(self) -> None:
                # Clients here never pipeline, so the read buffer is empty between requests and the socket's next
                # byte is the next request's.
                self._waited = _first_byte_wait(self.connection)
                super().handle_one_request()

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                at = datetime.now(UTC)
                headers = {k.lower(): v for k, v in self.headers.items()}
                with target._lock:
                    target.received.append(Received(self.command, self.path, headers, body, at, self._waited))
                status = target.respond(self.path)
                payload = b"target says hello"
                self.send_response(status)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle

            def log_message(self, *args: object) -> None:
                pass

        self._server = _Server(("127.0.0.1", port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def requests_to(self, path: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.path == path]

    def close(self) -> None:
        """Stop listening and end the open keep-alive connections, so that nothing reaches a closed target."""
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            open_connections = list(self._connections)
        for connection in open_connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def main() -> None:
    """`python -m tests.support.target [port]`: a local target for trying the scheduler by hand; prints each call."""
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8000
    printed = 0
    local = Target(port=port)
    print(f"target listening on {local.url}", flush=True)
    try:
        while True:
            time.sleep(0.2)
            for call in local.received[printed:]:
                print(f"{call.at.isoformat()} {call.method} {call.path} {call.headers} {call.body!r}", flush=True)
            printed = len(local.received)
    except KeyboardInterrupt:
        local.close()


if __name__ == "__main__":
    main()
