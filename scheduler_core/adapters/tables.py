"""Table Storage: collections, jobs, history (with dispatch claims) and the due-occurrence index.

Layout (docs/storage.md explains the choices):
- `collections`  PK subscription, RK `{resourceGroup}|{collection}` (lower case: ARM names are case-insensitive).
- `jobs`         PK collection key: the job rows, RK job name (lower case: `[0-9a-z_.-]`), then, after every job
                 row, the history rows, RK `~{job}|H|{inverted start ms}|{execution id}|{action}|{retry}` (a job's
                 rows newest first). Beside its job row, an attempt's history row and the job's final state go out
                 in one entity group transaction, and the rows of a collection's occurrences that end together share
                 one (group commit). Job queries read RK < `~` only.
- `history`      claims of retries, error actions and run-now: PK job key, RK `D|{due}|{action}|{retry}`; and the
                 history rows of earlier layouts, read after the job's current rows (all older), pruned and deleted
                 with them: layout 3's in the collection's partition (RK `{job}|H|...`), layout 2's and before in
                 the job's own (`H|...`).
- `due`          PK minute bucket `YYYYMMDDHHMM` of the due time, RK `{due}|{job key}`, the job's snapshot beside;
                 row `!`/`watermark` holds the earliest bucket that may still hold entries. A tick reads only buckets
                 up to its lookahead.
"""

from __future__ import annotations

import base64
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import TableClient, TableServiceClient, TableTransactionError, UpdateMode

from scheduler_core.adapters.claims import claim_by_advance
from scheduler_core.adapters.group_commit import GroupCommit, Write
from scheduler_core.adapters.unavailable import translates_unavailable
from scheduler_core.domain.errors import ConcurrencyConflict, InvalidInput, JobCollectionNotFound, JobNotFound
from scheduler_core.domain.job import (
    CollectionRef,
    DisabledNote,
    JobExecutionStatus,
    JobHistoryActionName,
    JobRef,
    JobState,
    JobStatus,
)
from scheduler_core.ports import Attempt, Claim, Claimed, Due, HistoryEntry, Page, StoredCollection, StoredJob
from scheduler_core.wire import collection_definition_from_wire, collection_definition_to_wire, definition_from_wire

COLLECTIONS, JOBS, HISTORY, DUE = "collections", "jobs", "history", "due"
TABLE_NAMES = (COLLECTIONS, JOBS, HISTORY, DUE)

_MAX_ETAG_RETRIES = 20
_SUCCESSORS_KEPT = 4096  # job rows whose last guarded write this process remembers (a few MB at most)
_BATCH = 100  # Table Storage's limit per entity group transaction
_WATERMARK_SAFETY = timedelta(minutes=5)  # re-read recent buckets: covers clock skew between instances
# A snapshot travels in a queue message (64 KiB base64, so 48 KiB of JSON) and in a due entry's string property
# (32 K characters): a larger job is read by the executor instead.
_MAX_SNAPSHOT_CHARS = 30_000

#: The layout of every entity this adapter writes (`SchemaVersion` on each row). Readers accept this and the previous
#: one, so a deploy never misreads what an older instance wrote (rows, and job snapshots still in the queue).
#: 1 (unversioned): jobs carry `Generation` and collections no version. 2: `Version` on jobs and collections (the
#: API's ETag). 3: history rows in their collection's partition (the rows themselves are unchanged). 4: history rows
#: beside their job rows, in the jobs table (rows unchanged; a job query of layout 3 would read them as jobs).
SCHEMA_VERSION = 4
_READABLE = (1, 2, 3, 4)


# In the jobs table, history rows' keys start with this, after every job row (job names are `[0-9a-z_.-]` in keys).
_HISTORY_MARK = "~"
_JOB_ROWS = f"RowKey lt '{_HISTORY_MARK}'"


class UnsupportedSchema(ValueError):
    """A row written by a newer layout than this instance reads (a deploy rolled back past it)."""


def _schema(entity: Mapping[str, Any]) -> int:
    version = int(entity.get("SchemaVersion") or 1)
    if version not in _READABLE:
        raise UnsupportedSchema(f"a row has schema version {version}; this instance reads {_READABLE}")
    return version


# What a job list shows (jobs_changed_since); the entity's other columns are left out.
_LIST_COLUMNS = [
    "Name", "Definition", "State", "ExecutionCount", "FailureCount", "FaultedCount", "LastExecutionTime",
    "NextExecutionTime", "CreatedAt", "Generation", "Version", "SchemaVersion", "ManualRuns", "LastResult", "Timestamp",
    "DisabledBy", "DisabledAt", "DisabledReason", "SeriesBase",
]


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat(timespec="milliseconds") if value else None


def _dt(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return datetime.fromisoformat(str(value)).astimezone(UTC)


def _encode_token(value: dict[str, Any] | None) -> str | None:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode() if value else None


def _decode_token(token: str | None) -> dict[str, Any] | None:
    if not token:
        return None
    try:
        decoded = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, json.JSONDecodeError):
        raise InvalidInput("the continuation token is not valid", "$skiptoken") from None
    return decoded if isinstance(decoded, dict) else None


def _quote(value: str) -> str:
    return value.replace("'", "''")


@translates_unavailable
class TableStorage:
    """Every table-backed port (CollectionStore, JobStore, HistoryStore, DueIndex) on one account.

    Secrets are stored through `seal`/`unseal` (identity by default; `secret_box.SecretBox` encrypts).
    """

    def __init__(
        self,
        service: TableServiceClient,
        *,
        seal: Callable[[str], str] = lambda text: text,
        unseal: Callable[[str], str] = lambda text: text,
    ) -> None:
        self._service = service
        self._seal = seal
        self._unseal = unseal
        self._tables: dict[str, TableClient] = {name: service.get_table_client(name) for name in TABLE_NAMES}
        # Job rows written at one instant (claims of occurrences due together, final states) share one request.
        self._job_writes = GroupCommit(self._tables[JOBS])
        # So do the due entries of recurring jobs that run together and next fall due in the same minute bucket.
        self._due_writes = GroupCommit(self._tables[DUE])
        # What a guarded write of this process made of a job row at a given ETag: a snapshot carrying that ETag (the
        # next occurrence's message, taken at the claim, before the attempt's final write) starts from the row as
        # written since, instead of failing its write and reading the row. Bounded; another instance's write still
        # costs a failed write and a read.
        self._successors: OrderedDict[tuple[str, str], StoredJob] = OrderedDict()
        self._successors_lock = threading.Lock()
        # Guarded updates of one collection row (the job count of concurrent creates) take turns in this process and
        # start from the row this process wrote last: no 412 among this instance's own writers, no read before the
        # write. Another instance's write costs one 412 and a read, as before.
        # Updates that arrive while one is being written queue up and go out together as the next write (k creates
        # take k slots in one conditional replace).
        self._collection_turns: dict[str, _CollectionTurn] = {}
        self._collection_rows: dict[str, StoredCollection] = {}
        self._locks_lock = threading.Lock()

    def create_tables(self) -> None:
        """Create the tables if missing (idempotent; Bicep declares them in Azure)."""
        for name in TABLE_NAMES:
            self._service.create_table_if_not_exists(name)

    # ---- collections -------------------------------------------------------------------------------------------

    @staticmethod
    def _collection_keys(ref: CollectionRef) -> tuple[str, str]:
        return ref.subscription.lower(), f"{ref.resource_group}|{ref.name}".lower()

    def _collection_from(self, entity: Any) -> StoredCollection:
        _schema(entity)  # 1 has no Version: "1" until the next write by a user
        ref = CollectionRef(entity["Subscription"], entity["ResourceGroup"], entity["Name"])
        return StoredCollection(
            ref=ref,
            definition=collection_definition_from_wire(json.loads(entity["Definition"])),
            job_count=int(entity.get("JobCount", 0)),
            etag=entity.metadata["etag"],
            version=str(entity.get("Version") or "1"),
        )

    def _collection_entity(self, collection: StoredCollection) -> dict[str, Any]:
        pk, rk = self._collection_keys(collection.ref)
        return {
            "PartitionKey": pk,
            "RowKey": rk,
            "Subscription": collection.ref.subscription,
            "ResourceGroup": collection.ref.resource_group,
            "Name": collection.ref.name,
            "Definition": json.dumps(collection_definition_to_wire(collection.definition)),
            "JobCount": collection.job_count,
            "Version": collection.version,
            "SchemaVersion": SCHEMA_VERSION,
        }

    def get_collection(self, ref: CollectionRef) -> StoredCollection:
        pk, rk = self._collection_keys(ref)
        try:
            stored = self._collection_from(self._tables[COLLECTIONS].get_entity(pk, rk))
        except ResourceNotFoundError as exc:
            self._collection_rows.pop(ref.key, None)
            raise JobCollectionNotFound(ref.name) from exc
        self._collection_rows[ref.key] = stored
        return stored

    def recent_collection(self, ref: CollectionRef) -> StoredCollection | None:
        return self._collection_rows.get(ref.key)

    def create_collection(self, collection: StoredCollection) -> StoredCollection:
        try:
            metadata = self._tables[COLLECTIONS].create_entity(
                self._collection_entity(replace(collection, job_count=0))
            )
        except ResourceExistsError as exc:
            raise ConcurrencyConflict(f"job collection '{collection.ref.name}' exists already") from exc
        stored = replace(collection, job_count=0, etag=metadata.get("etag"))
        self._collection_rows[collection.ref.key] = stored
        return stored

    def update_collection(
        self,
        ref: CollectionRef,
        update: Callable[[StoredCollection], StoredCollection],
        known: StoredCollection | None = None,
    ) -> StoredCollection:
        with self._locks_lock:
            turn = self._collection_turns.setdefault(ref.key, _CollectionTurn())
        ticket = _CollectionUpdate(update)
        if turn.holder == threading.get_ident():
            # An update function touching its own collection: it runs inside a turn, on its own.
            self._commit_collection(ref, [ticket], known)
            return ticket.result()
        with self._locks_lock:
            turn.waiting.append(ticket)
            lead, turn.busy = not turn.busy, True
        if not lead:
            # Woken when a write decided this update, or when the lead is handed over (the update still waiting):
            # the updates of a write's group all wake at once, not one after another through a lock.
            ticket.woken.wait()
        if not ticket.decided:
            # Everything that queued while the previous write was in flight goes out as one write.
            with self._locks_lock:
                group, turn.waiting = turn.waiting, []
            turn.holder = threading.get_ident()
            try:
                self._commit_collection(ref, group, known)
            finally:
                turn.holder = None
                with self._locks_lock:
                    if turn.waiting:
                        turn.waiting[0].woken.set()  # the next write's leader
                    else:
                        turn.busy = False
                for waiter in group:
                    waiter.woken.set()
        return ticket.result()

    def _commit_collection(
        self, ref: CollectionRef, group: list[_CollectionUpdate], known: StoredCollection | None
    ) -> None:
        """Apply the updates of `group` in order to one row and write it once, guarded by its ETag. An update that
        raises is left out (its caller gets the error); a refusal stands only on a row confirmed current: one just
        read, or a snapshot that the group's write then matched."""
        known = self._collection_rows.get(ref.key) or known
        try:
            for _ in range(_MAX_ETAG_RETRIES):
                snapshot = known is not None and bool(known.etag)
                current = known if known is not None and snapshot else self.get_collection(ref)
                known = None  # a stale snapshot costs one 412; every later round reads
                new = current
                for ticket in group:
                    ticket.error = None
                    try:
                        new = ticket.update(new)
                    except Exception as exc:
                        ticket.error = exc
                if new is current:
                    if snapshot:
                        continue  # nothing to write on a snapshot: decide again on the row as stored
                    for ticket in group:
                        ticket.stored = current
                    break
                try:
                    metadata = self._tables[COLLECTIONS].update_entity(
                        self._collection_entity(new),
                        mode=UpdateMode.REPLACE,
                        etag=current.etag,
                        match_condition=MatchConditions.IfNotModified,
                    )
                except ResourceModifiedError:
                    continue
                # The write's own answer carries the new ETag: no read after it.
                stored = replace(new, ref=current.ref, etag=metadata.get("etag") or None)
                self._collection_rows[ref.key] = stored
                for ticket in group:
                    ticket.stored = stored
                break
            else:
                self._collection_rows.pop(ref.key, None)
                failure: Exception = ConcurrencyConflict(f"job collection '{ref.name}' kept changing; try again")
                for ticket in group:
                    ticket.error = failure
        except JobCollectionNotFound as exc:
            self._collection_rows.pop(ref.key, None)
            for ticket in group:
                ticket.error = exc
        except ResourceNotFoundError as exc:
            self._collection_rows.pop(ref.key, None)
            for ticket in group:
                ticket.error = JobCollectionNotFound(ref.name)
                ticket.error.__cause__ = exc
        except Exception as exc:  # storage unreachable: every waiting update fails with it
            for ticket in group:
                ticket.error = exc
        finally:
            for ticket in group:
                ticket.decided = True

    def list_collections(self, subscription: str, resource_group: str | None) -> list[StoredCollection]:
        query = f"PartitionKey eq '{_quote(subscription.lower())}'"
        if resource_group:
            prefix = f"{resource_group.lower()}|"
            query += f" and RowKey ge '{_quote(prefix)}' and RowKey lt '{_quote(prefix[:-1])}}}'"
        return [self._collection_from(e) for e in self._tables[COLLECTIONS].query_entities(query)]

    def all_collections(self) -> list[StoredCollection]:
        return [self._collection_from(e) for e in self._tables[COLLECTIONS].list_entities()]

    def delete_collection(self, ref: CollectionRef) -> None:
        pk, rk = self._collection_keys(ref)
        self._collection_rows.pop(ref.key, None)
        self._tables[COLLECTIONS].delete_entity(pk, rk)

    # ---- jobs --------------------------------------------------------------------------------------------------

    def _job_from(self, entity: Any, collection: CollectionRef, etag: str | None = None) -> StoredJob:
        layout = _schema(entity)
        sealed = entity.get("Secrets")
        return StoredJob(
            ref=JobRef(collection, entity["Name"]),
            definition=definition_from_wire(json.loads(entity["Definition"])),
            state=JobState(entity["State"]),
            status=JobStatus(
                execution_count=int(entity.get("ExecutionCount", 0)),
                failure_count=int(entity.get("FailureCount", 0)),
                faulted_count=int(entity.get("FaultedCount", 0)),
                last_execution_time=_dt(entity.get("LastExecutionTime")),
                next_execution_time=_dt(entity.get("NextExecutionTime")),
                last_result=entity.get("LastResult") or None,
            ),
            created_at=_dt(entity["CreatedAt"]) or datetime.now(UTC),
            secrets=json.loads(self._unseal(sealed)) if sealed else {},
            version=str(entity.get("Version") or "1") if layout >= 2 else f"g{entity.get('Generation', 1)}",
            manual_runs=int(entity.get("ManualRuns", 0)),
            series_base=int(entity.get("SeriesBase", 0)),  # absent before it was introduced: one series
            dispatched=tuple((datetime.fromisoformat(d), t) for d, t in json.loads(entity.get("Dispatched") or "[]")),
            etag=etag or entity.metadata["etag"],
            disabled_note=_note_from(entity),
        )

    def _job_entity(self, job: StoredJob) -> dict[str, Any]:
        return {
            "PartitionKey": job.ref.collection.key,
            "RowKey": job.ref.name.lower(),
            "Subscription": job.ref.collection.subscription,
            "ResourceGroup": job.ref.collection.resource_group,
            "Collection": job.ref.collection.name,
            "Name": job.ref.name,
            "Definition": json.dumps(job.definition.wire),
            "Secrets": self._seal(json.dumps(job.secrets)) if job.secrets else "",
            "State": job.state.value,
            **_progress_columns(job),
            "CreatedAt": _iso(job.created_at),
            "Version": job.version,
            "SchemaVersion": SCHEMA_VERSION,
            "DisabledBy": job.disabled_note.by if job.disabled_note else "",
            "DisabledAt": _iso(job.disabled_note.at) if job.disabled_note else "",
            "DisabledReason": job.disabled_note.reason if job.disabled_note else "",
            "SeriesBase": job.series_base,
        }

    def get_job(self, ref: JobRef) -> StoredJob:
        try:
            entity = self._tables[JOBS].get_entity(ref.collection.key, ref.name.lower())
        except ResourceNotFoundError as exc:
            raise JobNotFound(ref.name) from exc
        return self._job_from(entity, ref.collection)

    def create_job(self, job: StoredJob) -> StoredJob:
        try:
            metadata = self._tables[JOBS].create_entity(self._job_entity(job))
        except ResourceExistsError as exc:
            raise ConcurrencyConflict(f"job '{job.ref.name}' exists already") from exc
        return _with_etag(job, metadata)

    def replace_job(self, job: StoredJob) -> StoredJob:
        table = self._tables[JOBS]
        entity = self._job_entity(job)
        with _job_write_errors(job):
            if job.etag is None:
                return self._written(job, table.upsert_entity(entity, mode=UpdateMode.REPLACE))
            return self._written(job, self._job_writes.replace(entity, job.etag))

    def _write_with_history(self, job: StoredJob, write: Write, history: Sequence[HistoryEntry]) -> StoredJob:
        """The guarded job write `write` and the history rows, in one transaction of the job's partition (each
        keeps its own outcome: the rows are written even when the job's write fails)."""
        outcomes = self._job_writes.together(write, *(Write(self._history_row(entry)) for entry in history))
        for outcome in outcomes[1:]:
            if isinstance(outcome, BaseException):
                raise outcome
        with _job_write_errors(job):
            if isinstance(outcomes[0], BaseException):
                raise outcomes[0]
            return self._written(job, outcomes[0])

    def _written(self, job: StoredJob, metadata: Any) -> StoredJob:
        """`job` with the ETag of its write; a guarded write is remembered as what became of the row at its ETag."""
        written = _with_etag(job, metadata)
        if job.etag is not None and written.etag:
            with self._successors_lock:
                self._successors[(job.ref.key, job.etag)] = written
                while len(self._successors) > _SUCCESSORS_KEPT:
                    self._successors.popitem(last=False)
        return written

    def _merge_progress(self, job: StoredJob, history: Sequence[HistoryEntry] = ()) -> StoredJob:
        """Write only the columns an execution moves on (counters, times, last result, claims), guarded by `job.etag`:
        a claim or a final state carries a few hundred bytes instead of the whole definition, which is most of the CPU
        of a burst's transactions. Only for rows of layout 2 and later (a row of layout 1, whose version is still
        `g{Generation}`, is replaced whole and so rewritten in the current layout)."""
        assert job.etag is not None
        columns = {
            "PartitionKey": job.ref.collection.key,
            "RowKey": job.ref.name.lower(),
            **_progress_columns(job),
            "SchemaVersion": SCHEMA_VERSION,  # job rows of layouts 2 to 4 have the same columns
        }
        if history:
            return self._write_with_history(job, Write(columns, job.etag, merge=True), history)
        with _job_write_errors(job):
            return self._written(job, self._job_writes.merge(columns, job.etag))

    def _latest_known(self, job: StoredJob) -> StoredJob:
        """`job`, or what this process's guarded writes made of it since (following the chain)."""
        with self._successors_lock:
            for _ in range(_SUCCESSORS_KEPT):
                following = self._successors.get((job.ref.key, job.etag or ""))
                if following is None:
                    break
                job = following
        return job

    def update_job(
        self,
        ref: JobRef,
        update: Callable[[StoredJob], StoredJob],
        *,
        current: StoredJob | None = None,
        history: Sequence[HistoryEntry] = (),
    ) -> StoredJob:
        unwritten = list(history)  # they go with the first write of the job row (they share its partition)
        for _ in range(_MAX_ETAG_RETRIES):
            try:
                current = self._latest_known(current) if current is not None and current.etag else self.get_job(ref)
            except JobNotFound:
                self.add_history(unwritten)
                raise
            try:
                new = update(current)
            except BaseException:
                self.add_history(unwritten)
                raise
            if new == current:
                self.add_history(unwritten)
                return current
            guarded = new if new.etag == current.etag else _replace_etag(new, current.etag)
            rows, unwritten = unwritten, []
            try:
                if _only_progress_changed(current, new) and not current.version.startswith("g"):
                    return self._merge_progress(guarded, rows)
                if rows:
                    entity = self._job_entity(guarded)
                    assert guarded.etag is not None
                    return self._write_with_history(guarded, Write(entity, guarded.etag), rows)
                return self.replace_job(guarded)
            except ConcurrencyConflict:
                current = None
                continue
        raise ConcurrencyConflict(f"job '{ref.name}' kept changing; try again")

    def delete_job(self, ref: JobRef, *, etag: str | None = None) -> None:
        if etag is None:
            self._tables[JOBS].delete_entity(ref.collection.key, ref.name.lower())
            return
        try:
            self._tables[JOBS].delete_entity(
                ref.collection.key, ref.name.lower(), etag=etag, match_condition=MatchConditions.IfNotModified
            )
        except ResourceModifiedError as exc:
            raise ConcurrencyConflict(f"job '{ref.name}' changed meanwhile") from exc

    def snapshot(self, job: StoredJob) -> str | None:
        if job.etag is None:
            return None
        text = json.dumps({"entity": self._job_entity(job), "etag": job.etag}, separators=(",", ":"))
        return text if len(text) <= _MAX_SNAPSHOT_CHARS else None

    def restore(self, snapshot: str) -> StoredJob:
        taken = json.loads(snapshot)
        entity = taken["entity"]
        collection = CollectionRef(entity["Subscription"], entity["ResourceGroup"], entity["Collection"])
        return self._job_from(entity, collection, taken["etag"])

    def list_jobs(
        self, collection: CollectionRef, *, top: int, continuation: str | None, state: JobState | None
    ) -> Page:
        query = f"PartitionKey eq '{_quote(collection.key)}' and {_JOB_ROWS}"
        if state is not None:
            query += f" and State eq '{state.value}'"
        return _page(self._tables[JOBS], query, top, continuation, lambda e: self._job_from(e, collection))

    def all_jobs(self, collection: CollectionRef) -> list[StoredJob]:
        query = f"PartitionKey eq '{_quote(collection.key)}' and {_JOB_ROWS}"
        return [self._job_from(e, collection) for e in self._tables[JOBS].query_entities(query)]

    def jobs_changed_since(
        self, collection: CollectionRef, since: datetime | None
    ) -> tuple[list[StoredJob], datetime | None]:
        """The collection's jobs written at or after `since` (all when None), and the newest write time among them
        (storage's own `Timestamp`), for the console's job index (`service.console.JobChanges`).

        For a list, not for a write: secrets and dispatch records are not read (the SDK's per-property parsing is
        most of the cost of reading thousands of rows)."""
        query = f"PartitionKey eq '{_quote(collection.key)}' and {_JOB_ROWS}"
        if since is not None:
            query += f" and Timestamp ge datetime'{since.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%S.%fZ')}'"
        jobs, newest = [], None
        for entity in self._tables[JOBS].query_entities(query, results_per_page=1000, select=_LIST_COLUMNS):
            jobs.append(self._job_from(entity, collection))
            stamp = _dt(entity.metadata.get("timestamp"))
            newest = stamp if newest is None or (stamp and stamp > newest) else newest
        return jobs, newest

    # ---- history and claims --------------------------------------------------------------------------------------

    @staticmethod
    def _history_row(entry: HistoryEntry) -> dict[str, Any]:
        inverted = 10**14 - int(entry.start_time.timestamp() * 1000)
        key = (
            f"{_history_prefix(entry.job)}{inverted:014d}|{entry.execution_id}|{entry.action_name.value}|"
            f"{entry.retry_count:02d}"
        )
        return {
            "PartitionKey": entry.job.collection.key,
            "RowKey": key,
            "ExecutionId": entry.execution_id,
            "ExpectedExecutionTime": _iso(entry.expected_execution_time),
            "StartTime": _iso(entry.start_time),
            "EndTime": _iso(entry.end_time),
            "ActionName": entry.action_name.value,
            "Status": entry.status.value,
            "Message": entry.message,
            "RetryCount": entry.retry_count,
            "RepeatCount": entry.repeat_count,
            "SchemaVersion": SCHEMA_VERSION,
        }

    def add_history(self, entries: Sequence[HistoryEntry]) -> None:
        by_collection: dict[str, list[Write]] = {}
        for entry in entries:
            by_collection.setdefault(entry.job.collection.key, []).append(Write(self._history_row(entry)))
        # Grouped with the job rows and history rows other attempts of the collection write at the same time.
        for writes in by_collection.values():
            for outcome in self._job_writes.together(*writes):
                if isinstance(outcome, BaseException):
                    raise outcome

    def _history_sources(self, job: JobRef) -> list[tuple[str, TableClient, str]]:
        """Where a job's history rows are, newest first: (token tag, table, query). Each layout's rows are all older
        than the next one's."""
        c, old = _quote(job.collection.key), _history_prefix_3(job)
        return [
            ("t", self._tables[JOBS], _prefix_query(c, _history_prefix(job))),  # layout 4: beside the job row
            ("c", self._tables[HISTORY], _prefix_query(c, old)),  # layout 3: the collection's partition
            ("j", self._tables[HISTORY], f"PartitionKey eq '{_quote(job.key)}' and RowKey ge 'H|' and RowKey lt 'H}}'"),
        ]

    def list_history(
        self, job: JobRef, *, top: int, continuation: str | None, status: JobExecutionStatus | None
    ) -> Page:
        """The job's rows beside its job row, then (older) the rows of earlier layouts; the token says which source
        it continues (a token of layout 3 says "c", one issued before that is one of the job's own partition)."""
        token = _decode_token(continuation)
        tag = "j" if token is not None and "p" not in token else (token or {}).get("p", "t")
        inner = (token.get("t") if token is not None and "p" in token else token) or None
        by_status = f" and Status eq '{_quote(status.value)}'" if status else ""
        sources = self._history_sources(job)
        start = next((i for i, (t, _, _) in enumerate(sources) if t == tag), None)
        if start is None:
            raise InvalidInput("the continuation token is not one this service issued")

        def convert(entity: Any) -> HistoryEntry:
            return _history_from(entity, job)

        items: list[Any] = []
        for i in range(start, len(sources)):
            tag, table, query = sources[i]
            room = top - len(items)
            if room <= 0:  # this page is full: a next one only if an older source has rows
                more, _ = _page_of(table, query + by_status, 1, None, convert)
                if more:
                    return Page(items, _encode_token({"p": tag}))
                continue
            found, following = _page_of(table, query + by_status, room, inner, convert)
            items += found
            if following is not None:
                return Page(items, _encode_token({"p": tag, "t": following}))
            inner = None
        return Page(items, None)

    def claim(
        self,
        attempt: Attempt,
        token: str,
        *,
        advance: Callable[[StoredJob], StoredJob] | None = None,
        current: StoredJob | None = None,
    ) -> Claimed:
        if advance is not None:  # kept in the job row (adapters/claims.py)
            return claim_by_advance(self, attempt, token, advance, current)
        table = self._tables[HISTORY]
        job, key = attempt.job, _claim_key(attempt)
        row = {"PartitionKey": job.key, "RowKey": key, "Token": token, "SchemaVersion": SCHEMA_VERSION}
        try:
            table.create_entity(row)
            return Claimed(Claim.WON)
        except ResourceExistsError:
            # A redelivery of the message that won the claim (same token) may go on: at least once across crashes.
            won = table.get_entity(job.key, key).get("Token") == token
            return Claimed(Claim.REDELIVERED if won else Claim.LOST)

    def _history_rows(self, job: JobRef, select: list[str]) -> list[tuple[TableClient, Any]]:
        """The job's history rows (every layout, newest first) and its claims, each with its table."""
        rows = [
            (table, row)
            for _, table, query in self._history_sources(job)
            for row in table.query_entities(query, select=select)
        ]
        claims = self._tables[HISTORY].query_entities(
            f"PartitionKey eq '{_quote(job.key)}' and RowKey ge 'D|' and RowKey lt 'D}}'", select=select
        )
        return rows + [(self._tables[HISTORY], row) for row in claims]

    def delete_history(self, job: JobRef) -> None:
        self._delete_rows(self._history_rows(job, ["PartitionKey", "RowKey"]))

    @staticmethod
    def _delete_rows(rows: Sequence[tuple[TableClient, Any]]) -> None:
        by_partition: dict[tuple[str, str], tuple[TableClient, list[Any]]] = {}
        for table, row in rows:
            by_partition.setdefault((table.table_name, row["PartitionKey"]), (table, []))[1].append(row)
        for table, group in by_partition.values():
            for i in range(0, len(group), _BATCH):
                keys = [{"PartitionKey": r["PartitionKey"], "RowKey": r["RowKey"]} for r in group[i : i + _BATCH]]
                table.submit_transaction([("delete", key) for key in keys])

    def prune_history(self, job: JobRef, *, older_than: datetime, keep_last: int) -> int:
        rows = self._history_rows(job, ["PartitionKey", "RowKey", "StartTime"])
        claims = [(t, r) for t, r in rows if r["RowKey"].startswith("D|")]
        history = [(t, r) for t, r in rows if not r["RowKey"].startswith("D|")]  # newest first, layout by layout
        doomed = [
            (t, r)
            for i, (t, r) in enumerate(history)
            if i >= keep_last or (_dt(r.get("StartTime")) or older_than) < older_than
        ]
        # Claims older than the retention window can no longer be raced for.
        cutoff = older_than.astimezone(UTC)
        doomed += [(t, r) for t, r in claims if _claimed_due(r["RowKey"]) < cutoff]
        self._delete_rows(doomed)
        return len(doomed)

    # ---- due index ---------------------------------------------------------------------------------------------

    @staticmethod
    def _bucket(when: datetime) -> str:
        return when.astimezone(UTC).strftime("%Y%m%d%H%M")

    def _due_keys(self, job: JobRef, due: datetime) -> tuple[str, str]:
        return self._bucket(due), f"{_iso(due)}|{job.key}"

    def add_due(self, job: JobRef, due: datetime, snapshot: str | None = None, *, alone: bool = False) -> None:
        pk, rk = self._due_keys(job, due)
        c = job.collection
        # Grouped, a write waits for the transaction in flight in its bucket; alone it is one plain upsert (merge).
        write = self._tables[DUE].upsert_entity if alone else self._due_writes.upsert
        write(
            {
                "PartitionKey": pk,
                "RowKey": rk,
                "Subscription": c.subscription,
                "ResourceGroup": c.resource_group,
                "Collection": c.name,
                "Job": job.name,
                "Due": _iso(due),
                "Snapshot": snapshot or "",
                "SchemaVersion": SCHEMA_VERSION,
            }
        )

    def remove_due(self, job: JobRef, due: datetime) -> None:
        self.remove_due_many([(job, due)])

    def remove_due_many(self, entries: Sequence[tuple[JobRef, datetime]]) -> None:
        by_bucket: dict[str, list[str]] = {}
        for job, due in entries:
            pk, rk = self._due_keys(job, due)
            by_bucket.setdefault(pk, []).append(rk)
        table = self._tables[DUE]
        for pk, keys in by_bucket.items():
            if len(keys) == 1:
                table.delete_entity(pk, keys[0])  # idempotent; a batch would fail on a missing row
                continue
            for i in range(0, len(keys), _BATCH):
                try:
                    table.submit_transaction(
                        [("delete", {"PartitionKey": pk, "RowKey": k}) for k in keys[i : i + _BATCH]]
                    )
                except TableTransactionError:  # a row went meanwhile (another planner): delete one by one
                    for key in keys[i : i + _BATCH]:
                        table.delete_entity(pk, key)

    def due_until(self, until: datetime) -> list[Due]:
        table = self._tables[DUE]
        try:
            watermark_entity = table.get_entity("!", "watermark")
            start = datetime.strptime(watermark_entity["Bucket"], "%Y%m%d%H%M").replace(tzinfo=UTC)
        except ResourceNotFoundError:
            watermark_entity, start = None, until - _WATERMARK_SAFETY
        found: list[Due] = []
        bucket = start.replace(second=0, microsecond=0)
        while bucket <= until:
            for e in table.query_entities(f"PartitionKey eq '{self._bucket(bucket)}'"):
                due = _dt(e["Due"])
                if due is not None and due <= until and _schema(e):
                    ref = JobRef(CollectionRef(e["Subscription"], e["ResourceGroup"], e["Collection"]), e["Job"])
                    found.append(Due(ref, due, e.get("Snapshot") or None))
            bucket += timedelta(minutes=1)
        earliest = min([d.due for d in found] + [until - _WATERMARK_SAFETY])
        new_mark = self._bucket(earliest)
        if watermark_entity is None or watermark_entity["Bucket"] != new_mark:
            table.upsert_entity({"PartitionKey": "!", "RowKey": "watermark", "Bucket": new_mark})
        return sorted(found, key=lambda item: item.due)


@dataclass(eq=False)
class _CollectionUpdate:
    """One caller's `update` of a collection row, waiting for its turn, and what came of it."""

    update: Callable[[StoredCollection], StoredCollection]
    stored: StoredCollection | None = None
    error: Exception | None = None
    decided: bool = False
    woken: threading.Event = field(default_factory=threading.Event)

    def result(self) -> StoredCollection:
        if self.error is not None:
            raise self.error
        assert self.stored is not None
        return self.stored


@dataclass(eq=False)
class _CollectionTurn:
    """The writers of one collection row in this process: one writes at a time (`busy`), the others queue in
    `waiting`; the writer hands the next write to the first of them."""

    waiting: list[_CollectionUpdate] = field(default_factory=list)  # guarded by TableStorage._locks_lock
    busy: bool = False  # guarded by TableStorage._locks_lock
    holder: int | None = None  # the thread writing now (an update function of its may update the row again)


def _page(table: TableClient, query: str, top: int, continuation: str | None, convert: Callable[[Any], Any]) -> Page:
    """One page of a query, and the opaque token of the next (the SDK's dict token, base64 JSON on the wire)."""
    token: Any = _decode_token(continuation)
    pages = table.query_entities(query, results_per_page=top).by_page(continuation_token=token)
    items = [convert(e) for e in next(pages, [])]
    return Page(items, _encode_token(pages.continuation_token))  # type: ignore[attr-defined]


@contextmanager
def _job_write_errors(job: StoredJob) -> Iterator[None]:
    """A job row's write failing as the port says: ConcurrencyConflict when its ETag is stale, JobNotFound when gone."""
    try:
        yield
    except ResourceModifiedError as exc:
        raise ConcurrencyConflict(f"job '{job.ref.name}' changed meanwhile") from exc
    except ResourceNotFoundError as exc:
        raise JobNotFound(job.ref.name) from exc


def _progress_columns(job: StoredJob) -> dict[str, Any]:
    """The columns of a job row that executions move on (all that `_merge_progress` writes)."""
    status = job.status
    return {
        "ExecutionCount": status.execution_count,
        "FailureCount": status.failure_count,
        "FaultedCount": status.faulted_count,
        "LastExecutionTime": _iso(status.last_execution_time) or "",
        "NextExecutionTime": _iso(status.next_execution_time) or "",
        "LastResult": status.last_result or "",
        "ManualRuns": job.manual_runs,
        "Dispatched": json.dumps([[_iso(d), t] for d, t in job.dispatched]),
    }


def _only_progress_changed(current: StoredJob, new: StoredJob) -> bool:
    """Whether `new` differs from `current` only in what executions move on (status, run-now count, claims)."""
    return (
        new.ref == current.ref
        and (new.definition is current.definition or new.definition == current.definition)
        and new.state is current.state
        and new.created_at == current.created_at
        and new.version == current.version
        and new.disabled_note == current.disabled_note
        and (new.secrets is current.secrets or new.secrets == current.secrets)
    )


def _history_prefix(job: JobRef) -> str:
    """`~{job}|H|`: the row keys of a job's history rows beside the job rows start with it (`~` sorts after every
    job name's characters, so job queries read `RowKey lt '~'`)."""
    return f"{_HISTORY_MARK}{job.name.lower()}|H|"


def _history_prefix_3(job: JobRef) -> str:
    """`{job}|H|`: layout 3's history rows, in the history table's collection partition."""
    return f"{job.name.lower()}|H|"


def _prefix_query(partition: str, prefix: str) -> str:
    """The rows of a (quoted) partition whose row keys start with `prefix` (which ends with `|`)."""
    return f"PartitionKey eq '{partition}' and RowKey ge '{_quote(prefix)}' and RowKey lt '{_quote(prefix[:-1])}}}'"


def _page_of(
    table: TableClient, query: str, top: int, token: Any, convert: Callable[[Any], Any]
) -> tuple[list[Any], Any]:
    """One page of a query and the SDK's token of the next (None at the end)."""
    pages = table.query_entities(query, results_per_page=top).by_page(continuation_token=token)
    items = [convert(e) for e in next(pages, [])]
    return items, pages.continuation_token  # type: ignore[attr-defined]


def _claim_key(attempt: Attempt) -> str:
    """`D|{due}|{action}|{retry}`, and `|{run}` for a run-now: the row key of an attempt's claim (the due time as
    the message carries it)."""
    key = f"D|{attempt.due.isoformat(timespec='milliseconds')}|{attempt.action.value}|{attempt.retry}"
    return f"{key}|{attempt.run}" if attempt.run else key


def _claimed_due(row_key: str) -> datetime:
    """The due time of a claim's row key (`_claim_key`)."""
    return datetime.fromisoformat(row_key.split("|")[1]).astimezone(UTC)


def _history_from(entity: Any, job: JobRef) -> HistoryEntry:
    _schema(entity)  # the row's own columns are the same in every layout
    return HistoryEntry(
        job=job,
        execution_id=entity["ExecutionId"],
        expected_execution_time=_dt(entity["ExpectedExecutionTime"]) or datetime.min.replace(tzinfo=UTC),
        start_time=_dt(entity["StartTime"]) or datetime.min.replace(tzinfo=UTC),
        end_time=_dt(entity["EndTime"]) or datetime.min.replace(tzinfo=UTC),
        action_name=JobHistoryActionName(entity["ActionName"]),
        status=JobExecutionStatus(entity["Status"]),
        message=entity.get("Message", ""),
        retry_count=int(entity.get("RetryCount", 0)),
        repeat_count=int(entity.get("RepeatCount", 0)),
    )


def _note_from(entity: Any) -> DisabledNote | None:
    at = _dt(entity.get("DisabledAt"))
    return DisabledNote(entity.get("DisabledBy") or "", at, entity.get("DisabledReason") or "") if at else None


def _with_etag(job: StoredJob, metadata: Any) -> StoredJob:
    return replace(job, etag=(metadata or {}).get("etag"))


def _replace_etag(job: StoredJob, etag: str | None) -> StoredJob:
    return replace(job, etag=etag)
