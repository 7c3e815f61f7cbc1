"""Daily maintenance: history older than the retention window, or beyond the last N runs of a job, is deleted."""

from __future__ import annotations

from datetime import timedelta

from scheduler_core.service.context import Services


def prune(services: Services) -> int:
    """Prune every job's history; returns how many rows went."""
    settings = services.settings
    older_than = services.clock() - timedelta(days=settings.history_retention_days)
    pruned = 0
    for collection in services.storage.all_collections():
        for job in services.storage.all_jobs(collection.ref):
            pruned += services.storage.prune_history(
                job.ref, older_than=older_than, keep_last=settings.history_max_runs
            )
    return pruned
