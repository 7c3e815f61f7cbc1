"""A `requests` transport that connects only to addresses the target guard allowed, resolved once.

urllib3 resolves the host inside `HTTPConnection._new_conn`. The connection classes here replace that step: the
guard resolves the name and checks every address (`TargetGuard.addresses`), and the socket connects to one of
those very addresses. Host header, SNI and certificate verification still use the name. Connections are pooled per
host as usual, each one checked when it was opened.

With an outbound proxy configured (HTTPS_PROXY and the like) the socket goes to the proxy, which resolves the target
itself; then only the check before the request (`TargetGuard.check_url`) applies.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import socket
import ssl
import threading
import time
from collections.abc import Callable
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import NewConnectionError
from urllib3.util import connection

from scheduler_core.adapters.target_guard import TargetGuard, TargetRefused


class TargetRefusedError(NewConnectionError):
    """The guard refused the connection (a `requests.ConnectionError` for the caller; `refused` says why)."""

    def __init__(self, conn: HTTPConnection, refused: TargetRefused) -> None:
        self.refused = refused
        super().__init__(conn, str(refused))


def _guarded_connection(base: type[HTTPConnection], guard: TargetGuard) -> type[HTTPConnection]:
    class Guarded(base):  # type: ignore[misc, valid-type]
        def _new_conn(self) -> socket.socket:
            try:
                addresses = guard.addresses(self._dns_host.rstrip("."))
            except TargetRefused as exc:
                raise TargetRefusedError(self, exc) from None
            last: OSError | None = None
            for address in addresses:
                try:
                    return connection.create_connection(
                        (str(address), self.port),
                        self.timeout,
                        source_address=self.source_address,
                        socket_options=self.socket_options,
                    )
                except OSError as exc:
                    last = exc
            raise NewConnectionError(self, f"Failed to establish a new connection: {last}")

    Guarded.__name__ = f"Guarded{base.__name__}"
    return Guarded


class GuardedAdapter(HTTPAdapter):
    """An HTTPAdapter whose connections pass through `guard`; optionally presenting a client certificate.

    Args:
        guard: decides which addresses may be connected to.
        ssl_context: a TLS context (one that presents a client certificate), or None for the default.
        **kwargs: HTTPAdapter's own (pool_maxsize, ...).
    """

    def __init__(self, guard: TargetGuard, ssl_context: ssl.SSLContext | None = None, **kwargs: Any) -> None:
        self._guard = guard
        self._context = ssl_context
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        if self._context is not None:
            kwargs["ssl_context"] = self._context
        super().init_poolmanager(*args, **kwargs)
        http = type("GuardedHTTPPool", (_attaching_pool(HTTPConnectionPool),), {
            "ConnectionCls": _guarded_connection(HTTPConnection, self._guard)})
        https = type("GuardedHTTPSPool", (_attaching_pool(HTTPSConnectionPool),), {
            "ConnectionCls": _guarded_connection(HTTPSConnection, self._guard)})
        self.poolmanager.pool_classes_by_scheme = {"http": http, "https": https}


# ---- a total deadline per attempt ----------------------------------------------------------------------------------
# A target that answers one byte every few seconds never trips a per-read timeout. Each attempt therefore registers a
# deadline; the connections its thread takes from a pool are attached to it, and one watchdog thread shuts their
# sockets down when it passes. The caller then reports a timeout whatever the half-read response looked like.

_current = threading.local()


class Deadline:
    """The end of one attempt's time: `with Deadline(seconds) as deadline:` around the request and the body read."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self.at = clock() + seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._connections: list[HTTPConnection] = []
        self._finished = False
        self.expired = False

    def remaining(self) -> float:
        """Seconds left, never below a small positive floor (urllib3 refuses a zero timeout)."""
        return max(self.at - self._clock(), 0.001)

    def attach(self, conn: HTTPConnection) -> None:
        with self._lock:
            self._connections.append(conn)

    def expire(self) -> None:
        """Called by the watchdog: shut the attached sockets down, so any blocked read returns at once."""
        with self._lock:
            if self._finished:
                return
            self.expired = True
            sockets = [c.sock for c in self._connections if c.sock is not None]
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> Deadline:
        _current.deadline = self
        _WATCHDOG.add(self)
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._finished = True
        _current.deadline = None


class _Watchdog:
    """One daemon thread for every attempt's deadline (a timer thread per attempt would double the threads)."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Deadline]] = []
        self._cv = threading.Condition()
        self._thread: threading.Thread | None = None
        self._seq = itertools.count()

    def add(self, deadline: Deadline) -> None:
        with self._cv:
            heapq.heappush(self._heap, (deadline.at, next(self._seq), deadline))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="attempt-deadlines", daemon=True)
                self._thread.start()
            self._cv.notify()

    def _run(self) -> None:
        while True:
            with self._cv:
                while not self._heap:
                    self._cv.wait()
                at, _, deadline = self._heap[0]
                wait = at - time.monotonic()
                if wait > 0:
                    self._cv.wait(wait)
                    continue
                heapq.heappop(self._heap)
            deadline.expire()


_WATCHDOG = _Watchdog()


def _attaching_pool(base: type[HTTPConnectionPool]) -> type[HTTPConnectionPool]:
    class Pool(base):  # type: ignore[misc, valid-type]
        def _get_conn(self, timeout: float | None = None) -> Any:
            conn = super()._get_conn(timeout)
            deadline = getattr(_current, "deadline", None)
            if deadline is not None:
                deadline.attach(conn)
            return conn

    return Pool
