"""`azsched import` of 2,000 jobs in 40 collections of 50 from one REST-list file, against the floor: the same jobs
written straight into the table in batches of 100 (what no import through the API can beat).

The import runs in this process through azsched's own planner and executor (one list per collection, then the PUTs
in parallel) against `python -m devhost` serving function_app.py on a private Azurite; the second run of the same
file (every job "unchanged") is timed too. The floor uses bench.seed: the jobs' entities and due-index entries as
the table adapter lays them out, upserted in entity group transactions. Goal: the 2,000 jobs in <= 30 s.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from azsched.client import SchedulerClient, Target
from azsched.importer import execute, make_plan
from azsched.importers import ImportOptions, read_files
from bench.seed import job_entities, job_ref, submit
from bench.stack import by_operation, command, goal, local_stack, print_table, ratio
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


def _import(client: SchedulerClient, path: Path, threads: int) -> tuple[float, dict[str, int]]:
    began = time.perf_counter()
    jobs, collections = read_files([path], ImportOptions())
    plan = make_plan(client, jobs, collections)
    execute(client, plan, threads=threads)
    return time.perf_counter() - began, plan.summary()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--collections", type=int, default=40)
    parser.add_argument("--per-collection", type=int, default=50, help="at most 50: the Standard plan's quota")
    parser.add_argument("--threads", type=int, default=16, help="jobs written at once by the import")
    parser.add_argument("--quick", action="store_true", help="10 collections of 20")
    args = parser.parse_args(argv)
    if args.quick:
        args.collections, args.per_collection = 10, 20
    total = args.collections * args.per_collection
    start = (datetime.now(UTC) + timedelta(days=200)).replace(hour=0, minute=0, second=0, microsecond=0)

    with local_stack(count_host_requests=True) as stack, tempfile.TemporaryDirectory() as tmp:
        assert stack.host_url is not None
        path = Path(tmp) / "jobs.json"
        _export(path, args.collections, args.per_collection, stack.target.url, start)
        client = SchedulerClient(Target(stack.host_url, "bench", "import"), pool=args.threads)
        counter = stack.host_requests
        assert counter is not None
        counter.reset()
        first, first_summary = _import(client, path, args.threads)
        first_requests = by_operation(counter.snapshot())
        counter.reset()
        second, second_summary = _import(client, path, args.threads)
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
    per_job = ", ".join(f"{op} {n / total:.2f}" for op, n in sorted(first_requests.items()))
    print(f"host storage requests per imported job: {sum(first_requests.values()) / total:.2f} ({per_job}); "
          f"second run: {second_requests / total:.2f}")
    print(f"\ngoal: {total:,} jobs in <= {GOAL_SECONDS:g} s: {goal(first <= GOAL_SECONDS)} ({first:.1f} s)")


if __name__ == "__main__":
    main()
