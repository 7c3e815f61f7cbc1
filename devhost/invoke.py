"""Call a user function as the Python worker does: await coroutines, run the rest in a thread pool."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
import os
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from devhost.context import InvocationContext
from devhost.loader import Function
from devhost.logs import current_invocation

logger = logging.getLogger("devhost")


def _thread_count() -> int | None:
    value = os.environ.get("PYTHON_THREADPOOL_THREAD_COUNT")
    # Unset means the worker (Python 3.9+) leaves the size to ThreadPoolExecutor's own default.
    return int(value) if value else None


class Invoker:
    """Runs invocations and logs their start, end and failures."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=_thread_count(), thread_name_prefix="devhost-invoke")

    async def invoke(self, function: Function, trigger_value: Any, reason: str) -> Any:
        """Invokes function with its trigger value and, if wanted, a context.

        Args:
            function: The function to run.
            trigger_value: Bound to the trigger's parameter.
            reason: Why it runs, for the log line.

        Returns:
            The function's return value.

        Raises:
            Exception: Whatever the function raised, after logging it with its traceback.
        """
        invocation_id = str(uuid.uuid4())
        kwargs: dict[str, Any] = {function.trigger_arg: trigger_value}
        if function.wants_context:
            kwargs["context"] = InvocationContext(invocation_id, function.name, function.directory)
        token = current_invocation.set((function.name, invocation_id))
        started = time.monotonic()
        try:
            logger.info("Executing 'Functions.%s' (Reason='%s', Id=%s)", function.name, reason, invocation_id)
            if function.is_async:
                result = await function.user_function(**kwargs)
            else:
                call = functools.partial(contextvars.copy_context().run, function.user_function, **kwargs)
                result = await asyncio.get_running_loop().run_in_executor(self._pool, call)
        except Exception:
            logger.exception(
                "Executed 'Functions.%s' (Failed, Id=%s, Duration=%dms)",
                function.name,
                invocation_id,
                (time.monotonic() - started) * 1000,
            )
            raise
        else:
            logger.info(
                "Executed 'Functions.%s' (Succeeded, Id=%s, Duration=%dms)",
                function.name,
                invocation_id,
                (time.monotonic() - started) * 1000,
            )
            return result
        finally:
            current_invocation.reset(token)

    def shutdown(self) -> None:
        """Waits for running sync invocations and releases the thread pool."""
        self._pool.shutdown(wait=True, cancel_futures=True)
