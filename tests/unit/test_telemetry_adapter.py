"""The OpenTelemetry adapter with in-memory SDK exporters: what a span, a metric point or a propagated header holds
for the calls the service makes, and that a target's credentials never become an attribute."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_ON, ParentBased, TraceIdRatioBased
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, TraceFlags, use_span

from scheduler_core.adapters import telemetry
from scheduler_core.adapters.telemetry import OpenTelemetry, retry_bucket
from scheduler_core.ports import Outcome
from scheduler_core.service.telemetry import AttemptFacts
from scheduler_core.wire import action_from_wire

DUE = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


class Recorder:
    """An ActionRunner that remembers the headers it was given and answers with `succeeded`."""

    def __init__(self, succeeded: bool = True) -> None:
        self.headers: list[Mapping[str, str]] = []
        self.succeeded = succeeded

    def run(self, action: Mapping[str, Any], secrets: Mapping[str, str], headers: Mapping[str, str]) -> Outcome:
        self.headers.append(headers)
        return Outcome(self.succeeded, "Http Action - Response from host 'x': '500' Body: secret-echo")


@pytest.fixture
def sdk() -> tuple[OpenTelemetry, InMemorySpanExporter, InMemoryMetricReader]:
    spans, reader = InMemorySpanExporter(), InMemoryMetricReader()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    meters = MeterProvider(metric_readers=[reader])
    return OpenTelemetry(lambda: 7, tracer_provider=tracer_provider, meter_provider=meters), spans, reader


def points(reader: InMemoryMetricReader, name: str) -> list[tuple[dict[str, Any], Any]]:
    data = reader.get_metrics_data()
    found = []
    for resource in data.resource_metrics if data else []:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                if metric.name == name:
                    for point in metric.data.data_points:
                        found.append((dict(point.attributes or {}), point))
    return found


def facts(retry: int = 0, late: float = 0.25) -> AttemptFacts:
    return AttemptFacts("job-1", "jc-1", "exec-1", "MainAction", retry, DUE, DUE, DUE + timedelta(seconds=late))


def http(uri: str) -> dict[str, Any]:
    return {"type": "Http", "request": {"uri": uri, "method": "post"}}


def test_an_attempt_is_a_span_whose_child_call_carries_its_traceparent(sdk) -> None:
    otel, spans, reader = sdk
    target = Recorder(succeeded=False)
    with otel.attempt(facts(retry=1)) as attempt:
        hook = action_from_wire(http("https://example.org/hook"))
        otel.traced(target).run(hook, {}, {"x-ms-scheduler-jobid": "job-1"})
        attempt.outcome("Faulted")

    action, span = spans.get_finished_spans()
    assert (span.name, action.name) == ("scheduler.attempt", "scheduler.action")
    assert action.parent is not None and action.parent.span_id == span.context.span_id
    trace_id, span_id = f"{span.context.trace_id:032x}", f"{action.context.span_id:016x}"
    version, sent_trace, parent, flags = target.headers[0]["traceparent"].split("-")
    assert (version, sent_trace, parent) == ("00", trace_id, span_id) and int(flags, 16) & 1  # sampled
    assert target.headers[0]["x-ms-scheduler-jobid"] == "job-1"
    assert span.attributes[telemetry.OUTCOME] == "Faulted" and span.attributes[telemetry.ACTION_TYPE] == "Http"
    assert span.attributes[telemetry.LATENESS_MS] == 250.0 and span.attributes[telemetry.RETRY_COUNT] == 1
    assert not action.status.is_ok and action.status.description is None  # the outcome's message stays out

    [(attributes, point)] = points(reader, telemetry.METRIC_LATENESS)
    assert attributes == {"scheduler.collection": "jc-1", "scheduler.action.type": "Http",
                          "scheduler.action.name": "MainAction"}
    assert point.count == 1 and point.sum == 250.0
    [(attributes, point)] = points(reader, telemetry.METRIC_ATTEMPTS)
    assert attributes[telemetry.OUTCOME] == "Faulted" and attributes[telemetry.RETRY_BUCKET] == "1"


def test_only_http_actions_get_a_traceparent(sdk) -> None:
    otel, _, _ = sdk
    target = Recorder()
    queue = {"type": "StorageQueue", "queueMessage": {"storageAccount": "acct", "queueName": "q", "sasToken": "sig"}}
    with otel.attempt(facts()):
        otel.traced(target).run(action_from_wire(queue), {}, {})
    assert "traceparent" not in target.headers[0]


def test_the_call_span_names_the_host_never_credentials_path_or_query(sdk) -> None:
    otel, spans, _ = sdk
    with otel.attempt(facts()):
        otel.traced(Recorder()).run(
            action_from_wire(http("https://user:pa55@api.example.org:8443/hook/k3y?code=s3cret")), {}, {}
        )
    action = spans.get_finished_spans()[0]
    assert dict(action.attributes) == {
        "scheduler.action.type": "Http", "http.request.method": "POST", "server.address": "api.example.org",
        "scheduler.action.target": "api.example.org", "server.port": 8443,
    }


def test_poison_postponed_planner_and_queue_depth_are_counted(sdk) -> None:
    otel, spans, reader = sdk
    otel.poisoned()
    otel.postponed(3)
    with otel.planner_tick() as tick:
        tick.enqueued(5)
    assert [p.value for _, p in points(reader, telemetry.METRIC_POISON)] == [1]
    outcomes = {a[telemetry.OUTCOME]: p.value for a, p in points(reader, telemetry.METRIC_ATTEMPTS)}
    assert outcomes == {"Faulted": 1, "Postponed": 3}
    assert [p.value for _, p in points(reader, telemetry.METRIC_PLANNER_OCCURRENCES)] == [5]
    assert [p.count for _, p in points(reader, telemetry.METRIC_TICK_DURATION)] == [1]
    assert [p.value for _, p in points(reader, telemetry.METRIC_QUEUE_DEPTH)] == [7]
    assert spans.get_finished_spans()[0].attributes["scheduler.enqueued"] == 5


def test_retry_buckets_keep_the_series_few() -> None:
    assert [retry_bucket(n) for n in (0, 1, 2, 4, 5, 40)] == ["0", "1", "2-4", "2-4", "5+", "5+"]


def test_the_authentication_string_names_the_managed_identity() -> None:
    credential = telemetry._credential("ClientId=0000-1111;Authorization=AAD")
    assert type(credential).__name__ == "ManagedIdentityCredential"
    assert telemetry._credential(None) is None and telemetry._credential("Authorization=None") is None


def sampled_sdk(inner: Any = None) -> tuple[OpenTelemetry, InMemorySpanExporter, Any]:
    spans = InMemorySpanExporter()
    tracer_provider = TracerProvider(sampler=telemetry.sampler(inner))
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    return OpenTelemetry(tracer_provider=tracer_provider), spans, tracer_provider.get_tracer("azure.data.tables")


def test_storage_calls_are_spans_inside_an_attempt_and_nowhere_else() -> None:
    otel, spans, sdk_tracer = sampled_sdk(ParentBased(ALWAYS_ON))
    with sdk_tracer.start_as_current_span("TableClient.submit_transaction"):  # a claim, before the attempt
        with sdk_tracer.start_as_current_span("PUT", kind=SpanKind.CLIENT):
            pass
    host_invocation = NonRecordingSpan(SpanContext(0x1234, 0x5678, is_remote=True, trace_flags=TraceFlags(1)))
    with use_span(host_invocation), sdk_tracer.start_as_current_span("QueueClient.send_message"):
        pass
    with otel.attempt(facts()), sdk_tracer.start_as_current_span("TableClient.create_entity"):
        with sdk_tracer.start_as_current_span("POST", kind=SpanKind.CLIENT):  # the request below the call
            pass
    with sdk_tracer.start_as_current_span("PUT /subscriptions/s/jobs/j", kind=SpanKind.SERVER):  # an API request
        with sdk_tracer.start_as_current_span("TableClient.get_entity"):
            pass

    call, attempt, read, request = spans.get_finished_spans()
    assert (call.name, attempt.name) == ("TableClient.create_entity", "scheduler.attempt")
    assert call.parent is not None and call.parent.span_id == attempt.context.span_id
    assert read.parent is not None and read.parent.span_id == request.context.span_id


def test_a_sampled_out_attempt_records_none_of_its_children() -> None:
    otel, spans, sdk_tracer = sampled_sdk(ParentBased(TraceIdRatioBased(0.0)))
    with otel.attempt(facts()), sdk_tracer.start_as_current_span("TableClient.create_entity"):
        otel.traced(Recorder()).run(action_from_wire(http("https://example.org/hook")), {}, {})
    assert spans.get_finished_spans() == ()
    assert "SchedulerSampler(ParentBased" in telemetry.sampler().get_description()  # the environment's, by default


def test_http_client_debug_logs_keep_no_query_value(caplog: pytest.LogCaptureFixture) -> None:
    """urllib3 logs each request's URL at DEBUG (and retried ones at WARNING): with a SAS (the job's sasToken, or a
    connection string's SharedAccessSignature) the signature would be in the host's log once DEBUG is on."""
    import urllib3

    from scheduler_core.adapters.log_redaction import hide_query_values_in_http_client_logs
    from tests.support.target import Target

    hide_query_values_in_http_client_logs()
    target = Target()
    try:
        with caplog.at_level(logging.DEBUG):
            urllib3.PoolManager().request("POST", f"{target.url}/acct/q/messages?sv=2021&sig=Si6%2Bvalue%3D")
    finally:
        target.close()
    assert "/acct/q/messages?sv=REDACTED&sig=REDACTED" in caplog.text
    assert "Si6" not in caplog.text
