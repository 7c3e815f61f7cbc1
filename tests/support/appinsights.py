"""A stand-in for the Application Insights ingestion endpoint on 127.0.0.1: accepts what the Azure Monitor exporter
posts to `<IngestionEndpoint>/v2.1/track` (gzip'd JSON envelopes) and keeps it."""

from __future__ import annotations

import gzip
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Ingestion:
    """`connection_string` points the distro here (live metrics too); `envelopes()` is what it sent."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                with owner._lock:
                    owner.bodies.append(body)
                answer = json.dumps({"itemsReceived": 0, "itemsAccepted": 0, "errors": []}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def connection_string(self) -> str:
        url = f"http://127.0.0.1:{self._server.server_address[1]}/"
        return f"InstrumentationKey=00000000-0000-0000-0000-000000000001;IngestionEndpoint={url};LiveEndpoint={url}"

    def envelopes(self) -> list[dict[str, Any]]:
        with self._lock:
            bodies = list(self.bodies)
        found: list[dict[str, Any]] = []
        for body in bodies:
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = [json.loads(line) for line in body.decode(errors="replace").splitlines() if line.strip()]
            found += [item for item in (parsed if isinstance(parsed, list) else [parsed]) if isinstance(item, dict)]
        return found

    def metric_names(self) -> set[str]:
        return {
            metric.get("name")
            for envelope in self.envelopes()
            for metric in (envelope.get("data", {}).get("baseData", {}).get("metrics") or [])
        }

    def raw(self) -> bytes:
        with self._lock:
            return b"\n".join(self.bodies)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
