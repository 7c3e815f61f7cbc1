"""`azsched export` and `azsched import`: the one-command migration from Azure Scheduler exports."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from azsched.commands.common import complete_collection
from azsched.context import Failed, settings
from azsched.importer import ERROR, Plan, Step, execute, make_plan
from azsched.importers import ImportOptions, ReadError, parse_set, read_files
from azsched.importers.jsonfile import load
from azsched.output import Format, emit, new_table, note, row


def export(
    ctx: typer.Context,
    collection: Annotated[list[str] | None, typer.Option(
        "--collection", "-c", help="A collection to export (repeat; all of the resource group when omitted).",
        autocompletion=complete_collection)] = None,
) -> None:
    """Write jobs as the REST list shape ({"value": [...]}), as GET returns them: secrets are never in it.

    Example: azsched export --collection nightly-jobs > jobs.json
    """
    s = settings(ctx)
    names = collection or [c["name"] for c in s.client.list_collections()]
    jobs = [job for name in names for job in s.client.list_jobs(name)]
    sys.stdout.write(json.dumps({"value": jobs}, indent=2, ensure_ascii=False) + "\n")


def _parameters(values: list[str]) -> tuple[dict[str, str], list[Path]]:
    pairs: dict[str, str] = {}
    files: list[Path] = []
    for value in values:
        if value.startswith("@"):
            files.append(Path(value[1:]))
        elif "=" in value:
            key, _, raw = value.partition("=")
            pairs[key.strip()] = raw
        else:
            raise Failed(f"--parameters '{value}': use NAME=VALUE or @parameters.json", 2)
    return pairs, files


def _secrets(path: Path | None) -> dict[str, dict[str, str]]:
    if path is None:
        return {}
    try:
        raw = load(path)
    except ReadError as exc:
        raise Failed(str(exc), 2) from None
    if not isinstance(raw, dict) or not all(isinstance(v, dict) for v in raw.values()):
        raise Failed(f'{path}: use {{"JOB or COLLECTION/JOB or *": {{"action.request.authentication.password": '
                     '"..."}}', 2)
    return {k: {p: str(v) for p, v in paths.items()} for k, paths in raw.items()}


_LABEL = {"create": "would create", "update": "would update", "unchanged": "unchanged", ERROR: "error"}


def _report(plan: Plan, dry_run: bool) -> Any:
    table = new_table("RESULT", "JOB", "SOURCE", "NOTES")
    for step in plan.steps:
        result = _LABEL[step.action] if dry_run else step.result
        if step.result == "failed" or step.action == ERROR:
            result = "error" if dry_run else "failed"
        notes = [step.message] if step.message else []
        if step.needs_secret:
            notes.append("needs a secret: " + ", ".join(step.job.missing_secrets) + " (imported Disabled)")
        notes += step.job.warnings
        row(table, result, step.job.key, step.job.source, "\n".join(n for n in notes if n))
    return table


def import_(
    ctx: typer.Context,
    files: Annotated[list[Path], typer.Argument(help="REST exports, ARM templates and parameter files, PowerShell "
                                                "output, classic job JSON.", exists=True, dir_okay=False)],
    parameters: Annotated[list[str] | None, typer.Option(
        "--parameters", "-p", help="An ARM parameter NAME=VALUE or @parameters.json (repeat).")] = None,
    collection: Annotated[str | None, typer.Option("--collection", "-c", help="Put every job into this collection.",
                                                   autocompletion=complete_collection)] = None,
    set_: Annotated[list[str] | None, typer.Option(
        "--set", help="[JOB:]PATH=VALUE: give a field of the job's properties a value (every job without JOB).")
    ] = None,
    secrets: Annotated[Path | None, typer.Option(
        "--secrets", help='JSON {"JOB or COLLECTION/JOB or *": {"PATH": "secret"}}.', exists=True,
        dir_okay=False)] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the plan; write nothing.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Write every job, even unchanged ones (re-sends secrets).")
                     ] = False,
    threads: Annotated[int, typer.Option(help="Jobs written at once.", min=1, max=64)] = 16,
    location: Annotated[str, typer.Option(help="What resourceGroup().location is in templates.")] = "westus",
) -> None:
    """Import jobs from Azure Scheduler exports, creating collections as needed. Idempotent: a second run reports
    every job unchanged. Exit code 1 when any job failed.

    \b
    Examples:
      azsched import jobs.json
      azsched import azuredeploy.json -p @azuredeploy.parameters.json -p env=prod --dry-run
      azsched import azuredeploy.json --set nightly:action.request.uri=https://example.org/run --secrets secrets.json
    """
    s = settings(ctx)
    s.pool = max(s.pool, threads)  # one kept-alive connection per writing thread: none opened and dropped per job
    pairs, parameter_files = _parameters(parameters or [])
    try:
        sets = [parse_set(item) for item in set_ or []]
    except ValueError as exc:
        raise Failed(str(exc), 2) from None
    options = ImportOptions(collection, pairs, parameter_files, sets, _secrets(secrets), s.target.subscription,
                            s.target.resource_group, location)
    notes: list[str] = []
    try:
        jobs, collections = read_files(files, options, notes)
    except ReadError as exc:
        raise Failed(str(exc), 2) from None
    for line in notes:
        note(line)
    if not jobs:
        raise Failed("no Scheduler jobs found in the files", 1)
    plan = make_plan(s.client, jobs, collections, force=force, threads=min(threads, 8))
    if not dry_run:
        done = [0]

        def progress(step: Step) -> None:
            done[0] += 1
            if done[0] % 100 == 0:
                note(f"{done[0]}/{len(plan.steps)} jobs")

        for name in plan.new_collections:
            note(f"creating collection {name}")
        execute(s.client, plan, threads=threads, progress=progress)
    summary = plan.summary()
    if s.output is Format.TABLE:
        emit(plan, s.output, lambda p: _report(p, dry_run))
        words = ", ".join(f"{n} {k}" for k, n in sorted(summary.items()))
        sys.stdout.write(f"{'plan' if dry_run else 'done'}: {len(plan.steps)} jobs: {words}\n")
    else:
        emit([step.as_json() for step in plan.steps], s.output, many=True)
    if plan.failed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add `export` and `import` to the root command."""
    app.command("export")(export)
    app.command("import")(import_)
