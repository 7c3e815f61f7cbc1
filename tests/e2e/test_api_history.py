"""Issue 3, history: entries and their fields, newest first, $top/$skip/$filter on status, nextLink paging."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from devhost.tests.running import wait_for
from tests.support.api import SchedulerApi
from tests.support.target import Target
from tests.support.wire import history, http_job, one_time_job, put_job, wait_history

HISTORY_FIELDS = {
    "startTime", "endTime", "expectedExecutionTime", "actionName", "status", "message", "retryCount", "repeatCount"
}


def _run(api: SchedulerApi, collection: str, job: str) -> None:
    response = api.call("POST", api.job_path(collection, job) + "/run")
    assert response.status_code == 200, response.text


def _when(entry: dict) -> datetime:
    return datetime.fromisoformat(entry["properties"]["startTime"].replace("Z", "+00:00"))


@pytest.fixture
def big_target() -> Iterator[str]:
    """A target whose response body is 5,000 bytes: 'A' * 2048 then 'B' * 2952."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            payload = b"A" * 2048 + b"B" * 2952
            self.send_response(200)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_history_entries_have_every_field_newest_first_and_page_by_next_link(
    api: SchedulerApi, target: Target
) -> None:
    collection = api.new_collection()
    put_job(api, collection, "hist", http_job(f"{target.url}/hist", state="Disabled"))
    for done in range(1, 6):
        _run(api, collection, "hist")
        wait_history(api, collection, "hist", done)  # one at a time, so their start times are ordered

    everything = history(api, collection, "hist")
    assert len(everything) == 5
    assert [_when(e) for e in everything] == sorted((_when(e) for e in everything), reverse=True)
    job_id = api.job_path(collection, "hist")
    for entry in everything:
        assert HISTORY_FIELDS <= set(entry["properties"])
        assert entry["id"].startswith(job_id + "/history/")
        assert entry["name"].startswith(f"{collection}/hist/")
        assert entry["type"] == "Microsoft.Scheduler/jobCollections/jobs/history"
        properties = entry["properties"]
        assert properties["actionName"] == "MainAction"
        assert properties["status"] == "Completed"
        assert "200" in properties["message"] and "target says hello" in properties["message"]
        assert properties["retryCount"] == 0
        assert isinstance(properties["repeatCount"], int)
    assert len({e["id"] for e in everything}) == 5

    page = api.call("GET", job_id + "/history", **{"$top": 2}).json()
    paged = list(page["value"])
    while page.get("nextLink"):
        assert parse_qs(urlsplit(page["nextLink"]).query)["api-version"] == ["2016-03-01"]
        page = api.session.get(page["nextLink"], timeout=30).json()
        assert len(page["value"]) <= 2
        paged += page["value"]
    assert [e["id"] for e in paged] == [e["id"] for e in everything]

    skipped = history(api, collection, "hist", **{"$skip": 3})
    assert [e["id"] for e in skipped] == [e["id"] for e in everything[3:]]
    top_one = history(api, collection, "hist", **{"$top": 1, "$skip": 1})
    assert [e["id"] for e in top_one] == [everything[1]["id"]]


def test_history_filters_on_status(api: SchedulerApi) -> None:
    calls = itertools.count()
    target = Target(respond=lambda path: 200 if next(calls) == 0 else 500)  # the first run succeeds, then failures
    try:
        collection = api.new_collection()
        # Disabled, with a due occurrence soon: that occurrence is Postponed; runs by hand still run.
        body = one_time_job(f"{target.url}/ok", in_seconds=2, retryPolicy={"retryType": "None"})
        body["properties"]["state"] = "Disabled"
        put_job(api, collection, "mixed", body)
        wait_for(lambda: history(api, collection, "mixed", **{"$filter": "status eq 'Postponed'"}), "Postponed row")
        _run(api, collection, "mixed")
        wait_history(api, collection, "mixed", 2)
        _run(api, collection, "mixed")
        wait_history(api, collection, "mixed", 3)

        for text, status in (
            ("status eq 'Completed'", "Completed"),
            ("status eq failed", "Failed"),
            ("STATUS eq 'postponed'", "Postponed"),
        ):
            rows = history(api, collection, "mixed", **{"$filter": text})
            assert [r["properties"]["status"] for r in rows] == [status], text
        failed = history(api, collection, "mixed", **{"$filter": "status eq 'Failed'"})[0]["properties"]
        assert "500" in failed["message"]
        bad = api.call("GET", api.job_path(collection, "mixed") + "/history", **{"$filter": "status eq 'Lost'"})
        assert bad.status_code == 400
        assert bad.json()["error"]["details"][0]["target"] == "$filter"
    finally:
        target.close()


def test_history_message_keeps_the_first_2048_bytes_of_the_response(api: SchedulerApi, big_target: str) -> None:
    collection = api.new_collection()
    put_job(api, collection, "big", http_job(f"{big_target}/big", state="Disabled"))
    _run(api, collection, "big")
    message = wait_history(api, collection, "big", 1)[0]["properties"]["message"]
    assert "200" in message
    assert "A" * 2048 in message
    assert "AB" not in message and "B" * 10 not in message


def test_history_top_out_of_range_is_400(api: SchedulerApi) -> None:
    collection = api.new_collection()
    put_job(api, collection, "h", http_job())
    for top in (0, 101):
        response = api.call("GET", api.job_path(collection, "h") + "/history", **{"$top": top})
        assert response.status_code == 400, response.text
