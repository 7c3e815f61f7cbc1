"""Queue triggers with the host's ``extensions.queues`` semantics: batches, back-off, retries and poison queue."""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import os
import random
from typing import Any

from azure.core.exceptions import ResourceExistsError
from azure.functions.queue import QueueMessage
from azure.storage.queue import ExponentialRetry, QueueClient

from devhost.config import QueueOptions, resolve_app_settings
from devhost.connections import queue_service
from devhost.invoke import Invoker
from devhost.loader import Function

logger = logging.getLogger("devhost")

MIN_POLLING_INTERVAL = 0.1
# The host receives with a 10-minute visibility timeout and renews it at half-life while the function runs, so a
# message of a crashed instance reappears after at most that long. DEVHOST_QUEUE_LEASE_SECONDS shortens it (tests of
# crash recovery use it to see the redelivery within seconds).
PROCESSING_VISIBILITY_SECONDS = int(os.environ.get("DEVHOST_QUEUE_LEASE_SECONDS", "600"))
# How long shutdown waits for running invocations before giving up on them.
DRAIN_SECONDS = 30.0


def _decode(content: str, encoding: str) -> bytes:
    if encoding == "none":
        return content.encode("utf-8")
    return base64.b64decode(content, validate=True)


class QueueListener:
    """Polls one queue for one function.

    Args:
        function: A queue-triggered function.
        options: host.json ``extensions.queues``.
        invoker: Runs the function.

    Raises:
        ConfigError: The connection or a ``%NAME%`` in the queue name is missing.
    """

    def __init__(self, function: Function, options: QueueOptions, invoker: Invoker) -> None:
        self._function = function
        self._options = options
        self._invoker = invoker
        self.queue_name = resolve_app_settings(function.trigger.queue_name).lower()
        # No encode or decode policy: bodies are decoded here, and poison copies keep the received text as is.
        self._service = queue_service(
            function.trigger.connection,
            retry_policy=ExponentialRetry(initial_backoff=1, increment_base=2, retry_total=3),
        )
        self._queue = self._service.get_queue_client(self.queue_name)

    @property
    def description(self) -> str:
        """The function and its resolved queue, for the startup listing."""
        return f"{self._function.name}: queueTrigger {self.queue_name}"

    def prepare(self) -> None:
        """Creates the queue if it is missing, as the host does when the listener starts."""
        _create_if_missing(self._queue)

    async def run(self) -> None:
        """Polls until cancelled, then waits (bounded) for the invocations still running."""
        in_flight: set[asyncio.Task[None]] = set()
        interval = MIN_POLLING_INTERVAL
        try:
            while True:
                if len(in_flight) > self._options.new_batch_threshold:
                    await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
                    continue
                messages = await self._receive()
                for message in messages:
                    task = asyncio.create_task(self._process(message))
                    in_flight.add(task)
                    task.add_done_callback(in_flight.discard)
                if messages:
                    interval = MIN_POLLING_INTERVAL
                    continue
                await asyncio.sleep(interval)
                # Exponential back-off with jitter while the queue stays empty, as the host's polling strategy.
                interval = min(interval * 2 * random.uniform(0.8, 1.2), self._options.max_polling_interval)
                interval = max(interval, MIN_POLLING_INTERVAL)
        finally:
            if in_flight:
                await asyncio.wait(in_flight, timeout=DRAIN_SECONDS)

    async def _receive(self) -> list[Any]:
        try:
            return await asyncio.to_thread(self._receive_batch)
        except Exception:
            logger.warning("Receiving from queue '%s' failed", self.queue_name, exc_info=True)
            return []

    def _receive_batch(self) -> list[Any]:
        pages = self._queue.receive_messages(
            messages_per_page=self._options.batch_size, visibility_timeout=PROCESSING_VISIBILITY_SECONDS, **_UNTRACED
        ).by_page()
        return list(next(pages, []))

    async def _process(self, message: Any) -> None:
        try:
            done = asyncio.Event()
            lease = asyncio.create_task(self._keep_leased(message, done))
            try:
                succeeded = await self._invoke(message)
            finally:
                done.set()
                await lease  # a renewal under way finishes first: settling needs its new pop receipt
            await asyncio.to_thread(self._settle, message, succeeded)
        except Exception:
            logger.exception("Settling message %s of queue '%s' failed", message.id, self.queue_name)

    async def _keep_leased(self, message: Any, done: asyncio.Event) -> None:
        """Renews the message's invisibility at half-life until the invocation ends, as the host does."""
        while True:
            try:
                await asyncio.wait_for(done.wait(), timeout=PROCESSING_VISIBILITY_SECONDS / 2)
                return
            except TimeoutError:
                pass
            try:
                receipt = await asyncio.to_thread(
                    self._queue.update_message,
                    message.id,
                    pop_receipt=message.pop_receipt,
                    visibility_timeout=PROCESSING_VISIBILITY_SECONDS,
                    **_UNTRACED,
                )
                message.pop_receipt = receipt.pop_receipt
            except Exception:
                logger.warning("Renewing message %s of queue '%s' failed", message.id, self.queue_name, exc_info=True)
                return

    async def _invoke(self, message: Any) -> bool:
        if message.dequeue_count > self._options.max_dequeue_count:
            return False  # Already past the limit (an earlier run stopped mid-way): straight to poison.
        try:
            body = _decode(message.content or "", self._options.message_encoding)
        except (binascii.Error, ValueError):
            logger.error(
                "Message %s of queue '%s' is not valid %s (see host.json extensions.queues.messageEncoding)",
                message.id,
                self.queue_name,
                self._options.message_encoding,
            )
            return False
        trigger_value = QueueMessage(
            id=message.id,
            body=body,
            dequeue_count=message.dequeue_count,
            expiration_time=message.expires_on,
            insertion_time=message.inserted_on,
            time_next_visible=message.next_visible_on,
            pop_receipt=message.pop_receipt,
        )
        reason = f"New queue message detected on '{self.queue_name}'."
        try:
            await self._invoker.invoke(self._function, trigger_value, reason=reason)
        except Exception:  # Logged by the invoker.
            return False
        return True

    def _settle(self, message: Any, succeeded: bool) -> None:
        if succeeded:
            self._queue.delete_message(message.id, message.pop_receipt, **_UNTRACED)
        elif message.dequeue_count >= self._options.max_dequeue_count:
            self._move_to_poison(message)
        else:
            # Only id and pop receipt: the message's content stays exactly as it was sent.
            self._queue.update_message(
                message.id,
                pop_receipt=message.pop_receipt,
                visibility_timeout=int(self._options.visibility_timeout),
                **_UNTRACED,
            )

    def _move_to_poison(self, message: Any) -> None:
        poison_name = f"{self.queue_name}-poison"
        logger.warning(
            "Message %s has reached MaxDequeueCount of %d. Moving message to queue '%s'.",
            message.id,
            self._options.max_dequeue_count,
            poison_name,
        )
        poison = self._service.get_queue_client(poison_name)
        _create_if_missing(poison)
        poison.send_message(message.content)
        self._queue.delete_message(message.id, message.pop_receipt)


# The listener's storage calls are the host's work, not the app's: the real host makes them in its own process, so
# they stay out of the app's OpenTelemetry traces (the app enables Azure SDK tracing process-wide when it exports).
_UNTRACED: dict[str, Any] = {"tracing_options": {"enabled": False}}


def _create_if_missing(queue: QueueClient) -> None:
    try:
        queue.create_queue()
    except ResourceExistsError:
        pass
