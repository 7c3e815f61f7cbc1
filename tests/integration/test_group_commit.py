"""Group commit on real Azurite: job-row writes that collide go out as one transaction, and each keeps the outcome it
would have had alone (a stale ETag or a deleted row fails only that write)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import TableClient, TableServiceClient

from devhost.azurite import Azurite
from scheduler_core.adapters.group_commit import GroupCommit

WRITERS = 12


class Gate:
    """A `raw_request_hook` that records requests; after `hold()` it holds the first one until `release()`: the
    writes that arrive meanwhile must wait for it, as they do when a transaction is in flight."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self._open = threading.Event()
        self._open.set()

    def __call__(self, request: Any) -> None:
        self.requests.append(request.http_request.method)
        if not self._open.wait(timeout=30):
            raise TimeoutError("the gate was never released")

    def hold(self) -> None:
        self.requests.clear()
        self._open.clear()

    def release(self) -> None:
        self._open.set()


@pytest.fixture
def table(azurite: Azurite) -> Iterator[tuple[TableClient, Gate]]:
    gate = Gate()
    service = TableServiceClient.from_connection_string(azurite.connection_string, raw_request_hook=gate)
    name = f"gc{uuid.uuid4().hex[:12]}"
    service.create_table(name)
    yield service.get_table_client(name), gate
    service.delete_table(name)


def rows(table: TableClient, count: int) -> list[tuple[dict[str, Any], str]]:
    """`count` rows in one partition, each with its current ETag."""
    created = []
    for i in range(count):
        entity = {"PartitionKey": "collection", "RowKey": f"job{i:02d}", "Runs": 0}
        created.append((entity, table.create_entity(entity)["etag"]))
    return created


def collide(table: TableClient, gate: Gate, writes: list[Callable[[GroupCommit], Mapping[str, Any]]]) -> list[Any]:
    """Run `writes` on threads against one GroupCommit so that all but the first wait for the first's request;
    returns each write's metadata or the exception it raised."""
    commit = GroupCommit(table)
    gate.hold()

    def run(write: Callable[[GroupCommit], Mapping[str, Any]]) -> Any:
        try:
            return write(commit)
        except HttpResponseError as exc:
            return exc

    with ThreadPoolExecutor(len(writes)) as pool:
        futures = [pool.submit(run, writes[0])]
        while not gate.requests:
            time.sleep(0.005)
        futures += [pool.submit(run, write) for write in writes[1:]]
        while commit.waiting() < len(writes) - 1:
            time.sleep(0.005)
        gate.release()
        return [future.result(timeout=30) for future in futures]


def replace_runs(entity: dict[str, Any], etag: str, runs: int) -> Callable[[GroupCommit], Mapping[str, Any]]:
    return lambda commit: commit.replace({**entity, "Runs": runs}, etag)


def test_colliding_writes_to_one_partition_go_out_as_one_transaction(table: tuple[TableClient, Gate]) -> None:
    client, gate = table
    created = rows(client, WRITERS)

    results = collide(client, gate, [replace_runs(entity, etag, 1) for entity, etag in created])
    requests = list(gate.requests)

    assert all(isinstance(result, Mapping) and result["etag"] for result in results)
    assert requests == ["PUT", "POST"]  # the first alone, the other eleven together
    stored = {row["RowKey"]: row for row in client.query_entities("PartitionKey eq 'collection'")}
    assert all(stored[entity["RowKey"]]["Runs"] == 1 for entity, _ in created)
    assert [stored[e["RowKey"]].metadata["etag"] for e, _ in created] == [r["etag"] for r in results]


def test_a_stale_or_deleted_row_fails_alone_and_the_others_are_written(table: tuple[TableClient, Gate]) -> None:
    client, gate = table
    created = rows(client, 6)
    stale, gone = created[2], created[4]
    client.update_entity({**stale[0], "Runs": 7})  # its ETag moves on
    client.delete_entity("collection", gone[0]["RowKey"])

    results = collide(client, gate, [replace_runs(entity, etag, 1) for entity, etag in created])
    requests = list(gate.requests)

    assert isinstance(results[2], ResourceModifiedError)
    assert isinstance(results[4], ResourceNotFoundError)
    assert all(isinstance(results[i], Mapping) for i in (0, 1, 3, 5))
    stored = {row["RowKey"]: row["Runs"] for row in client.query_entities("PartitionKey eq 'collection'")}
    assert stored == {"job00": 1, "job01": 1, "job02": 7, "job03": 1, "job05": 1}
    # one alone, then the transaction fails on the stale row, then on the deleted row, then goes through
    assert requests == ["PUT", "POST", "POST", "POST"]


def test_two_writes_of_one_row_are_never_in_one_transaction_and_the_second_sees_the_first(
    table: tuple[TableClient, Gate],
) -> None:
    client, gate = table
    (first, first_etag), (other, other_etag) = rows(client, 2)

    results = collide(
        client,
        gate,
        [
            replace_runs(other, other_etag, 1),
            replace_runs(first, first_etag, 1),
            replace_runs(first, first_etag, 2),  # a second message claiming the same occurrence
        ],
    )

    assert isinstance(results[1], Mapping) and isinstance(results[2], ResourceModifiedError)
    assert client.get_entity("collection", first["RowKey"])["Runs"] == 1


def test_colliding_upserts_insert_new_rows_and_merge_into_existing_ones_in_one_transaction(
    table: tuple[TableClient, Gate],
) -> None:
    client, gate = table
    (existing, _), = rows(client, 1)
    entries = [{"PartitionKey": "collection", "RowKey": f"due{i:02d}", "Snapshot": f"s{i}"} for i in range(WRITERS)]

    def upsert(entity: dict[str, Any]) -> Callable[[GroupCommit], Mapping[str, Any]]:
        return lambda commit: commit.upsert(entity)

    merged = {"PartitionKey": "collection", "RowKey": existing["RowKey"], "Snapshot": "new"}
    results = collide(client, gate, [upsert(entity) for entity in [*entries, merged]])
    requests = list(gate.requests)

    assert all(isinstance(result, Mapping) for result in results)
    assert requests == ["PATCH", "POST"]
    stored = {row["RowKey"]: dict(row) for row in client.query_entities("PartitionKey eq 'collection'")}
    assert {key: row["Snapshot"] for key, row in stored.items() if key.startswith("due")} == {
        entity["RowKey"]: entity["Snapshot"] for entity in entries
    }
    assert stored[existing["RowKey"]]["Runs"] == 0 and stored[existing["RowKey"]]["Snapshot"] == "new"  # merged
