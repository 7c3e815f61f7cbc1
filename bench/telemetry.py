"""What telemetry costs the host: bench.throughput's "through host" burst with telemetry off and with telemetry
exporting over OTLP/HTTP to a local receiver, alternated in one run; the host process's CPU per occurrence.

Each round runs both variants (off first in odd rounds, on first in even ones), each on a fresh local stack (Azurite,
target, `python -m devhost` on function_app.py): `count` one-time jobs due at one instant, and the host's user +
system CPU from 1.5 s before that instant until
`settle` seconds after the last call (6 s by default: the span processor's 5 s export delay, so the exporting
variant pays for its export inside the window). The receiver (tests/support/otlp.py) runs in this process, not the
host's. Telemetry on uses the SDK's defaults (spans and logs exported every 5 s, metrics every 60 s). Jobs are
created with a long lead (30 s + count / 5) so that their creation, and the export of its spans, end before the
window opens: what is measured is the cost per occurrence, not per API call. "spans/job": every span exported per
job, its creation through the API included.

Goal of issue 14: host CPU per occurrence with telemetry on / off <= 1.10.

    python -m bench.telemetry              # 500 jobs, 3 rounds of off + on
    python -m bench.telemetry --quick      # 200 jobs, 2 rounds
    python -m bench.telemetry --rounds 1 --profile /tmp/on.raw   # and where the host's CPU goes with telemetry on
"""

from __future__ import annotations

import argparse
import statistics
from collections import Counter
from pathlib import Path
from typing import Any

from bench.stack import command, goal, print_table
from bench.throughput import _through_host
from tests.support.otlp import OtlpReceiver

GOAL_RATIO = 1.10


def _round(
    count: int, settle: float, receiver: OtlpReceiver, profile: Path | None, on_first: bool
) -> tuple[dict[str, Any], dict[str, Any]]:
    # A long lead: creation (through the API, traced too) and the export of its spans end well before the window.
    lead = 30 + count / 5
    def off() -> dict[str, Any]:
        return _through_host(count, settle=settle, lead=lead)

    def on() -> dict[str, Any]:
        return _through_host(count, settle=settle, lead=lead, profile=profile, OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url)

    if on_first:  # every other round, so that a drift of the shared machine's load favours neither
        measured_on = on()
        return off(), measured_on
    measured_off = off()
    return measured_off, on()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=500, help="one-time jobs per burst")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of telemetry off, then on")
    parser.add_argument("--settle", type=float, default=6.0, help="seconds measured after the last call")
    parser.add_argument("--quick", action="store_true", help="200 jobs, 2 rounds")
    parser.add_argument("--profile", type=Path, help="py-spy samples of the host in the last round's telemetry-on "
                        "window to this file (+ '.all': every thread), for bench.attribute")
    args = parser.parse_args(argv)
    if args.quick:
        args.count, args.rounds = 200, 2

    receiver = OtlpReceiver()
    rows, ratios = [], []
    spans_before = every_before = 0
    names: Counter[str] = Counter()
    try:
        for number in range(1, args.rounds + 1):
            profile = args.profile if number == args.rounds else None
            off, on = _round(args.count, args.settle, receiver, profile, on_first=number % 2 == 0)
            exported_spans = receiver.spans()
            spans, every = sum(s.name == "scheduler.attempt" for s in exported_spans), len(exported_spans)
            names = Counter(s.name for s in exported_spans[every_before:])
            per_off = off["host_cpu_seconds"] / off["occurrences"] * 1000
            per_on = on["host_cpu_seconds"] / on["occurrences"] * 1000
            ratios.append(per_on / per_off)
            exported = (spans - spans_before, (every - every_before) / on["occurrences"])
            for name, result, per, counts in (("off", off, per_off, ("-", "-")), ("OTLP", on, per_on, exported)):
                rows.append([
                    number, name, result["received"], result["duplicates"], result["host_cpu_seconds"], per,
                    result["occurrences"] / result["seconds"], *counts,
                ])
            spans_before, every_before = spans, every
    finally:
        receiver.close()

    print(f"\n$ {command()}")
    print_table(
        f"host CPU per occurrence, telemetry off vs exporting over OTLP/HTTP to a local receiver ({args.count} "
        f"one-time jobs due at once per burst; CPU from 1.5 s before the due instant to {args.settle:g} s after the "
        "last call)",
        ["round", "telemetry", "target calls", "duplicates", "host CPU s", "CPU ms/occ", "occ/s", "attempt spans",
         "spans/job"],
        rows,
    )
    for number, value in enumerate(ratios, 1):
        print(f"round {number}: CPU per occurrence on / off = {value:.3f}")
    print_table(
        "spans exported per job in the last round, by name (creation through the API included)",
        ["span", "per job"],
        [[name, number / args.count] for name, number in names.most_common()],
    )
    mean = statistics.fmean(ratios)
    summed = sum(r[4] for r in rows if r[1] == "OTLP") / sum(r[4] for r in rows if r[1] == "off")
    print(f"median ratio {statistics.median(ratios):.3f}; summed host CPU on / off {summed:.3f}")
    print(f"mean ratio {mean:.3f} (min {min(ratios):.3f}, max {max(ratios):.3f}); goal <= {GOAL_RATIO:g}: "
          f"{goal(mean <= GOAL_RATIO)}")


if __name__ == "__main__":
    main()
