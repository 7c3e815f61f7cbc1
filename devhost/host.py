"""Run the app's functions: HTTP through uvicorn, timers and queue listeners as tasks on one event loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from collections.abc import Iterator
from typing import Any

import uvicorn

from devhost.config import HostConfig
from devhost.http import HttpShim
from devhost.invoke import Invoker
from devhost.loader import LoadedApp
from devhost.queues import QueueListener
from devhost.routes import Route, build_routes
from devhost.timers import TimerRunner, schedule_of

logger = logging.getLogger("devhost")
_KEEP_ALIVE_SECONDS = 130


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # The host owns SIGINT/SIGTERM: uvicorn would re-raise them after its shutdown and end the process
        # before the timers, queue listeners and Azurite are stopped.
        yield


def _bind(host: str, port: int) -> socket.socket:
    # IPPROTO_TCP spelled out: asyncio sets TCP_NODELAY only on connections accepted from a socket that names it
    # (`proto` 0 would leave Nagle on, and a response's header and body writes would wait out the client's delayed
    # ACK, 40 ms per request). Kestrel, the Functions host's server, sets NoDelay too.
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise OSError(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
    return sock


def _log_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error("%s stopped unexpectedly", task.get_name(), exc_info=task.exception())


def _http_line(route: Route, base_url: str) -> str:
    methods = ",".join(sorted(route.methods)) if route.methods else "ALL"
    return f"  {route.function.name}: httpTrigger [{methods}] {base_url}{route.template}"


async def _shutdown_asgi_app(app: Any) -> None:
    # AsgiFunctionApp runs the ASGI lifespan startup on this loop at its first request and would otherwise run
    # the shutdown from __del__ at interpreter exit, on a new loop where the lifespan task no longer exists.
    middleware: Any = getattr(app, "middleware", None)
    if getattr(app, "startup_task_done", False) and hasattr(middleware, "notify_shutdown"):
        app.startup_task_done = False
        await middleware.notify_shutdown()


async def serve(loaded: LoadedApp, config: HostConfig, host: str, port: int) -> None:
    """Serves the app's functions until SIGINT or SIGTERM, then stops everything in order.

    Raises:
        ConfigError: A schedule, queue name or connection cannot be resolved.
        OSError: The HTTP port cannot be bound.
    """
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    functions = loaded.functions
    invoker = Invoker()
    routes = build_routes(functions, config.route_prefix)
    # Resolve everything first, so a missing app setting fails startup as on the host.
    timers = [TimerRunner(f, schedule_of(f), invoker) for f in functions if f.trigger_type == "timerTrigger"]
    listeners = [QueueListener(f, config.queues, invoker) for f in functions if f.trigger_type == "queueTrigger"]
    for listener in listeners:
        await asyncio.to_thread(listener.prepare)

    sock = _bind(host, port)
    http_config = uvicorn.Config(
        HttpShim(routes, invoker),
        lifespan="off",
        log_level="warning",
        access_log=False,
        # As the Functions host's Kestrel (130 s), not uvicorn's 5 s: a client that pauses a few seconds between
        # calls would otherwise race the server closing its kept-alive connection (RemoteDisconnected).
        timeout_keep_alive=_KEEP_ALIVE_SECONDS,
    )
    server = _Server(http_config)
    server_task = asyncio.create_task(server.serve(sockets=[sock]), name="HTTP server")
    while not server.started and not server_task.done():
        await asyncio.sleep(0.05)
    if server_task.done():
        server_task.result()
        raise OSError("the HTTP server stopped during startup")

    base_url = f"http://{host}:{sock.getsockname()[1]}"
    print(f"devhost: listening on {base_url}", flush=True)
    for route in routes:
        print(_http_line(route, base_url), flush=True)
    runners: list[TimerRunner | QueueListener] = [*timers, *listeners]
    tasks = []
    for runner in runners:
        print(f"  {runner.description}", flush=True)
        task = asyncio.create_task(runner.run(), name=runner.description)
        task.add_done_callback(_log_crash)
        tasks.append(task)
    print(f"devhost: ready ({len(functions)} functions)", flush=True)

    await stop.wait()
    logger.info("Stopping: timers and queue listeners, then HTTP")
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    server.should_exit = True
    await server_task
    await _shutdown_asgi_app(loaded.app)
    await asyncio.to_thread(invoker.shutdown)
