"""What parsing a stored job row into typed values costs: `json.loads` of the row's `Definition` (the baseline,
measured in the same run) against `json.loads` + `scheduler_core.wire.definition_from_wire` (action, payload,
authentication, retry policy, error action, recurrence), for a few kinds of job.

Run with `python -m bench.parse`. Prints microseconds per row and the ratio to the baseline. No figure is asserted.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from scheduler_core.wire import definition_from_wire

#: Each measurement takes the best of this many rounds of `CALLS` calls (the machine is shared).
ROUNDS, CALLS = 5, 20_000

_RETRY = {"retryType": "Fixed", "retryInterval": "PT30S", "retryCount": 2}
JOBS: dict[str, dict[str, Any]] = {
    "Http, Basic, retry, StorageQueue errorAction": {
        "startTime": "2030-01-01T00:00:00Z", "recurrence": {"frequency": "Minute", "interval": 5},
        "action": {"type": "Http", "retryPolicy": _RETRY,
                   "request": {"uri": "https://example.org/hook", "method": "POST", "headers": {"a": "b"}, "body": "{}",
                               "authentication": {"type": "Basic", "username": "u"}},
                   "errorAction": {"type": "StorageQueue",
                                   "queueMessage": {"storageAccount": "a", "queueName": "q", "message": "m"}}},
    },
    "ServiceBusTopic, brokered properties, cron": {
        "recurrence": {"cron": "*/5 * * * *"},
        "action": {"type": "ServiceBusTopic", "serviceBusTopicMessage": {
            "namespace": "sb", "topicPath": "t", "message": "m", "authentication": {"sasKeyName": "send"},
            "brokeredMessageProperties": {"label": "l", "timeToLive": "PT1H", "messageId": "x"},
            "customMessageProperties": {"app": "bench"}}},
    },
    "Http one-time, nothing else": {
        "startTime": "2030-01-01T00:00:00Z", "action": {"type": "Http", "request": {"uri": "https://example.org/"}},
    },
}


def _best(call: Callable[[], Any]) -> float:
    """Seconds per call: the best of ROUNDS rounds."""
    best = float("inf")
    for _ in range(ROUNDS):
        started = time.perf_counter()
        for _ in range(CALLS):
            call()
        best = min(best, time.perf_counter() - started)
    return best / CALLS


def main() -> None:
    print(f"stored job row -> typed definition, best of {ROUNDS} x {CALLS:,} calls")
    for name, job in JOBS.items():
        text = json.dumps(job)
        baseline = _best(lambda text=text: json.loads(text))
        typed = _best(lambda text=text: definition_from_wire(json.loads(text)))
        print(f"  {name}: {typed * 1e6:.1f} us per row (json.loads alone {baseline * 1e6:.1f} us, "
              f"ratio {typed / baseline:.1f}x)")


if __name__ == "__main__":
    main()
