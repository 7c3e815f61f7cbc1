"""What commands print: the API's wire JSON as json, jsonl or yaml for scripts, or a rich table for people.

Results go to stdout and everything else (progress, warnings, errors) to stderr, so `-o json | jq` always works.
The table puts a job's schedule and its time zone in one column, as the human phrase the console also shows.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from enum import Enum
from typing import Any

import yaml
from rich.console import Console
from rich.table import Table
from rich.text import Text

from scheduler_core.domain.phrases import describe
from scheduler_core.wire import recurrence_from_wire


class Format(str, Enum):
    """`-o/--output`: table for people; json (the API's own JSON), jsonl (one item a line) and yaml for scripts."""

    TABLE = "table"
    JSON = "json"
    JSONL = "jsonl"
    YAML = "yaml"


def out() -> Console:
    """The results console (stdout; looked up per call so test runners that swap sys.stdout see it)."""
    # Piped output is read by scripts and tests: no wrapping at an 80-column guess.
    return Console(file=sys.stdout, width=None if sys.stdout.isatty() else 250)


def note(message: str) -> None:
    """Progress, warnings and errors: stderr, plain text, so stdout stays the result alone."""
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def emit(data: Any, fmt: Format, table: Callable[[Any], Table | str] | None = None, *, many: bool = False) -> None:
    """Print `data` (wire JSON) in `fmt`; `many` for a list result, printed as `{"value": [...]}` in json and yaml.

    Args:
        data: a wire object, or a list of them when `many`.
        fmt: the output format.
        table: builds the table (or a text) for the table format; json is printed when it is None.
        many: `data` is a list.
    """
    if fmt is Format.JSONL:
        for item in data if many else [data]:
            sys.stdout.write(json.dumps(item, ensure_ascii=False) + "\n")
        return
    wire = {"value": data} if many else data
    if fmt is Format.JSON or (fmt is Format.TABLE and table is None):
        sys.stdout.write(json.dumps(wire, indent=2, ensure_ascii=False) + "\n")
    elif fmt is Format.YAML:
        sys.stdout.write(yaml.safe_dump(wire, sort_keys=False, allow_unicode=True))
    else:
        assert table is not None
        rendered = table(data)
        if isinstance(rendered, str):
            sys.stdout.write(rendered + ("" if rendered.endswith("\n") else "\n"))
        else:
            out().print(rendered)


def new_table(*columns: str) -> Table:
    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


def row(table: Table, *cells: str) -> None:
    """Add a row of plain text (never rich markup: a template expression `[concat(...)]` must print as written)."""
    table.add_row(*(Text(cell) for cell in cells))


def schedule_phrase(properties: dict[str, Any]) -> str:
    """The schedule as one phrase ending with its zone: `every weekday at 10:00, Europe/Berlin`."""
    try:
        start = properties.get("startTime")
        anchor = datetime.fromisoformat(start) if start else None
        return describe(recurrence_from_wire(properties.get("recurrence")), anchor)
    except Exception:  # a definition the domain cannot read still gets a column: its raw recurrence
        return json.dumps(properties.get("recurrence"))


def action_target(action: dict[str, Any] | None) -> str:
    """`GET https://example.org/x`, `queue devstoreaccount1/orders`, `topic ns/t1`: what an action calls."""
    if not action:
        return ""
    if request := action.get("request"):
        return f"{request.get('method', 'GET')} {request.get('uri', '')}"
    if message := action.get("queueMessage"):
        return f"storage queue {message.get('storageAccount')}/{message.get('queueName')}"
    if message := action.get("serviceBusQueueMessage"):
        return f"service bus queue {message.get('namespace')}/{message.get('queueName')}"
    if message := action.get("serviceBusTopicMessage"):
        return f"service bus topic {message.get('namespace')}/{message.get('topicPath')}"
    return str(action.get("type", ""))


def short_time(value: str | None) -> str:
    """`2026-12-02 10:00:00Z` from a wire datetime (empty for None)."""
    return value.replace("T", " ")[:19] + "Z" if value else ""


def job_rows(jobs: Sequence[dict[str, Any]]) -> Table:
    table = new_table("JOB", "STATE", "SCHEDULE", "ACTION", "NEXT", "LAST", "RUNS/FAILED")
    for job in jobs:
        props = job.get("properties") or {}
        status = props.get("status") or {}
        row(table,
            job.get("name", ""), props.get("state", ""), schedule_phrase(props), action_target(props.get("action")),
            short_time(status.get("nextExecutionTime")), short_time(status.get("lastExecutionTime")),
            f"{status.get('executionCount', 0)}/{status.get('failureCount', 0)}",
        )
    return table


def collection_rows(collections: Sequence[dict[str, Any]]) -> Table:
    table = new_table("COLLECTION", "STATE", "PLAN", "MAX JOBS", "MAX RECURRENCE", "LOCATION")
    for c in collections:
        props = c.get("properties") or {}
        quota = props.get("quota") or {}
        recurrence = quota.get("maxRecurrence") or {}
        every = f"every {recurrence.get('interval', 1)} {recurrence.get('frequency', '').lower()}" if recurrence else ""
        row(table,
            c.get("name", ""), props.get("state", ""), (props.get("sku") or {}).get("name", ""),
            str(quota.get("maxJobCount", "")), every, c.get("location", ""),
        )
    return table


def history_rows(entries: Sequence[dict[str, Any]]) -> Table:
    table = new_table("STARTED", "STATUS", "ACTION", "RETRY", "EXPECTED", "MESSAGE")
    for entry in entries:
        p = entry.get("properties") or {}
        message = (p.get("message") or "").split("\n")[0][:120]
        row(table, short_time(p.get("startTime")), p.get("status", ""), p.get("actionName", ""),
            str(p.get("retryCount", "")), short_time(p.get("expectedExecutionTime")), message)
    return table


def job_detail(job: dict[str, Any], next_times: Sequence[str] = ()) -> str:
    """A job for people: identity, schedule phrase, action, counters, last result and the next fire times."""
    props = job.get("properties") or {}
    status = props.get("status") or {}
    action = props.get("action") or {}
    lines = [
        f"job        {job.get('name', '')}",
        f"state      {props.get('state', '')}",
        f"schedule   {schedule_phrase(props)}",
        f"action     {action.get('type', '')} {action_target(action)}",
    ]
    if retry := action.get("retryPolicy"):
        every = f"{retry.get('retryCount', '')} x {retry.get('retryInterval', '')}"
        lines.append(f"retry      {retry.get('retryType', '')} {every}".rstrip())
    if error_action := action.get("errorAction"):
        lines.append(f"on error   {error_action.get('type', '')} {action_target(error_action)}")
    lines += [
        f"runs       {status.get('executionCount', 0)} ({status.get('failureCount', 0)} failed, "
        f"{status.get('faultedCount', 0)} faulted)",
        f"last run   {short_time(status.get('lastExecutionTime')) or '-'}",
        f"next run   {short_time(status.get('nextExecutionTime')) or '-'}",
    ]
    if next_times:
        lines.append("next       " + "\n           ".join(short_time(t) for t in next_times))
    return "\n".join(lines)
