"""Timer triggers: NCRONTAB (seconds first) or TimeSpan schedules, one invocation at a time per function."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from azure.functions.timer import TimerRequest
from croniter import croniter

from devhost.config import ConfigError, parse_timespan, resolve_app_settings
from devhost.invoke import Invoker
from devhost.loader import Function

logger = logging.getLogger("devhost")

# The host reports an invocation as past due when it starts this much after its scheduled time.
PAST_DUE_AFTER = timedelta(seconds=1)


class Schedule:
    """A timer schedule: a 6-field NCRONTAB expression in UTC, or a TimeSpan interval (``hh:mm:ss``).

    Args:
        expression: The schedule with ``%NAME%`` app settings already resolved.

    Raises:
        ConfigError: The expression is neither NCRONTAB nor a TimeSpan.
    """

    def __init__(self, expression: str) -> None:
        self.expression = expression
        self._interval: timedelta | None = None
        if ":" in expression:
            self._interval = timedelta(seconds=parse_timespan(expression))
            if self._interval <= timedelta(0):
                raise ConfigError(f"timer interval must be positive: {expression!r}")
        elif not croniter.is_valid(expression, second_at_beginning=True):
            raise ConfigError(f"invalid NCRONTAB expression: {expression!r}")

    def next_after(self, instant: datetime) -> datetime:
        """Returns the first occurrence strictly after instant (timezone-aware, UTC)."""
        if self._interval is not None:
            return instant + self._interval
        return croniter(self.expression, instant, second_at_beginning=True).get_next(datetime)


def schedule_of(function: Function) -> Schedule:
    """Resolves and validates a timer function's schedule, as the host does at startup.

    Raises:
        ConfigError: A referenced app setting is missing or the schedule is invalid.
    """
    try:
        return Schedule(resolve_app_settings(function.trigger.schedule))
    except ConfigError as exc:
        raise ConfigError(f"function {function.name!r}: {exc}") from exc


class TimerRunner:
    """Fires one timer function on its schedule.

    Invocations are awaited one after another, so the same function never runs twice at once (the host's
    singleton lock, here within one devhost process). Occurrences missed while an invocation ran are skipped.

    Args:
        function: A timer-triggered function.
        schedule: Its resolved schedule.
        invoker: Runs the function.
    """

    def __init__(self, function: Function, schedule: Schedule, invoker: Invoker) -> None:
        self._function = function
        self._schedule = schedule
        self._invoker = invoker

    @property
    def description(self) -> str:
        """The function and its resolved schedule, for the startup listing."""
        return f"{self._function.name}: timerTrigger {self._schedule.expression}"

    async def run(self) -> None:
        """Runs until cancelled."""
        if self._function.trigger.run_on_startup:
            await self._fire(datetime.now(UTC), past_due=False)
        due = self._schedule.next_after(datetime.now(UTC))
        while True:
            # The loop's clock and the wall clock drift apart, so sleep until the wall clock has passed the due time.
            while (remaining := (due - datetime.now(UTC)).total_seconds()) > 0:
                await asyncio.sleep(remaining)
            started = datetime.now(UTC)
            await self._fire(due, past_due=started - due > PAST_DUE_AFTER)
            due = self._schedule.next_after(max(due, datetime.now(UTC)))

    async def _fire(self, due: datetime, past_due: bool) -> None:
        status = {"Last": due.isoformat(), "Next": self._schedule.next_after(due).isoformat()}
        request = TimerRequest(past_due=past_due, schedule_status=status, schedule={"AdjustForDST": True})
        try:
            await self._invoker.invoke(self._function, request, reason=f"Timer fired at {due.isoformat()}")
        except Exception:  # Logged by the invoker; a failed run does not stop the schedule.
            pass
