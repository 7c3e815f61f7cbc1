"""`azsched jobs list|show|create|update|delete|enable|disable|run|history|preview`."""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from azsched.commands.common import CollectionOpt, JobArg, job_ref, read_json
from azsched.commands.flags import SCHEDULE_FLAGS, job_flags
from azsched.context import Failed, settings
from azsched.jobspec import Kind, build, patch
from azsched.output import Format, emit, history_rows, job_detail, job_rows, note, schedule_phrase, short_time

app = typer.Typer(no_args_is_help=True)


def _recurrence_file(flags: dict[str, Any], body: dict[str, Any]) -> None:
    if flags.get("recurrence_file"):
        body["properties"]["recurrence"] = read_json(flags["recurrence_file"])


@app.command("list")
def list_(
    ctx: typer.Context,
    collection: CollectionOpt = None,
    state: Annotated[str | None, typer.Option(help="Only jobs in this state: Enabled, Disabled, Completed, Faulted.")
                     ] = None,
    name_contains: Annotated[str | None, typer.Option(help="Only jobs whose name contains this (any case).")] = None,
    top: Annotated[int | None, typer.Option(help="At most this many jobs.", min=1)] = None,
) -> None:
    """List jobs of a collection (of every collection of the resource group without --collection).

    Example: azsched jobs list -c nightly-jobs --state Enabled
    """
    s = settings(ctx)
    names = [collection] if collection else [c["name"] for c in s.client.list_collections()]
    jobs: list[dict[str, Any]] = []
    for name in names:
        for job in s.client.list_jobs(name, state=state, top=None if name_contains else top):
            if name_contains and name_contains.lower() not in job["name"].split("/")[-1].lower():
                continue
            jobs.append(job)
    emit(jobs[:top] if top else jobs, s.output, job_rows, many=True)


@app.command()
def show(
    ctx: typer.Context, job: JobArg, collection: CollectionOpt = None,
    next_: Annotated[int, typer.Option("--next", help="Also print the next N fire times (table output).", min=0,
                                       max=100)] = 0,
) -> None:
    """Show a job: its definition, counters, last result and (--next N) its next fire times.

    With -o json (or jsonl, yaml) the job is printed exactly as the API returns it.

    Example: azsched jobs show nightly-jobs/ping --next 5
    """
    s = settings(ctx)
    collection, name = job_ref(job, collection)
    definition = s.client.get_job(collection, name)
    if s.output is not Format.TABLE:
        emit(definition, s.output)
        return
    times = s.client.preview_job(collection, name, next_) if next_ else []
    text = job_detail(definition, times)
    last = s.client.history(collection, name, top=1)
    if last:
        p = last[0]["properties"]
        text += f"\nlast result {p.get('status')} at {short_time(p.get('endTime'))}: {(p.get('message') or '')[:200]}"
    emit(definition, s.output, lambda _: text)


@app.command()
@job_flags()
def create(
    ctx: typer.Context,
    kind: Annotated[Kind, typer.Argument(help="http, storage-queue, service-bus-queue or service-bus-topic.",
                                         show_default=False)],
    job: JobArg,
    collection: CollectionOpt = None,
    from_file: Annotated[Path | None, typer.Option("--from-file", help="Start from a JobDefinition JSON file "
                                                   "(flags given override it).", exists=True, dir_okay=False)] = None,
    disabled: Annotated[bool, typer.Option("--disabled", help="Create it Disabled.")] = False,
    **flags: Any,
) -> None:
    """Create (or replace) a job.

    \b
    Examples:
      azsched jobs create http ping -c nightly-jobs --uri https://example.org/ping --every 15m
      azsched jobs create http report -c nightly-jobs --uri https://example.org/r --method POST --body '{}' \\
        --frequency Week --week-days Monday,Friday --hours 9 --minutes 0 --time-zone Europe/Berlin
      azsched jobs create storage-queue nudge -c nightly-jobs --account acct --queue q --sas-token "$SAS" \\
        --message hello --cron '0 */5 * * * *'
    """
    s = settings(ctx)
    collection, name = job_ref(job, collection)
    base = read_json(from_file) if from_file else None
    body = build(kind, {**flags, "disabled": disabled}, base)
    _recurrence_file(flags, body)
    emit(s.client.put_job(collection, name, body), s.output, lambda j: job_detail(j))


@app.command()
@job_flags()
def update(ctx: typer.Context, job: JobArg, collection: CollectionOpt = None, **flags: Any) -> None:
    """Change a job: a PATCH of only the flags given; everything else stays.

    Example: azsched jobs update nightly-jobs/ping --every 30m --retry-count 2
    """
    s = settings(ctx)
    collection, name = job_ref(job, collection)
    current = s.client.get_job(collection, name)
    action_type = ((current.get("properties") or {}).get("action") or {}).get("type") or "Http"
    rest = {k: v for k, v in flags.items() if k != "recurrence_file"}
    given = any(v is not None for v in rest.values())
    body = patch(action_type, rest) if given or not flags.get("recurrence_file") else {"properties": {}}
    _recurrence_file(flags, body)
    emit(s.client.patch_job(collection, name, body), s.output, lambda j: job_detail(j))


@app.command()
def delete(ctx: typer.Context, job: JobArg, collection: CollectionOpt = None) -> None:
    """Delete a job and its history.

    Example: azsched jobs delete nightly-jobs/ping
    """
    collection, name = job_ref(job, collection)
    settings(ctx).client.delete_job(collection, name)
    note(f"deleted {collection}/{name}")


def _set_state(ctx: typer.Context, job: str, collection: str | None, state: str, reason: str | None) -> None:
    s = settings(ctx)
    collection, name = job_ref(job, collection)
    result = s.client.patch_job(collection, name, {"properties": {"state": state}})
    # The API has no field for a reason; it goes to stderr so a script's log keeps why.
    note(f"{state.lower()} {collection}/{name}" + (f": {reason}" if reason else ""))
    if s.output is not Format.TABLE:
        emit(result, s.output)


Reason = Annotated[str | None, typer.Option(help="Why (printed with the change, for the script's log).")]


@app.command()
def enable(ctx: typer.Context, job: JobArg, collection: CollectionOpt = None, reason: Reason = None) -> None:
    """Enable a job.

    Example: azsched jobs enable nightly-jobs/ping
    """
    _set_state(ctx, job, collection, "Enabled", reason)


@app.command()
def disable(ctx: typer.Context, job: JobArg, collection: CollectionOpt = None, reason: Reason = None) -> None:
    """Disable a job (it can still be run on demand).

    Example: azsched jobs disable nightly-jobs/ping --reason "target down for maintenance"
    """
    _set_state(ctx, job, collection, "Disabled", reason)


def _retries(definition: dict[str, Any]) -> int:
    policy = ((definition.get("properties") or {}).get("action") or {}).get("retryPolicy")
    if not policy:
        return 4
    if str(policy.get("retryType", "")).lower() == "none":
        return 0
    return int(policy.get("retryCount", 4))


@app.command()
def run(
    ctx: typer.Context, job: JobArg, collection: CollectionOpt = None,
    wait: Annotated[bool, typer.Option("--wait", help="Wait for the run's history entry and print it.")] = False,
    timeout: Annotated[float, typer.Option(help="--wait gives up after this many seconds.")] = 300.0,
) -> None:
    """Run a job's action now (its schedule does not change). Exit code 1 when --wait sees it fail.

    Example: azsched jobs run nightly-jobs/ping --wait
    """
    s = settings(ctx)
    collection, name = job_ref(job, collection)
    definition = s.client.get_job(collection, name)
    before = {e["id"] for e in s.client.history(collection, name, top=100)} if wait else set()
    s.client.run_job(collection, name)
    if not wait:
        note(f"started {collection}/{name}")
        return
    retries, deadline = _retries(definition), time.monotonic() + timeout
    while True:
        new = [e for e in s.client.history(collection, name, top=100) if e["id"] not in before]
        final = [e for e in new if e["properties"].get("status") in ("Completed", "Postponed")
                 or e["properties"].get("actionName") == "ErrorAction"
                 or int(e["properties"].get("retryCount") or 0) >= retries]
        if final:
            entry = final[0]
            break
        if time.monotonic() > deadline:
            raise Failed(f"no history entry for the run of {collection}/{name} within {timeout:g} s")
        time.sleep(0.5)
    emit(entry, s.output, lambda e: history_rows([e]))
    if entry["properties"].get("status") != "Completed":
        raise typer.Exit(1)


@app.command()
def history(
    ctx: typer.Context, job: JobArg, collection: CollectionOpt = None,
    status: Annotated[str | None, typer.Option(help="Only Completed, Failed or Postponed entries.")] = None,
    top: Annotated[int, typer.Option(help="At most this many entries (newest first).", min=1)] = 20,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing new entries as they come.")] = False,
    interval: Annotated[float, typer.Option(help="--follow polls this often (seconds).")] = 2.0,
) -> None:
    """A job's execution history, newest first; --follow prints new entries until interrupted.

    Example: azsched jobs history nightly-jobs/ping --status Failed --top 5
    """
    s = settings(ctx)
    collection, name = job_ref(job, collection)
    entries = s.client.history(collection, name, status=status, top=top)
    if not follow:
        emit(entries, s.output, history_rows, many=True)
        return
    seen = {e["id"] for e in entries}
    _print_follow(list(reversed(entries)), s.output)
    try:
        while True:
            time.sleep(interval)
            new = [e for e in s.client.history(collection, name, status=status, top=100) if e["id"] not in seen]
            seen.update(e["id"] for e in new)
            _print_follow(list(reversed(new)), s.output)
    except KeyboardInterrupt:
        return


def _print_follow(entries: list[dict[str, Any]], fmt: Format) -> None:
    """Oldest first, one line each, flushed: a stream for people (table) or for scripts (json lines)."""
    for entry in entries:
        if fmt is Format.TABLE:
            p = entry["properties"]
            message = (p.get("message") or "").split("\n")[0][:100]
            sys.stdout.write(f"{short_time(p.get('startTime'))}  {p.get('status', ''):<9}  {p.get('actionName', '')}  "
                             f"retry {p.get('retryCount', 0)}  {message}\n")
        else:
            sys.stdout.write(json.dumps(entry) + "\n")
    sys.stdout.flush()


@app.command()
@job_flags(SCHEDULE_FLAGS)
def preview(
    ctx: typer.Context,
    job: Annotated[str | None, typer.Argument(help="A job (COLLECTION/JOB, or JOB with --collection).")] = None,
    collection: CollectionOpt = None,
    file: Annotated[Path | None, typer.Option("--file", help="A JobDefinition or recurrence JSON file.", exists=True,
                                              dir_okay=False)] = None,
    next_: Annotated[int, typer.Option("--next", "-n", help="How many fire times.", min=1, max=100)] = 10,
    **flags: Any,
) -> None:
    """The next fire times and the phrase of a schedule: of a job, of a file, or of schedule flags (computed here).

    \b
    Examples:
      azsched jobs preview nightly-jobs/ping --next 5
      azsched jobs preview --frequency Week --week-days Monday --hours 9 --minutes 0 --time-zone Europe/Berlin
    """
    from azsched.jobspec import recurrence
    from azsched.preview import local_preview

    s = settings(ctx)
    if job:
        collection, name = job_ref(job, collection)
        definition = s.client.get_job(collection, name)
        times = s.client.preview_job(collection, name, next_)
        phrase = schedule_phrase(definition.get("properties") or {})
    else:
        if file:
            raw = read_json(file)
            properties = raw.get("properties", raw) if isinstance(raw, dict) else {}
            if "frequency" in properties or "cron" in properties:
                properties = {"recurrence": properties}
        else:
            properties = {"recurrence": recurrence(flags, patch=False)}
            if flags.get("recurrence_file"):
                properties["recurrence"] = read_json(flags["recurrence_file"])
        if flags.get("start"):  # also over a file's startTime: "what if it started then"
            properties["startTime"] = flags["start"]
        if not properties.get("recurrence") and not properties.get("startTime"):
            raise Failed("give a job, --file, or schedule flags (--every, --frequency, --cron, ...)", 2)
        times, phrase = local_preview(properties, next_, datetime.now(UTC))
    if s.output is Format.TABLE:
        emit(times, s.output, lambda t: phrase + "\n" + "\n".join(short_time(x) for x in t))
    else:
        emit(times, s.output, many=True)
