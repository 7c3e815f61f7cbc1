"""What the scheduler benchmarks share: the local stack, storage request counting, and printing.

- `local_stack()` starts a private in-memory Azurite, a recording HTTP target on 127.0.0.1 and, on request, the local
  Functions host (`python -m devhost`) serving the repository's function_app.py against that Azurite.
- `RequestCounter` counts storage requests per service, table or queue, and operation, and the time each kind took,
  through the storage clients' `raw_request_hook` / `raw_response_hook`; `counted_services()` builds `Services` with
  `scheduler_core.bootstrap.build_services`, as function_app.services() does, but with counting clients, so the
  scheduler's own storage cost can be measured in the benchmark's process.
- `print_table()` prints a compact aligned table; `command()` the command line that produced it.
"""

from __future__ import annotations

import os
import re
import shlex
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from azure.core.pipeline import PipelineRequest, PipelineResponse

from devhost.azurite import Azurite, free_port
from devhost.tests.running import Devhost
from scheduler_core.bootstrap import build_services
from scheduler_core.service.context import Services
from scheduler_core.settings import Settings, StorageConnection
from tests.support.target import Target

REPO = Path(__file__).resolve().parents[1]
API_VERSION = "2016-03-01"

# ---- counting storage requests -----------------------------------------------------------------------------------

_ENTITY = re.compile(r"^/[^/]+/([^/(]+)\((.*)\)$")  # /account/table(PartitionKey='..',RowKey='..') or /table()


class RequestCounter:
    """Counts storage requests by (service, resource, operation), e.g. ("table", "jobs", "get").

    Operations: table get / query / insert / update (If-Match) / upsert / merge / delete / batch / create-table;
    queue send / receive / peek / delete / update / clear / create. `hook("table")` and `hook("queue")` are
    `raw_request_hook`s for the clients; the storage SDKs call them after their retry policy, so every request
    sent is counted, retries included. `hooks(service)` also times each request from the request hook to the
    response hook (the transport's round trip, summed per kind in `microseconds`). Counting is thread-safe.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counts: Counter[tuple[str, str, str]] = Counter()
        self.microseconds: Counter[tuple[str, str, str]] = Counter()  # round trips, summed
        self.failed: Counter[tuple[str, str, str]] = Counter()  # answered 4xx/5xx (e.g. 412: a stale ETag)

    def hooks(self, service: str) -> dict[str, Any]:
        """Client options for a storage client of `service`: count every request and time its round trip."""
        count = self.hook(service)

        def sent(request: PipelineRequest) -> None:
            request.context["bench_sent"] = time.perf_counter()
            count(request)

        def answered(response: PipelineResponse) -> None:
            began = response.context.get("bench_sent")
            if began is None:
                return
            http = response.http_request
            key = classify(service, http.method, http.url, http.headers)
            with self._lock:
                self.microseconds[key] += round((time.perf_counter() - began) * 1e6)

        return {"raw_request_hook": sent, "raw_response_hook": answered}

    def hook(self, service: str) -> Callable[[PipelineRequest], None]:
        """A `raw_request_hook` for a storage client of `service` ("table" or "queue")."""

        def count(request: PipelineRequest) -> None:
            http = request.http_request
            self.record(service, http.method, http.url, http.headers)

        return count

    def record(
        self, service: str, method: str, url: str, headers: Any, seconds: float | None = None, status: int = 0
    ) -> None:
        """Count one request (and add its round trip to `microseconds`, and a 4xx/5xx `status` to `failed`)."""
        key = classify(service, method, url, headers)
        with self._lock:
            self.counts[key] += 1
            if seconds is not None:
                self.microseconds[key] += round(seconds * 1e6)
            if status >= 400:
                self.failed[key] += 1

    def snapshot(self) -> Counter[tuple[str, str, str]]:
        with self._lock:
            return Counter(self.counts)

    def snapshot_microseconds(self) -> Counter[tuple[str, str, str]]:
        with self._lock:
            return Counter(self.microseconds)

    def snapshot_failed(self) -> Counter[tuple[str, str, str]]:
        with self._lock:
            return Counter(self.failed)

    def reset(self) -> None:
        with self._lock:
            self.counts.clear()
            self.microseconds.clear()
            self.failed.clear()


def classify(service: str, method: str, url: str, headers: Any) -> tuple[str, str, str]:
    """(service, table or queue, operation) of one storage REST request."""
    path = unquote(urlsplit(url).path)
    parts = [p for p in path.split("/") if p]
    if service == "queue":
        queue = parts[1] if len(parts) > 1 else "?"
        if "messages" not in parts:
            return "queue", queue, {"PUT": "create", "DELETE": "delete-queue"}.get(method, method.lower())
        by_id = parts[-1] != "messages"
        if method == "POST":
            return "queue", queue, "send"
        if method == "GET":
            return "queue", queue, "peek" if "peekonly=true" in url.lower() else "receive"
        if method == "DELETE":
            return "queue", queue, "delete" if by_id else "clear"
        return "queue", queue, "update"
    if len(parts) >= 2 and parts[1] == "$batch":
        return "table", "*", "batch"
    if len(parts) >= 2 and parts[1].startswith("Tables"):
        return "table", "*", "create-table" if method == "POST" else "tables"
    match = _ENTITY.match(path)
    table = match.group(1) if match else (parts[1] if len(parts) > 1 else "?")
    keys = match.group(2) if match else ""
    if method == "GET":
        return "table", table, "get" if keys else "query"
    if method == "POST":
        return "table", table, "insert"
    if method == "PUT":
        return "table", table, "update" if headers.get("If-Match") not in (None, "*") else "upsert"
    if method in ("PATCH", "MERGE"):
        return "table", table, "merge"
    if method == "DELETE":
        return "table", table, "delete"
    return "table", table, method.lower()


def mean_ms(counts: Counter[tuple[str, str, str]], microseconds: Counter[tuple[str, str, str]]) -> dict[str, float]:
    """Mean round trip in milliseconds per request, keyed like `by_operation`."""
    n, spent = by_operation(counts), by_operation(microseconds)
    return {op: spent[op] / 1000 / n[op] for op in n if op in spent}


def by_operation(counts: Counter[tuple[str, str, str]]) -> Counter[Any]:
    """Counts keyed "service table.operation", e.g. "table jobs.get", "queue scheduler-executions.send"."""
    out: Counter[Any] = Counter()
    for (service, resource, operation), n in counts.items():
        out[f"{service} {resource}.{operation}"] += n
    return out


def counted_services(
    connection_string: str,
    counter: RequestCounter,
    *,
    clock: Callable[[], datetime] | None = None,
    **settings: Any,
) -> Services:
    """`Services` as function_app.services() builds them (`build_services`), every storage request counted."""
    base = Settings(storage=StorageConnection(connection_string=connection_string), allow_loopback_targets=True)
    services = build_services(
        replace(base, **settings),
        table_options=counter.hooks("table"),
        queue_options=counter.hooks("queue"),
    )
    return replace(services, clock=clock) if clock else services


class ShiftedClock:
    """The real clock moved forward by `offset`: lets a benchmark make far-future occurrences due without waiting."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


# A timer schedule that does not come round during a benchmark (midnight on January 1st), for the worker processes
# that must not run the timers.
_NEVER = "0 0 0 1 1 *"

# ---- the local stack ---------------------------------------------------------------------------------------------


@dataclass
class Stack:
    azurite: Azurite
    target: Target
    host_url: str | None = None  # the first worker's
    host: Devhost | None = None  # the first worker, the one that runs the timers
    host_requests: RequestCounter | None = None  # with count_host_requests: every storage request of the host
    hosts: list[Devhost] = field(default_factory=list)  # every worker process
    host_urls: list[str] = field(default_factory=list)


def host_environment(connection_string: str, **extra: str) -> dict[str, str]:
    """The host's environment: a deployment's defaults (tick every minute, 90 s lookahead), loopback allowed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AzureWebJobs")}
    env.update(
        AzureWebJobsStorage=connection_string,
        SCHEDULER_ALLOW_LOOPBACK_TARGETS="true",
        SCHEDULER_TICK_SCHEDULE="0 * * * * *",
        SCHEDULER_MAINTENANCE_SCHEDULE="0 30 3 * * *",
        SCHEDULER_LOOKAHEAD_SECONDS="90",
    )
    env.update(extra)
    return env


@contextmanager
def local_stack(
    *, with_host: bool = True, count_host_requests: bool = False, workers: int = 1, **host_settings: str
) -> Iterator[Stack]:
    """Azurite (in memory, free ports) + a recording target + optionally `python -m devhost` on function_app.py.

    With `count_host_requests` the host reaches Azurite through a counting proxy (bench.proxy), whose counter is
    `Stack.host_requests`.

    `workers` models the Functions host's `FUNCTIONS_WORKER_PROCESS_COUNT` (several Python worker processes per
    instance sharing its triggers): that many devhost processes on the same storage, each listening to the queue and
    serving HTTP; the timers run in the first one only (the others get a tick schedule that does not come round),
    as a timer invocation goes to one worker of one instance. Unlike the host, each process polls the queue itself
    (the host has one listener per instance and hands messages to the workers), so its polling and its in-flight
    limit (batchSize + newBatchThreshold) are per process.
    """
    from bench.proxy import CountingProxy

    with Azurite.start(repo_root=REPO) as azurite, ExitStack() as cleanup:
        target = Target()
        cleanup.callback(target.close)
        stack = Stack(azurite, target)
        storage = azurite.connection_string
        if count_host_requests:
            proxy = cleanup.enter_context(CountingProxy(azurite))
            stack.host_requests, storage = proxy.counter, proxy.connection_string
        log_dir = Path(tempfile.mkdtemp(prefix="bench-host-"))
        try:
            for worker in range(workers if with_host else 0):
                port = free_port()
                timers = {} if worker == 0 else {"SCHEDULER_TICK_SCHEDULE": _NEVER}
                host = Devhost(
                    ["--app-dir", str(REPO), "--port", str(port)],
                    host_environment(storage, **{**host_settings, **timers}),
                    log_dir / f"host{worker}.log",
                )
                stack.hosts.append(host)
                stack.host_urls.append(f"http://127.0.0.1:{port}")
            for host in stack.hosts:
                host.wait_ready()
            if stack.hosts:
                stack.host, stack.host_url = stack.hosts[0], stack.host_urls[0]
            yield stack
        finally:
            for host in stack.hosts:
                host.terminate()


def collection_path(collection: str, subscription: str = "bench", group: str = "bench") -> str:
    return (
        f"/subscriptions/{subscription}/resourceGroups/{group}"
        f"/providers/Microsoft.Scheduler/jobCollections/{collection}"
    )


def http_job(uri: str, start: datetime, recurrence: dict[str, Any] | None = None) -> dict[str, Any]:
    """A JobDefinition body: a GET of `uri` at `start` (one-time unless `recurrence`), no retries."""
    properties: dict[str, Any] = {
        "startTime": start.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "action": {"type": "Http", "request": {"uri": uri, "method": "GET"}, "retryPolicy": {"retryType": "None"}},
    }
    if recurrence:
        properties["recurrence"] = recurrence
    return {"properties": properties}


# ---- printing ----------------------------------------------------------------------------------------------------


def command() -> str:
    """The command line that produced this output."""
    module = sys.modules["__main__"].__spec__
    name = module.name if module else sys.argv[0]
    return " ".join(["python -m", name.removesuffix(".__main__"), *map(shlex.quote, sys.argv[1:])])


def print_table(title: str, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    cells = [list(map(str, header))] + [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    print(f"\n{title}")
    for i, row in enumerate(cells):
        padded = [c.ljust(w) if j == 0 else c.rjust(w) for j, (c, w) in enumerate(zip(row, widths, strict=True))]
        print("  " + "  ".join(padded))
        if i == 0:
            print("  " + "  ".join("-" * w for w in widths))


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def ratio(value: float, baseline: float) -> str:
    return f"{value / baseline:.2f}x" if baseline else "n/a"


def goal(met: bool) -> str:
    return "met" if met else "NOT met"
