"""An OTLP/HTTP receiver on 127.0.0.1 (protobuf, as `opentelemetry-exporter-otlp-proto-http` sends it) that keeps
every request's raw body and decodes spans, metric data points and log records with `opentelemetry-proto`."""

from __future__ import annotations

import gzip
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue


@dataclass(frozen=True)
class Span:
    name: str
    trace_id: str
    span_id: str
    parent_span_id: str
    kind: int
    attributes: dict[str, Any]


@dataclass(frozen=True)
class Point:
    """One data point of a metric: a counter's or gauge's value, a histogram's count and sum."""

    metric: str
    unit: str
    attributes: dict[str, Any]
    value: float
    count: int = 0


@dataclass(frozen=True)
class Log:
    body: str
    severity: str
    trace_id: str
    span_id: str
    attributes: dict[str, Any]


def _value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [_value(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return _attributes(value.kvlist_value.values)
    return getattr(value, kind) if kind else None


def _attributes(pairs: Any) -> dict[str, Any]:
    return {pair.key: _value(pair.value) for pair in pairs if isinstance(pair, KeyValue)}


class OtlpReceiver:
    """Accepts POST /v1/traces, /v1/metrics and /v1/logs; `url` is the `OTEL_EXPORTER_OTLP_ENDPOINT` to give."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self._traces: list[ExportTraceServiceRequest] = []
        self._metrics: list[ExportMetricsServiceRequest] = []
        self._logs: list[ExportLogsServiceRequest] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                status = receiver._accept(self.path, body)
                self.send_response(status)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def _accept(self, path: str, body: bytes) -> int:
        kinds = {
            "/v1/traces": (ExportTraceServiceRequest, self._traces),
            "/v1/metrics": (ExportMetricsServiceRequest, self._metrics),
            "/v1/logs": (ExportLogsServiceRequest, self._logs),
        }
        if path not in kinds:
            return 404
        message_type, store = kinds[path]
        message = message_type.FromString(body)
        with self._lock:
            self.bodies.append(body)
            store.append(message)  # type: ignore[arg-type]
        return 200

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def spans(self, name: str | None = None) -> list[Span]:
        with self._lock:
            requests = list(self._traces)
        return [
            Span(s.name, s.trace_id.hex(), s.span_id.hex(), s.parent_span_id.hex(), s.kind, _attributes(s.attributes))
            for request in requests
            for resource in request.resource_spans
            for scope in resource.scope_spans
            for s in scope.spans
            if name is None or s.name == name
        ]

    def points(self, metric: str) -> list[Point]:
        with self._lock:
            requests = list(self._metrics)
        found = []
        for request in requests:
            for resource in request.resource_metrics:
                for scope in resource.scope_metrics:
                    for m in scope.metrics:
                        if m.name != metric:
                            continue
                        kind = m.WhichOneof("data")
                        for p in getattr(m, kind).data_points:
                            attributes = _attributes(p.attributes)
                            if kind == "histogram":
                                found.append(Point(m.name, m.unit, attributes, p.sum, p.count))
                            else:
                                value = p.as_double if p.WhichOneof("value") == "as_double" else p.as_int
                                found.append(Point(m.name, m.unit, attributes, float(value)))
        return found

    def logs(self) -> list[Log]:
        with self._lock:
            requests = list(self._logs)
        return [
            Log(
                _value(r.body) or "", r.severity_text, r.trace_id.hex(), r.span_id.hex(), _attributes(r.attributes)
            )
            for request in requests
            for resource in request.resource_logs
            for scope in resource.scope_logs
            for r in scope.log_records
        ]

    def raw(self) -> bytes:
        """Everything received, concatenated (to look for a value that must never be exported)."""
        with self._lock:
            return b"\n".join(self.bodies)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
