"""Retry policies: the old service's defaults, Fixed spacing, and the Exponential extension with injected jitter."""

from __future__ import annotations

from datetime import timedelta

import pytest

from scheduler_core.domain.errors import InvalidInput
from scheduler_core.domain.retry import DEFAULT_RETRY, RetryPolicy, RetryType, retry_delay
from scheduler_core.wire import retry_policy_from_wire


def test_absent_policy_means_four_retries_thirty_seconds_apart() -> None:
    policy = retry_policy_from_wire(None)
    assert policy == DEFAULT_RETRY
    assert policy.retries == 4
    assert [retry_delay(policy, n) for n in range(1, 5)] == [timedelta(seconds=30)] * 4


def test_none_policy_never_retries() -> None:
    policy = retry_policy_from_wire({"retryType": "None"})
    assert policy.retries == 0
    with pytest.raises(ValueError):
        retry_delay(policy, 1)


def test_fixed_policy_takes_defaults_for_missing_fields() -> None:
    assert retry_policy_from_wire({"retryType": "Fixed", "retryCount": 2}).interval == timedelta(seconds=30)
    assert retry_policy_from_wire({"retryType": "Fixed", "retryInterval": "PT1M"}).count == 4


def test_exponential_doubles_and_caps_at_the_maximum() -> None:
    policy = RetryPolicy(RetryType.EXPONENTIAL, timedelta(seconds=10), 5, max_interval=timedelta(seconds=60))
    assert [retry_delay(policy, n).total_seconds() for n in range(1, 6)] == [10, 20, 40, 60, 60]


def test_jitter_only_shortens_and_is_deterministic_with_an_injected_source() -> None:
    policy = RetryPolicy(RetryType.EXPONENTIAL, timedelta(seconds=10), 3, multiplier=3, jitter=0.5)
    assert retry_delay(policy, 2, uniform=lambda low, high: high).total_seconds() == 15  # 30 minus half
    assert retry_delay(policy, 2, uniform=lambda low, high: low).total_seconds() == 30


@pytest.mark.parametrize(
    ("fields", "path"),
    [
        ({"retry_type": RetryType.FIXED, "count": 21}, "properties.action.retryPolicy.retryCount"),
        (
            {"retry_type": RetryType.FIXED, "interval": timedelta(days=600)},
            "properties.action.retryPolicy.retryInterval",
        ),
        ({"retry_type": RetryType.EXPONENTIAL, "multiplier": 0.5}, "properties.action.retryPolicy.multiplier"),
        ({"retry_type": RetryType.EXPONENTIAL, "jitter": 2}, "properties.action.retryPolicy.jitter"),
    ],
)
def test_invalid_policies_name_the_field(fields: dict, path: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        RetryPolicy(**fields)
    assert [p.path for p in caught.value.problems] == [path]


@pytest.mark.parametrize(("multiplier", "max_interval"), [(10.0, None), (1e300, None), (1e300, timedelta(hours=1))])
def test_exponential_growth_past_what_a_delay_can_hold_is_capped_not_an_error(
    multiplier: float, max_interval: timedelta | None
) -> None:
    # 30 s * 10 ** 19 overflowed inside the executor, after the failed attempt had been recorded.
    policy = RetryPolicy(RetryType.EXPONENTIAL, timedelta(seconds=30), 20, max_interval, multiplier)
    assert retry_delay(policy, 20) == (max_interval or timedelta(days=548))
    assert retry_delay(policy, 1) == timedelta(seconds=30)
