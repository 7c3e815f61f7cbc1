"""Creating jobs through the API (issue 13): PUT latency and jobs per second with 1 and 8 clients, what each PUT
costs in storage round trips and host CPU, against baselines measured in the same run.

The scheduler: a private in-memory Azurite, `python -m devhost` serving function_app.py (deployment timer settings,
bench.stack), reaching Azurite through the counting proxy (bench.proxy), so that every storage request of the host is
counted per table or queue and operation, with the ones answered 4xx/5xx (a stale ETag's 412) apart. One collection
(`quota.maxJobCount` raised); each client creates its own jobs (`PUT .../jobs/{j}`, 201) with `requests` over a
keep-alive session, one-time Http jobs due `--due-in` seconds ahead (default an hour: beyond the 90 s lookahead, so
each goes through the due index; `--due-in 80` makes the first schedule write a queue send instead). The host's CPU
per PUT is its utime + stime (/proc) over the phase divided by the PUTs.

Also, on the same Azurite without the proxy (the host idle meanwhile): `jobs.put_job` called in this process with
services as function_app builds them (the PUT without HTTP, FastAPI, devhost and the proxy), 1 and 8 threads.
Baselines, in the same run, on the same Azurite without the proxy: a bare `upsert_entity`
of an entity the size of a stored job into a table (1 and 8 threads), and APScheduler 3.x `add_job` with a
SQLAlchemy SQLite job store (1 and 8 threads), the figure the issue compares against.

    python -m bench.creation               # 400 PUTs per phase: about a minute
    python -m bench.creation --quick       # 100 per phase
    python -m bench.creation --profile F   # also py-spy samples of the host in the 8-client phase (F: GIL, F.all: all)
    python -m bench.creation --workers 4   # 4 host worker processes (bench.stack), the PUTs spread over them
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import requests
from azure.data.tables import TableServiceClient

from bench.attribute import PROFILE_RATE
from bench.lateness import fire, percentile
from bench.stack import (
    API_VERSION,
    RequestCounter,
    by_operation,
    collection_path,
    command,
    counted_services,
    goal,
    http_job,
    local_stack,
    mean_ms,
    print_table,
    ratio,
)
from scheduler_core.api.models import job_write_from_wire
from scheduler_core.domain.job import CollectionRef, JobRef
from scheduler_core.ports import StoredCollection
from scheduler_core.service import jobs
from scheduler_core.service.context import Services

GOALS = {"jobs_per_second_8": 150.0, "put_p99_1": 0.050}  # issue 13
_WARM_UP = 20


@dataclass
class Phase:
    name: str
    clients: int
    latencies: list[float]
    seconds: float
    ops: Counter[Any] | None = None
    failed: Counter[Any] | None = None
    ms: dict[str, float] | None = None
    cpu_seconds: float | None = None
    cpu_split: dict[str, float] | None = None  # seconds: host user, host system, Azurite, this process (the clients)

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds

    def p(self, q: float) -> float:
        return 1000 * percentile(self.latencies, q)


def _timed(clients: int, count: int, one: Callable[[int], None]) -> tuple[list[float], float]:
    """Run `one(i)` for i in range(count) on `clients` threads; each call's latency, and the wall time of all."""

    def call(i: int) -> float:
        began = time.perf_counter()
        one(i)
        return time.perf_counter() - began

    began = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        latencies = list(pool.map(call, range(count)))
    return latencies, time.perf_counter() - began


def _cpu_times(pid: int) -> tuple[float, float]:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) / os.sysconf("SC_CLK_TCK"), int(fields[12]) / os.sysconf("SC_CLK_TCK")  # utime, stime


def _cpu_seconds(pid: int) -> float:
    return sum(_cpu_times(pid))


def _group_cpu_seconds(group: int) -> float:
    """utime + stime of every live process in process group `group` (Azurite: npx, node)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group:
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _cpu_split(hosts: list[int], azurite: int) -> dict[str, float]:
    times = [_cpu_times(pid) for pid in hosts]
    return {"host user": sum(t[0] for t in times), "host system": sum(t[1] for t in times),
            "Azurite": _group_cpu_seconds(azurite), "clients (this process)": time.process_time()}


# ---- the scheduler -----------------------------------------------------------------------------------------------


def run_api(
    count: int, due_in: float, profile: Path | None, workers: int, proxy: bool
) -> tuple[list[Phase], list[Phase]]:
    """The API phases, then (the host idle) the service alone and the bare upserts on the same Azurite."""
    with local_stack(count_host_requests=proxy, workers=workers) as stack:
        assert stack.host_url is not None and stack.host is not None
        counter, pids = stack.host_requests or RequestCounter(), [host.process.pid for host in stack.hosts]
        path = f"{stack.host_url}{collection_path('creation')}"
        # The host spreads HTTP requests over its worker processes.
        paths = [f"{url}{collection_path('creation')}" for url in stack.host_urls]
        body = {"location": "local", "properties": {"quota": {"maxJobCount": 2 * count + _WARM_UP + 10}}}
        requests.put(path, json=body, params={"api-version": API_VERSION}, timeout=30).raise_for_status()
        due = datetime.now(UTC) + timedelta(seconds=due_in)
        job = http_job(f"{stack.target.url}/creation", due)
        local = threading.local()

        def put(name: str, i: int = 0) -> None:
            session = local.__dict__.setdefault("session", requests.Session())
            url = f"{paths[i % len(paths)]}/jobs/{name}"
            response = session.put(url, json=job, params={"api-version": API_VERSION}, timeout=60)
            if response.status_code != 201:
                raise RuntimeError(f"PUT {name}: {response.status_code} {response.text[:300]}")

        def numbered(prefix: str) -> Callable[[int], None]:
            return lambda i: put(f"{prefix}-{i:05d}", i)

        _timed(1, _WARM_UP, numbered("w"))
        phases = []
        for clients in (1, 8):
            counter.reset()
            cpu, split = sum(map(_cpu_seconds, pids)), _cpu_split(pids, stack.azurite.pid)
            spies = _start_profile(pids[0], profile) if profile and clients == 8 else []
            latencies, seconds = _timed(clients, count, numbered(f"c{clients}"))
            for spy in spies:
                spy.send_signal(signal.SIGINT)
            for spy in spies:
                spy.wait()
            phases.append(Phase(f"API PUT, {clients} client{'s' if clients > 1 else ''}", clients, latencies,
                                seconds, by_operation(counter.snapshot()), by_operation(counter.snapshot_failed()),
                                mean_ms(counter.snapshot(), counter.snapshot_microseconds()),
                                sum(map(_cpu_seconds, pids)) - cpu,
                                {k: v - split[k] for k, v in _cpu_split(pids, stack.azurite.pid).items()}))
        return phases, run_service(stack.azurite.connection_string, count, job) + run_upserts(
            stack.azurite.connection_string, count, due
        )


def run_service(connection_string: str, count: int, job: dict[str, Any]) -> list[Phase]:
    """`jobs.put_job` called in this process, services as function_app builds them: the PUT without HTTP, FastAPI,
    devhost or the proxy."""
    counter = RequestCounter()
    services = counted_services(connection_string, counter)
    collection = CollectionRef("bench", "bench", "creation-service")
    quota = {"properties": {"quota": {"maxJobCount": 2 * count + 10}}}
    services.storage.create_collection(StoredCollection(collection, quota))
    phases = []
    for clients in (1, 8):
        counter.reset()
        latencies, seconds = _timed(clients, count, partial(_put_job, services, collection, f"c{clients}", job))
        name = f"service put_job alone, {clients} thread{'s' if clients > 1 else ''}"
        ops, failed = by_operation(counter.snapshot()), by_operation(counter.snapshot_failed())
        phases.append(Phase(name, clients, latencies, seconds, ops, failed))
    return phases


def _start_profile(pid: int, output: Path) -> list[subprocess.Popen[bytes]]:
    """py-spy on the host: `output`, the thread holding the GIL (where the CPU goes), and `output`.all, every thread,
    waiting ones included (where a PUT's time goes), as bench.lateness records them."""
    beside = Path(sys.executable).with_name("py-spy")
    spy = str(beside) if beside.exists() else "py-spy"
    common = [spy, "record", "--pid", str(pid), "--rate", str(PROFILE_RATE), "--format", "raw", "--nonblocking"]
    return [subprocess.Popen([*common, "--gil", "--output", str(output)], stdout=subprocess.DEVNULL),
            subprocess.Popen([*common, "--idle", "--output", f"{output}.all"], stdout=subprocess.DEVNULL)]


# ---- the baselines -----------------------------------------------------------------------------------------------


def _put_job(services: Services, collection: CollectionRef, prefix: str, job: dict[str, Any], i: int) -> None:
    jobs.put_job(services, JobRef(collection, f"{prefix}-{i:05d}"), job_write_from_wire(job["properties"]))


def run_upserts(connection_string: str, count: int, due: datetime) -> list[Phase]:
    """A bare upsert per job into a table of its own, the entity the size of a stored job's row."""
    service = TableServiceClient.from_connection_string(connection_string)
    table = service.create_table_if_not_exists("benchcreation")
    definition = json.dumps(http_job("http://127.0.0.1:1/creation", due)["properties"])
    phases = []
    for clients in (1, 8):
        def upsert(i: int, c: int = clients) -> None:
            table.upsert_entity({"PartitionKey": "bench", "RowKey": f"c{c}-{i:05d}", "Definition": definition,
                                 "State": "Enabled", "NextExecutionTime": due, "ExecutionCount": 0})

        latencies, seconds = _timed(clients, count, upsert)
        phases.append(Phase(f"bare table upsert, {clients} thread{'s' if clients > 1 else ''}", clients, latencies,
                            seconds))
    return phases


def run_apscheduler(count: int, due: datetime) -> list[Phase]:
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler

    phases = []
    with tempfile.TemporaryDirectory(prefix="bench-aps-") as tmp:
        store = SQLAlchemyJobStore(url=f"sqlite:///{Path(tmp) / 'jobs.sqlite'}")
        scheduler = BackgroundScheduler(jobstores={"default": store}, timezone=UTC)
        scheduler.start()
        try:
            for clients in (1, 8):
                def add(i: int, c: int = clients) -> None:
                    scheduler.add_job(fire, "date", run_date=due, id=f"c{c}-{i:05d}",
                                      args=["http://127.0.0.1:1/creation", f"aps-{i}"])

                latencies, seconds = _timed(clients, count, add)
                phases.append(Phase(f"APScheduler add_job (SQLite), {clients} thread{'s' if clients > 1 else ''}",
                                    clients, latencies, seconds))
        finally:
            scheduler.shutdown(wait=False)
    return phases


# ---- report ------------------------------------------------------------------------------------------------------


def report(api: list[Phase], upserts: list[Phase], aps: list[Phase], count: int, due_in: float, workers: int) -> None:
    print(f"\n$ {command()}")
    rows = []
    for phase in [*api, *upserts, *aps]:
        same = [p for p in upserts if p.clients == phase.clients and p.name.startswith("bare")][0]
        same_aps = [p for p in aps if p.clients == phase.clients][0]
        rows.append([phase.name, len(phase.latencies), phase.rate, phase.p(50), phase.p(99),
                     1000 * max(phase.latencies), ratio(phase.rate, same.rate), ratio(phase.rate, same_aps.rate)])
    print_table(
        f"{workers} host worker process{'es' if workers > 1 else ''}; "
        f"creating {count:,} one-time jobs per phase, due in {due_in:g} s; ratios against the baseline with as many "
        "threads",
        ["phase", "jobs", "jobs/s", "p50 ms", "p99 ms", "max ms", "vs upsert", "vs APScheduler"],
        rows,
    )
    counted = [p for p in [*api, *upserts] if p.ops]
    names = sorted({op for p in counted for op in (p.ops or {})})
    print_table(
        "storage requests per PUT, by table/queue and operation (the host's counted at the proxy, the service's by "
        "its clients' hooks; 4xx/5xx answers in brackets)",
        ["operation", *[p.name for p in counted]],
        [[op, *[_per(p, op) for p in counted]] for op in names]
        + [["total, the queue listener's polling left out", *[f"{_put_requests(p):.3f}" for p in counted]]],
    )
    if any(p.ms for p in api):
        print_table(
            "mean Azurite round trip per request, ms (at the proxy)",
            ["operation", *[p.name for p in api]],
            [[op, *[(p.ms or {}).get(op, 0.0) for p in api]] for op in names],
        )
    for p in api:
        cpu = 1000 * (p.cpu_seconds or 0.0) / len(p.latencies)
        print(f"{p.name}: host CPU (all worker processes) {cpu:.1f} ms per PUT ({p.cpu_seconds:.2f} s over "
              f"{p.seconds:.1f} s, {(p.cpu_seconds or 0.0) / p.seconds:.2f} cores)")
    split = [p for p in api if p.cpu_split]
    if split:
        # With the proxy, "this process" includes the counting proxy's CPU as well as the clients'.
        names = list(split[0].cpu_split or {})
        print_table(
            "CPU per PUT, ms, by process (utime + stime over the phase / PUTs; the host split into user and system)",
            ["process", *[p.name for p in split]],
            [[n, *[1000 * (p.cpu_split or {})[n] / len(p.latencies) for p in split]] for n in names]
            + [["total", *[1000 * sum((p.cpu_split or {}).values()) / len(p.latencies) for p in split]]],
        )
    one, eight = api[0], api[-1]
    print(f"\ngoals (issue 13): 8 clients >= 150 jobs/s: {goal(eight.rate >= GOALS['jobs_per_second_8'])} "
          f"({eight.rate:.1f}); 1 client PUT p99 <= 50 ms: {goal(one.p(99) <= 1000 * GOALS['put_p99_1'])} "
          f"({one.p(99):.1f} ms)")


def _put_requests(phase: Phase) -> float:
    """Storage requests per PUT: every request but the queue listener's receives (it polls whatever the API does)."""
    ops: Counter[Any] = phase.ops or Counter()
    return sum(n for op, n in ops.items() if not op.endswith(".receive")) / len(phase.latencies)


def _per(phase: Phase, op: str) -> str:
    n = (phase.ops or Counter())[op] / len(phase.latencies)
    failed = (phase.failed or Counter())[op] / len(phase.latencies)
    return f"{n:.3f}" + (f" ({failed:.3f})" if failed else "")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=400, help="jobs created per phase")
    parser.add_argument("--due-in", type=float, default=3600.0, help="seconds from now the jobs are due")
    parser.add_argument("--profile", type=Path, help="py-spy samples of the host in the 8-client phase: FILE (the "
                        "thread holding the GIL) and FILE.all (every thread)")
    parser.add_argument("--workers", type=int, default=1, help="host worker processes (FUNCTIONS_WORKER_PROCESS_COUNT)")
    parser.add_argument("--no-proxy", action="store_true", help="the host reaches Azurite directly: latency without "
                        "the counting proxy's own overhead (no request counts)")
    parser.add_argument("--quick", action="store_true", help="100 jobs per phase")
    args = parser.parse_args(argv)
    if args.quick:
        args.jobs = 100
    api, upserts = run_api(args.jobs, args.due_in, args.profile, args.workers, not args.no_proxy)
    aps = run_apscheduler(args.jobs, datetime.now(UTC) + timedelta(seconds=args.due_in))
    report(api, upserts, aps, args.jobs, args.due_in, args.workers)


if __name__ == "__main__":
    main()
