"""Benchmark 2 of issue 5: sustained occurrences per second, and storage transactions per occurrence.

Three measurements on one private in-memory Azurite, in one run:

1. In process, counted (the scheduler's own cost). `planner.tick` and `executor.execute` run in this process with
   `Services` built as function_app.services() builds them, every storage request counted per table or queue and
   operation. Jobs are stored with their next occurrence in the due index (bench.seed), then the clock the services
   see is moved forward so they are due: one tick thread enqueues them while worker threads receive messages in
   batches of host.json's batchSize (as the host does), execute them against a recording HTTP target on 127.0.0.1
   and delete them.
   Scenarios: `one-time` (N one-time jobs due at once); `recurring via index` (M jobs every minute, R rounds: each
   round the clock moves a minute on and the lookahead is 30 s, so every next occurrence goes through the due index,
   as for any job whose interval is longer than the lookahead); `recurring, chained` (M, at most 100, jobs every 5
   seconds on the real clock, R rounds after the first: each next occurrence is within the lookahead, so the executor
   queues it itself, as for any job whose interval is shorter than the lookahead, 90 s by default).
2. End to end through the host: N one-time jobs created through the REST API, all due at the same instant, served by
   `python -m devhost` on function_app.py; occurrences per second from the due instant to the last call received.
   The host's storage requests are counted by a counting proxy between the host and Azurite, including the queue
   listener's polling, and split into "while draining" and "idle" (polls per second with nothing to do).
3. The baseline: Azurite's raw queue-send rate, a loop of `send_message` on one thread, for the same number of
   messages.

Goal of the issue: at most 4 storage transactions per occurrence, amortized.

    python -m bench.throughput              # 1,000 one-time, 300 x 3 recurring in process; 500 through the host
    python -m bench.throughput --quick      # 300; 100 x 2; 200: under a minute
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import requests
from azure.storage.queue import QueueClient, TextBase64DecodePolicy

from bench.attribute import PROFILE_RATE
from bench.seed import due_entities, job_entities, job_ref, snapshots_of, submit
from bench.stack import (
    API_VERSION,
    RequestCounter,
    ShiftedClock,
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
from devhost.azurite import Azurite
from scheduler_core.adapters import messages
from scheduler_core.adapters.clients import table_service
from scheduler_core.domain.errors import ConcurrencyConflict
from scheduler_core.ports import StoredCollection
from scheduler_core.service import executor, planner
from scheduler_core.service.dispatch import schedule
from scheduler_core.settings import EXECUTIONS_QUEUE, StorageConnection
from tests.support.target import Target

GOAL_PER_OCCURRENCE = 4.0
_QUEUES = json.loads((Path(__file__).resolve().parents[1] / "host.json").read_text())["extensions"]["queues"]
_BATCH_SIZE = int(_QUEUES["batchSize"])
_NEW_BATCH_THRESHOLD = int(_QUEUES["newBatchThreshold"])
_MIN_POLL, _MAX_POLL = 0.1, 0.2  # the host's first back-off step; host.json maxPollingInterval
_WORKERS = _BATCH_SIZE + _NEW_BATCH_THRESHOLD  # as function_app: one attempt thread per message in flight
_CHAINED_MAX = 100
_LOOKAHEAD = 30.0  # shorter than the 1-minute recurrence, so each next occurrence goes through the due index


# ---- 1. in process -----------------------------------------------------------------------------------------------


class _Run:
    """Seeded jobs, counted services on a shifted clock, a recording target; `drain` plays planner + executors."""

    def __init__(self, azurite: Azurite, target: Target) -> None:
        self.counter = RequestCounter()
        self.clock = ShiftedClock()
        self.services = counted_services(
            azurite.connection_string, self.counter, clock=self.clock, lookahead_seconds=_LOOKAHEAD
        )
        self.worker_queue = QueueClient.from_connection_string(
            azurite.connection_string,
            EXECUTIONS_QUEUE,
            message_decode_policy=TextBase64DecodePolicy(),
            **self.counter.hooks("queue"),
        )
        self.connection = StorageConnection(connection_string=azurite.connection_string)
        self.target = target

    def seed(self, first: int, count: int, due: datetime, recurrence: dict[str, Any] | None, path: str) -> None:
        definition = http_job(f"{self.target.url}{path}", due, recurrence)["properties"]
        refs = [job_ref(i) for i in range(first, first + count)]
        for collection in {ref.collection for ref in refs}:
            with contextlib.suppress(ConcurrencyConflict):  # seeded by an earlier round
                self.services.storage.create_collection(
                    StoredCollection(collection, {"properties": {"state": "Enabled"}})
                )
        rows = [(ref, due) for ref in refs]
        service = table_service(self.connection)
        submit(service, job_entities(rows, definition, due - timedelta(hours=1), index=False))
        submit(service, due_entities(rows, snapshots_of(service, {ref.collection for ref in refs})))

    def drain(self, expected: int) -> float:
        """One tick, in its own thread, while a listener handles `expected` messages as the host's queue trigger
        does: receive batches of batchSize while at most batchSize + newBatchThreshold are in flight, run each on
        a pool of worker threads, delete it on success; back off from 100 ms to host.json's maxPollingInterval
        (200 ms) while the queue is empty. Returns the seconds from the tick's start until the last message is
        deleted."""
        handled = threading.Semaphore(0)
        in_flight = threading.BoundedSemaphore(_BATCH_SIZE + _NEW_BATCH_THRESHOLD)

        def run(message: Any) -> None:
            try:
                executor.execute(self.services, messages.decode(json.loads(message.content)), token=message.id)
                self.worker_queue.delete_message(message.id, message.pop_receipt)
            finally:
                in_flight.release()
                handled.release()

        began = time.perf_counter()
        with ThreadPoolExecutor(1) as planner_thread, ThreadPoolExecutor(_WORKERS) as pool:
            tick = planner_thread.submit(planner.tick, self.services)
            received, interval = 0, _MIN_POLL
            while received < expected:
                pages = self.worker_queue.receive_messages(messages_per_page=_BATCH_SIZE, visibility_timeout=600)
                batch = list(next(pages.by_page(), []))
                for message in batch:
                    in_flight.acquire()  # never more than batchSize + newBatchThreshold in flight
                    pool.submit(run, message)
                received += len(batch)
                if batch:
                    interval = _MIN_POLL
                else:
                    time.sleep(interval)
                    interval = min(interval * 2, _MAX_POLL)
            for _ in range(expected):
                handled.acquire()
            tick.result()
        return time.perf_counter() - began


def _in_process(azurite: Azurite, target: Target, one_time: int, recurring: int, rounds: int) -> list[dict[str, Any]]:
    run = _Run(azurite, target)
    base = (datetime.now(UTC) + timedelta(hours=2)).replace(second=0, microsecond=0)
    results = []

    run.seed(0, one_time, base, None, "/one-time")
    run.counter.reset()
    run.clock.offset = base - datetime.now(UTC) + timedelta(seconds=1)
    seconds = run.drain(one_time)
    results.append(_result("one-time", one_time, seconds, run.counter, target, "/one-time"))

    start = base + timedelta(minutes=10)
    run.seed(one_time, recurring, start, {"frequency": "Minute", "interval": 1}, "/recurring")
    run.counter.reset()
    seconds = 0.0
    for r in range(rounds):
        run.clock.offset = start + timedelta(minutes=r) - datetime.now(UTC) + timedelta(seconds=1)
        seconds += run.drain(recurring)
    results.append(
        _result(f"recurring via index x{rounds}", recurring * rounds, seconds, run.counter, target, "/recurring")
    )
    return results


def _chained(azurite: Azurite, target: Target, jobs: int, rounds: int) -> dict[str, Any]:
    """`jobs` jobs (at most 100, so that each round is done before the next one's messages show up and the counts
    are per round) every 5 seconds on the real clock (its own Azurite: the other scenarios move the due index's
    watermark hours ahead); the first round comes from the index, the next `rounds` are queued by the executors."""
    jobs = min(jobs, _CHAINED_MAX)
    run = _Run(azurite, target)
    now = datetime.now(UTC)
    first = now.replace(microsecond=0) + timedelta(seconds=8 - now.second % 5)  # a 5-second mark, 3 s on or more
    run.seed(0, jobs, first, {"cron": "*/5 * * * * *"}, "/chained")
    run.drain(jobs)
    run.counter.reset()
    seconds = sum(run.drain(jobs) for _ in range(rounds))  # paced by the schedule: its occ/s is the schedule's
    return _result(f"recurring, chained x{rounds}", jobs * rounds, seconds, run.counter, target, "/chained", skip=jobs)


def _result(
    name: str, occurrences: int, seconds: float, counter: RequestCounter, target: Target, path: str, *, skip: int = 0
) -> dict[str, Any]:
    calls = target.requests_to(path)[skip:]
    ids = Counter(c.headers.get("x-ms-scheduler-execution-id") for c in calls)
    return {
        "name": name,
        # The rounds are paced by the due times, not by the counting: a round's last receive can take messages of
        # the next one, which then run inside the counted window; per occurrence means per occurrence that ran.
        "occurrences": max(occurrences, len(calls)),
        "seconds": seconds,
        "ops": by_operation(counter.snapshot()),
        "ms": mean_ms(counter.snapshot(), counter.snapshot_microseconds()),
        "received": len(calls),
        "duplicates": sum(n - 1 for n in ids.values()),
    }


# ---- 1b. a lone occurrence --------------------------------------------------------------------------------------


class _TickAwareCounter(RequestCounter):
    """Counts like RequestCounter, but puts the planner's own requests on the due table (the watermark row `!` and
    the bucket queries: what every tick costs whatever it finds) under "tick" instead of "due"."""

    def record(
        self, service: str, method: str, url: str, headers: Any, seconds: float | None = None, status: int = 0
    ) -> None:
        if service == "table" and _TICK_OWN.match(unquote(urlsplit(url).path)):
            url = url.replace("/due(", "/tick(", 1)
        super().record(service, method, url, headers, seconds, status)


_TICK_OWN = re.compile(r"^/[^/]+/due\((PartitionKey='!'.*)?\)$")  # after the account: the watermark, a query
_LONE_KINDS = (
    # name, recurrence, how its occurrences reach the queue (the chained one first: the others move the clock that
    # the due index's watermark follows hours ahead)
    ("every 5 s, queued by the run before", {"cron": "*/5 * * * * *"}, "chained"),
    ("one-time, queued at creation", None, "creation"),
    ("one-time, from the due index", None, "index"),
    ("every minute, from the due index", {"frequency": "Minute", "interval": 1}, "index"),
)


def _lone(azurite: Azurite, target: Target) -> list[dict[str, Any]]:
    """One occurrence of each kind with nothing else happening (no group commit to share), every request of its
    journey counted: the message's send (by the creation's first schedule write, a planner tick or the run before),
    the tick's removal of its index entry, the one receive that takes it, the attempt, the message's delete. A
    recurring job's counted occurrence is its second (its first changed `lastResult`, a one-off write). The tick's
    own requests (watermark, bucket queries: the same whatever a tick finds, like the listener's empty polls) are
    counted apart."""
    run = _Run(azurite, target)
    counter = _TickAwareCounter()
    run.counter = counter
    run.services = counted_services(azurite.connection_string, counter, clock=run.clock, lookahead_seconds=_LOOKAHEAD)
    run.worker_queue = QueueClient.from_connection_string(
        azurite.connection_string,
        EXECUTIONS_QUEUE,
        message_decode_policy=TextBase64DecodePolicy(),
        **counter.hooks("queue"),
    )
    base = (datetime.now(UTC) + timedelta(hours=4)).replace(second=0, microsecond=0)
    results = []

    def take_one() -> None:
        """The receive that takes the one visible message, its attempt and its delete."""
        for _ in range(100):
            batch = list(next(run.worker_queue.receive_messages(messages_per_page=1).by_page(), []))
            if batch:
                message = batch[0]
                executor.execute(run.services, messages.decode(json.loads(message.content)), token=message.id)
                run.worker_queue.delete_message(message.id, message.pop_receipt)
                return
            time.sleep(0.2)  # a chained occurrence's message shows up 2 s before its instant
        raise RuntimeError("the lone occurrence's message never showed up")

    for i, (name, recurrence, route) in enumerate(_LONE_KINDS):
        due = base + timedelta(minutes=10 * i)
        path = f"/lone-{i}"
        ticks = 0
        if route == "chained":  # the first occurrence from the index, uncounted; it queues the second
            run.clock.offset = timedelta(0)
            now = datetime.now(UTC)
            due = now.replace(microsecond=0) + timedelta(seconds=8 - now.second % 5)  # a 5-second mark, 3 s on
            run.seed(i, 1, due, recurrence, path)
            planner.tick(run.services)
            take_one()
            counter.reset()
            take_one()
        elif route == "creation":  # a PUT's first schedule write within the lookahead: a send, no index entry
            run.seed(i, 1, due, recurrence, path)
            run.services.storage.remove_due(job_ref(i), due)
            job = run.services.storage.get_job(job_ref(i))  # the PUT has the job in hand
            run.clock.offset = due - datetime.now(UTC) - timedelta(seconds=3)
            counter.reset()
            schedule(run.services, job, due, run.clock())
            time.sleep(1.1)  # the message shows 2 s before its instant, 1 s from now
            run.clock.offset = due - datetime.now(UTC) + timedelta(seconds=1)
            take_one()
        else:
            run.seed(i, 1, due, recurrence, path)
            if recurrence is not None:  # the first occurrence, uncounted: it changes lastResult
                run.clock.offset = due - datetime.now(UTC) + timedelta(seconds=1)
                planner.tick(run.services)
                take_one()
                due += timedelta(minutes=1)
            run.clock.offset = due - datetime.now(UTC) + timedelta(seconds=1)
            counter.reset()
            planner.tick(run.services)
            ticks = 1
            take_one()
        ops = by_operation(counter.snapshot())
        tick_ops = {op: n for op, n in ops.items() if op.startswith("table tick.")}
        own = {op: n for op, n in ops.items() if op not in tick_ops}
        calls = target.requests_to(path)
        results.append({"name": name, "ops": own, "tick_ops": tick_ops, "ticks": ticks, "calls": len(calls)})
    return results


def _wait_until(instant: datetime) -> None:
    time.sleep(max(0.0, (instant - datetime.now(UTC)).total_seconds()))


def _report_lone(results: list[dict[str, Any]]) -> None:
    names = sorted({op for r in results for op in r["ops"]})
    print_table(
        "a lone occurrence: storage transactions of its journey, by operation (nothing else running; a recurring "
        "job's second occurrence)",
        ["operation", *[r["name"] for r in results]],
        [[op, *[r["ops"].get(op, 0) for r in results]] for op in names]
        + [["total", *[sum(r["ops"].values()) for r in results]]]
        + [
            [
                "  of which the receive that takes it",
                *[r["ops"].get("queue scheduler-executions.receive", 0) for r in results],
            ]
        ],
    )
    for r in results:
        total = sum(r["ops"].values())
        receive = r["ops"].get("queue scheduler-executions.receive", 0)
        tick = ", ".join(f"{op.split()[1]} {n}" for op, n in sorted(r["tick_ops"].items()))
        print(
            f"lone {r['name']}: {total} transactions ({total - receive} without the receive, which the listener's "
            f"poll makes anyway; goal <= 4: {goal(total - receive <= 4)}); target calls {r['calls']}"
            + (f"; the tick's own requests apart: {tick}" if r["ticks"] else "")
        )


# ---- 2. end to end through the host -------------------------------------------------------------------------------


def _through_host(
    count: int, *, settle: float = 1.0, lead: float | None = None, profile: Path | None = None, **host_settings: str
) -> dict[str, Any]:
    """`count` one-time jobs created through the API, all due at one instant; the host's requests while draining,
    and its CPU from 1.5 s before the due instant to `settle` seconds after the last call (`host_cpu_seconds`).
    `lead`: seconds from the start of creation to the due instant (default: what creation needs on 2 cores).
    `profile`: record py-spy samples of the host over that window (`profile`: the thread holding the GIL, in py-spy's
    raw format for bench.attribute; `profile` + ".all": every thread).
    `host_settings`: extra environment of the host (e.g. OTEL_EXPORTER_OTLP_ENDPOINT, bench.telemetry)."""
    with local_stack(count_host_requests=True, **host_settings) as stack:
        assert stack.host_url is not None and stack.host_requests is not None and stack.host is not None
        path = collection_path("throughput")
        body = {"location": "local", "properties": {"quota": {"maxJobCount": count + 10}}}
        requests.put(f"{stack.host_url}{path}", json=body, params={"api-version": API_VERSION}, timeout=30)
        if lead is None:
            lead = 20 + count / 12  # creation through the proxy runs at roughly 15-30 jobs/s on a 2-core machine
        due = (datetime.now(UTC) + timedelta(seconds=lead)).replace(microsecond=0)
        local = threading.local()

        def create(i: int) -> None:
            job = http_job(f"{stack.target.url}/host", due)
            session = local.__dict__.setdefault("session", requests.Session())
            response = session.put(f"{stack.host_url}{path}/jobs/h{i:06d}", json=job,
                                   params={"api-version": API_VERSION}, timeout=60)
            response.raise_for_status()

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(create, range(count)))
        if datetime.now(UTC) > due - timedelta(seconds=3):
            print("  warning: creation ended less than 3 s before the due time")
        # Idle: every message is still invisible; what the host does meanwhile is its polling.
        stack.host_requests.reset()
        idle_from = time.perf_counter()
        time.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds() - 1.5))
        idle = stack.host_requests.snapshot()
        idle_seconds = time.perf_counter() - idle_from
        stack.host_requests.reset()
        spies = _spy(stack.host.process.pid, profile) if profile else []
        cpu_before = host_cpu_seconds(stack.host.process.pid)
        deadline = due + timedelta(seconds=60 + count / 10)
        while len(stack.target.requests_to("/host")) < count and datetime.now(UTC) < deadline:
            time.sleep(0.1)
        calls = stack.target.requests_to("/host")
        time.sleep(settle)  # the last deletes (and, with telemetry, its export)
        cpu = host_cpu_seconds(stack.host.process.pid) - cpu_before
        for spy in spies:
            spy.send_signal(signal.SIGINT)  # py-spy writes its samples when interrupted
            spy.wait()
        drained = by_operation(stack.host_requests.snapshot())
        drained_ms = mean_ms(stack.host_requests.snapshot(), stack.host_requests.snapshot_microseconds())
        last = max((c.at for c in calls), default=due)
        result = {
            "name": "through host",
            "occurrences": count,
            "seconds": max((last - due).total_seconds(), 1e-3),
            "ops": drained,
            "ms": drained_ms,
            "received": len(calls),
            "duplicates": sum(n - 1 for n in Counter(c.headers.get("x-ms-scheduler-jobid") for c in calls).values()),
            "idle_polls_per_second": sum(idle.values()) / idle_seconds,
            "idle_ops": by_operation(idle),
            "host_cpu_seconds": cpu,
        }
        return result


def _spy(pid: int, output: Path) -> list[subprocess.Popen[bytes]]:
    beside = Path(sys.executable).with_name("py-spy")  # the virtual environment's, when not on PATH
    common = [str(beside) if beside.exists() else "py-spy", "record", "--pid", str(pid), "--rate",
              str(PROFILE_RATE), "--format", "raw", "--nonblocking"]
    return [subprocess.Popen([*common, "--gil", "--output", str(output)], stdout=subprocess.DEVNULL),
            subprocess.Popen([*common, "--idle", "--output", f"{output}.all"], stdout=subprocess.DEVNULL)]


def host_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# ---- 3. the baseline ---------------------------------------------------------------------------------------------


def _raw_sends(azurite: Azurite, count: int) -> float:
    queue = QueueClient.from_connection_string(azurite.connection_string, "bench-raw-sends")
    queue.create_queue()
    body = json.dumps({"v": 1, "job": ["bench", "bench", "jc0000", "job0000000"], "due": datetime.now(UTC).isoformat()})
    began = time.perf_counter()
    for _ in range(count):
        queue.send_message(body)
    return count / (time.perf_counter() - began)


# ---- report ------------------------------------------------------------------------------------------------------


def _report(results: list[dict[str, Any]], raw_rate: float, raw_count: int) -> None:
    print(f"\n$ {command()}")
    rows = []
    for r in results:
        total = sum(r["ops"].values())
        rate = r["occurrences"] / r["seconds"]
        rows.append([
            r["name"], r["occurrences"], rate, ratio(rate, raw_rate), total / r["occurrences"],
            r["received"], r["duplicates"],
        ])
    print_table(
        f"occurrences per second and storage transactions per occurrence ({_WORKERS} worker threads, batches of "
        f"{_BATCH_SIZE}); baseline: Azurite raw queue send, 1 thread, {raw_count:,} messages = {raw_rate:,.0f}/s",
        ["scenario", "occurrences", "occ/s", "vs raw send/s", "transactions/occ", "target calls", "duplicates"],
        rows,
    )
    names = sorted({op for r in results for op in r["ops"]})
    print_table(
        "storage transactions per occurrence, by table/queue and operation",
        ["operation", *[r["name"] for r in results]],
        [[op, *[r["ops"].get(op, 0) / r["occurrences"] for r in results]] for op in names],
    )
    print_table(
        "mean round trip per request, ms, by operation (in process: the SDK's transport; through host: the proxy to "
        "Azurite)",
        ["operation", *[r["name"] for r in results]],
        [[op, *[r["ms"].get(op, 0.0) for r in results]] for op in names],
    )
    for r in results:
        if "idle_polls_per_second" in r:
            idle = ", ".join(f"{op} {n}" for op, n in sorted(r["idle_ops"].items()))
            print(f"{r['name']}: idle host (messages invisible): {r['idle_polls_per_second']:.1f} storage requests/s "
                  f"({idle}); the drain row counts the host's requests from the due instant to the last call "
                  f"(creation, and the sends it made, excluded)")
    for r in results:
        per = sum(r["ops"].values()) / r["occurrences"]
        print(f"{r['name']}: {per:.2f} storage transactions per occurrence (goal <= {GOAL_PER_OCCURRENCE:g}: "
              f"{goal(per <= GOAL_PER_OCCURRENCE)})")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--one-time", type=int, default=1000, help="one-time jobs due at once (in process)")
    parser.add_argument("--recurring", type=int, default=300, help="jobs recurring every minute (in process)")
    parser.add_argument("--rounds", type=int, default=3, help="minutes the recurring jobs run")
    parser.add_argument("--host", type=int, default=500, help="one-time jobs through the host (0: skip)")
    parser.add_argument("--quick", action="store_true", help="small sizes, under a minute")
    parser.add_argument("--lone", action="store_true", help="only the lone occurrences (about 30 s)")
    args = parser.parse_args(argv)
    if args.quick:
        args.one_time, args.recurring, args.rounds, args.host = 300, 100, 2, 200

    target = Target()
    if args.lone:
        try:
            with Azurite.start() as azurite:
                _report_lone(_lone(azurite, target))
        finally:
            target.close()
        return
    try:
        with Azurite.start() as azurite:
            raw_count = max(args.one_time, 500)
            raw_rate = _raw_sends(azurite, raw_count)
            results = _in_process(azurite, target, args.one_time, args.recurring, args.rounds)
        with Azurite.start() as azurite:
            results.append(_chained(azurite, target, args.recurring, args.rounds))
    finally:
        target.close()
    if args.host:
        results.append(_through_host(args.host))
    _report(results, raw_rate, raw_count)


if __name__ == "__main__":
    main()
