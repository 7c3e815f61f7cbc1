"""Benchmark 3 of issue 5: does a planner tick cost grow with the jobs stored, or only with what falls due?

On a private in-memory Azurite, `planner.tick(services)` runs in this process with every storage request counted.
First `--small` jobs are stored (each with a due-index entry far in the future), then the store grows to `--jobs`;
at each size the same `--due` occurrences are put in the tick's window before each of `--ticks` ticks (a tick
consumes them) and the queue is emptied after it. Printed: median tick time and storage requests per tick at both
sizes, and the ratio large/small (goal of the issue: at most 1.5). Jobs and index entries are written in table
batches of 100 straight through the table clients (bench.seed), bypassing the API: the point is the tick's cost.

    python -m bench.scaling                 # 1,000 vs 100,000 jobs (seeding 100,000 takes a few minutes)
    python -m bench.scaling --quick         # 500 vs 5,000 jobs, under a minute
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime, timedelta

from azure.storage.queue import QueueClient

from bench.seed import due_entities, job_entities, job_ref, snapshots_of, submit
from bench.stack import (
    RequestCounter,
    by_operation,
    command,
    counted_services,
    goal,
    print_table,
    ratio,
)
from devhost.azurite import Azurite
from scheduler_core.adapters.clients import table_service
from scheduler_core.service import planner
from scheduler_core.service.context import Services
from scheduler_core.settings import EXECUTIONS_QUEUE, StorageConnection

GOAL_RATIO = 1.5
_DEFINITION = {"action": {"type": "Http", "request": {"uri": "http://127.0.0.1:9/never", "method": "GET"}}}


def _grow(connection: StorageConnection, start: int, stop: int, far: datetime) -> float:
    """Store jobs [start, stop), each due far in the future (100 per minute bucket); returns seconds taken."""
    began = time.perf_counter()
    step = 20_000  # keep the entity lists small
    for lo in range(start, stop, step):
        rows = [
            (job_ref(i), far + timedelta(minutes=i // 100, seconds=(i % 100) * 0.5))
            for i in range(lo, min(stop, lo + step))
        ]
        submit(table_service(connection), job_entities(rows, _DEFINITION, far - timedelta(days=30)))
    return time.perf_counter() - began


def _ticks(services: Services, counter: RequestCounter, queue: QueueClient, connection: StorageConnection,
           due: int, ticks: int) -> tuple[list[float], list[int], dict[str, float], dict[str, float]]:
    """Re-seed `due` occurrences in the window, tick, empty the queue; `ticks` times. Times, requests, requests per
    op and tick, and mean round-trip ms per request of each op."""
    seconds: list[float] = []
    requests: list[int] = []
    ops: dict[str, float] = {}
    busy: dict[str, float] = {}
    # Entries carry the job's snapshot, as the scheduler's own writes leave them (the tick copies it into messages).
    snapshots = snapshots_of(table_service(connection), {job_ref(i).collection for i in range(due)})
    for _ in range(ticks):
        now = datetime.now(UTC)
        window = [(job_ref(i), now + timedelta(seconds=5 + i * 0.2)) for i in range(due)]
        submit(table_service(connection), due_entities(window, snapshots))
        counter.reset()
        began = time.perf_counter()
        enqueued = planner.tick(services)
        seconds.append(time.perf_counter() - began)
        counts = by_operation(counter.snapshot())
        requests.append(sum(counts.values()))
        for name, n in counts.items():
            ops[name] = ops.get(name, 0) + n / ticks
        for name, spent in by_operation(counter.snapshot_microseconds()).items():
            busy[name] = busy.get(name, 0.0) + spent / 1e6
        if enqueued != due:
            print(f"  warning: the tick enqueued {enqueued}, expected {due}")
        queue.clear_messages()
    latency = {name: 1000 * spent / (ops[name] * ticks) for name, spent in busy.items() if ops.get(name)}
    return seconds, requests, ops, latency


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=100_000, help="jobs stored in the large case")
    parser.add_argument("--small", type=int, default=1_000, help="jobs stored in the baseline case")
    parser.add_argument("--due", type=int, default=100, help="occurrences due in every tick's window")
    parser.add_argument("--ticks", type=int, default=7, help="ticks measured at each size (median reported)")
    parser.add_argument("--quick", action="store_true", help="500 vs 5,000 jobs, 3 ticks")
    args = parser.parse_args(argv)
    if args.quick:
        args.jobs, args.small, args.ticks = 5_000, 500, 3
    if args.due > args.small or args.small > args.jobs:
        parser.error("need --due <= --small <= --jobs")

    far = (datetime.now(UTC) + timedelta(days=365)).replace(second=0, microsecond=0)
    with Azurite.start() as azurite:
        connection = StorageConnection(connection_string=azurite.connection_string)
        counter = RequestCounter()
        services = counted_services(azurite.connection_string, counter)
        queue = QueueClient.from_connection_string(azurite.connection_string, EXECUTIONS_QUEUE)
        results = {}
        stored = 0
        for size in (args.small, args.jobs):
            seeded = _grow(connection, stored, size, far)
            print(f"stored {size:,} jobs (+{size - stored:,} jobs and index entries in {seeded:.1f} s)", flush=True)
            stored = size
            planner.tick(services)  # settle the index watermark so every measured tick starts alike
            queue.clear_messages()
            results[size] = _ticks(services, counter, queue, connection, args.due, args.ticks)

    (small_s, small_r, small_ops, small_ms), (large_s, large_r, large_ops, large_ms) = (
        results[args.small], results[args.jobs]
    )
    small_t, large_t = statistics.median(small_s), statistics.median(large_s)
    print(f"\n$ {command()}")
    print_table(
        f"planner.tick with {args.due} occurrences due in the window (median of {args.ticks} ticks)",
        ["jobs stored", "tick ms (median)", "tick ms (min..max)", "storage requests / tick"],
        [
            [size, 1000 * statistics.median(s), f"{1000 * min(s):.0f}..{1000 * max(s):.0f}", statistics.median(r)]
            for size, (s, r, _, _) in ((args.small, results[args.small]), (args.jobs, results[args.jobs]))
        ],
    )
    print_table(
        "storage requests per tick by operation",
        ["operation", f"{args.small:,} jobs", f"{args.jobs:,} jobs"],
        [[op, small_ops.get(op, 0.0), large_ops.get(op, 0.0)] for op in sorted(set(small_ops) | set(large_ops))],
    )
    print_table(
        "mean round trip per request, ms, by operation (sends run on the planner's 8 threads, so they overlap)",
        ["operation", f"{args.small:,} jobs", f"{args.jobs:,} jobs", "ratio"],
        [
            [op, small_ms.get(op, 0.0), large_ms.get(op, 0.0), ratio(large_ms.get(op, 0.0), small_ms.get(op, 0.0))]
            for op in sorted(set(small_ms) | set(large_ms))
        ],
    )
    r = large_t / small_t
    print(f"\nratio tick time {args.jobs:,} / {args.small:,} jobs: {ratio(large_t, small_t)}"
          f"  (goal <= {GOAL_RATIO}: {goal(r <= GOAL_RATIO)})")
    print(f"ratio storage requests per tick: {ratio(statistics.median(large_r), statistics.median(small_r))}")


if __name__ == "__main__":
    main()
