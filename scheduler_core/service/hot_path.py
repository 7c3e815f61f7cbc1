"""Calls before bookkeeping: the attempts of this process that are between their due instant and their call.

When many occurrences fall due at one instant, the first calls to finish would write their history rows and final
states while the later ones are still claiming and calling, and on a worker's few cores those writes' CPU (the
storage SDK's request machinery is most of it) delays the later calls. So an attempt's bookkeeping (its history row,
the job's counters and final state, a retry's or error action's message) first yields to the calls in flight: it
waits until none is (at most `max_wait` seconds, so that a stream of calls never starves it). Nothing is skipped or
reordered within an attempt, and the queue message is still deleted only after its bookkeeping: a crash in between
is a redelivery, as before.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class HotPath:
    """Counts the attempts in their calling phase; thread-safe, one per worker process."""

    def __init__(self, max_wait: float = 1.0) -> None:
        self._max_wait = max_wait
        self._calling = 0
        self._idle = threading.Condition()

    @contextmanager
    def calling(self) -> Iterator[Callable[[], None]]:
        """The calling phase of one attempt (its call, and its claim when that is made at the instant rather than
        ahead: a claim lead of 0); yields a function that ends the phase early (idempotent), for the bookkeeping that
        follows inside the same block."""
        left = False

        def leave() -> None:
            nonlocal left
            if left:
                return
            left = True
            with self._idle:
                self._calling -= 1
                if self._calling == 0:
                    self._idle.notify_all()

        with self._idle:
            self._calling += 1
        try:
            yield leave
        finally:
            leave()

    def yield_to_calls(self) -> None:
        """Wait until no attempt of this process is in its calling phase, or `max_wait` has passed."""
        deadline = time.monotonic() + self._max_wait
        with self._idle:
            while self._calling:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                self._idle.wait(remaining)

    @property
    def in_flight(self) -> int:
        with self._idle:
            return self._calling
