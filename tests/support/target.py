"""A real HTTP target on 127.0.0.1 that records every request it receives, with the instant it arrived."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: datetime


class Target:
    """Records requests; `respond(path) -> status` decides the answer (default 200)."""

    def __init__(self, respond: Callable[[str], int] | None = None, *, port: int = 0) -> None:
        self.received: list[Received] = []
        self.respond = respond or (lambda path: 200)
        self._lock = threading.Lock()
        target = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                at = datetime.now(UTC)
                with target._lock:
                    target.received.append(
                        Received(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body, at)
                    )
                status = target.respond(self.path)
                payload = b"target says hello"
                self.send_response(status)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def requests_to(self, path: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.path == path]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def main() -> None:
    """`python -m tests.support.target [port]`: a local target for trying the scheduler by hand; prints each call."""
    import sys
    import time

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
