"""The worker: run one attempt of one occurrence, record it, and queue what follows (retry, errorAction, next).

Order of an attempt: never before the due instant; the job is re-read; the attempt is claimed (exactly one message
per attempt acts, a redelivery of the winner may act again: at least once across crashes); a scheduled first attempt
is re-checked against the job (deleted: dropped; disabled or rescheduled: `Postponed` in history); the schedule is
advanced and the next occurrence queued before the action runs, so a slow target never delays the next occurrence.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from scheduler_core.domain.errors import JobCollectionNotFound, JobNotFound
from scheduler_core.domain.job import JobEvent, JobState, apply_event
from scheduler_core.domain.retry import retry_delay
from scheduler_core.ports import HistoryEntry, Outcome, StoredJob
from scheduler_core.secrets import merge_secrets
from scheduler_core.service.context import Services
from scheduler_core.service.dispatch import ERROR_ACTION, MAIN_ACTION, Occurrence, enqueue, next_due, schedule
from scheduler_core.wire import retry_policy_from_wire

log = logging.getLogger(__name__)

# A message visible up to this early is waited out in place (sub-second rounding of visibility delays); an earlier
# one goes back on the queue for the time that is left.
_MAX_WAIT_SECONDS = 2.0


class _Rescheduled(Exception):
    """The job no longer expects this occurrence."""


def execute(services: Services, message: Mapping[str, Any], token: str) -> None:
    """Handle one execution message. `token` identifies the queue message (its id) for the claim."""
    occurrence = Occurrence.from_message(message)
    now = services.clock()
    early = (occurrence.act_at - now).total_seconds()
    if early > _MAX_WAIT_SECONDS:
        enqueue(services, occurrence, now)
        return
    if early > 0:
        services.sleep(early)
        now = services.clock()
    try:
        job = services.storage.get_job(occurrence.job)
    except JobNotFound:
        log.info("occurrence %s of a deleted job dropped", occurrence.execution_id)
        return
    if not services.storage.claim(occurrence.job, occurrence.claim_key, token):
        log.info("occurrence %s attempt already claimed by another message", occurrence.execution_id)
        return
    if occurrence.first_attempt and not occurrence.manual:
        reason = _postpone_reason(services, job, occurrence)
        if reason is None or job.state is JobState.DISABLED:
            # A disabled job's schedule moves on, each occurrence recorded as Postponed (not counted).
            try:
                job = _advance(services, job, occurrence, now, count=reason is None)
            except (_Rescheduled, JobNotFound):
                reason = reason or "The job was changed or deleted after this occurrence was scheduled."
        if reason is not None:
            _record(services, occurrence, now, now, "Postponed", reason)
            return
    _attempt(services, job, occurrence, now)


def _postpone_reason(services: Services, job: StoredJob, occurrence: Occurrence) -> str | None:
    if job.state is JobState.DISABLED:
        try:
            if not services.storage.get_collection(job.ref.collection).enabled:
                return "The job collection is disabled."
        except JobCollectionNotFound:
            pass
        return "The job is disabled."
    if job.state is not JobState.ENABLED:
        return f"The job is {job.state.value}."
    if job.status.next_execution_time != occurrence.due:
        expected = job.status.next_execution_time
        nxt = expected.isoformat() if expected else "none"
        return f"The job was changed after this occurrence was scheduled; its next occurrence is {nxt}."
    return None


def _advance(services: Services, job: StoredJob, occurrence: Occurrence, now: datetime, *, count: bool) -> StoredJob:
    """Move the schedule on (counting the execution if it runs) and queue the next occurrence."""

    def update(current: StoredJob) -> StoredJob:
        if current.status.next_execution_time != occurrence.due or current.state is not job.state:
            raise _Rescheduled()
        status = current.status
        if count:
            status = replace(status, execution_count=status.execution_count + 1, last_execution_time=now)
        counted = replace(current, status=status)
        following = next_due(counted, after=max(occurrence.due, now), strictly_after=True)
        return replace(counted, status=replace(status, next_execution_time=following))

    advanced = services.storage.update_job(job.ref, update)
    if advanced.status.next_execution_time is not None:
        schedule(services, job.ref, advanced.status.next_execution_time, now)
    return advanced


def _attempt(services: Services, job: StoredJob, occurrence: Occurrence, started: datetime) -> None:
    definition = merge_secrets(job.definition, job.secrets)
    action = definition.get("action") or {}
    if occurrence.action_name == ERROR_ACTION:
        action = action.get("errorAction") or {}
    outcome = _run(services, job, occurrence, action)
    ended = services.clock()
    _record(services, occurrence, started, ended, "Completed" if outcome.succeeded else "Failed", outcome.message)

    policy = retry_policy_from_wire(action.get("retryPolicy"))
    exhausted = not outcome.succeeded and occurrence.retry >= policy.retries
    if not outcome.succeeded and not exhausted:
        delay = retry_delay(policy, occurrence.retry + 1)
        retry = replace(occurrence, retry=occurrence.retry + 1, not_before=ended + delay)
        enqueue(services, retry, ended)
    elif exhausted and occurrence.action_name == MAIN_ACTION and (definition.get("action") or {}).get("errorAction"):
        enqueue(services, replace(occurrence, action_name=ERROR_ACTION, retry=0, not_before=ended), ended)

    if occurrence.action_name == MAIN_ACTION and (occurrence.first_attempt or not outcome.succeeded or exhausted):
        services.storage.update_job(job.ref, lambda current: _settle(current, occurrence, outcome, exhausted, ended))


def _settle(
    job: StoredJob, occurrence: Occurrence, outcome: Outcome, exhausted: bool, now: datetime
) -> StoredJob:
    """Counters and final state after an attempt of the main action (pure)."""
    status = job.status
    if occurrence.manual and occurrence.first_attempt:
        status = replace(status, execution_count=status.execution_count + 1, last_execution_time=now)
        job = replace(job, manual_runs=job.manual_runs + 1)
    if not outcome.succeeded:
        status = replace(status, failure_count=status.failure_count + 1)
    if exhausted:
        status = replace(status, faulted_count=status.faulted_count + 1)
    job = replace(job, status=status)
    last_occurrence = not occurrence.manual and status.next_execution_time is None
    if last_occurrence and job.state is JobState.ENABLED:
        if outcome.succeeded:
            job = replace(job, state=apply_event(job.state, JobEvent.COMPLETE))
        elif exhausted:
            job = replace(job, state=apply_event(job.state, JobEvent.FAULT))
    return job


def _run(services: Services, job: StoredJob, occurrence: Occurrence, action: Mapping[str, Any]) -> Outcome:
    headers = {
        "x-ms-scheduler-jobid": job.ref.name,
        "x-ms-scheduler-jobcollectionid": job.ref.collection.name,
        "x-ms-scheduler-expected-execution-time": occurrence.due.isoformat(),
        "x-ms-scheduler-execution-id": occurrence.execution_id,
        "x-ms-scheduler-retry-count": str(occurrence.retry),
        "x-ms-scheduler-action": occurrence.action_name,
    }
    try:
        return services.actions.run(action, job.secrets, headers)
    except Exception as exc:  # an action must never take the worker down; the reason goes to history
        log.exception("action of job %s raised", job.ref.name)
        return Outcome(False, f"The action could not be performed: {type(exc).__name__}.")


def _record(
    services: Services, occurrence: Occurrence, started: datetime, ended: datetime, status: str, message: str
) -> None:
    services.storage.add_history(
        [
            HistoryEntry(
                job=occurrence.job,
                execution_id=occurrence.execution_id,
                expected_execution_time=occurrence.due,
                start_time=started,
                end_time=ended,
                action_name=occurrence.action_name,
                status=status,
                message=message,
                retry_count=occurrence.retry,
            )
        ]
    )
