"""Run every benchmark listed in `bench.BENCHMARKS`."""

from __future__ import annotations

import importlib

from bench import BENCHMARKS


def main() -> None:
    for name in BENCHMARKS:
        importlib.import_module(name).main()
        print()


if __name__ == "__main__":
    main()
