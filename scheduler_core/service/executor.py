"""The worker: run one attempt of one occurrence, record it, and queue what follows (retry, errorAction, next).

Order of an attempt: never before the due instant; the attempt is claimed (exactly one message per attempt acts, a
redelivery of the winner may act again: at least once across crashes); a scheduled first attempt is checked against
the job (deleted: dropped; disabled or rescheduled: `Postponed` in history); the schedule is advanced and the next
occurrence queued before the action runs, so a slow target never delays the next occurrence.

Every attempt is claimed through one port method, `storage.claim` (won / redelivered / lost: ports.AttemptClaims).
A scheduled first attempt, the hot path, costs one write before its action: its message carries a snapshot of the
job, and the claim is taken in the write that moves the schedule on, guarded by the snapshot's ETag, which is also
the check that the job has not changed since (if it has, the job is read and checked again).

The claim is a lease taken ahead of the instant: `claim_ahead` runs `settings.claim_lead_seconds` (1 s) before the
due instant, so that at the instant itself only the call is left (a burst's claims are storage transactions that
would otherwise delay its last calls). The promise that follows: a disable, delete or replace made at least the lead
before an occurrence's due time is honoured for it; one made later takes effect from the next occurrence. With a lead
of 0 the claim is made at the due instant, and changes are honoured up to it. Retries, error actions and run-now
attempts are claimed when their message is prepared, and re-read their job at the instant if that was long ago.

Calls before bookkeeping (service/hot_path.py): once its call has returned, an attempt's history row, the job's
counters and final state and a retry's message wait until no other attempt of the process is claiming or calling
(at most a second), so that at a burst's instant the calls go out first.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from scheduler_core.domain.catchup import MISFIRE_GRACE, plan_catch_up
from scheduler_core.domain.definition import Action
from scheduler_core.domain.errors import JobCollectionNotFound, JobNotFound
from scheduler_core.domain.job import JobEvent, JobExecutionStatus, JobState, apply_event
from scheduler_core.domain.recurrence import Recurrence, occurrences
from scheduler_core.domain.retry import DEFAULT_RETRY, retry_delay
from scheduler_core.ports import Attempt, Claim, Claimed, HistoryEntry, Outcome, StoredJob
from scheduler_core.service.context import Services
from scheduler_core.service.dispatch import (
    ERROR_ACTION,
    MAIN_ACTION,
    PREPARE_LEAD_SECONDS,
    Occurrence,
    enqueue,
    execution_id,
    next_due,
    opens_at_once,
    schedule,
    timing,
)
from scheduler_core.service.telemetry import FAULTED, AttemptFacts

log = logging.getLogger(__name__)
COMPLETED, FAILED, POSTPONED = JobExecutionStatus.COMPLETED, JobExecutionStatus.FAILED, JobExecutionStatus.POSTPONED

# A message visible up to this early is prepared and waited out in place (it is sent to be visible
# PREPARE_LEAD_SECONDS early, plus up to a second of rounding); an earlier one goes back on the queue.
_MAX_WAIT_SECONDS = PREPARE_LEAD_SECONDS + 1.5
_MAX_MISSED_CHUNKS = 1000
# A retry, error action or run-now claimed longer ago than this re-reads its job before acting (a user may have
# deleted or changed it meanwhile).
_STALE_AFTER = timedelta(seconds=0.5)


class _Rescheduled(Exception):
    """The job no longer expects this occurrence."""


@dataclass(frozen=True)
class Prepared:
    """An attempt ready to run at `occurrence.act_at`: claimed already, or (a scheduled first attempt) to be claimed
    by the message `token`, against `job` as the message or an early read knew it. `leased`: a scheduled first
    attempt claimed ahead of its instant (`claim_ahead`), run with the job its claim wrote and not read again."""

    job: StoredJob
    occurrence: Occurrence
    prepared_at: datetime
    token: str
    claimed: bool
    leased: bool = False


def execute(services: Services, occurrence: Occurrence, token: str) -> None:
    """Handle one execution message (the occurrence it carries): `prepare`, wait for the claim lead before the due
    instant, `claim_ahead`, wait for the due instant, `perform`.

    `token` identifies the queue message (its id) for the claim. The Functions trigger calls the steps itself so that
    the waits run on its event loop instead of holding a thread."""
    prepared = prepare(services, occurrence, token)
    if prepared is not None:
        services.sleep(seconds_until_claim(services, prepared))
        prepared = claim_ahead(services, prepared)
    if prepared is not None:
        services.sleep(seconds_until(services, prepared))
        perform(services, prepared)


def prepare(services: Services, occurrence: Occurrence, token: str) -> Prepared | None:
    """Everything that can happen before the due instant: the job (from the message's snapshot, else read) and, for
    a retry, error action or run-now, the claim of the attempt.

    Runs as soon as the message is visible, up to `_MAX_WAIT_SECONDS` before the due instant. An earlier message is
    put back for the time that is left. Returns None when nothing is to run.
    """
    now = services.clock()
    if (occurrence.act_at - now).total_seconds() > _MAX_WAIT_SECONDS:
        enqueue(services, occurrence, now)
        return None
    scheduled = occurrence.first_attempt and not occurrence.manual
    try:
        if scheduled and occurrence.snapshot:
            job = services.storage.restore(occurrence.snapshot)
        else:
            job = services.storage.get_job(occurrence.job)
    except JobNotFound:
        log.info("occurrence %s of a deleted job dropped", occurrence.execution_id)
        return None
    if not scheduled and services.storage.claim(occurrence.attempt, token).claim is Claim.LOST:
        log.info("occurrence %s attempt already claimed by another message", occurrence.execution_id)
        return None
    return Prepared(job, occurrence, now, token, claimed=not scheduled)


def seconds_until_claim(services: Services, prepared: Prepared) -> float:
    """How long to wait before `claim_ahead`: until the claim lead before the due instant (0 when claimed already)."""
    if prepared.claimed:
        return 0.0
    claim_at = prepared.occurrence.act_at - timedelta(seconds=services.settings.claim_lead_seconds)
    return max(0.0, (claim_at - services.clock()).total_seconds())


def claim_ahead(services: Services, prepared: Prepared) -> Prepared | None:
    """Claim a scheduled first attempt ahead of its due instant, as a lease: the write that moves the schedule on,
    made `claim_lead_seconds` early (or at once, when the message came later than that). Returns what `perform` is
    to run at the instant, or None when nothing is (postponed, dropped or won by another message).

    With a claim lead of 0, the claim is left to `perform`, at the instant."""
    if prepared.claimed or services.settings.claim_lead_seconds <= 0:
        return prepared
    chosen = _dispatch(services, prepared.job, prepared.occurrence, services.clock(), prepared.token)
    if chosen is None:
        return None
    job, occurrence = chosen
    return replace(prepared, job=job, occurrence=occurrence, claimed=True, leased=True)


def seconds_until(services: Services, prepared: Prepared) -> float:
    """How long to wait before `perform` so that the action never starts before its due instant."""
    return max(0.0, (prepared.occurrence.act_at - services.clock()).total_seconds())


def perform(services: Services, prepared: Prepared) -> None:
    """Run the prepared attempt now (at or after its due instant), record it, and queue what follows."""
    job, occurrence = prepared.job, prepared.occurrence
    with services.hot_path.calling() as called:
        now = services.clock()
        if not prepared.claimed:
            chosen = _dispatch(services, job, occurrence, now, prepared.token)
            if chosen is None:
                return
            job, occurrence = chosen
        elif not prepared.leased and now - prepared.prepared_at > _STALE_AFTER:
            # A retry, error action or run-now goes on although the job was disabled meanwhile (an on-demand job is
            # disabled by design), with the job as it is now; it stops if the job was deleted.
            try:
                job = services.storage.get_job(job.ref)
            except JobNotFound:
                log.info("occurrence %s of a job deleted since it was prepared dropped", occurrence.execution_id)
                return
        with services.telemetry.attempt(_facts(job, occurrence, now)) as span:
            span.outcome(_attempt(services, job, occurrence, now, called))


def _dispatch(
    services: Services, job: StoredJob, occurrence: Occurrence, now: datetime, token: str
) -> tuple[StoredJob, Occurrence] | None:
    """Claim a scheduled first attempt against `job` (a snapshot or an early read); when the claim shows that the job
    has changed since, read it and try once more. Returns what to run, or None."""
    try:
        return _scheduled_attempt(services, job, occurrence, now, token)
    except _Rescheduled:
        pass
    try:
        current = services.storage.get_job(occurrence.job)
        return _scheduled_attempt(services, current, occurrence, now, token)
    except (_Rescheduled, JobNotFound):
        return None  # changed or deleted meanwhile; the message that follows the change accounts for it


def _scheduled_attempt(
    services: Services, job: StoredJob, occurrence: Occurrence, now: datetime, token: str
) -> tuple[StoredJob, Occurrence] | None:
    """Check a scheduled occurrence against the job, apply catch-up, and claim it in the write that moves the
    schedule on (exactly one message per occurrence wins it).

    Returns the job and the occurrence to run, or None when it is not run (recorded as Postponed, with the reason,
    unless another message won the occurrence or the job was deleted).

    Raises:
        _Rescheduled: the job changed since `job` was read (its state or its next occurrence).
    """
    scheduled = occurrence.due
    reason = _postpone_reason(services, job, occurrence)
    if reason is not None and job.state is not JobState.DISABLED:
        return _unexpected(services, job, occurrence, now, token, reason)
    run: Occurrence | None = occurrence
    missed: list[HistoryEntry] = []
    if reason is None and now - scheduled > min(MISFIRE_GRACE, _window(services, job)) and timing(job)[1]:
        run, missed = _catch_up(services, job, occurrence, now)
    runs = reason is None and run is not None
    # Resume after the occurrence that runs (a late one does not skip those after it: they follow, on time or
    # through catch-up); after now when every missed one is postponed or the job is disabled.
    resume = run.due if runs and run is not None else max(scheduled, now)
    try:
        claimed = _advance(services, job, scheduled, resume, now, token, count=runs)
    except JobNotFound:
        return None
    if claimed.claim is not Claim.WON:
        return _claimed_before(services, claimed, occurrence, now)
    assert claimed.job is not None
    if reason is not None:
        missed.append(_entry(occurrence, now, now, POSTPONED, reason))
    if missed:
        services.storage.add_history(missed)
        services.telemetry.postponed(len(missed))
    return (claimed.job, run) if runs and run is not None else None


def _unexpected(
    services: Services, job: StoredJob, occurrence: Occurrence, now: datetime, token: str, reason: str
) -> None | tuple[StoredJob, Occurrence]:
    """A scheduled occurrence the job no longer expects (changed, completed): nothing moves on and one row says why,
    unless this very message moved the job on in an earlier delivery (then it runs again: at least once)."""

    def refuse(_current: StoredJob) -> StoredJob:
        raise _Rescheduled()

    try:
        claimed = services.storage.claim(occurrence.attempt, token, advance=refuse, current=job)
        return _claimed_before(services, claimed, occurrence, now)
    except (_Rescheduled, JobNotFound):
        pass
    if services.storage.claim(occurrence.attempt, token).claim is not Claim.LOST:  # claimed, so one row only
        _record(services, occurrence, now, now, POSTPONED, reason)
        services.telemetry.postponed()
        following = job.status.next_execution_time
        if job.state is JobState.ENABLED and following is not None and following != occurrence.due:
            # The write that changed the job may have died before it scheduled its next occurrence (docs/storage.md,
            # crash consistency): scheduling it again is idempotent (one claim per occurrence among its messages).
            schedule(services, job, following, now)
    return None


def _claimed_before(
    services: Services, claimed: Claimed, occurrence: Occurrence, now: datetime
) -> tuple[StoredJob, Occurrence] | None:
    """A scheduled first attempt whose claim was taken already: by another message (nothing to do), or by this
    message's earlier delivery, which crashed (run it again, and make sure the next occurrence is queued: the crash
    may have come between the two).

    Run again only while the job is Enabled: the earlier delivery of a disabled job's occurrence claimed it to
    postpone it (or the job was disabled since), so it is recorded Postponed, never run; a Completed or Faulted job
    reached that state by recording the outcome of its last occurrence."""
    if claimed.claim is Claim.LOST or claimed.job is None:
        log.info("occurrence %s already dispatched by another message", occurrence.execution_id)
        return None
    job = claimed.job
    if job.status.next_execution_time is not None:
        schedule(services, job, job.status.next_execution_time, now)
    if job.state is JobState.DISABLED:
        _record(services, occurrence, now, now, POSTPONED, _disabled_reason(services, job))
        services.telemetry.postponed()
        return None
    if job.state is not JobState.ENABLED:
        return None
    return job, occurrence


def _catch_up(
    services: Services, job: StoredJob, occurrence: Occurrence, now: datetime
) -> tuple[Occurrence | None, list[HistoryEntry]]:
    """The occurrence to run in place of a late one (the most recent missed within the catch-up window, or None)
    and the Postponed rows of every other missed occurrence."""
    start, recurrence = timing(job)
    window = _window(services, job)
    missed = _due_between(start, recurrence, occurrence.due, now, executed=job.scheduled_runs,
                          immediate=opens_at_once(job))
    plan = plan_catch_up(missed, now, window)
    because = (
        f"the more recent occurrence {plan.fire.isoformat()} ran instead."
        if plan.fire
        else f"it is beyond the catch-up window of {window}."
    )
    rows = [
        _entry(
            replace(occurrence, due=instant, execution_id=execution_id(job.ref, instant)),
            now,
            now,
            POSTPONED,
            f"Missed while the scheduler was not running; {because}",
        )
        for instant in plan.postponed
    ]
    if plan.more:
        rows.append(_entry(occurrence, now, now, POSTPONED, f"{plan.more} further occurrences were missed."))
    if plan.fire is None:
        return None, rows
    return replace(occurrence, due=plan.fire, execution_id=execution_id(job.ref, plan.fire)), rows


def _window(services: Services, job: StoredJob) -> timedelta:
    """How late a missed occurrence may still fire: the job's `catchUpWindow`, else the app setting."""
    return job.definition.catch_up_window or timedelta(seconds=services.settings.catch_up_window_seconds)


def _due_between(
    start: datetime, recurrence: Recurrence | None, first: datetime, now: datetime, *, executed: int,
    immediate: bool = False,
) -> Iterator[datetime]:
    """Occurrences from `first` up to `now`, in chunks (a week of missed per-second occurrences stays bounded)."""
    after, strictly = first, False
    for _ in range(_MAX_MISSED_CHUNKS):
        chunk = occurrences(start, recurrence, after=after, limit=1000, executed=executed, strictly_after=strictly,
                            immediate=immediate)
        immediate = False  # the run at once is only ever the first
        yield from (instant for instant in chunk if instant <= now)
        if not chunk or chunk[-1] > now:
            return
        after, strictly = chunk[-1], True


def _postpone_reason(services: Services, job: StoredJob, occurrence: Occurrence) -> str | None:
    if job.state is JobState.DISABLED:
        return _disabled_reason(services, job)
    if job.state is not JobState.ENABLED:
        return f"The job is {job.state.value}."
    if job.status.next_execution_time != occurrence.due:
        expected = job.status.next_execution_time
        nxt = expected.isoformat() if expected else "none"
        return f"The job was changed after this occurrence was scheduled; its next occurrence is {nxt}."
    return None


def _disabled_reason(services: Services, job: StoredJob) -> str:
    try:
        if not services.storage.get_collection(job.ref.collection).enabled:
            return "The job collection is disabled."
    except JobCollectionNotFound:
        pass
    return "The job is disabled."


def _advance(
    services: Services,
    job: StoredJob,
    scheduled: datetime,
    resume: datetime,
    now: datetime,
    token: str,
    *,
    count: bool,
) -> Claimed:
    """Claim the scheduled occurrence `scheduled` for the message `token` in the write that moves the schedule on to
    the first occurrence after `resume` (counting the execution if it runs), and queue the next occurrence.

    Raises:
        _Rescheduled: the job no longer expects `scheduled` (changed, disabled or enabled meanwhile).
        JobNotFound: it was deleted.
    """

    def update(current: StoredJob) -> StoredJob:
        if current.status.next_execution_time != scheduled or current.state is not job.state:
            raise _Rescheduled()
        status = current.status
        if count:
            # Prepared up to a second or two early: the execution is stamped no earlier than it is due.
            ran_at = max(now, scheduled)
            status = replace(status, execution_count=status.execution_count + 1, last_execution_time=ran_at)
        counted = replace(current, status=status)
        following = next_due(counted, after=resume, strictly_after=True)
        return replace(counted, status=replace(status, next_execution_time=following))

    claimed = services.storage.claim(Attempt(job.ref, scheduled), token, advance=update, current=job)
    advanced = claimed.job
    if claimed.claim is Claim.WON and advanced is not None and advanced.status.next_execution_time is not None:
        schedule(services, advanced, advanced.status.next_execution_time, now)
    return claimed


def _facts(job: StoredJob, occurrence: Occurrence, started: datetime) -> AttemptFacts:
    ref = job.ref
    return AttemptFacts(
        ref.name, ref.collection.name, occurrence.execution_id, occurrence.action_name.value, occurrence.retry,
        occurrence.due, occurrence.act_at, started,
    )


def _attempt(
    services: Services, job: StoredJob, occurrence: Occurrence, started: datetime, called: Callable[[], None]
) -> str:
    """Run the attempt, then (once no other call of the process is in flight: `called` ends this one's calling
    phase) record it and queue what follows; returns its outcome (Completed, Failed or Faulted)."""
    main = job.definition.action
    action = main if occurrence.action_name == MAIN_ACTION else main.error_action
    outcome = _run(services, job, occurrence, action)
    ended = services.clock()
    called()
    services.hot_path.yield_to_calls()
    policy = action.retry_policy if action is not None else DEFAULT_RETRY
    exhausted = not outcome.succeeded and occurrence.retry >= policy.retries
    row = _entry(occurrence, started, ended, COMPLETED if outcome.succeeded else FAILED, outcome.message)
    if occurrence.action_name == MAIN_ACTION:
        # The row and the job's counters and final state: one transaction where the store can (they share a
        # partition). An unchanged job is not written (see update_job); the row always is.
        try:
            services.storage.update_job(
                job.ref, lambda current: _settle(current, occurrence, outcome, exhausted, ended), current=job,
                history=[row],
            )
        except JobNotFound:  # deleted after its claim: nothing follows (its row is recorded all the same)
            log.info("job %s was deleted during occurrence %s", job.ref.name, occurrence.execution_id)
            return COMPLETED.value if outcome.succeeded else FAILED.value
    else:
        services.storage.add_history([row])

    if not outcome.succeeded and not exhausted:
        delay = retry_delay(policy, occurrence.retry + 1)
        retry = replace(occurrence, retry=occurrence.retry + 1, not_before=ended + delay, snapshot=None)
        enqueue(services, retry, ended)
    elif exhausted and occurrence.action_name == MAIN_ACTION and main.error_action is not None:
        error = replace(occurrence, action_name=ERROR_ACTION, retry=0, not_before=ended, snapshot=None)
        enqueue(services, error, ended)
    return COMPLETED.value if outcome.succeeded else FAULTED if exhausted else FAILED.value


def _settle(job: StoredJob, occurrence: Occurrence, outcome: Outcome, exhausted: bool, now: datetime) -> StoredJob:
    """Counters and final state after an attempt of the main action (pure)."""
    status = job.status
    if occurrence.manual and occurrence.first_attempt:
        status = replace(status, execution_count=status.execution_count + 1, last_execution_time=now)
        job = replace(job, manual_runs=job.manual_runs + 1)
    status = replace(status, last_result="Completed" if outcome.succeeded else "Failed")
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


def _run(services: Services, job: StoredJob, occurrence: Occurrence, action: Action | None) -> Outcome:
    headers = {
        "x-ms-scheduler-jobid": job.ref.name,
        "x-ms-scheduler-jobcollectionid": job.ref.collection.name,
        "x-ms-scheduler-expected-execution-time": occurrence.due.isoformat(),
        "x-ms-scheduler-execution-id": occurrence.execution_id,
        "x-ms-scheduler-retry-count": str(occurrence.retry),
        "x-ms-scheduler-action": occurrence.action_name.value,
        # The old service's own headers, the elements of its queue envelope (docs/actions.md): the tag is the
        # occurrence's, the request id this attempt's.
        "x-ms-execution-tag": occurrence.execution_id,
        "x-ms-client-request-id": str(uuid.uuid4()),
        "x-ms-scheduler-execution-region": services.settings.region,
    }
    if action is None:  # the error action was removed after the main action failed
        return Outcome(False, "The job has no error action any more.")
    try:
        return services.actions.run(action, job.secrets, headers)
    except Exception as exc:  # an action must never take the worker down; the reason goes to history
        log.exception("action of job %s raised", job.ref.name)
        return Outcome(False, f"The action could not be performed: {type(exc).__name__}.")


def _entry(
    occurrence: Occurrence, started: datetime, ended: datetime, status: JobExecutionStatus, message: str
) -> HistoryEntry:
    return HistoryEntry(
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


def _record(
    services: Services,
    occurrence: Occurrence,
    started: datetime,
    ended: datetime,
    status: JobExecutionStatus,
    message: str,
) -> None:
    services.storage.add_history([_entry(occurrence, started, ended, status, message)])


def record_poisoned(services: Services, occurrence: Occurrence) -> None:
    """A message that reached the poison queue: its occurrence is recorded as faulted, and the job's schedule moves
    on if the failure stopped it, so one broken occurrence never silently ends a recurring job."""
    now = services.clock()
    try:
        job = services.storage.get_job(occurrence.job)
    except JobNotFound:
        return
    _record(
        services,
        occurrence,
        now,
        now,
        FAILED,
        "Faulted: the execution could not be processed (the scheduler failed repeatedly) and was moved to the "
        "poison queue.",
    )
    services.telemetry.poisoned()

    def faulted(current: StoredJob) -> StoredJob:
        status = current.status
        return replace(current, status=replace(status, faulted_count=status.faulted_count + 1))

    job = services.storage.update_job(job.ref, faulted, current=job)
    if occurrence.first_attempt and not occurrence.manual and job.status.next_execution_time == occurrence.due:
        try:
            _advance(services, job, occurrence.due, occurrence.due, now, "poison", count=False)
        except (_Rescheduled, JobNotFound):
            pass


_POISON_BATCH = 32
_POISON_BATCHES_PER_SWEEP = 10


def sweep_poisoned(services: Services) -> int:
    """Record every message that reached the poison queue (`record_poisoned`) and remove it; returns how many.

    Runs on the planner's schedule rather than as a queue trigger: a trigger would poll the poison queue as often as
    the executions queue (host.json `maxPollingInterval`, 200 ms), half of an idle instance's storage requests, for
    messages that need no sub-second attention. A message that fails to record stays for the next sweep."""
    if services.poison is None:
        return 0
    swept = 0
    for _ in range(_POISON_BATCHES_PER_SWEEP):
        batch = services.poison.take(_POISON_BATCH)
        for message in batch:
            if message.occurrence is not None:
                record_poisoned(services, message.occurrence)
            else:
                log.error("poison queue message %s is not an execution message; removed", message.id)
            services.poison.remove(message)
            swept += 1
        if len(batch) < _POISON_BATCH:
            break
    return swept

