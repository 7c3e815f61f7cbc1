"""Daily maintenance: history older than the retention window, or beyond the last N runs of a job, is deleted, and
each collection's job count is checked against its jobs."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta

from scheduler_core.domain.errors import ConcurrencyConflict, JobCollectionNotFound
from scheduler_core.ports import StoredCollection
from scheduler_core.service.context import Services

log = logging.getLogger(__name__)


def prune(services: Services) -> int:
    """Prune every job's history and recount every collection's jobs; returns how many history rows went."""
    settings = services.settings
    older_than = services.clock() - timedelta(days=settings.history_retention_days)
    pruned = 0
    for collection in services.storage.all_collections():
        held = services.storage.all_jobs(collection.ref)
        for job in held:
            pruned += services.storage.prune_history(
                job.ref, older_than=older_than, keep_last=settings.history_max_runs
            )
        _recount(services, collection, len(held))
    return pruned


class _Changed(Exception):
    """The collection row changed since it was read: a job was counted or given back meanwhile."""


def _recount(services: Services, seen: StoredCollection, held: int) -> None:
    """Set the collection's job count to the number of jobs it holds when the two differ.

    They differ after a create or delete whose instance died between the job's row and the collection's count
    (docs/storage.md, crash consistency). Only on the row as read before the jobs were listed: a slot taken or given
    back since is a create or delete in flight, and the count is left alone until the next run. A create whose job
    row was listed but whose slot is taken only after this write counts itself twice; the next run sets it right.
    """
    if seen.job_count == held:
        return

    def recount(current: StoredCollection) -> StoredCollection:
        if current.etag != seen.etag:
            raise _Changed()
        return replace(current, job_count=held, etag=None)

    try:
        services.storage.update_collection(seen.ref, recount, known=seen)
    except (_Changed, ConcurrencyConflict, JobCollectionNotFound):
        return
    log.warning("collection %s counted %d jobs and holds %d: recounted", seen.ref.name, seen.job_count, held)
