"""The ports and knobs every use case receives, built once by the composition root (function_app.py)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from scheduler_core.ports import (
    ActionRunner,
    AttemptClaims,
    CollectionStore,
    DueIndex,
    ExecutionQueue,
    HistoryStore,
    JobStore,
    PoisonQueue,
)
from scheduler_core.service.hot_path import HotPath
from scheduler_core.service.telemetry import NO_TELEMETRY, Telemetry
from scheduler_core.settings import Settings


class Storage(CollectionStore, JobStore, HistoryStore, AttemptClaims, DueIndex, Protocol):
    """All table-backed ports; `adapters.tables.TableStorage` implements them on one account."""


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Services:
    storage: Storage
    queue: ExecutionQueue
    actions: ActionRunner
    settings: Settings
    clock: Callable[[], datetime] = utc_now
    sleep: Callable[[float], None] = field(default=time.sleep)
    poison: PoisonQueue | None = None  # None where nothing reads the poison queue (tests of other parts)
    telemetry: Telemetry = NO_TELEMETRY  # spans and metrics (adapters/telemetry.py); the default records nothing
    hot_path: HotPath = field(default_factory=HotPath)  # calls before bookkeeping (service/hot_path.py)
