"""Composition root: builds settings and clients once, registers the triggers. No logic lives here.

- HTTP: the FastAPI app (Azure Scheduler 2016-03-01 REST API) through `func.AsgiFunctionApp`, routePrefix "".
- Timer `planner`: every tick moves occurrences due within the lookahead from the due index onto the queue.
- Queue `executor`: runs one attempt of one occurrence.
- Timer `poison_sweep` (the planner's schedule): records what reached the poison queue as faulted occurrences.
- Timer `maintenance`: prunes history beyond the retention settings and recounts each collection's jobs.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from functools import cache

import azure.functions as func

from scheduler_core.adapters import messages
from scheduler_core.adapters.telemetry import instrument_api
from scheduler_core.api.app import create_app
from scheduler_core.bootstrap import build_services
from scheduler_core.service import executor, maintenance, planner
from scheduler_core.service.context import Services
from scheduler_core.settings import (
    CONCURRENT_ATTEMPTS,
    EXECUTIONS_QUEUE,
    MAINTENANCE_SCHEDULE_SETTING,
    STORAGE_CONNECTION,
    TICK_SCHEDULE_SETTING,
    Settings,
)


@cache
def services() -> Services:
    return build_services(Settings.from_env())


api = create_app(services)
instrument_api(api, Settings.from_env().telemetry)  # request spans and metrics, when an exporter is configured
app = func.AsgiFunctionApp(app=api, http_auth_level=func.AuthLevel.ANONYMOUS)


@app.timer_trigger(arg_name="timer", schedule=f"%{TICK_SCHEDULE_SETTING}%", run_on_startup=True)
def planner_tick(timer: func.TimerRequest) -> None:
    planner.tick(services())


# Attempts block on storage and on their target; they get threads of their own, one per message the host may hand
# over at once, rather than the event loop's small default pool that the host's own I/O shares. Occurrences due at
# one instant then claim together, and their job-row writes share transactions (adapters/group_commit.py).
_attempt_threads = ThreadPoolExecutor(max_workers=CONCURRENT_ATTEMPTS, thread_name_prefix="attempt")


@app.queue_trigger(arg_name="message", queue_name=EXECUTIONS_QUEUE, connection=STORAGE_CONNECTION)
async def executor_run(message: func.QueueMessage) -> None:
    # Parsed once, here at the edge (adapters/messages.py); a body it cannot read fails the invocation, so the host
    # retries it and then moves it to the poison queue, where the sweep records it.
    occurrence, loop = messages.decode(json.loads(message.get_body())), asyncio.get_running_loop()
    # Each step runs in the invocation's context, so that its spans are children of the host's invocation (one trace).
    run_in_context = contextvars.copy_context().run
    prepare = functools.partial(run_in_context, executor.prepare, services(), occurrence, str(message.id))
    prepared = await loop.run_in_executor(_attempt_threads, prepare)
    if prepared is not None:  # the claim, as a lease ahead of the instant (executor.claim_ahead)
        await asyncio.sleep(executor.seconds_until_claim(services(), prepared))  # on the event loop, not a thread
        claim = functools.partial(contextvars.copy_context().run, executor.claim_ahead, services(), prepared)
        prepared = await loop.run_in_executor(_attempt_threads, claim)
    if prepared is not None:
        await asyncio.sleep(executor.seconds_until(services(), prepared))
        perform = functools.partial(contextvars.copy_context().run, executor.perform, services(), prepared)
        await loop.run_in_executor(_attempt_threads, perform)


@app.timer_trigger(arg_name="timer", schedule=f"%{TICK_SCHEDULE_SETTING}%")
def poison_sweep(timer: func.TimerRequest) -> None:
    executor.sweep_poisoned(services())


@app.timer_trigger(arg_name="timer", schedule=f"%{MAINTENANCE_SCHEDULE_SETTING}%", run_on_startup=False)
def maintenance_prune(timer: func.TimerRequest) -> None:
    pruned = maintenance.prune(services())
    logging.getLogger(__name__).info("maintenance pruned %d history rows", pruned)
