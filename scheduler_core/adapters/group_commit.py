"""Group commit: concurrent writes to one partition of a table go out together as one entity group transaction.

When many occurrences fall due at one instant, each writes its job row at that instant (the claim) and, for a
one-time job, again after its call (the final state); the job rows of a collection share a partition. Recurring
jobs due together also write their next occurrences' due entries together, into one minute bucket. A write that
arrives while another write to its partition is in flight waits for it, and everything that waited goes out as the
next transaction (up to 100 rows, each row at most once, under 4 MB). Alone, a write goes out at once as a single
request: no added delay. Colliding, N writes cost about one request instead of N, in storage transactions (a batch
is one) and in the worker's CPU.

Each write keeps its own outcome, as if it had been sent alone: when a transaction fails on one of its operations
(that row's ETag no longer matches, or the row is gone), the transaction is sent again without it and that write
alone gets the error a single replace would have raised (`ResourceModifiedError`, `ResourceNotFoundError`). A
transaction refused as a whole sends its writes one by one; one that cannot reach the service fails them all with
that error.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import HttpResponseError, ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import TableClient, TableTransactionError, UpdateMode

_MAX_OPERATIONS = 100  # Table Storage's limit per entity group transaction
# Characters of property values per transaction: JSON escaping can at most double them, which keeps the payload
# under the transaction's 4 MiB. (A payload refused as too large would still be written, one row at a time.)
_MAX_CHARS = 3 * 1024 * 1024 // 2
_ERRORS_BY_STATUS: dict[int, type[HttpResponseError]] = {412: ResourceModifiedError, 404: ResourceNotFoundError}


@dataclass(eq=False)
class _Write:
    entity: Mapping[str, Any]
    etag: str | None  # None: an unconditional upsert (merge)
    merge: bool = False  # with an etag: merge these columns into the row instead of replacing it
    done: threading.Event = field(default_factory=threading.Event)
    lead: bool = False  # this write's thread sends the next transaction of its partition
    metadata: Mapping[str, Any] | None = None
    error: BaseException | None = None
    finished: bool = False

    @property
    def row(self) -> str:
        return str(self.entity["RowKey"])

    @property
    def size(self) -> int:
        return sum(len(value) if isinstance(value, str) else 16 for value in self.entity.values())

    @property
    def kind(self) -> str:
        return "upsert" if self.etag is None else "update"

    def options(self) -> dict[str, Any]:
        if self.etag is None:
            return {"mode": UpdateMode.MERGE}
        mode = UpdateMode.MERGE if self.merge else UpdateMode.REPLACE
        return {"mode": mode, "etag": self.etag, "match_condition": MatchConditions.IfNotModified}

    def send_alone(self, table: TableClient) -> Mapping[str, Any]:
        if self.etag is None:
            return table.upsert_entity(self.entity, **self.options())
        return table.update_entity(self.entity, **self.options())

    def finish(self, metadata: Mapping[str, Any] | None = None, error: BaseException | None = None) -> None:
        self.metadata, self.error, self.finished = metadata, error, True
        self.done.set()


class GroupCommit:
    """Writes rows of one table, grouping concurrent writes per partition. Thread-safe."""

    def __init__(self, table: TableClient) -> None:
        self._table = table
        self._lock = threading.Lock()
        self._waiting: dict[str, deque[_Write]] = {}  # a partition is here while a thread leads its writes

    def replace(self, entity: Mapping[str, Any], etag: str) -> Mapping[str, Any]:
        """Replace the row of `entity` if it still has `etag`; returns the new metadata (its `etag`).

        Raises what `TableClient.update_entity` raises for the same single replace.
        """
        return self._write(_Write(entity, etag))

    def merge(self, entity: Mapping[str, Any], etag: str) -> Mapping[str, Any]:
        """Merge the columns of `entity` into its row if the row still has `etag`; returns the new metadata.

        Raises what `TableClient.update_entity(mode=MERGE)` raises for the same single merge.
        """
        return self._write(_Write(entity, etag, merge=True))

    def upsert(self, entity: Mapping[str, Any]) -> Mapping[str, Any]:
        """Insert the row of `entity` or merge it into the existing one; returns the new metadata.

        Raises what `TableClient.upsert_entity` raises for the same single upsert.
        """
        return self._write(_Write(entity, None))

    def together(self, *writes: Write) -> list[Mapping[str, Any] | BaseException]:
        """Several writes to one partition, queued at once so that they go out in the same transaction (unless it
        is full, or two of them are to one row); each keeps its own outcome, returned in order: the new metadata, or
        the error its write alone would have raised."""
        queued = [_Write(w.entity, w.etag, merge=w.merge) for w in writes]
        if queued:
            self._run(queued)
        return [w.error if w.error is not None else _metadata(w) for w in queued]

    def _write(self, write: _Write) -> Mapping[str, Any]:
        self._run([write])
        if write.error is not None:
            raise write.error
        return _metadata(write)

    def _run(self, writes: list[_Write]) -> None:
        """Queue `writes` (of one partition) together and return once each is written or has failed."""
        partition = str(writes[0].entity["PartitionKey"])
        with self._lock:
            queue = self._waiting.get(partition)
            if queue is None:
                queue = self._waiting[partition] = deque()
                writes[0].lead = True
            queue.extend(writes)
        for write in writes:
            if not write.lead:
                write.done.wait()  # written by another thread, or handed the lead
            if write.lead and not write.finished:
                self._lead(partition)  # its transaction starts with it: it is the front of the queue

    def waiting(self) -> int:
        """How many writes wait for a transaction of their partition to finish (for monitoring and tests)."""
        with self._lock:
            return sum(len(queue) for queue in self._waiting.values())

    def _lead(self, partition: str) -> None:
        """Send one transaction from the front of the partition's queue (the leader's own write is first), then hand
        the lead to the next waiting write, or release the partition."""
        with self._lock:
            batch = _take(self._waiting[partition])
        try:
            self._commit(batch)
        finally:
            for write in batch:
                if not write.done.is_set():
                    write.finish(error=RuntimeError("group commit failed"))
            with self._lock:
                queue = self._waiting[partition]
                if queue:
                    queue[0].lead = True
                    queue[0].done.set()
                else:
                    del self._waiting[partition]

    def _commit(self, batch: list[_Write]) -> None:
        pending = list(batch)
        while len(pending) > 1:
            try:
                results = self._table.submit_transaction([(w.kind, w.entity, w.options()) for w in pending])
            except TableTransactionError as exc:
                failed = _failed_operation(exc, len(pending))
                if failed is None:
                    break  # not one operation's fault: each write goes alone below
                single = _ERRORS_BY_STATUS[int(exc.status_code or 0)]
                pending.pop(failed).finish(error=single(exc.message, response=exc.response))
                continue
            except HttpResponseError:
                break  # refused as a whole (too large, throttled or failed after the SDK's retries)
            except Exception as exc:  # the service was not reached, after the SDK's retries: every write fails with it
                for write in pending:
                    write.finish(error=exc)
                return
            for write, metadata in zip(pending, results, strict=True):
                write.finish(metadata)
            return
        for write in pending:
            try:
                write.finish(write.send_alone(self._table))
            except Exception as exc:  # the caller gets it, as from its own request
                write.finish(error=exc)


@dataclass(frozen=True)
class Write:
    """One write for `GroupCommit.together`: an upsert (merge) when `etag` is None, else a replace, or a merge of
    its columns when `merge`, guarded by the ETag."""

    entity: Mapping[str, Any]
    etag: str | None = None
    merge: bool = False


def _metadata(write: _Write) -> Mapping[str, Any]:
    assert write.metadata is not None
    return write.metadata


def _take(queue: deque[_Write]) -> list[_Write]:
    """The next transaction's writes, in arrival order: each row once, at most 100, within the size limit."""
    batch: list[_Write] = []
    skipped: list[_Write] = []
    rows: set[str] = set()
    size = 0
    while queue and len(batch) < _MAX_OPERATIONS:
        write = queue.popleft()
        if write.row in rows or (batch and size + write.size > _MAX_CHARS):
            skipped.append(write)
            continue
        batch.append(write)
        rows.add(write.row)
        size += write.size
    queue.extendleft(reversed(skipped))
    return batch


def _failed_operation(exc: TableTransactionError, count: int) -> int | None:
    """The index of the operation that failed a transaction, when its failure is one a single replace reports
    (condition not met, row gone) and the service named the operation ("{index}:..." in the message)."""
    if exc.status_code not in _ERRORS_BY_STATUS or not 0 <= exc.index < count:
        return None
    if not str(exc.message).startswith(f"{exc.index}:"):
        return None
    return int(exc.index)
