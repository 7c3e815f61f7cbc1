"""Storage that cannot be reached becomes `StorageUnavailable` at the adapter boundary (503 with Retry-After).

azure-core raises `ServiceRequestError` when no connection could be made, `ServiceResponseError` when one broke
mid-answer, and `HttpResponseError` with status 503/500 when the service itself is busy or failing; after its own
retries, any of these means "try again later", which ARM clients do on a 503.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from azure.core.exceptions import HttpResponseError, ServiceRequestError, ServiceResponseError

from scheduler_core.domain.errors import StorageUnavailable

T = TypeVar("T")


def _unavailable(exc: BaseException) -> bool:
    if isinstance(exc, ServiceRequestError | ServiceResponseError):
        return True
    return isinstance(exc, HttpResponseError) and exc.status_code in (500, 503)


def translates_unavailable(cls: type[T]) -> type[T]:
    """Class decorator: every public method raises StorageUnavailable instead of azure-core's transport errors."""
    for name, member in list(vars(cls).items()):
        if name.startswith("_") or not inspect.isfunction(member):
            continue
        setattr(cls, name, _translating(member))
    return cls


def _translating(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except (ServiceRequestError, ServiceResponseError, HttpResponseError) as exc:
            if _unavailable(exc):
                raise StorageUnavailable(f"storage unreachable: {type(exc).__name__}") from exc
            raise

    return wrapper
