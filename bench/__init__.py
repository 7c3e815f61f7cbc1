"""Benchmarks: each module prints its figures and a ratio against a baseline measured in the same run.

Run them all with `python -m bench`, or one with `python -m bench.<module>`. Add a module here to include it.
"""

#: The benchmark modules `python -m bench` runs, in order; each has a `main()`.
BENCHMARKS: tuple[str, ...] = (
    "bench.recurrence", "bench.lateness", "bench.throughput", "bench.scaling", "bench.console"
)
