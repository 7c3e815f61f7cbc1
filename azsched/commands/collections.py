"""`azsched collections list|show|create|update|delete|enable|disable`."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from azsched.commands.common import CollectionArg
from azsched.context import settings
from azsched.output import collection_rows, emit, note

app = typer.Typer(no_args_is_help=True)

Plan = Annotated[
    str | None, typer.Option("--plan", "--sku", help="Standard, Free, P10Premium or P20Premium.")
]
MaxJobs = Annotated[int | None, typer.Option(help="quota.maxJobCount.")]
MaxRecurrence = Annotated[
    str | None, typer.Option(help="quota.maxRecurrence as INTERVAL FREQUENCY, e.g. '1 Minute' or '15m'.")
]


def _properties(plan: str | None, max_jobs: int | None, max_recurrence: str | None) -> dict[str, Any]:
    from azsched.jobspec import parse_every

    properties: dict[str, Any] = {}
    if plan:
        properties["sku"] = {"name": plan}
    quota: dict[str, Any] = {}
    if max_jobs is not None:
        quota["maxJobCount"] = max_jobs
    if max_recurrence:
        parts = max_recurrence.split()
        frequency, interval = (parts[1], int(parts[0])) if len(parts) == 2 else parse_every(max_recurrence)
        quota["maxRecurrence"] = {"frequency": frequency, "interval": interval}
    if quota:
        properties["quota"] = quota
    return properties


@app.command("list")
def list_(ctx: typer.Context) -> None:
    """List the job collections of the resource group.

    Example: azsched collections list -o json
    """
    s = settings(ctx)
    emit(s.client.list_collections(), s.output, collection_rows, many=True)


@app.command()
def show(ctx: typer.Context, name: CollectionArg) -> None:
    """Show a job collection with its effective quota.

    Example: azsched collections show nightly-jobs
    """
    s = settings(ctx)
    emit(s.client.get_collection(name), s.output, lambda c: collection_rows([c]))


@app.command()
def create(
    ctx: typer.Context, name: CollectionArg, plan: Plan = None, max_jobs: MaxJobs = None,
    max_recurrence: MaxRecurrence = None,
    location: Annotated[str, typer.Option(help="location (any value).")] = "local",
    disabled: Annotated[bool, typer.Option("--disabled", help="Create it Disabled.")] = False,
) -> None:
    """Create (or replace) a job collection. The plan is Standard unless given.

    Example: azsched collections create nightly-jobs --plan Standard --max-jobs 100
    """
    s = settings(ctx)
    properties = {"sku": {"name": "Standard"}, **_properties(plan, max_jobs, max_recurrence)}
    if disabled:
        properties["state"] = "Disabled"
    emit(s.client.put_collection(name, {"location": location, "properties": properties}), s.output,
         lambda c: collection_rows([c]))


@app.command()
def update(
    ctx: typer.Context, name: CollectionArg, plan: Plan = None, max_jobs: MaxJobs = None,
    max_recurrence: MaxRecurrence = None,
) -> None:
    """Change a collection's plan or quota (PATCH of only what is given).

    Example: azsched collections update nightly-jobs --max-jobs 200 --max-recurrence '5 Minute'
    """
    s = settings(ctx)
    emit(s.client.patch_collection(name, {"properties": _properties(plan, max_jobs, max_recurrence)}), s.output,
         lambda c: collection_rows([c]))


@app.command()
def delete(ctx: typer.Context, name: CollectionArg) -> None:
    """Delete a job collection with its jobs and their history.

    Example: azsched collections delete old-jobs
    """
    settings(ctx).client.delete_collection(name)
    note(f"deleted {name}")


@app.command()
def enable(ctx: typer.Context, name: CollectionArg) -> None:
    """Enable a collection and its Disabled jobs.

    Example: azsched collections enable nightly-jobs
    """
    settings(ctx).client.set_collection_state(name, True)
    note(f"enabled {name}")


@app.command()
def disable(ctx: typer.Context, name: CollectionArg) -> None:
    """Disable a collection and its Enabled jobs.

    Example: azsched collections disable nightly-jobs
    """
    settings(ctx).client.set_collection_state(name, False)
    note(f"disabled {name}")
