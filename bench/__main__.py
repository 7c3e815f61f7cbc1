"""Run every benchmark listed in `bench.BENCHMARKS`, or those named: `python -m bench import scaling`."""

from __future__ import annotations

import importlib
import sys

from bench import ALIASES, BENCHMARKS


def main() -> None:
    names = [ALIASES.get(name, f"bench.{name}") for name in sys.argv[1:]] or list(BENCHMARKS)
    del sys.argv[1:]  # each benchmark parses its own options
    for name in names:
        importlib.import_module(name).main()
        print()


if __name__ == "__main__":
    main()
