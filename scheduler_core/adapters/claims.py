"""The claim of a scheduled first attempt, kept in its job row: shared by every storage adapter.

A scheduled first attempt is claimed by the write that moves its job's schedule on (`AttemptClaims.claim` with
`advance`): one ETag-guarded write of the job row is the claim, the check that the job still expects the occurrence,
and the move to the next occurrence, so the hot path costs one write. The row remembers the claims of its recent
scheduled occurrences (`StoredJob.dispatched`: due time and message), enough to tell the winner's redelivery after a
crash from a duplicate message. An older occurrence cannot be claimed anyway: `advance` refuses any occurrence other
than the job's next one.

Retries, error actions, run-now and postponed occurrences have no write of the job row to ride on: the adapters keep
their claims as rows of their own (adapters/tables.py: `D|...` rows in the job's history partition).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from scheduler_core.domain.job import JobHistoryActionName
from scheduler_core.ports import Attempt, Claim, Claimed, JobStore, StoredJob

#: How many recent scheduled occurrences a job row remembers the claims of: enough to recognise a redelivery of a
#: crashed instance's message after its lease expired, while later occurrences were dispatched meanwhile.
DISPATCHES_KEPT = 16


def claim_by_advance(
    jobs: JobStore,
    attempt: Attempt,
    token: str,
    advance: Callable[[StoredJob], StoredJob],
    current: StoredJob | None,
) -> Claimed:
    """Claim the scheduled first attempt `attempt` for `token` in the guarded write that applies `advance` to its
    job (see `AttemptClaims.claim`). Raises JobNotFound, ConcurrencyConflict (the row kept changing), or what
    `advance` raises."""
    if attempt.action is not JobHistoryActionName.MAIN_ACTION or attempt.retry:
        raise ValueError("only a scheduled first attempt is claimed by moving its job on")
    verdict: list[Claim] = []

    def update(job: StoredJob) -> StoredJob:
        verdict.clear()
        holder = next((t for when, t in job.dispatched if when == attempt.due), None)
        if holder is not None:  # unchanged: not written
            verdict.append(Claim.REDELIVERED if holder == token else Claim.LOST)
            return job
        moved = advance(job)
        verdict.append(Claim.WON)
        return replace(moved, dispatched=(*moved.dispatched, (attempt.due, token))[-DISPATCHES_KEPT:])

    stored = jobs.update_job(attempt.job, update, current=current)
    claim = verdict[0]
    return Claimed(claim, None if claim is Claim.LOST else stored)
