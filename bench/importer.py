"""`azsched import` of 2,000 jobs in 40 collections of 50 from one REST-list file, against the floor: the same jobs
written straight into the table in batches of 100 (what no import through the API can beat).

The import runs in this process through azsched's own planner and executor (one list per collection, the new
collections created up front, then the PUTs in parallel over one keep-alive session) against `python -m devhost`
serving function_app.py on a private Azurite; the second run of the same file (every job "unchanged") is timed too.
The floor uses bench.seed: the jobs' entities and due-index entries as the table adapter lays them out, upserted in
entity group transactions. Goal: the 2,000 jobs in <= 30 s.

Where the time goes: the CPU seconds of this process (the import client; with the counting proxy, the proxy's
forwarding too), of the host's worker processes and of Azurite over the first run, per job. `--workers N` runs N host
worker processes (bench.stack: FUNCTIONS_WORKER_PROCESS_COUNT), the import's requests spread over them as the
Functions host spreads them; `--no-proxy` lets the host reach Azurite directly (no storage request counts, and none
of the proxy's CPU on the 2 shared cores).

    python -m bench.importer                          # 1 worker, counting proxy
    python -m bench.importer --workers 2 --no-proxy   # as a deployment runs: 2 workers, no proxy
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from azsched.client import API_VERSION, SchedulerClient, Target
from azsched.importer import execute, make_plan
from azsched.importers import ImportOptions, read_files
from bench.seed import job_entities, job_ref, submit
from bench.stack import RequestCounter, by_operation, command, goal, local_stack, print_table, ratio
from scheduler_core.adapters.clients import table_service
from scheduler_core.settings import StorageConnection

GOAL_SECONDS = 30.0


def _export(path: Path, collections: int, per_collection: int, uri: str, start: datetime) -> None:
    """A REST-list file as `azsched export` writes it: GET-shaped jobs, `status` included."""
    jobs = []
    for c in range(collections):
        for j in range(per_collection):
            name = f"bjc{c:03d}/job{j:03d}"
            jobs.append({
                "id": f"/subscriptions/old/resourceGroups/old/providers/Microsoft.Scheduler/jobCollections/{name}",
                "type": "Microsoft.Scheduler/jobCollections/jobs",
                "name": name,
                "properties": {
                    "startTime": start.isoformat().replace("+00:00", "Z"),
                    "action": {"type": "http", "request": {"uri": f"{uri}/job/{c}/{j}", "method": "POST",
                                                           "headers": {"x-job": name}, "body": "{}"},
                               "retryPolicy": {"retryType": "fixed", "retryInterval": "00:00:30", "retryCount": 2}},
                    "recurrence": {"frequency": "day", "interval": 1, "schedule": {"hours": [j % 24],
                                                                                   "minutes": [c % 60]}},
                    "state": "Enabled",
                    "status": {"executionCount": 10, "failureCount": 0, "faultedCount": 0},
                },
            })
    path.write_text(json.dumps({"value": jobs}))


class _Spread(SchedulerClient):
    """A client whose requests take turns over the host's worker processes, as the Functions host hands each request
    to one of its workers (a user's `azsched` has one endpoint; the host behind it does the spreading)."""

    def __init__(self, urls: list[str], target: Target, *, pool: int) -> None:
        super().__init__(target, pool=pool)
        self._turns = itertools.cycle(urls)
        self._lock = threading.Lock()

    def request(self, method: str, path_or_url: str, body: Any = None, **params: Any) -> Any:
        if path_or_url.startswith("http"):
            return super().request(method, path_or_url, body, **params)
        with self._lock:
            base = next(self._turns)
        params.setdefault("api-version", API_VERSION)
        return super().request(method, base + path_or_url, body, **params)


def _cpu_seconds(pid: int) -> float:
    """utime + stime of a process (and of its waited-for children) from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class _Run:
    seconds: float
    summary: dict[str, int]
    client_cpu: float  # this process: the import (and the counting proxy's threads, when it runs)
    host_cpu: float  # every host worker process
    azurite_cpu: float


def _import(client: SchedulerClient, path: Path, threads: int, host_pids: list[int], azurite_pid: int) -> _Run:
    cpu = _own_cpu(), sum(map(_cpu_seconds, host_pids)), _cpu_seconds(azurite_pid)
    began = time.perf_counter()
    jobs, collections = read_files([path], ImportOptions())
    plan = make_plan(client, jobs, collections, threads=min(threads, 8))  # as `azsched import` plans
    execute(client, plan, threads=threads)
    seconds = time.perf_counter() - began
    return _Run(seconds, plan.summary(), _own_cpu() - cpu[0], sum(map(_cpu_seconds, host_pids)) - cpu[1],
                _cpu_seconds(azurite_pid) - cpu[2])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--collections", type=int, default=40)
    parser.add_argument("--per-collection", type=int, default=50, help="at most 50: the Standard plan's quota")
    parser.add_argument("--threads", type=int, default=16, help="jobs written at once by the import")
    parser.add_argument("--workers", type=int, default=1, help="host worker processes (FUNCTIONS_WORKER_PROCESS_COUNT)")
    parser.add_argument("--no-proxy", action="store_true", help="the host reaches Azurite directly (no request counts)")
    parser.add_argument("--quick", action="store_true", help="10 collections of 20")
    args = parser.parse_args(argv)
    if args.quick:
        args.collections, args.per_collection = 10, 20
    total = args.collections * args.per_collection
    load = os.getloadavg()
    start = (datetime.now(UTC) + timedelta(days=200)).replace(hour=0, minute=0, second=0, microsecond=0)

    proxy = not args.no_proxy
    with local_stack(count_host_requests=proxy, workers=args.workers) as stack, \
            tempfile.TemporaryDirectory() as tmp:
        assert stack.host_url is not None
        path = Path(tmp) / "jobs.json"
        _export(path, args.collections, args.per_collection, stack.target.url, start)
        target = Target(stack.host_url, "bench", "import")
        client = (_Spread(stack.host_urls, target, pool=args.threads) if args.workers > 1
                  else SchedulerClient(target, pool=args.threads))
        pids = [host.process.pid for host in stack.hosts]
        counter = stack.host_requests or RequestCounter()
        counter.reset()
        first_run = _import(client, path, args.threads, pids, stack.azurite.pid)
        first, first_summary = first_run.seconds, first_run.summary
        first_requests = by_operation(counter.snapshot())
        first_refused = by_operation(counter.snapshot_failed())
        counter.reset()
        second_run = _import(client, path, args.threads, pids, stack.azurite.pid)
        second, second_summary = second_run.seconds, second_run.summary
        second_requests = sum(counter.snapshot().values())

        # The floor: the same number of jobs (and their due entries) upserted straight into the table.
        definition = client.get_job("bjc000", "job000")["properties"]
        definition.pop("status", None)
        definition.pop("state", None)
        due = [start + timedelta(milliseconds=i) for i in range(total)]
        rows = [(job_ref(i, per_collection=args.per_collection), due[i]) for i in range(total)]
        entities = job_entities(rows, definition, datetime.now(UTC))
        began = time.perf_counter()
        transactions = submit(table_service(StorageConnection(connection_string=stack.azurite.connection_string)),
                              entities)
        floor = time.perf_counter() - began

    print(f"\n$ {command()}")
    print(f"{args.workers} host worker process{'es' if args.workers > 1 else ''}, "
          f"{'counting proxy' if proxy else 'no proxy'}, {args.threads} import threads; load average before the "
          f"runs {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"first run: {first_summary}; second run: {second_summary}")
    print_table(
        f"{total:,} jobs in {args.collections} collections of {args.per_collection} from one REST-list file",
        ["run", "seconds", "jobs / s", "vs floor"],
        [
            ["azsched import (creates)", first, total / first, ratio(first, floor)],
            ["azsched import again (all unchanged)", second, total / second, ratio(second, floor)],
            [f"floor: table batches ({transactions} transactions)", floor, total / floor, "1.00x"],
        ],
    )
    if proxy:
        per_job = ", ".join(f"{op} {n / total:.2f}" for op, n in sorted(first_requests.items()) if n / total >= 0.005)
        print(f"host storage requests per imported job: {sum(first_requests.values()) / total:.2f} ({per_job}); "
              f"second run: {second_requests / total:.2f}")
        refused = ", ".join(f"{op} {n}" for op, n in sorted(first_refused.items()) if not op.endswith("get"))
        print(f"storage writes refused (4xx, e.g. 412 for a stale ETag) in the first run: {refused or 'none'}")
    for label, run in (("first run", first_run), ("second run", second_run)):
        mine = "import client + counting proxy" if proxy else "import client"
        print(f"CPU per job, {label}: {mine} {1000 * run.client_cpu / total:.1f} ms, host "
              f"{1000 * run.host_cpu / total:.1f} ms, Azurite {1000 * run.azurite_cpu / total:.1f} ms "
              f"({(run.client_cpu + run.host_cpu + run.azurite_cpu) / run.seconds:.2f} of the 2 cores)")
    print(f"\ngoal: {total:,} jobs in <= {GOAL_SECONDS:g} s: {goal(first <= GOAL_SECONDS)} ({first:.1f} s)")


if __name__ == "__main__":
    main()
