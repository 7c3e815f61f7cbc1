"""Retry policies as values, and the delay before attempt n as a pure function.

Azure Scheduler knew `None` and `Fixed` (default when `retryPolicy` is absent: 4 retries, 30 s apart). `Exponential`
is this project's extension: `retryInterval` is the first delay, multiplied by `multiplier` each retry, capped at
`maxRetryInterval`, with optional full jitter drawn from an injected random source so tests are deterministic.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum

from scheduler_core.domain.errors import InvalidInput, Problem


class RetryType(str, Enum):
    NONE = "None"
    FIXED = "Fixed"
    EXPONENTIAL = "Exponential"


MIN_INTERVAL = timedelta(seconds=1)  # the old service's 15 s floor is an app setting, enforced by the API
MAX_INTERVAL = timedelta(days=548)  # 18 months, the old service's maximum
MAX_RETRY_COUNT = 20


@dataclass(frozen=True)
class RetryPolicy:
    """How often, and how far apart, a failed action is tried again.

    `count` is the number of retries after the first attempt (so `count=4` means at most 5 attempts).
    """

    retry_type: RetryType = RetryType.FIXED
    interval: timedelta = timedelta(seconds=30)
    count: int = 4
    max_interval: timedelta | None = None
    multiplier: float = 2.0
    jitter: float = 0.0  # 0..1: the fraction of each delay that is randomised

    def __post_init__(self) -> None:
        base = "properties.action.retryPolicy"
        problems: list[Problem] = []
        if self.retry_type is not RetryType.NONE:
            if not MIN_INTERVAL <= self.interval <= MAX_INTERVAL:
                problems.append(Problem(f"{base}.retryInterval", "must be between 1 second and 18 months"))
            if not 0 <= self.count <= MAX_RETRY_COUNT:
                problems.append(Problem(f"{base}.retryCount", f"must be between 0 and {MAX_RETRY_COUNT}"))
        if self.max_interval is not None and self.max_interval < self.interval:
            problems.append(Problem(f"{base}.maxRetryInterval", "must not be shorter than retryInterval"))
        if self.multiplier < 1:
            problems.append(Problem(f"{base}.multiplier", "must be at least 1"))
        if not 0 <= self.jitter <= 1:
            problems.append(Problem(f"{base}.jitter", "must be between 0 and 1"))
        if problems:
            raise InvalidInput(problems)

    @property
    def retries(self) -> int:
        """How many retries follow a failed first attempt."""
        return 0 if self.retry_type is RetryType.NONE else self.count


NO_RETRY = RetryPolicy(RetryType.NONE, count=0)
DEFAULT_RETRY = RetryPolicy()


def retry_delay(
    policy: RetryPolicy, retry: int, uniform: Callable[[float, float], float] = random.uniform
) -> timedelta:
    """The delay before retry number `retry` (1 for the first retry).

    Args:
        policy: the retry policy.
        retry: 1-based retry number; must be <= `policy.retries`.
        uniform: random source `uniform(a, b)`, injected so tests are deterministic.

    Raises:
        ValueError: `retry` is outside 1..policy.retries.
    """
    if not 1 <= retry <= policy.retries:
        raise ValueError(f"retry {retry} is outside 1..{policy.retries}")
    if policy.retry_type is RetryType.FIXED:
        return policy.interval
    # Without a maxRetryInterval, the old service's longest interval caps the growth: 30 s * 10 ** 19 is no delay a
    # timedelta can hold, and the attempt that computes it must not fail.
    cap = (policy.max_interval or MAX_INTERVAL).total_seconds()
    try:
        seconds = min(policy.interval.total_seconds() * policy.multiplier ** (retry - 1), cap)
    except OverflowError:
        seconds = cap
    if policy.jitter:
        seconds -= uniform(0.0, seconds * policy.jitter)
    return timedelta(seconds=seconds)
