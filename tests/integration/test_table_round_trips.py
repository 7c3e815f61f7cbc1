"""Round trips the Table Storage adapter saves on real Azurite, without changing what it answers: a claim made from
a snapshot that this process's own later write made stale starts from that write instead of failing and reading."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from devhost.azurite import Azurite
from scheduler_core.adapters.clients import table_service
from scheduler_core.adapters.tables import TableStorage
from scheduler_core.domain.job import (
    CollectionRef,
    JobExecutionStatus,
    JobHistoryActionName,
    JobRef,
    JobState,
    JobStatus,
)
from scheduler_core.ports import Attempt, Claim, HistoryEntry, StoredJob
from scheduler_core.settings import Settings

DUE = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


class Requests:
    """A `raw_request_hook` counting requests by HTTP method."""

    def __init__(self) -> None:
        self.by_method: Counter[str] = Counter()

    def __call__(self, request: Any) -> None:
        self.by_method[request.http_request.method] += 1


def counted_storage(azurite: Azurite) -> tuple[TableStorage, Requests]:
    """The Table Storage adapter on Azurite, its requests counted."""
    counted = Requests()
    settings = Settings.from_env({"AzureWebJobsStorage": azurite.connection_string})
    storage = TableStorage(table_service(settings.storage, raw_request_hook=counted))
    storage.create_tables()
    return storage, counted


def test_a_claim_from_a_snapshot_older_than_this_processs_own_write_needs_no_read(azurite: Azurite) -> None:
    storage, counted = counted_storage(azurite)
    ref = JobRef(CollectionRef("sub", "rg", f"jc-{uuid.uuid4().hex[:8]}"), "nightly")
    job = storage.create_job(
        StoredJob(ref, {"action": {"type": "Http"}}, JobState.ENABLED, JobStatus(next_execution_time=DUE), DUE)  # type: ignore[arg-type]
    )
    snapshot = storage.restore(storage.snapshot(job) or "")  # what the next occurrence's message carries
    # The attempt's final write (its last result) changes the row after the snapshot was taken.
    storage.update_job(ref, lambda j: replace(j, status=replace(j.status, last_result="Completed")), current=job)
    counted.by_method.clear()

    def advance(current: StoredJob) -> StoredJob:
        return replace(current, status=replace(current.status, next_execution_time=DUE + timedelta(days=1)))

    claimed = storage.claim(Attempt(ref, DUE), "message-1", advance=advance, current=snapshot)

    assert claimed.claim is Claim.WON and claimed.job is not None
    assert claimed.job.status.last_result == "Completed", "built on the row as written since, not on the snapshot"
    sent = counted.by_method
    assert sent["GET"] == 0 and sent["PUT"] + sent["POST"] + sent["MERGE"] + sent["PATCH"] == 1, dict(sent)
    stored = storage.get_job(ref)
    assert (stored.status.last_result, stored.status.next_execution_time) == ("Completed", DUE + timedelta(days=1))

    # A write by someone else (another instance, a user) is still seen: the guarded write fails, the row is read.
    storage.replace_job(replace(stored, etag=None, version="user-edit"))
    again = storage.claim(Attempt(ref, DUE + timedelta(days=1)), "message-2", advance=advance, current=stored)
    assert again.claim is Claim.WON and again.job is not None and again.job.version == "user-edit"


def test_an_attempts_history_row_and_its_jobs_final_state_are_one_transaction(azurite: Azurite) -> None:
    """A lone one-time occurrence's last two writes (its history row, the job's Completed state) are one request."""
    storage, counted = counted_storage(azurite)
    ref = JobRef(CollectionRef("sub", "rg", f"jc-{uuid.uuid4().hex[:8]}"), "once")
    job = storage.create_job(StoredJob(ref, {"action": {"type": "Http"}}, JobState.ENABLED, JobStatus(), DUE))  # type: ignore[arg-type]
    row = HistoryEntry(
        ref, "exec-1", DUE, DUE, DUE, JobHistoryActionName.MAIN_ACTION, JobExecutionStatus.COMPLETED, "200"
    )
    counted.by_method.clear()

    storage.update_job(
        ref,
        lambda j: replace(j, state=JobState.COMPLETED, status=replace(j.status, last_result="Completed")),
        current=job,
        history=[row],
    )

    assert sum(counted.by_method.values()) == 1, dict(counted.by_method)
    assert storage.get_job(ref).state is JobState.COMPLETED
    assert storage.list_history(ref, top=5, continuation=None, status=None).items == [row]
