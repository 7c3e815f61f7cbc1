"""Composition root: builds settings and clients once, registers the triggers. No logic lives here.

- HTTP: the FastAPI app (Azure Scheduler 2016-03-01 REST API) through `func.AsgiFunctionApp`, routePrefix "".
- Timer `planner`: every tick moves occurrences due within the lookahead from the due index onto the queue.
- Queue `executor`: runs one attempt of one occurrence; `executor_poisoned` records what reached the poison queue.
- Timer `maintenance`: prunes history beyond the retention settings.
"""

from __future__ import annotations

import json
import logging
from functools import cache

import azure.functions as func

from scheduler_core.adapters.actions import ActionDispatcher
from scheduler_core.adapters.clients import queue_client, table_service
from scheduler_core.adapters.queues import StorageExecutionQueue
from scheduler_core.adapters.secret_box import SecretBox
from scheduler_core.adapters.tables import TableStorage
from scheduler_core.api.app import create_app
from scheduler_core.service import executor, maintenance, planner
from scheduler_core.service.context import Services
from scheduler_core.settings import (
    EXECUTIONS_QUEUE,
    MAINTENANCE_SCHEDULE_SETTING,
    STORAGE_CONNECTION,
    TICK_SCHEDULE_SETTING,
    Settings,
)


@cache
def services() -> Services:
    settings = Settings.from_env()
    box = SecretBox(settings.secret_keys, settings.active_secret_key_id)
    if box.problem:  # jobs without secrets still run; jobs with secrets fail with this reason in their history
        logging.getLogger(__name__).error("job secrets unavailable: %s", box.problem)
    storage = TableStorage(table_service(settings.storage), seal=box.seal_for_storage, unseal=box.unseal_for_storage)
    queue = StorageExecutionQueue(queue_client(settings.storage, EXECUTIONS_QUEUE))
    storage.create_tables()
    queue.create_queue()
    return Services(storage=storage, queue=queue, actions=ActionDispatcher(settings), settings=settings)


app = func.AsgiFunctionApp(app=create_app(services), http_auth_level=func.AuthLevel.ANONYMOUS)


@app.timer_trigger(arg_name="timer", schedule=f"%{TICK_SCHEDULE_SETTING}%", run_on_startup=True)
def planner_tick(timer: func.TimerRequest) -> None:
    planner.tick(services())


@app.queue_trigger(arg_name="message", queue_name=EXECUTIONS_QUEUE, connection=STORAGE_CONNECTION)
def executor_run(message: func.QueueMessage) -> None:
    executor.execute(services(), json.loads(message.get_body()), token=message.id)


@app.queue_trigger(arg_name="message", queue_name=f"{EXECUTIONS_QUEUE}-poison", connection=STORAGE_CONNECTION)
def executor_poisoned(message: func.QueueMessage) -> None:
    executor.record_poisoned(services(), json.loads(message.get_body()))


@app.timer_trigger(arg_name="timer", schedule=f"%{MAINTENANCE_SCHEDULE_SETTING}%", run_on_startup=False)
def maintenance_prune(timer: func.TimerRequest) -> None:
    pruned = maintenance.prune(services())
    logging.getLogger(__name__).info("maintenance pruned %d history rows", pruned)
