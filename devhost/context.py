"""The invocation context handed to functions that take a ``context`` parameter."""

from __future__ import annotations

import threading

import azure.functions as func
from azure.functions._abc import RetryContext, RpcException, TraceContext


class _TraceContext(TraceContext):
    def __init__(self) -> None:
        self._attributes: dict[str, str] = {}

    @property
    def trace_state(self) -> str:
        return ""

    @property
    def trace_parent(self) -> str:
        return ""

    @property
    def attributes(self) -> dict[str, str]:
        return self._attributes


class _RetryContext(RetryContext):
    @property
    def retry_count(self) -> int:
        return 0

    @property
    def max_retry_count(self) -> int:
        return 0

    @property
    def exception(self) -> RpcException:  # type: ignore[override]
        raise AttributeError("no retry policy is configured, so there is no previous exception")


class InvocationContext(func.Context):
    """A ``func.Context`` for one invocation, with the attributes the Python worker provides."""

    def __init__(self, invocation_id: str, function_name: str, function_directory: str) -> None:
        self._invocation_id = invocation_id
        self._function_name = function_name
        self._function_directory = function_directory
        self._thread_local_storage = threading.local()
        self._trace_context = _TraceContext()
        self._retry_context = _RetryContext()

    @property
    def invocation_id(self) -> str:
        return self._invocation_id

    @property
    def function_name(self) -> str:
        return self._function_name

    @property
    def function_directory(self) -> str:
        return self._function_directory

    @property
    def thread_local_storage(self) -> threading.local:  # type: ignore[override]
        return self._thread_local_storage

    @property
    def trace_context(self) -> TraceContext:
        return self._trace_context

    @property
    def retry_context(self) -> RetryContext:
        return self._retry_context
