"""Benchmark 1 of issues 5 and 13: how late, how early and how often do one-time jobs fire, against APScheduler 3.x.

The scheduler: a private in-memory Azurite and `python -m devhost` serving function_app.py with a deployment's
timer settings (tick every minute, 90 s lookahead), loopback targets allowed. `--jobs` one-time Http jobs due spread
evenly over `--spread` seconds, plus `--burst` due in the same instant (in the middle of the spread), are created
through the REST API by a thread pool (`PUT .../jobCollections/{c}` with `quota.maxJobCount` high enough, then
`PUT .../jobs/{j}`); each calls a recording HTTP target on 127.0.0.1 at `/scheduler/{job}`. The first due time is
`--lead` seconds after creation starts, so creation is over before anything is due (the run warns otherwise).

The baseline, in the same run after the host has stopped: APScheduler 3.x `BackgroundScheduler` with a SQLAlchemy
SQLite job store (its default 10-thread executor, misfire grace 60 s) and the same schedule shape, each job a GET of
`/apscheduler/{job}` on another recording target with `requests`.

The targets (tests/support/target.py) behave like a production server's front: listen backlog 1,024, HTTP/1.1
keep-alive, a thread per connection. Each also measures its own delay before it reads a request (from the first
byte's arrival in its kernel: accept queue, thread start), printed as "target accept delay" so that the lateness
can be told apart from the target's share of it.

Lateness is target receipt minus due time. Printed per system: p50, p99 and max lateness (all, spread, burst),
early fires (received before due), duplicates (a job received more than once, and jobs seen with more than one
`x-ms-scheduler-execution-id`), missing jobs, the target's accept delay, and creation throughput; then the ratios
scheduler/APScheduler and whether the goals of issue 13 are met (p99 <= 250 ms and <= 0.8x APScheduler's, burst p99
<= 250 ms, p50 <= 10 ms, zero early, zero duplicates, zero missing).

`--workers N` runs N host worker processes (bench.stack: FUNCTIONS_WORKER_PROCESS_COUNT), the API requests spread
over them. `--profile FILE` records py-spy samples of the (first) host process around the burst, for bench.attribute.

    python -m bench.lateness               # 1,000 over 60 s + 100 at once, lead 60 s: about 5 minutes
    python -m bench.lateness --quick       # 100 over 10 s + 20 at once, lead 15 s: under a minute
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

from bench.attribute import PROFILE_RATE
from bench.stack import API_VERSION, collection_path, command, goal, http_job, local_stack, print_table, ratio
from tests.support.target import Received, Target

GOALS = {"p99": 0.25, "p99_ratio": 0.8, "burst_p99": 0.25, "p50": 0.010}  # issue 13
_CREATE_THREADS = 8


@dataclass(frozen=True)
class Plan:
    """Job name -> due instant, and which jobs belong to the burst."""

    due: dict[str, datetime]
    burst: frozenset[str]


def plan(jobs: int, burst: int, spread: float, first: datetime) -> Plan:
    due = {f"s{i:05d}": first + timedelta(seconds=spread * i / jobs) for i in range(jobs)}
    middle = (first + timedelta(seconds=spread / 2)).replace(microsecond=0)
    burst_due = {f"b{i:05d}": middle for i in range(burst)}
    # Millisecond precision, as the API stores and returns times.
    rounded = {k: v.replace(microsecond=v.microsecond // 1000 * 1000) for k, v in {**due, **burst_due}.items()}
    return Plan(rounded, frozenset(burst_due))


@dataclass
class Outcome:
    name: str
    created_per_second: float
    creation_seconds: float
    late_all: list[float]
    late_spread: list[float]
    late_burst: list[float]
    early: int
    duplicates: int
    multi_execution_ids: int
    missing: int
    wrong_expected_time: int
    waited: list[float]  # the target's own delay (accept queue, thread start) before reading each first receipt


def measure(name: str, schedule: Plan, calls: list[Received], prefix: str, created_per_second: float,
            creation_seconds: float) -> Outcome:
    by_job: dict[str, list[Received]] = defaultdict(list)
    for call in calls:
        if call.path.startswith(prefix):
            by_job[call.path[len(prefix) :]].append(call)
    late_all: list[float] = []
    late_spread: list[float] = []
    late_burst: list[float] = []
    waited: list[float] = []
    early = duplicates = multi_ids = wrong_expected = 0
    for job, received in by_job.items():
        due = schedule.due.get(job)
        if due is None:
            continue
        duplicates += len(received) - 1
        ids = {r.headers.get("x-ms-scheduler-execution-id") for r in received}
        multi_ids += len(ids) > 1
        for r in received:
            early += r.at < due
            expected = r.headers.get("x-ms-scheduler-expected-execution-time")
            if expected and datetime.fromisoformat(expected.replace("Z", "+00:00")) != due:
                wrong_expected += 1
        first = min(received, key=lambda r: r.at)
        late = (first.at - due).total_seconds()
        late_all.append(late)
        if first.waited is not None:
            waited.append(first.waited)
        (late_burst if job in schedule.burst else late_spread).append(late)
    missing = sum(1 for job in schedule.due if job not in by_job)
    return Outcome(name, created_per_second, creation_seconds, late_all, late_spread, late_burst, early, duplicates,
                   multi_ids, missing, wrong_expected, waited)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def _wait(calls: Callable[[], int], expected: int, until: datetime) -> None:
    while calls() < expected and datetime.now(UTC) < until:
        time.sleep(0.25)


# ---- the scheduler -----------------------------------------------------------------------------------------------


def run_scheduler(args: argparse.Namespace) -> Outcome:
    with local_stack(workers=args.workers) as stack:
        assert stack.host_url is not None
        base = stack.host_url
        collection = "lateness"
        quota = {"maxJobCount": args.jobs + args.burst + 10}
        body = {"location": "local", "properties": {"sku": {"name": "Standard"}, "quota": quota}}
        r = requests.put(f"{base}{collection_path(collection)}", json=body, params={"api-version": API_VERSION},
                         timeout=30)
        r.raise_for_status()

        began = datetime.now(UTC)
        schedule = plan(args.jobs, args.burst, args.spread, began + timedelta(seconds=args.lead))
        local = threading.local()

        def create(numbered: tuple[int, tuple[str, datetime]]) -> None:
            index, (job, due) = numbered
            session = getattr(local, "session", None) or requests.Session()
            local.session = session
            # The host spreads HTTP requests over its worker processes too.
            url = f"{stack.host_urls[index % len(stack.host_urls)]}{collection_path(collection)}/jobs/{job}"
            response = session.put(url, json=http_job(f"{stack.target.url}/scheduler/{job}", due),
                                   params={"api-version": API_VERSION}, timeout=60)
            if response.status_code != 201:
                raise RuntimeError(f"creating {job}: {response.status_code} {response.text[:300]}")

        # Earliest due first, so that a slow creation hurts the fewest jobs.
        t0 = time.perf_counter()
        with ThreadPoolExecutor(_CREATE_THREADS) as pool:
            list(pool.map(create, enumerate(sorted(schedule.due.items(), key=lambda kv: kv[1]))))
        creation = time.perf_counter() - t0
        _warn_if_late_creation("scheduler", began, creation, args.lead)
        if args.profile:
            assert stack.host is not None
            burst_due = min(schedule.due[job] for job in schedule.burst) if schedule.burst else began
            profile_host(stack.host.process.pid, burst_due, args.profile)

        last_due = max(schedule.due.values())
        _wait(lambda: len(stack.target.received), len(schedule.due), last_due + timedelta(seconds=args.grace))
        time.sleep(2)  # let duplicates, if any, arrive
        return measure("scheduler", schedule, list(stack.target.received), "/scheduler/", len(schedule.due) / creation,
                       creation)


def profile_host(pid: int, burst_due: datetime, output: Path) -> None:
    """Record py-spy samples of the host process (`pid`) from 1.5 s before the burst's instant to 3.5 s after it, in
    a thread: `output` (only the thread holding the GIL: where the CPU goes) and `output` + ".all" (every thread,
    waiting ones included). Both in py-spy's raw (collapsed stack) format, for bench.attribute."""

    def record() -> None:
        time.sleep(max(0.0, (burst_due - datetime.now(UTC)).total_seconds() - 1.5))
        beside = Path(sys.executable).with_name("py-spy")  # the virtual environment's, when not on PATH
        spy = str(beside) if beside.exists() else "py-spy"
        common = [spy, "record", "--pid", str(pid), "--duration", "5", "--rate", str(PROFILE_RATE), "--format", "raw",
                  "--nonblocking"]
        runs = [subprocess.Popen([*common, "--gil", "--output", str(output)], stdout=subprocess.DEVNULL),
                subprocess.Popen([*common, "--idle", "--output", f"{output}.all"], stdout=subprocess.DEVNULL)]
        for run in runs:
            run.wait()

    threading.Thread(target=record, daemon=True).start()


def _warn_if_late_creation(name: str, began: datetime, creation: float, lead: float) -> None:
    if creation > lead:
        print(f"  warning: {name}: creating the jobs took {creation:.1f} s, more than the {lead:g} s lead; the first "
              f"jobs were created after their due time (use a longer --lead)")


# ---- the baseline: APScheduler 3.x, SQLAlchemy SQLite job store ---------------------------------------------------


def fire(url: str, execution_id: str) -> None:
    """APScheduler's job function (module level: the SQLAlchemy job store pickles a reference to it)."""
    requests.get(url, headers={"x-ms-scheduler-execution-id": execution_id}, timeout=60)


def run_apscheduler(args: argparse.Namespace) -> Outcome:
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler

    target = Target()
    with tempfile.TemporaryDirectory(prefix="bench-aps-") as tmp:
        store = SQLAlchemyJobStore(url=f"sqlite:///{Path(tmp) / 'jobs.sqlite'}")
        scheduler = BackgroundScheduler(jobstores={"default": store}, job_defaults={"misfire_grace_time": 60},
                                        timezone=UTC)
        scheduler.start()
        try:
            began = datetime.now(UTC)
            schedule = plan(args.jobs, args.burst, args.spread, began + timedelta(seconds=args.lead))
            t0 = time.perf_counter()
            for job, due in sorted(schedule.due.items(), key=lambda kv: kv[1]):
                scheduler.add_job(fire, "date", run_date=due, id=job,
                                  args=[f"{target.url}/apscheduler/{job}", f"aps-{job}"])
            creation = time.perf_counter() - t0
            _warn_if_late_creation("APScheduler", began, creation, args.lead)
            last_due = max(schedule.due.values())
            _wait(lambda: len(target.received), len(schedule.due), last_due + timedelta(seconds=args.grace))
            time.sleep(2)
            return measure("APScheduler", schedule, list(target.received), "/apscheduler/",
                           len(schedule.due) / creation, creation)
        finally:
            scheduler.shutdown(wait=False)
            target.close()


# ---- report ------------------------------------------------------------------------------------------------------


def report(args: argparse.Namespace, ours: Outcome, base: Outcome) -> None:
    def ms(values: list[float], q: float | None = None) -> float:
        if not values:
            return float("nan")
        return 1000 * (max(values) if q is None else percentile(values, q))

    rows: list[list[Any]] = []
    for label, pick in (("all", "late_all"), ("spread", "late_spread"), ("burst", "late_burst")):
        for q, qname in ((50, "p50"), (99, "p99"), (None, "max")):
            a, b = ms(getattr(ours, pick), q), ms(getattr(base, pick), q)
            rows.append([f"lateness {qname} ms ({label})", a, b, ratio(a, b)])
    for q, qname in ((50, "p50"), (99, "p99"), (None, "max")):
        a, b = ms(ours.waited, q), ms(base.waited, q)
        rows.append([f"target accept delay {qname} ms", a, b, ratio(a, b)])
    for field, label in (("early", "early fires"), ("duplicates", "duplicate receipts"),
                         ("multi_execution_ids", "jobs with >1 execution id"), ("missing", "missing jobs"),
                         ("wrong_expected_time", "wrong expected-execution-time")):
        rows.append([label, getattr(ours, field), getattr(base, field), ""])
    rows.append(["creation jobs/s", ours.created_per_second, base.created_per_second,
                 ratio(ours.created_per_second, base.created_per_second)])
    rows.append(["creation seconds", ours.creation_seconds, base.creation_seconds, ""])

    print(f"\n$ {command()}")
    print_table(
        f"{args.workers} host worker process{'es' if args.workers > 1 else ''}; "
        f"{args.jobs:,} one-time jobs due over {args.spread:g} s + {args.burst:,} due at the same instant "
        f"(lead {args.lead:g} s)",
        ["figure", "scheduler", "APScheduler 3.x (SQLite)", "ratio"],
        rows,
    )
    p50, p99 = percentile(ours.late_all, 50), percentile(ours.late_all, 99)
    burst_p99, base_p99 = percentile(ours.late_burst, 99), percentile(base.late_all, 99)
    versus = p99 / base_p99 if base.late_all and base_p99 > 0 else float("nan")
    print(f"\ngoals (issue 13): p99 <= 250 ms: {goal(p99 <= GOALS['p99'])} ({p99 * 1000:.0f} ms); "
          f"p99 <= 0.8x APScheduler's: {goal(versus <= GOALS['p99_ratio'])} ({versus:.2f}x); "
          f"burst p99 <= 250 ms: {goal(burst_p99 <= GOALS['burst_p99'])} ({burst_p99 * 1000:.0f} ms); "
          f"p50 <= 10 ms: {goal(p50 <= GOALS['p50'])} ({p50 * 1000:.1f} ms); "
          f"zero early: {goal(ours.early == 0)} ({ours.early}); "
          f"zero duplicates: {goal(ours.duplicates == 0 and ours.multi_execution_ids == 0)} ({ours.duplicates}); "
          f"zero missing: {goal(ours.missing == 0)} ({ours.missing})")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=1000, help="one-time jobs due spread over --spread seconds")
    parser.add_argument("--burst", type=int, default=100, help="one-time jobs due at the same instant")
    parser.add_argument("--spread", type=float, default=60.0, help="seconds the spread jobs are due over")
    parser.add_argument("--lead", type=float, default=60.0, help="seconds from creation start to the first due")
    parser.add_argument("--grace", type=float, default=30.0, help="seconds to wait after the last due time")
    parser.add_argument("--workers", type=int, default=1, help="host worker processes (FUNCTIONS_WORKER_PROCESS_COUNT)")
    parser.add_argument("--skip-baseline", action="store_true", help="run the scheduler only")
    parser.add_argument("--quick", action="store_true", help="100 over 10 s + 20 at once, lead 15 s")
    parser.add_argument("--profile", type=Path, help="py-spy samples of the host around the burst to this file "
                        "(and FILE.all); summarise with python -m bench.attribute FILE")
    args = parser.parse_args(argv)
    if args.quick:
        args.jobs, args.burst, args.spread, args.lead, args.grace = 100, 20, 10.0, 15.0, 10.0

    ours = run_scheduler(args)
    skipped = Outcome("APScheduler", 0, 0, [], [], [], 0, 0, 0, 0, 0, [])
    base = run_apscheduler(args) if not args.skip_baseline else skipped
    report(args, ours, base)


if __name__ == "__main__":
    main()
