"""The planner: each timer tick moves what falls due within the lookahead from the due index onto the queue.

Its cost grows with the occurrences due in its window (one query per minute bucket), not with the jobs stored.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from scheduler_core.ports import Due
from scheduler_core.service.context import Services
from scheduler_core.service.dispatch import Occurrence, enqueue, execution_id

log = logging.getLogger(__name__)

_SENDERS = 8


def tick(services: Services) -> int:
    """`_tick`, timed and counted by the telemetry."""
    with services.telemetry.planner_tick() as span:
        return span.enqueued(_tick(services))


def _tick(services: Services) -> int:
    """Enqueue every indexed occurrence due up to now + lookahead; returns how many were enqueued.

    Entries are removed only after their messages are sent, so a crash in between re-sends them next tick; the
    executor's claim keeps that from acting twice. Sends run concurrently: a tick with thousands due must finish
    well within its period.
    """
    now = services.clock()
    until = now + timedelta(seconds=services.settings.lookahead_seconds)
    due = services.storage.due_until(until)
    if not due:
        return 0

    def send(entry: Due) -> None:
        occurrence = Occurrence(entry.job, entry.due, execution_id(entry.job, entry.due), snapshot=entry.snapshot)
        # The queue counts a message's delay from its send, and a tick with a full window sends for seconds: the
        # delay is reckoned from the clock at this send, not from the tick's start.
        enqueue(services, occurrence, services.clock())

    with ThreadPoolExecutor(max_workers=_SENDERS) as pool:
        list(pool.map(send, due))
    services.storage.remove_due_many([(entry.job, entry.due) for entry in due])
    log.info("planner enqueued %d occurrences due until %s", len(due), until.isoformat())
    return len(due)
