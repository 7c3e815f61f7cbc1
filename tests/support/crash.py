"""Crash injection for the service on any storage ports: the instance dies at the N-th storage call of an operation.

`Crashing` wraps the storage and the execution queue of a `Services`. Armed with `at=n`, the n-th call to either
raises `Crash` before it takes effect, and so does every call after it until `disarm()`: a dead instance writes
nothing more, not even the clean-up of an `except` or `finally` (`Crash` is a BaseException, like the end of the
process, so the service's own `except Exception` does not mistake it for a storage error). Reads count as calls
too: an instance may die anywhere. `count_calls` tells how many calls an uninterrupted run makes: the range of n
to test.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from scheduler_core.service.context import Services


class Crash(BaseException):
    """The instance died (scale-in, deployment, out of memory) at this storage call."""


class _Counting:
    def __init__(self, inner: Any, crashing: Crashing) -> None:
        self._inner = inner
        self._crashing = crashing

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._inner, name)
        if name.startswith("_") or not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            self._crashing.step(name)
            return attribute(*args, **kwargs)

        return call


class Crashing:
    """The storage and queue of `services`, counted and (once armed) crashing; `services` is the wrapped value."""

    def __init__(self, services: Services) -> None:
        self._lock = threading.Lock()
        self.calls: list[str] = []
        self._at: int | None = None
        self.crashed = False
        self.services = replace(
            services, storage=_Counting(services.storage, self), queue=_Counting(services.queue, self)  # type: ignore[arg-type]
        )

    def arm(self, at: int) -> None:
        with self._lock:
            self.calls, self._at, self.crashed = [], at, False

    def disarm(self) -> None:
        with self._lock:
            self._at = None

    def step(self, name: str) -> None:
        with self._lock:
            self.calls.append(name)
            if self._at is not None and len(self.calls) >= self._at:
                self.crashed = True
                raise Crash(f"instance died at storage call {len(self.calls)} ({name})")


def count_calls(build: Callable[[], tuple[Crashing, Callable[[], object]]]) -> int:
    """How many storage calls `operation` makes when nothing crashes, on a fresh world from `build` (an operation
    that ends in a domain error, a refused quota, has made its calls all the same)."""
    crashing, operation = build()
    crashing.arm(10**9)
    try:
        operation()
    except Exception:
        pass
    finally:
        crashing.disarm()
    return len(crashing.calls)
