"""Where the host's time goes during a burst: a summary of the py-spy samples `bench.lateness --profile FILE` took.

`FILE` holds the samples of the thread holding the GIL (what the host process spends its CPU on), `FILE.all` those of
every thread, waiting ones included. Each sample is put in one step of an occurrence (or of the host around it) by
the functions on its stack, and in one layer by its innermost recognisable frame:

    python -m bench.attribute /tmp/burst.txt                 # one profile
    python -m bench.attribute /tmp/before.txt /tmp/after.txt # side by side (shares of each profile's samples)

Steps of an occurrence: the claim write (`_dispatch`: a claim lead before the instant, or at it with a lead of 0), the
call to the target (`_run`), the history write (`_record`), the final-state write (`_attempt` -> `update_job`), the
next occurrence's send (`schedule`, `enqueue`), prepare (before the instant), the host's queue receive and delete
(devhost's listener: the Functions host does these outside the Python worker), the event loop, the planner, the API,
idle pool threads. Steps of a PUT of a job (bench.creation --profile): the collection read, the job read, the quota
slot, the insert, the first schedule write, the rest of the route (validation, rendering, FastAPI). Layers: JSON,
request signing, table batch (multipart) encoding and parsing, the HTTP client (http.client, email header parsing,
urllib3, requests, sockets), the storage SDK's pipeline, logging, threads/locks/event loop, the scheduler's own code,
other. Components: the package of the innermost frame that belongs to one (json, logging, the HTTP client, azure-core,
the Tables SDK, the scheduler's adapters, service and API, pydantic, FastAPI, the azure.functions ASGI bridge,
devhost, uvicorn, threads); `--operations N ...` (e.g. the PUTs of bench.creation's profiled phase) also gives them in
GIL-held ms per operation:

    python -m bench.attribute /tmp/before.txt /tmp/after.txt --operations 1500 1500

A benchmark tool: it prints shares, nothing is asserted.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

from bench.stack import print_table

PROFILE_RATE = 200  # samples per second per thread, as bench.lateness --profile records
_FRAME = re.compile(r"^(?P<function>.*?) \((?P<path>[^:()]*)(?::\d+)?\)$")

# (step, functions any of which on the stack puts a sample in it); the first match wins, so the order matters.
STEPS: list[tuple[str, tuple[str, ...]]] = [
    ("claim write (lead or instant)", ("_dispatch",)),
    ("next occurrence's send", ("schedule", "enqueue")),
    ("call to the target (HTTP)", ("_run", "HttpActionRunner.run")),
    ("history write", ("_record", "TableStorage.add_history")),
    ("final-state write", ("_attempt",)),
    ("prepare (before the instant)", ("prepare",)),
    ("queue receive (host)", ("QueueListener._receive_batch", "QueueListener._receive")),
    ("queue delete (host)", ("QueueListener._settle",)),
    ("planner tick", ("planner_tick", "tick")),
    ("API (uvicorn, FastAPI)", ("Server.serve", "H11Protocol", "HttpToolsProtocol", "ASGI")),
    ("event loop (invocations, waits)", ("BaseEventLoop._run_once",)),
]
# A PUT of a job (the API's route and the service's use case): its own steps, in the same way.
API_STEPS: list[tuple[str, tuple[str, ...]]] = [
    ("PUT: quota slot (collection row read, write, read)", ("TableStorage.update_collection",)),
    ("PUT: first schedule write", ("_reschedule",)),
    ("PUT: job insert", ("TableStorage.create_job",)),
    ("PUT: job read (absent on create)", ("TableStorage.get_job",)),
    ("PUT: collection read", ("TableStorage.get_collection",)),
    ("PUT: validation, rendering, FastAPI", ("put_job", "parse_job")),
]
_API_CONTEXT = ("put_job",)
_STEP_FILES = {"jobs.py", "app.py", "executor.py", "dispatch.py", "planner.py", "queues.py", "function_app.py"}
_WAITING = ("Condition.wait", "Event.wait", "Lock.acquire", "GroupCommit._write", "select", "poll", "_recv_into",
            "recv_into", "readinto", "SocketIO.readinto", "Thread.join", "sleep")

LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("JSON", ("json/",)),
    ("signing", ("_authentication.py", "hmac.py", "hashlib")),
    ("HTTP client", ("http/client.py", "email/", "urllib3", "requests/", "socket.py", "selectors.py", "ssl.py",
                     "urllib/")),
    ("storage SDK pipeline", ("core/", "tables/", "queue/_", "storage/", "isodate")),
    ("logging", ("logging/",)),
    ("threads, locks, event loop", ("threading.py", "concurrent/futures", "queue.py", "asyncio/")),
    ("scheduler code", ("scheduler_core/", "function_app.py", "devhost/", "dataclasses.py", "typing.py", "enum.py",
                        "uuid.py", "_collections_abc", "copy.py", "dateutil/", "datetime")),
]

# Components for where a PUT's host CPU goes (bench.creation --profile): the package of the innermost frame that
# belongs to one, in this order (py-spy names files relative to site-packages: "core/" is azure-core).
COMPONENTS: list[tuple[str, tuple[str, ...]]] = [
    ("json", ("json/",)),
    ("logging", ("logging/",)),
    ("HTTP client (requests, urllib3, http.client, email headers)",
     ("email/", "http/client.py", "urllib3/", "requests/", "socket.py", "urllib/parse", "ssl.py")),
    ("azure-core pipeline and policies", ("core/pipeline/",)),
    ("azure-core requests, responses, multipart", ("core/",)),
    ("Tables SDK serialization (_generated)", ("tables/_generated/",)),
    ("Tables SDK, other", ("tables/",)),
    ("scheduler adapters (tables.py, group commit)", ("scheduler_core/adapters/",)),
    ("scheduler service", ("scheduler_core/service/",)),
    ("scheduler API, wire, domain", ("scheduler_core/",)),
    ("pydantic", ("pydantic",)),
    ("FastAPI, Starlette", ("fastapi/", "starlette/")),
    ("azure.functions ASGI bridge", ("functions/",)),
    ("devhost (HTTP shim, invoker)", ("devhost/",)),
    ("uvicorn, h11", ("uvicorn/", "h11/")),
    ("threads, event loop, anyio", ("anyio/", "asyncio/", "threading.py", "concurrent/", "queue.py", "selectors.py")),
]


def _frames(stack: str) -> list[tuple[str, str]]:
    out = []
    for frame in stack.split(";"):
        match = _FRAME.match(frame)
        out.append((match["function"], match["path"]) if match else (frame, ""))
    return out


def step_of(frames: list[tuple[str, str]]) -> str:
    """The occurrence step (or PUT step) a stack (outermost frame first) belongs to."""
    api = any(function in _API_CONTEXT for function, _ in frames)
    for step, functions in API_STEPS if api else STEPS:
        for function, path in frames:
            if function in functions and (path.rsplit("/", 1)[-1] in _STEP_FILES or "." in function):
                return step
    if any(function == "_worker" for function, _ in frames):
        return "idle pool threads, thread hand-over"
    return "other"


def layer_of(frames: list[tuple[str, str]]) -> str:
    """The layer of a stack's innermost recognisable frame; any table batch (multipart) frame wins."""
    if any("multipart" in function for function, _ in frames):
        return "table batch (multipart)"
    for _, path in reversed(frames):
        for layer, markers in LAYERS:
            if any(marker in path for marker in markers):
                return layer
    return "other"


def component_of(frames: list[tuple[str, str]]) -> str:
    """The component of a stack's innermost frame that belongs to one (`COMPONENTS`)."""
    for _, path in reversed(frames):
        for component, prefixes in COMPONENTS:
            if any(path.startswith(prefix) or f"/{prefix}" in path for prefix in prefixes):
                return component
    return "other"


def waiting(frames: list[tuple[str, str]]) -> bool:
    """Whether the innermost frame is a wait (a lock, a condition, a socket read, a sleep)."""
    return bool(frames) and any(frames[-1][0].endswith(w) for w in _WAITING)


def load(path: Path) -> Counter[tuple[str, str, bool, str]]:
    """(step, layer, waiting, component) -> samples, from one py-spy raw file."""
    counts: Counter[tuple[str, str, bool, str]] = Counter()
    for line in path.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if not stack or not n.isdigit():
            continue
        frames = _frames(stack)
        counts[(step_of(frames), layer_of(frames), waiting(frames), component_of(frames))] += int(n)
    return counts


def _share(counts: Counter[tuple[str, str, bool, str]], keep: object) -> dict[str, float]:
    total = sum(counts.values()) or 1
    out: Counter[str] = Counter()
    for key, n in counts.items():
        out[keep(key)] += n  # type: ignore[operator]
    return {k: 100 * v / total for k, v in out.items()}


def report(paths: list[Path], operations: list[int] | None = None) -> None:
    """Print, per profile, the GIL samples by step, by layer and by component, and the waiting of every thread by
    step. With `operations` (one count per profile, e.g. the PUTs of the profiled phase), components also in
    GIL-held milliseconds per operation."""
    gil = [load(p) for p in paths]
    names = [p.name for p in paths]
    steps = [s for s, _ in STEPS + API_STEPS] + ["idle pool threads, thread hand-over", "other"]
    by_step = [_share(c, lambda k: k[0]) for c in gil]
    print_table(
        "host CPU (samples of the thread holding the GIL), % by occurrence step; samples: "
        + ", ".join(f"{n} {sum(c.values()):,}" for n, c in zip(names, gil, strict=True)),
        ["step", *names],
        [[s, *[share.get(s, 0.0) for share in by_step]] for s in steps if any(share.get(s) for share in by_step)],
    )
    layers = [la for la, _ in LAYERS] + ["table batch (multipart)", "other"]
    by_layer = [_share(c, lambda k: k[1]) for c in gil]
    print_table(
        "host CPU, % by layer (innermost recognisable frame)",
        ["layer", *names],
        [[la, *[share.get(la, 0.0) for share in by_layer]] for la in layers if any(s.get(la) for s in by_layer)],
    )
    components = [c for c, _ in COMPONENTS] + ["other"]
    by_component = [_share(c, lambda k: k[3]) for c in gil]
    per_op = [1000 * sum(c.values()) / PROFILE_RATE / n for c, n in zip(gil, operations or [], strict=False)]
    rows = []
    for co in components:
        shares = [share.get(co, 0.0) for share in by_component]
        if any(shares):
            rows.append([co, *shares, *[share * ms / 100 for share, ms in zip(shares, per_op, strict=False)]])
    print_table(
        "host CPU, % by component (innermost frame that belongs to one)"
        + ("; then GIL-held ms per operation" if per_op else ""),
        ["component", *names, *[f"{n} ms/op" for n in names[: len(per_op)]]],
        rows + ([["total", *[100.0] * len(names), *per_op]] if per_op else []),
    )
    walls = [Path(f"{p}.all") for p in paths]
    if all(w.exists() for w in walls):
        every = [load(w) for w in walls]
        busy = [Counter({k: n for k, n in c.items() if k[0] != "idle pool threads, thread hand-over"}) for c in every]
        rows = []
        for s in steps:
            cells = []
            for c in busy:
                waits = sum(n for k, n in c.items() if k[0] == s and k[2])
                running = sum(n for k, n in c.items() if k[0] == s and not k[2])
                cells += [waits / PROFILE_RATE, running / PROFILE_RATE]
            if any(cells):
                rows.append([s, *cells])
        print_table(
            "every thread (idle pool threads left out): thread-seconds by step, waiting (a lock, a socket read, a "
            "sleep) / running or ready to run (waiting for the GIL included)",
            ["step", *[f"{n} {kind}" for n in names for kind in ("waiting", "running")]],
            rows,
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("profiles", nargs="+", type=Path, help="py-spy raw files written by bench.lateness --profile")
    parser.add_argument("--operations", type=int, nargs="+", help="operations in each profile (e.g. the PUTs of "
                        "bench.creation's 8-client phase): components also in GIL-held ms per operation")
    args = parser.parse_args(argv)
    report(args.profiles, args.operations)


if __name__ == "__main__":
    main()
