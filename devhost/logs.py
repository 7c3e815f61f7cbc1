"""Logging to stderr, tagging each record with the function and invocation it belongs to."""

from __future__ import annotations

import contextvars
import logging
import sys

# (function name, invocation id) of the invocation running in the current task or worker thread.
current_invocation: contextvars.ContextVar[tuple[str, str] | None] = contextvars.ContextVar(
    "devhost_invocation", default=None
)


class _InvocationFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        current = current_invocation.get()
        record.invocation = f" [{current[0]} {current[1]}]" if current else ""
        return True


def configure_logging(level: int = logging.INFO) -> None:
    """Sends all log records (devhost's and the app's) to stderr with the invocation they belong to."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_InvocationFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s%(invocation)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Every storage request at INFO would drown the app's own logs.
    logging.getLogger("azure").setLevel(logging.WARNING)
