"""What the command modules share: options, name completion from the endpoint, `collection/job` references."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from azsched.client import SchedulerClient, Target
from azsched.context import Failed


def _completion_client(ctx: typer.Context) -> SchedulerClient:
    """A client built from the global options typed so far (completion runs before the callback does)."""
    params = ctx.find_root().params
    return SchedulerClient(Target(
        params.get("endpoint") or "http://127.0.0.1:7071", params.get("subscription") or "local",
        params.get("resource_group") or "local", params.get("audience"), timeout=3,
    ))


def complete_collection(ctx: typer.Context, incomplete: str) -> list[str]:
    """Collection names from the endpoint that start with what was typed (nothing when it cannot be reached)."""
    try:
        names = [c["name"] for c in _completion_client(ctx).list_collections()]
    except Exception:  # completion must never print a traceback into the shell
        return []
    return [n for n in names if n.startswith(incomplete)]


def complete_job(ctx: typer.Context, incomplete: str) -> list[str]:
    """Job names of the collection given with --collection (or `collection/` typed), from the endpoint."""
    try:
        client = _completion_client(ctx)
        collection = ctx.params.get("collection")
        prefix = ""
        if not collection and "/" in incomplete:
            collection, _, incomplete = incomplete.partition("/")
            prefix = f"{collection}/"
        if not collection:
            return [f"{c['name']}/" for c in client.list_collections() if c["name"].startswith(incomplete)]
        names = [j["name"].split("/")[-1] for j in client.list_jobs(collection)]
    except Exception:  # completion must never print a traceback into the shell
        return []
    return [prefix + n for n in names if n.startswith(incomplete)]


CollectionArg = Annotated[str, typer.Argument(help="Job collection name.", autocompletion=complete_collection)]
CollectionOpt = Annotated[
    str | None,
    typer.Option("--collection", "-c", envvar="AZSCHED_COLLECTION", help="Job collection.",
                 autocompletion=complete_collection),
]
JobArg = Annotated[str, typer.Argument(help="Job name, or COLLECTION/JOB.", autocompletion=complete_job)]


def job_ref(job: str, collection: str | None) -> tuple[str, str]:
    """(collection, job) from `collection/job` or a job name with --collection."""
    if "/" in job:
        first, _, name = job.partition("/")
        if collection and collection.lower() != first.lower():
            raise Failed(f"'{job}' names collection '{first}' but --collection is '{collection}'", 2)
        return first, name
    if not collection:
        raise Failed(f"which collection holds '{job}'? Give --collection (or AZSCHED_COLLECTION) or COLLECTION/JOB", 2)
    return collection, job


def read_json(path: Path) -> Any:
    """A JSON file, or stdin for `-`; a clear usage error when it is not JSON."""
    try:
        text = typer.get_text_stream("stdin").read() if str(path) == "-" else path.read_text(encoding="utf-8-sig")
        return json.loads(text)
    except OSError as exc:
        raise Failed(f"cannot read {path}: {exc.strerror}", 2) from None
    except json.JSONDecodeError as exc:
        raise Failed(f"{path} is not JSON: {exc}", 2) from None
