"""OpenTelemetry for the scheduler: setup, and every span, metric and attribute name in one place.

Where telemetry goes is decided once per process from the settings (`configure`):

- `APPLICATIONINSIGHTS_CONNECTION_STRING`: the Azure Monitor OpenTelemetry distro, authenticated with Entra when
  `APPLICATIONINSIGHTS_AUTHENTICATION_STRING` says `Authorization=AAD` (the deployment's user-assigned identity; the
  Application Insights resource accepts no instrumentation key);
- `OTEL_EXPORTER_OTLP_ENDPOINT`: OTLP over HTTP/protobuf to that collector (both: both);
- neither: nothing is set up, `configure` returns None and the service keeps its no-op `NO_TELEMETRY`.

What is recorded (docs/operations.md says what to do about each):

- span `scheduler.attempt` per attempt, with a CLIENT child span `scheduler.action` around the action; an Http(s)
  action's request carries the W3C `traceparent` of that child span. Azure SDK calls (tables, queues, Service Bus)
  are spans through azure-core's OpenTelemetry tracing; API requests through the FastAPI instrumentation.
- metrics `scheduler.occurrence.lateness`, `scheduler.attempts`, `scheduler.dispatch.queue_depth`,
  `scheduler.poison.messages`, `scheduler.planner.tick.duration`, `scheduler.planner.occurrences`;
- logs of the `scheduler_core` loggers, carrying the attempt's job, collection and execution id (and, through the
  OpenTelemetry context, its trace and span id); one WARNING per attempt that did not complete.

No attribute, event or log carries a secret: attributes are names, ids, times, counts and the target's host; an
outcome's message (which echoes the response) is not recorded, and URLs are never recorded with their query.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from opentelemetry import context as otel_context
from opentelemetry import metrics, propagate, trace
from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.trace import SpanKind, Status, StatusCode

from scheduler_core.domain.definition import Action
from scheduler_core.domain.payloads import HttpRequest, StorageQueueMessage
from scheduler_core.ports import ActionRunner, Outcome
from scheduler_core.service.telemetry import COMPLETED, FAULTED, POSTPONED, AttemptFacts
from scheduler_core.settings import Settings, TelemetrySettings

# ---- names ---------------------------------------------------------------------------------------------------------

INSTRUMENTATION = "scheduler_core"
SERVICE_NAME = "azure-scheduler"
LOGGER = "scheduler_core"  # the loggers whose records are exported (and carry the attempt's attributes)

SPAN_ATTEMPT = "scheduler.attempt"
SPAN_ACTION = "scheduler.action"
SPAN_PLANNER_TICK = "scheduler.planner.tick"

METRIC_LATENESS = "scheduler.occurrence.lateness"
METRIC_ATTEMPTS = "scheduler.attempts"
METRIC_QUEUE_DEPTH = "scheduler.dispatch.queue_depth"
METRIC_POISON = "scheduler.poison.messages"
METRIC_TICK_DURATION = "scheduler.planner.tick.duration"
METRIC_PLANNER_OCCURRENCES = "scheduler.planner.occurrences"

JOB = "scheduler.job"
COLLECTION = "scheduler.collection"
EXECUTION_ID = "scheduler.execution_id"
RETRY_COUNT = "scheduler.retry_count"
RETRY_BUCKET = "scheduler.retry_bucket"
EXPECTED_TIME = "scheduler.expected_time"
LATENESS_MS = "scheduler.lateness_ms"
OUTCOME = "scheduler.outcome"
ACTION_TYPE = "scheduler.action.type"
ACTION_NAME = "scheduler.action.name"
ACTION_TARGET = "scheduler.action.target"

_log = logging.getLogger(f"{LOGGER}.attempts")

# The attempt running in this thread, so that the action's span and log records can add to it.
_current: contextvars.ContextVar[_Attempt | None] = contextvars.ContextVar("scheduler_attempt", default=None)


def retry_bucket(retry: int) -> str:
    """Few values, so that the metric's series stay few: 0, 1, 2-4, 5+."""
    return "0" if retry <= 0 else "1" if retry == 1 else "2-4" if retry < 5 else "5+"


# ---- the Telemetry port on OpenTelemetry -----------------------------------------------------------------------------


class _Attempt:
    """The `AttemptSpan` the service gets: records the outcome on the span and in the metrics."""

    def __init__(self, telemetry: OpenTelemetry, facts: AttemptFacts, span: trace.Span) -> None:
        self.telemetry, self.facts, self.span = telemetry, facts, span
        self.action_type = ""

    def typed(self, action_type: str) -> None:
        self.action_type = action_type
        self.span.set_attribute(ACTION_TYPE, action_type)

    def outcome(self, outcome: str) -> None:
        facts, lateness_ms = self.facts, self.facts.lateness_seconds * 1000.0
        self.span.set_attribute(OUTCOME, outcome)
        if outcome != COMPLETED:
            self.span.set_status(Status(StatusCode.ERROR))
        kind = {ACTION_TYPE: self.action_type, ACTION_NAME: facts.action_name}
        self.telemetry.lateness.record(lateness_ms, {COLLECTION: facts.collection, **kind})
        self.telemetry.attempts.add(1, {OUTCOME: outcome, RETRY_BUCKET: retry_bucket(facts.retry), **kind})
        if outcome != COMPLETED:
            _log.warning(
                "attempt %d of %s of job %s in collection %s: %s",
                facts.retry, facts.action_name, facts.job, facts.collection, outcome,
            )


class _Tick:
    def __init__(self, telemetry: OpenTelemetry, span: trace.Span) -> None:
        self.telemetry, self.span = telemetry, span

    def enqueued(self, count: int) -> int:
        self.span.set_attribute("scheduler.enqueued", count)
        self.telemetry.planned.add(count)
        return count


class OpenTelemetry:
    """`Telemetry` (service/telemetry.py) on the global OpenTelemetry providers that `configure` set up.

    Args:
        queue_depth: approximate messages in the executions queue, read when metrics are collected.
        tracer_provider, meter_provider: instead of the global ones (tests).
    """

    def __init__(
        self,
        queue_depth: Callable[[], int] | None = None,
        *,
        tracer_provider: trace.TracerProvider | None = None,
        meter_provider: metrics.MeterProvider | None = None,
    ) -> None:
        self.tracer = trace.get_tracer(INSTRUMENTATION, tracer_provider=tracer_provider)
        meter = metrics.get_meter(INSTRUMENTATION, meter_provider=meter_provider)
        self.lateness = meter.create_histogram(
            METRIC_LATENESS, unit="ms", description="From the instant an attempt was due to its start"
        )
        self.attempts = meter.create_counter(METRIC_ATTEMPTS, unit="{attempt}", description="Attempts by outcome")
        self.poison = meter.create_counter(
            METRIC_POISON, unit="{message}", description="Execution messages that reached the poison queue"
        )
        self.tick_duration = meter.create_histogram(
            METRIC_TICK_DURATION, unit="ms", description="Duration of a planner tick"
        )
        self.planned = meter.create_counter(
            METRIC_PLANNER_OCCURRENCES, unit="{occurrence}", description="Occurrences the planner enqueued"
        )
        if queue_depth is not None:
            meter.create_observable_gauge(
                METRIC_QUEUE_DEPTH,
                callbacks=[_depth_callback(queue_depth)],
                unit="{message}",
                description="Approximate messages in the executions queue",
            )

    @contextmanager
    def attempt(self, facts: AttemptFacts) -> Iterator[_Attempt]:
        attributes: dict[str, str | int | float] = {
            JOB: facts.job,
            COLLECTION: facts.collection,
            EXECUTION_ID: facts.execution_id,
            ACTION_NAME: facts.action_name,
            RETRY_COUNT: facts.retry,
            EXPECTED_TIME: facts.expected.isoformat(),
            LATENESS_MS: round(facts.lateness_seconds * 1000.0, 3),
        }
        with self.tracer.start_as_current_span(SPAN_ATTEMPT, attributes=attributes) as span:
            attempt = _Attempt(self, facts, span)
            token = _current.set(attempt)
            try:
                yield attempt
            finally:
                _current.reset(token)

    def postponed(self, count: int = 1) -> None:
        self.attempts.add(count, {OUTCOME: POSTPONED, ACTION_NAME: "MainAction", RETRY_BUCKET: "0"})

    def poisoned(self) -> None:
        self.poison.add(1)
        self.attempts.add(1, {OUTCOME: FAULTED})

    @contextmanager
    def planner_tick(self) -> Iterator[_Tick]:
        with self.tracer.start_as_current_span(SPAN_PLANNER_TICK) as span:
            began = _monotonic()
            try:
                yield _Tick(self, span)
            finally:
                self.tick_duration.record((_monotonic() - began) * 1000.0)

    def traced(self, actions: ActionRunner) -> ActionRunner:
        """`actions` with a span around each action and, for Http(s), the span's `traceparent` on the request."""
        return _TracedActions(actions, self.tracer)


def _monotonic() -> float:
    import time

    return time.perf_counter()


def _depth_callback(queue_depth: Callable[[], int]) -> Callable[[CallbackOptions], list[Observation]]:
    def observe(options: CallbackOptions) -> list[Observation]:
        try:
            return [Observation(queue_depth())]
        except Exception:  # a failed read skips one data point; it must not stop the metrics
            logging.getLogger(__name__).warning("executions queue depth could not be read", exc_info=True)
            return []

    return observe


class _TracedActions:
    """`ActionRunner` that wraps another in a CLIENT span `scheduler.action` and propagates the trace to Http(s)."""

    def __init__(self, inner: ActionRunner, tracer: trace.Tracer) -> None:
        self._inner, self._tracer = inner, tracer

    def run(self, action: Action, secrets: Mapping[str, str], headers: Mapping[str, str]) -> Outcome:
        kind = action.type.value
        attempt = _current.get()
        if attempt is not None:
            attempt.typed(kind)
        attributes: dict[str, Any] = {ACTION_TYPE: kind, **_target(action)}
        with self._tracer.start_as_current_span(SPAN_ACTION, kind=SpanKind.CLIENT, attributes=attributes) as span:
            if isinstance(action.payload, HttpRequest):
                carrier: dict[str, str] = {}
                propagate.inject(carrier)
                headers = {**headers, **carrier}
            outcome = self._inner.run(action, secrets, headers)
            if not outcome.succeeded:
                span.set_status(Status(StatusCode.ERROR))  # no description: the message may echo the response
            return outcome


def _target(action: Action) -> dict[str, Any]:
    """Where the action goes, without credentials or query: host and port, or the account / namespace name."""
    payload = action.payload
    if isinstance(payload, HttpRequest):
        return dict(_http_target(payload.method, payload.uri))
    name = payload.storage_account if isinstance(payload, StorageQueueMessage) else payload.namespace
    return {ACTION_TARGET: name} if name else {}


@lru_cache(maxsize=1024)
def _http_target(method: str, uri: str) -> tuple[tuple[str, Any], ...]:
    """An Http action's method, host and port (parsed once per distinct URI: a job's calls all go to the same one)."""
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        return ()
    found: dict[str, Any] = {"http.request.method": method.upper()}
    if parts.hostname:
        found["server.address"] = found[ACTION_TARGET] = parts.hostname
    if port:
        found["server.port"] = port
    return tuple(found.items())


class _AttemptAttributes(logging.Filter):
    """Adds the running attempt's job, collection and execution id to every exported log record."""

    def filter(self, record: logging.LogRecord) -> bool:
        attempt = _current.get()
        if attempt is not None:
            facts = attempt.facts
            setattr(record, JOB, facts.job)
            setattr(record, COLLECTION, facts.collection)
            setattr(record, EXECUTION_ID, facts.execution_id)
        return True


# ---- setup -----------------------------------------------------------------------------------------------------------

_configured: OpenTelemetry | None = None
_set_up = False


def exporting(settings: TelemetrySettings) -> bool:
    """Whether any exporter is configured."""
    return bool(settings.connection_string or settings.otlp_endpoint)


def configure(settings: Settings, *, queue_depth: Callable[[], int] | None = None) -> OpenTelemetry | None:
    """Set up the exporters the settings name (once per process) and return the `Telemetry` to give the service,
    or None when no exporter is configured (the service then keeps its no-op default)."""
    global _configured
    if not exporting(settings.telemetry):
        return None
    _set_up_providers(settings.telemetry)
    if _configured is None:
        _configured = OpenTelemetry(queue_depth)
    return _configured


def instrument_api(app: Any, settings: TelemetrySettings) -> None:
    """Request spans and metrics for the FastAPI app, when an exporter is configured (not for `/health`)."""
    if not exporting(settings):
        return
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    _set_up_providers(settings)
    FastAPIInstrumentor.instrument_app(app, excluded_urls="health", exclude_spans=["receive", "send"])


def _set_up_providers(settings: TelemetrySettings) -> None:
    global _set_up
    if _set_up:
        return
    _set_up = True
    otlp = _otlp(settings.otlp_endpoint) if settings.otlp_endpoint else None
    if settings.connection_string:
        _azure_monitor(settings, otlp)
    elif otlp is not None:
        _plain_sdk(otlp)
    _trace_azure_sdk()
    for handler in logging.getLogger(LOGGER).handlers:
        if type(handler).__name__ == "LoggingHandler":
            handler.addFilter(_AttemptAttributes())


class _Otlp:
    """The OTLP/HTTP processors and reader for one collector endpoint."""

    def __init__(self, spans: Any, logs: Any, reader: Any) -> None:
        self.spans, self.logs, self.reader = spans, logs, reader


def _otlp(endpoint: str) -> _Otlp:
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    base = endpoint.rstrip("/")
    return _Otlp(
        BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{base}/v1/traces")),
        BatchLogRecordProcessor(OTLPLogExporter(endpoint=f"{base}/v1/logs")),
        PeriodicExportingMetricReader(OTLPMetricExporter(endpoint=f"{base}/v1/metrics")),
    )


_DISTRO_INSTRUMENTATIONS_OFF = (
    "azure_sdk", "requests", "urllib", "urllib3", "httpx", "fastapi", "django", "flask", "psycopg2",
)


def _azure_monitor(settings: TelemetrySettings, otlp: _Otlp | None) -> None:
    from azure.monitor.opentelemetry import configure_azure_monitor

    configure_azure_monitor(
        connection_string=settings.connection_string,
        credential=_credential(settings.authentication),
        logger_name=LOGGER,
        # The outbound call is our own `scheduler.action` span (whose attributes leave out the URL's query, where a
        # target may keep a key); the FastAPI app is instrumented by `instrument_api`; Azure SDK calls by
        # `_trace_azure_sdk`.
        instrumentation_options={
            name: {"enabled": False} for name in _DISTRO_INSTRUMENTATIONS_OFF
        },
        span_processors=[otlp.spans] if otlp else [],
        log_record_processors=[otlp.logs] if otlp else [],
        metric_readers=[otlp.reader] if otlp else [],
    )
    # The distro builds its tracer provider with its own sampler; ours goes around it (the tracers of this module and
    # of the Azure SDK are created later, and take the provider's sampler when they are).
    from opentelemetry.sdk.trace import TracerProvider

    provider = trace.get_tracer_provider()
    if isinstance(provider, TracerProvider):  # not when OTEL_SDK_DISABLED left the API's no-op provider
        provider.sampler = sampler(provider.sampler, request_spans=True)


def _credential(authentication: str | None) -> Any:
    """The Entra credential an authentication string names (`ClientId=<id>;Authorization=AAD`), else None."""
    pairs = dict(
        part.split("=", 1) for part in (authentication or "").split(";") if "=" in part
    )
    options = {key.strip().lower(): value.strip() for key, value in pairs.items()}
    if options.get("authorization", "").upper() != "AAD":
        return None
    from azure.identity import ManagedIdentityCredential

    client_id = options.get("clientid")
    return ManagedIdentityCredential(client_id=client_id) if client_id else ManagedIdentityCredential()


def _trace_azure_sdk() -> None:
    """Storage and Service Bus calls as spans: azure-core's own OpenTelemetry tracing (azure-core >= 1.32).

    Not the azure-core-tracing-opentelemetry plugin that the distro would enable: the plugin opens a span for every
    decorated layer and looks its tracer up per span; the native tracing opens one span per client method and one per
    HTTP request, and cost about half the CPU per storage call here (docs/performance.md, telemetry).
    """
    from azure.core.settings import settings as azure_settings

    azure_settings.tracing_implementation = None
    azure_settings.tracing_enabled = True


_HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "MERGE", "DELETE", "OPTIONS"})


def sampler(inner: Any = None, *, request_spans: bool = False) -> Any:
    """The sampler of the tracer provider: which spans are recorded at all (metrics are counted either way).

    - Our own spans (`scheduler.*`) and server spans (API requests) go to `inner`: over OTLP by default the SDK's
      sampler from `OTEL_TRACES_SAMPLER` / `OTEL_TRACES_SAMPLER_ARG`, which is `parentbased_always_on` when unset
      (every attempt is a trace; `parentbased_traceidratio` with `0.1` keeps one attempt in ten, whole); with
      Application Insights the distro's (rate-limited, 5 traces/s by default).
    - Any other span, in practice the Azure SDK's, is recorded only as the child of a span of this process (an
      attempt, its action, a planner tick, an API request) and then follows its parent's decision. Outside one (the
      claim before an attempt, the queue depth read for the gauge, the poison sweep, a call under the Functions host's
      invocation) a storage call is no span: those spans told nothing about a job, and the depth read alone made
      two spans per metric export (docs/performance.md, telemetry).
    - Unless `request_spans`, the Azure SDK's per-request CLIENT spans (named by the bare HTTP method) are not
      recorded: each storage call is already the span of its client method (`TableClient.update_entity`), and the
      request span below it doubled the spans, and the encoding, of every attempt. Application Insights keeps them
      (they are its dependencies on the storage account, with the status code).

    Args:
        inner: the sampler for our own and server spans; default: the SDK's, from the environment.
        request_spans: whether the Azure SDK's per-request spans are recorded too (under a recorded method span).
    """
    from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult, _get_from_env_or_default

    chosen: Sampler = inner if inner is not None else _get_from_env_or_default()
    drop = SamplingResult(Decision.DROP)
    skipped = frozenset() if request_spans else _HTTP_METHODS

    class SchedulerSampler(Sampler):
        def should_sample(self, parent_context: Any, trace_id: int, name: str, kind: Any = None,
                          attributes: Any = None, links: Any = None, trace_state: Any = None) -> SamplingResult:
            if not name.startswith("scheduler.") and kind is not SpanKind.SERVER:
                if kind is SpanKind.CLIENT and name in skipped:
                    return drop
                parent = trace.get_current_span(parent_context).get_span_context()
                if not parent.is_valid or parent.is_remote or not parent.trace_flags.sampled:
                    return drop
            # The tracer passes no context when the span's parent is the current one; the distro's samplers only
            # follow a parent they are given.
            context = parent_context if parent_context is not None else otel_context.get_current()
            return chosen.should_sample(context, trace_id, name, kind, attributes, links, trace_state)

        def get_description(self) -> str:
            return f"SchedulerSampler({chosen.get_description()})"

    return SchedulerSampler()


def _plain_sdk(otlp: _Otlp) -> None:
    from opentelemetry._logs import set_logger_provider
    from opentelemetry.instrumentation.logging.handler import LoggingHandler
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider

    resource = Resource.create({"service.name": SERVICE_NAME})
    tracer_provider = TracerProvider(resource=resource, sampler=sampler())
    tracer_provider.add_span_processor(otlp.spans)
    trace.set_tracer_provider(tracer_provider)
    metrics.set_meter_provider(MeterProvider(metric_readers=[otlp.reader], resource=resource))
    logger_provider = LoggerProvider(resource=resource)
    logger_provider.add_log_record_processor(otlp.logs)
    set_logger_provider(logger_provider)
    logging.getLogger(LOGGER).addHandler(LoggingHandler(level=logging.INFO, logger_provider=logger_provider))
