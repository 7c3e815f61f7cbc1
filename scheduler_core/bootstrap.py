"""Wiring: settings -> adapters -> `Services`. Called once by the composition root (function_app.py), and by
benchmarks that need the same wiring with extra client options (a `raw_request_hook` that counts requests)."""

from __future__ import annotations

import logging
from typing import Any

from scheduler_core.adapters.actions import ActionDispatcher
from scheduler_core.adapters.clients import queue_client, table_service
from scheduler_core.adapters.log_redaction import hide_query_values_in_http_client_logs
from scheduler_core.adapters.queues import StorageExecutionQueue, StoragePoisonQueue
from scheduler_core.adapters.secret_box import SecretBox
from scheduler_core.adapters.tables import TableStorage
from scheduler_core.adapters.telemetry import configure as configure_telemetry
from scheduler_core.ports import ActionRunner
from scheduler_core.service.context import Services
from scheduler_core.service.hot_path import HotPath
from scheduler_core.settings import EXECUTIONS_QUEUE, POISON_QUEUE, Settings


def build_services(
    settings: Settings, *, table_options: dict[str, Any] | None = None, queue_options: dict[str, Any] | None = None
) -> Services:
    """Clients, adapters and `Services` for `settings`; creates the tables and the queue if missing.

    Args:
        settings: the environment, read once.
        table_options, queue_options: extra storage client options (e.g. a `raw_request_hook` that counts).
    """
    hide_query_values_in_http_client_logs()  # before the first storage call: a SAS must not reach a DEBUG log
    box = SecretBox(settings.secret_keys, settings.active_secret_key_id)
    if box.problem:  # jobs without secrets still run; jobs with secrets fail with this reason in their history
        logging.getLogger(__name__).error("job secrets unavailable: %s", box.problem)
    storage = TableStorage(
        table_service(settings.storage, **(table_options or {})),
        seal=box.seal_for_storage,
        unseal=box.unseal_for_storage,
    )
    queue = StorageExecutionQueue(queue_client(settings.storage, EXECUTIONS_QUEUE, **(queue_options or {})))
    poison = StoragePoisonQueue(queue_client(settings.storage, POISON_QUEUE, **(queue_options or {})))
    storage.create_tables()
    queue.create_queue()
    poison.create_queue()
    actions: ActionRunner = ActionDispatcher(settings)
    telemetry = configure_telemetry(settings, queue_depth=queue.approximate_depth)
    hot_path = HotPath(max_wait=settings.bookkeeping_wait_seconds)
    if telemetry is None:  # no exporter: the service's no-op default, nothing wrapped
        return Services(
            storage=storage, queue=queue, actions=actions, settings=settings, poison=poison, hot_path=hot_path
        )
    return Services(
        storage=storage, queue=queue, actions=telemetry.traced(actions), settings=settings, poison=poison,
        telemetry=telemetry, hot_path=hot_path,
    )
