"""The executions queue and its poison queue on Azure Storage Queues, with base64 messages as the Functions queue
trigger expects."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.storage.queue import QueueClient

from scheduler_core.adapters import messages
from scheduler_core.adapters.unavailable import translates_unavailable
from scheduler_core.ports import Occurrence, Poisoned

_MAX_VISIBILITY_SECONDS = 7 * 24 * 3600  # the service's limit
_POISON_LEASE_SECONDS = 300


def create_queue(client: QueueClient) -> None:
    """Create the queue if missing (idempotent; Bicep declares it in Azure)."""
    try:
        client.create_queue()
    except ResourceExistsError:
        pass


@translates_unavailable
class StorageExecutionQueue:
    """`ExecutionQueue` on a storage queue (the client must carry the base64 codec: `clients.queue_client`)."""

    def __init__(self, client: QueueClient) -> None:
        self._client = client

    def create_queue(self) -> None:
        create_queue(self._client)

    def send(self, occurrence: Occurrence, *, delay_seconds: float) -> None:
        # Visibility is whole seconds. Rounding down keeps a message from ever arriving late because of rounding;
        # the executor waits out the rest, so nothing acts early either.
        delay = min(max(0, math.floor(delay_seconds)), _MAX_VISIBILITY_SECONDS)
        body = json.dumps(messages.encode(occurrence), separators=(",", ":"))
        self._client.send_message(body, visibility_timeout=delay or None)

    def approximate_depth(self) -> int:
        """Messages in the queue, visible or not, as the service estimates them (for the queue-depth metric)."""
        return int(self._client.get_queue_properties().approximate_message_count or 0)


@translates_unavailable
class StoragePoisonQueue:
    """`PoisonQueue` on the storage queue where the host moves messages after `maxDequeueCount` failures."""

    def __init__(self, client: QueueClient) -> None:
        self._client = client

    def create_queue(self) -> None:
        create_queue(self._client)

    def take(self, limit: int) -> list[Poisoned]:
        pages = self._client.receive_messages(
            messages_per_page=min(limit, 32), max_messages=limit, visibility_timeout=_POISON_LEASE_SECONDS
        )
        return [Poisoned(m.id, messages.decode_or_none(_json_or_none(m.content)), (m.id, m.pop_receipt)) for m in pages]

    def remove(self, message: Poisoned) -> None:
        try:
            self._client.delete_message(*message.receipt)
        except ResourceNotFoundError:
            pass


def _json_or_none(content: str) -> Mapping[str, Any] | None:
    try:
        body = json.loads(content)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None
