"""Telemetry through the local host: with OTEL_EXPORTER_OTLP_ENDPOINT set, the jobs' attempts arrive at an OTLP/HTTP
collector (a receiver on 127.0.0.1 in this test) as spans, metric points and logs; the target sees the attempt as
the parent of its request; and no secret of a job is among what the collector got."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from azure.storage.queue import QueueClient, TextBase64EncodePolicy

from devhost.azurite import Azurite
from devhost.tests.running import Devhost, wait_for
from scheduler_core.settings import POISON_QUEUE
from tests.conftest import REPO, start_host
from tests.support.api import SchedulerApi, unique
from tests.support.appinsights import Ingestion
from tests.support.otlp import OtlpReceiver, Span
from tests.support.target import Target

PASSWORD = "otel-basic-pass-5d1e8b"
API_KEY = "otel-header-key-93c4aa"
SERVER_KIND = 2  # opentelemetry.proto SpanKind SPAN_KIND_SERVER
CLIENT_KIND = 3


@dataclass
class Stack:
    host: Devhost
    api: SchedulerApi
    receiver: OtlpReceiver
    target: Target
    azurite: Azurite | None = None


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    receiver, target = OtlpReceiver(), Target(lambda path: 500 if path.startswith("/fail") else 200)
    with Azurite.start(repo_root=REPO) as azurite:
        host, url = start_host(
            azurite,
            tmp_path_factory.mktemp("telemetry") / "host.log",
            OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url,
            # Export within a second, not the SDK's 5 s (spans, logs) and 60 s (metrics).
            OTEL_BSP_SCHEDULE_DELAY="200",
            OTEL_BLRP_SCHEDULE_DELAY="200",
            OTEL_METRIC_EXPORT_INTERVAL="500",
        )
        try:
            yield Stack(host, SchedulerApi(url), receiver, target, azurite)
        finally:
            host.terminate()
            target.close()
            receiver.close()


def one_time_job(stack: Stack, path: str, **action: Any) -> tuple[str, str]:
    """A one-time Http job due in 3 s in a new collection; returns (collection, job)."""
    api = stack.api
    collection, job = api.new_collection(), unique("job")
    start = (datetime.now(UTC) + timedelta(seconds=3)).isoformat().replace("+00:00", "Z")
    request = {"uri": f"{stack.target.url}{path}", "method": "POST", "body": "hello", **action.pop("request", {})}
    body = {"properties": {"startTime": start, "action": {"type": "Http", "request": request, **action}}}
    response = api.call("PUT", api.job_path(collection, job), body)
    assert response.status_code == 201, response.text
    return collection, job


def attempt_spans(stack: Stack, execution_id: str) -> list[Span]:
    spans = stack.receiver.spans("scheduler.attempt")
    return sorted(
        (s for s in spans if s.attributes.get("scheduler.execution_id") == execution_id),
        key=lambda s: s.attributes["scheduler.retry_count"],
    )


def test_an_attempt_arrives_as_a_span_a_lateness_point_and_the_parent_of_the_targets_request(stack: Stack) -> None:
    collection, job = one_time_job(
        stack, "/ok",
        request={"headers": {"x-api-key": API_KEY},
                 "authentication": {"type": "Basic", "username": "scheduler", "password": PASSWORD}},
    )
    call = wait_for(lambda: stack.target.requests_to("/ok"), "the target to be called")[0]
    execution_id = call.headers["x-ms-scheduler-execution-id"]

    span = wait_for(lambda: attempt_spans(stack, execution_id), "the attempt span")[0]
    assert span.attributes["scheduler.job"] == job
    assert span.attributes["scheduler.collection"] == collection
    assert span.attributes["scheduler.outcome"] == "Completed"
    assert span.attributes["scheduler.action.type"] == "Http"
    assert span.attributes["scheduler.retry_count"] == 0
    assert span.attributes["scheduler.lateness_ms"] >= 0
    assert span.attributes["scheduler.expected_time"] == call.headers["x-ms-scheduler-expected-execution-time"]

    # W3C traceparent: version-traceid-parentid-flags; the parent is the outbound call's span, a child of the attempt.
    version, trace_id, parent_id, flags = call.headers["traceparent"].split("-")
    assert trace_id == span.trace_id
    action = next(s for s in stack.receiver.spans("scheduler.action") if s.span_id == parent_id)
    assert action.parent_span_id == span.span_id and action.kind == CLIENT_KIND
    assert action.attributes["server.address"] == "127.0.0.1"

    def lateness() -> list[Any]:
        return [p for p in stack.receiver.points("scheduler.occurrence.lateness")
                if p.attributes.get("scheduler.collection") == collection]

    point = wait_for(lateness, "a lateness data point for the job's collection")[-1]
    assert point.unit == "ms" and point.count == 1
    assert point.attributes["scheduler.action.type"] == "Http"
    assert point.attributes["scheduler.action.name"] == "MainAction"

    # The Azure SDK's storage calls of the attempt (its history row, the job's counters) are spans of the same trace.
    assert wait_for(lambda: [s for s in stack.receiver.spans() if s.trace_id == trace_id
                             and s.name.startswith("TableClient.")], "a storage call span in the attempt's trace")

    credentials = base64.b64encode(f"scheduler:{PASSWORD}".encode())
    received = stack.receiver.raw()
    for secret in (PASSWORD.encode(), API_KEY.encode(), credentials):
        assert secret not in received, "a secret of the job was exported"


def test_a_failing_job_yields_failed_then_faulted_and_a_warning_in_its_trace(stack: Stack) -> None:
    collection, job = one_time_job(
        stack, "/fail", retryPolicy={"retryType": "Fixed", "retryInterval": "PT1S", "retryCount": 1}
    )
    calls = wait_for(lambda: len(stack.target.requests_to("/fail")) >= 2 and stack.target.requests_to("/fail"),
                     "both attempts")
    execution_id = calls[0].headers["x-ms-scheduler-execution-id"]

    spans = wait_for(lambda: len(attempt_spans(stack, execution_id)) == 2 and attempt_spans(stack, execution_id),
                     "both attempt spans")
    assert [s.attributes["scheduler.outcome"] for s in spans] == ["Failed", "Faulted"]
    assert [s.attributes["scheduler.retry_count"] for s in spans] == [0, 1]

    def outcomes() -> set[str]:
        return {p.attributes["scheduler.outcome"] for p in stack.receiver.points("scheduler.attempts")
                if p.attributes.get("scheduler.action.type") == "Http" and p.value > 0}

    assert wait_for(lambda: {"Failed", "Faulted"} <= outcomes() and outcomes(), "Failed and Faulted points")

    def warnings() -> list[Any]:
        return [log for log in stack.receiver.logs() if log.attributes.get("scheduler.execution_id") == execution_id]

    logs = wait_for(lambda: len(warnings()) == 2 and warnings(), "a warning per failed attempt")
    assert {log.trace_id for log in logs} == {s.trace_id for s in spans}
    assert all(log.severity == "WARN" and log.attributes["scheduler.job"] == job for log in logs)
    assert all(log.attributes["scheduler.collection"] == collection for log in logs)


def test_a_message_in_the_poison_queue_is_counted_and_faults_its_occurrence(stack: Stack) -> None:
    # As the host leaves it after maxDequeueCount failures (tests/e2e/test_dispatch.py does the same without telemetry).
    assert stack.azurite is not None
    api = stack.api
    collection, job = api.new_collection(), unique("job")
    due = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
    body = {"properties": {"startTime": due.isoformat(), "action": {"type": "Http", "request": {
        "uri": f"{stack.target.url}/never", "method": "GET"}}}}
    assert api.call("PUT", api.job_path(collection, job), body).status_code == 201
    poison = QueueClient.from_connection_string(
        stack.azurite.connection_string, POISON_QUEUE, message_encode_policy=TextBase64EncodePolicy()
    )
    poison.send_message(json.dumps({"v": 1, "job": ["sub-1", "rg-1", collection, job], "due": due.isoformat(),
                                     "id": "poisoned"}))

    assert wait_for(lambda: [p for p in stack.receiver.points("scheduler.poison.messages") if p.value >= 1],
                    "a poison message point", deadline=30)
    assert wait_for(lambda: [p for p in stack.receiver.points("scheduler.attempts")
                             if p.attributes.get("scheduler.outcome") == "Faulted"
                             and "scheduler.action.type" not in p.attributes], "its Faulted point")


def test_the_planner_the_queue_and_the_api_report_too(stack: Stack) -> None:
    stack.api.new_collection()
    assert wait_for(lambda: stack.receiver.points("scheduler.planner.tick.duration"), "a planner tick duration")
    assert wait_for(lambda: stack.receiver.points("scheduler.dispatch.queue_depth"), "a queue depth")
    assert wait_for(lambda: [s for s in stack.receiver.spans() if s.kind == SERVER_KIND
                             and s.attributes.get("http.route", "").endswith("/jobCollections/{jobCollectionName}")],
                    "the API request's span")


def test_without_an_exporter_the_target_sees_no_traceparent(azurite: Azurite, tmp_path: Path) -> None:
    target = Target()
    host, url = start_host(azurite, tmp_path / "host.log")
    try:
        one_time_job(Stack(host, SchedulerApi(url), OtlpReceiver(), target), "/plain")
        call = wait_for(lambda: target.requests_to("/plain"), "the target to be called")[0]
        assert "traceparent" not in call.headers
    finally:
        host.terminate()
        target.close()


@pytest.fixture
def private_azurite() -> Iterator[Azurite]:
    """An Azurite of the test's own: on the session's, the session host (no exporter) may run the job instead."""
    with Azurite.start(repo_root=REPO) as azurite:
        yield azurite


def test_with_a_connection_string_the_azure_monitor_distro_sends_the_signals_and_no_secret(
    private_azurite: Azurite, tmp_path: Path
) -> None:
    ingestion, target = Ingestion(), Target()
    host, url = start_host(
        private_azurite,
        tmp_path / "host.log",
        APPLICATIONINSIGHTS_CONNECTION_STRING=ingestion.connection_string,
        APPLICATIONINSIGHTS_STATSBEAT_DISABLED_ALL="true",  # its own usage reports go to a Microsoft endpoint
        # The distro's rate-limited sampler (5 traces/s by default) drops traces at random once the host's root spans
        # (ticks, polls, API requests) run faster than that: with a limit no test reaches, every trace is kept.
        OTEL_TRACES_SAMPLER="microsoft.rate_limited",
        OTEL_TRACES_SAMPLER_ARG="1000",
        OTEL_BSP_SCHEDULE_DELAY="200",
        OTEL_METRIC_EXPORT_INTERVAL="500",
    )
    try:
        stack = Stack(host, SchedulerApi(url), OtlpReceiver(), target)
        one_time_job(stack, "/ai", request={
            "authentication": {"type": "Basic", "username": "scheduler", "password": PASSWORD}})
        call = wait_for(lambda: target.requests_to("/ai"), "the target to be called")[0]
        assert "traceparent" in call.headers
        wanted = {"scheduler.attempts", "scheduler.occurrence.lateness", "scheduler.dispatch.queue_depth"}
        assert wait_for(lambda: wanted <= ingestion.metric_names(), "the scheduler's metrics at the ingestion endpoint")
        # What infra/modules/alerts.bicep queries (tests/unit/test_infra_alerts.py): the attempt span and the call
        # span are RemoteDependencyData (the `dependencies` table) with our attributes as properties
        # (`customDimensions`); the attempts counter is MetricData (`customMetrics`), its attributes as properties.
        attempt = wait_for(lambda: dependency(ingestion, lambda d: d["name"] == "scheduler.attempt"), "the attempt")
        assert attempt["properties"]["scheduler.outcome"] == "Completed" and attempt["success"] is True
        assert float(attempt["properties"]["scheduler.lateness_ms"]) >= 0
        assert attempt["properties"]["scheduler.collection"] and attempt["properties"]["scheduler.execution_id"]
        call = wait_for(lambda: dependency(ingestion, lambda d: "scheduler.action.target" in d["properties"]), "a call")
        assert call["properties"]["scheduler.action.target"] == "127.0.0.1" and call["type"] == "HTTP"
        assert call["success"] is True and "duration" in call
        counted = [
            metric["properties"] for envelope in ingestion.envelopes()
            if envelope.get("data", {}).get("baseType") == "MetricData"
            for metric in [envelope["data"]["baseData"]] if metric["metrics"][0]["name"] == "scheduler.attempts"
        ]
        assert {"scheduler.outcome": "Completed"}.items() <= counted[0].items()
        credentials = base64.b64encode(f"scheduler:{PASSWORD}".encode())
        assert PASSWORD.encode() not in ingestion.raw() and credentials not in ingestion.raw()
    finally:
        host.terminate()
        target.close()
        ingestion.close()


def dependency(ingestion: Ingestion, wanted: Callable[[dict[str, Any]], bool]) -> dict[str, Any] | None:
    """The first RemoteDependencyData (a row of `dependencies`) the ingestion endpoint got that is `wanted`."""
    for envelope in ingestion.envelopes():
        data = envelope.get("data", {})
        if data.get("baseType") == "RemoteDependencyData":
            found = {"properties": {}, **data["baseData"]}
            if wanted(found):
                return found
    return None
