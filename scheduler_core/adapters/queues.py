"""The executions queue on Azure Storage Queues, with base64 messages as the Functions queue trigger expects."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from azure.core.exceptions import ResourceExistsError
from azure.storage.queue import QueueClient

_MAX_VISIBILITY_SECONDS = 7 * 24 * 3600  # the service's limit


class StorageExecutionQueue:
    """`ExecutionQueue` on a storage queue (the client must carry the base64 codec: `clients.queue_client`)."""

    def __init__(self, client: QueueClient) -> None:
        self._client = client

    def create_queue(self) -> None:
        """Create the queue if missing (idempotent; Bicep declares it in Azure)."""
        try:
            self._client.create_queue()
        except ResourceExistsError:
            pass

    def send(self, message: Mapping[str, Any], *, delay_seconds: float) -> None:
        # Visibility is whole seconds. Rounding down keeps a message from ever arriving late because of rounding;
        # the executor waits out the rest, so nothing acts early either.
        delay = min(max(0, math.floor(delay_seconds)), _MAX_VISIBILITY_SECONDS)
        self._client.send_message(json.dumps(message, separators=(",", ":")), visibility_timeout=delay or None)
