"""Bulk seeding of jobs and due-index entries, in exactly the adapter's layout, with table batches of 100.

The entities are produced by `TableStorage` itself (`create_job`, `add_due`) writing into a recorder instead of a
table, then sent in entity group transactions. This bypasses the API on purpose: the benchmarks that seed measure
what happens to stored jobs (a tick, an execution), not how jobs are created.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from azure.data.tables import TableServiceClient

from scheduler_core.adapters.tables import TableStorage
from scheduler_core.domain.job import CollectionRef, JobRef, JobState, JobStatus
from scheduler_core.ports import StoredJob

_BATCH = 100  # Table Storage's limit per transaction (all one PartitionKey)


class _RecordingTable:
    def __init__(self, name: str, sink: list[tuple[str, dict[str, Any]]]) -> None:
        self._name, self._sink = name, sink

    def create_entity(self, entity: dict[str, Any], **_: Any) -> dict[str, Any]:
        self._sink.append((self._name, entity))
        return {}

    upsert_entity = create_entity


class _RecordingService:
    def __init__(self) -> None:
        self.entities: list[tuple[str, dict[str, Any]]] = []

    def get_table_client(self, name: str) -> _RecordingTable:
        return _RecordingTable(name, self.entities)


def job_ref(i: int, per_collection: int = 1000) -> JobRef:
    return JobRef(CollectionRef("bench", "bench", f"jc{i // per_collection:04d}"), f"job{i:07d}")


def job_entities(refs_and_due: Iterable[tuple[JobRef, datetime]], definition: dict[str, Any], created: datetime,
                 *, index: bool = True) -> list[tuple[str, dict[str, Any]]]:
    """(table, entity) for each job (its next occurrence `due`) and, with `index`, its due-index entry."""
    recorder = _RecordingService()
    storage = TableStorage(recorder)  # type: ignore[arg-type]
    for ref, due in refs_and_due:
        storage.create_job(StoredJob(ref, definition, JobState.ENABLED, JobStatus().scheduled(due), created_at=created))
        if index:
            storage.add_due(ref, due)
    return recorder.entities


def due_entities(
    refs_and_due: Iterable[tuple[JobRef, datetime]], snapshots: Mapping[JobRef, str | None] | None = None
) -> list[tuple[str, dict[str, Any]]]:
    """(table, entity) of each due-index entry, carrying the job's snapshot when `snapshots` has it."""
    recorder = _RecordingService()
    storage = TableStorage(recorder)  # type: ignore[arg-type]
    for ref, due in refs_and_due:
        storage.add_due(ref, due, (snapshots or {}).get(ref))
    return recorder.entities


def snapshots_of(service: TableServiceClient, collections: Iterable[CollectionRef]) -> dict[JobRef, str | None]:
    """The snapshot (JobStore.snapshot) of every job stored in `collections`, read back with its real ETag, as the
    scheduler's own writes would have put beside its due-index entry."""
    storage = TableStorage(service)
    return {job.ref: storage.snapshot(job) for c in collections for job in storage.all_jobs(c)}


def submit(service: TableServiceClient, entities: list[tuple[str, dict[str, Any]]], *, threads: int = 4) -> int:
    """Upsert the entities in batches of 100 per (table, partition); returns the number of transactions."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for table, entity in entities:
        groups[(table, entity["PartitionKey"])].append(entity)
    batches = [
        (table, rows[i : i + _BATCH]) for (table, _), rows in groups.items() for i in range(0, len(rows), _BATCH)
    ]
    clients = {table: service.get_table_client(table) for table, _ in groups}

    def send(batch: tuple[str, list[dict[str, Any]]]) -> None:
        table, rows = batch
        clients[table].submit_transaction([("upsert", row) for row in rows])

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(send, batches))
    return len(batches)
