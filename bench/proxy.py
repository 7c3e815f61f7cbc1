"""A counting HTTP proxy in front of Azurite, to count the storage requests of another process (the host).

The host is a separate process whose clients the benchmark cannot hook, so it is given a connection string whose
table and queue endpoints are this proxy; every request is counted (`bench.stack.classify`), timed (Azurite's round
trip, from forwarding to the answer) and forwarded unchanged to Azurite (Shared Key signatures cover the path, not
the port, so they stay valid).
"""

from __future__ import annotations

import http.client
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

from bench.stack import RequestCounter
from devhost.azurite import ACCOUNT_KEY, ACCOUNT_NAME, Azurite

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}


class CountingProxy:
    """Table and queue endpoints on 127.0.0.1 that count and forward to `azurite`; a context manager."""

    def __init__(self, azurite: Azurite) -> None:
        self.counter = RequestCounter()
        self._servers = {
            "table": _server("table", azurite.table_port, self.counter),
            "queue": _server("queue", azurite.queue_port, self.counter),
        }
        for server in self._servers.values():
            threading.Thread(target=server.serve_forever, daemon=True).start()
        base = "http://127.0.0.1"
        self.connection_string = (
            f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT_NAME};AccountKey={ACCOUNT_KEY};"
            f"BlobEndpoint={base}:{azurite.blob_port}/{ACCOUNT_NAME};"
            f"QueueEndpoint={base}:{self._servers['queue'].server_address[1]}/{ACCOUNT_NAME};"
            f"TableEndpoint={base}:{self._servers['table'].server_address[1]}/{ACCOUNT_NAME};"
        )

    def close(self) -> None:
        for server in self._servers.values():
            server.shutdown()
            server.server_close()

    def __enter__(self) -> CountingProxy:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _server(service: str, upstream_port: int, counter: RequestCounter) -> ThreadingHTTPServer:
    local = threading.local()

    class Forward(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the SDK clients expect
        # The answer goes out as two writes (headers, body): with Nagle on, the body would wait for the SDK's
        # delayed ACK (40 ms a request), a delay Azurite itself does not add.
        disable_nagle_algorithm = True

        def _forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            began = time.perf_counter()
            for attempt in (1, 2):
                upstream = getattr(local, "upstream", None)
                if upstream is None:
                    upstream = local.upstream = http.client.HTTPConnection("127.0.0.1", upstream_port, timeout=120)
                try:
                    upstream.request(self.command, self.path, body=body, headers=headers)
                    response = upstream.getresponse()
                    payload = response.read()
                    break
                except (OSError, http.client.HTTPException):
                    # Azurite closes idle keep-alive connections; a request on one that was closed gets no answer
                    # and was not processed, so it is sent again once on a new connection.
                    upstream.close()
                    local.upstream = None
                    if attempt == 2:
                        raise
            counter.record(service, self.command, self.path, headers, time.perf_counter() - began, response.status)
            self.send_response_only(response.status, response.reason)
            for key, value in response.getheaders():
                if key.lower() not in _HOP_BY_HOP and key.lower() != "content-length":
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_MERGE = do_HEAD = do_OPTIONS = _forward

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Forward)
    server.daemon_threads = True
    return server
