"""The planner: each timer tick moves what falls due within the lookahead from the due index onto the queue.

Its cost grows with the occurrences due in its window (one query per minute bucket), not with the jobs stored.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from scheduler_core.service.context import Services
from scheduler_core.service.dispatch import Occurrence, enqueue, execution_id

log = logging.getLogger(__name__)


def tick(services: Services) -> int:
    """Enqueue every indexed occurrence due up to now + lookahead; returns how many were enqueued.

    An entry is removed only after its message is sent, so a crash in between re-sends it next tick; the executor's
    claim keeps that from acting twice.
    """
    now = services.clock()
    until = now + timedelta(seconds=services.settings.lookahead_seconds)
    due = services.storage.due_until(until)
    for job, when in due:
        enqueue(services, Occurrence(job, when, execution_id(job, when)), now)
        services.storage.remove_due(job, when)
    if due:
        log.info("planner enqueued %d occurrences due until %s", len(due), until.isoformat())
    return len(due)
