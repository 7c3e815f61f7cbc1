"""Benchmarks: each module prints its figures and a ratio against a baseline measured in the same run.

Run them all with `python -m bench`, or one with `python -m bench.<module>`. Add a module here to include it.
"""

#: The benchmark modules `python -m bench` runs, in order; each has a `main()`.
BENCHMARKS: tuple[str, ...] = (
    "bench.recurrence", "bench.lateness", "bench.throughput", "bench.scaling", "bench.creation", "bench.importer",
    "bench.telemetry", "bench.console", "bench.parse",
)

#: Names for `python -m bench NAME` that are not module names (`import` is a Python keyword).
ALIASES: dict[str, str] = {"import": "bench.importer"}
