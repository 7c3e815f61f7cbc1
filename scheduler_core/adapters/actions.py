"""Routes an action to the runner for its type."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scheduler_core.adapters.http_action import HttpActionRunner
from scheduler_core.ports import ActionRunner, Outcome
from scheduler_core.settings import Settings


class ActionDispatcher:
    """`ActionRunner` for every action type the settings allow."""

    def __init__(self, settings: Settings) -> None:
        http = HttpActionRunner(
            timeout_seconds=settings.http_timeout_seconds, snippet_bytes=settings.history_snippet_bytes
        )
        self._runners: dict[str, ActionRunner] = {"Http": http, "Https": http}

    def run(self, action: Mapping[str, Any], secrets: Mapping[str, str], headers: Mapping[str, str]) -> Outcome:
        runner = self._runners.get(action.get("type", ""))
        if runner is None:
            return Outcome(False, f"Actions of type {action.get('type')} cannot be executed by this deployment.")
        return runner.run(action, secrets, headers)
