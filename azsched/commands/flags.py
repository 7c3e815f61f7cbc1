"""The job flags `jobs create` and `jobs update` share, declared once and added to both commands' signatures.

Typer reads a command's options from its signature; `job_flags` appends these keyword-only parameters to a function
that takes `**flags`, so the two commands cannot drift apart.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

F = TypeVar("F", bound=Callable[..., Any])

_ACTION, _SCHEDULE, _RETRY = "Action", "Schedule", "Retry and error action"


def _opt(*names: str, help: str, panel: str, **kw: Any) -> Any:  # noqa: A002 - typer's own word
    return typer.Option(*names, help=help, rich_help_panel=panel, **kw)


FLAGS: list[tuple[str, Any]] = [
    ("uri", Annotated[str | None, _opt("--uri", help="http: the URL to call.", panel=_ACTION)]),
    ("method", Annotated[str | None, _opt("--method", help="http: GET (default), POST, PUT, ...", panel=_ACTION)]),
    ("header", Annotated[list[str] | None, _opt("--header", "-H", help="http: a header NAME=VALUE (repeat).",
                                               panel=_ACTION)]),
    ("body", Annotated[str | None, _opt("--body", help="http: the request body; queues: the message.", panel=_ACTION)]),
    ("body_file", Annotated[Path | None, _opt("--body-file", help="Read the body from a file.", panel=_ACTION,
                                              exists=True, dir_okay=False)]),
    ("username", Annotated[str | None, _opt("--username", help="http: Basic authentication user.", panel=_ACTION)]),
    ("password", Annotated[str | None, _opt("--password", envvar="AZSCHED_PASSWORD",
                                            help="http: Basic authentication password (or AZSCHED_PASSWORD).",
                                            panel=_ACTION)]),
    ("account", Annotated[str | None, _opt("--account", help="storage-queue: the storage account.", panel=_ACTION)]),
    ("queue", Annotated[str | None, _opt("--queue", help="storage-queue, service-bus-queue: the queue.",
                                         panel=_ACTION)]),
    ("topic", Annotated[str | None, _opt("--topic", help="service-bus-topic: the topic path.", panel=_ACTION)]),
    ("namespace", Annotated[str | None, _opt("--namespace", help="service bus: the namespace.", panel=_ACTION)]),
    ("message", Annotated[str | None, _opt("--message", help="queues: the message text.", panel=_ACTION)]),
    ("sas_token", Annotated[str | None, _opt("--sas-token", envvar="AZSCHED_SAS_TOKEN",
                                             help="storage-queue: the SAS token.", panel=_ACTION)]),
    ("sas_key_name", Annotated[str | None, _opt("--sas-key-name", help="service bus: the SAS key name.",
                                                panel=_ACTION)]),
    ("sas_key", Annotated[str | None, _opt("--sas-key", envvar="AZSCHED_SAS_KEY", help="service bus: the SAS key.",
                                           panel=_ACTION)]),
    ("property", Annotated[list[str] | None, _opt("--property", help="service bus: a custom property NAME=VALUE.",
                                                  panel=_ACTION)]),
    ("every", Annotated[str | None, _opt("--every", help="Recur every 15m, 2h, 1d, 1w or 3mo.", panel=_SCHEDULE)]),
    ("frequency", Annotated[str | None, _opt("--frequency", help="Minute, Hour, Day, Week or Month.",
                                             panel=_SCHEDULE)]),
    ("interval", Annotated[int | None, _opt("--interval", help="Every INTERVAL frequencies.", panel=_SCHEDULE)]),
    ("cron", Annotated[str | None, _opt("--cron", help="A cron expression (5 fields, or 6 with seconds first).",
                                        panel=_SCHEDULE)]),
    ("time_zone", Annotated[str | None, _opt("--time-zone", help="IANA zone of the schedule, e.g. Europe/Berlin.",
                                             panel=_SCHEDULE)]),
    ("start", Annotated[str | None, _opt("--start", help="startTime (ISO 8601).", panel=_SCHEDULE)]),
    ("end", Annotated[str | None, _opt("--end", help="recurrence.endTime (ISO 8601).", panel=_SCHEDULE)]),
    ("count", Annotated[int | None, _opt("--count", help="Stop after COUNT occurrences.", panel=_SCHEDULE)]),
    ("minutes", Annotated[str | None, _opt("--minutes", help="Schedule minutes, e.g. 0,30.", panel=_SCHEDULE)]),
    ("hours", Annotated[str | None, _opt("--hours", help="Schedule hours, e.g. 9,17.", panel=_SCHEDULE)]),
    ("week_days", Annotated[str | None, _opt("--week-days", help="Weekly: Monday,Friday.", panel=_SCHEDULE)]),
    ("month_days", Annotated[str | None, _opt("--month-days", help="Monthly: 1,15,-1.", panel=_SCHEDULE)]),
    ("monthly_occurrences", Annotated[str | None, _opt("--monthly-occurrences",
                                                       help="Monthly: DAY:N, e.g. Friday:-1 (last Friday).",
                                                       panel=_SCHEDULE)]),
    ("recurrence_file", Annotated[Path | None, _opt("--recurrence-file", help="A recurrence object as JSON.",
                                                    panel=_SCHEDULE, exists=True, dir_okay=False)]),
    ("retry_type", Annotated[str | None, _opt("--retry-type", help="None, Fixed or Exponential.", panel=_RETRY)]),
    ("retry_count", Annotated[int | None, _opt("--retry-count", help="Retries after a failure.", panel=_RETRY)]),
    ("retry_interval", Annotated[str | None, _opt("--retry-interval", help="Between retries: PT30S or 00:00:30.",
                                                  panel=_RETRY)]),
    ("error_uri", Annotated[str | None, _opt("--error-uri", help="errorAction: an Http call to this URL.",
                                             panel=_RETRY)]),
    ("error_method", Annotated[str | None, _opt("--error-method", help="errorAction method (POST).", panel=_RETRY)]),
]

SCHEDULE_FLAGS = {"every", "frequency", "interval", "cron", "time_zone", "start", "end", "count", "minutes", "hours",
                  "week_days", "month_days", "monthly_occurrences", "recurrence_file"}


def job_flags(names: set[str] | None = None) -> Callable[[F], F]:
    """Add the job flags (all, or `names`) to a command that takes `**flags`."""

    def decorate(func: F) -> F:
        signature = inspect.signature(func, eval_str=True)
        params = [p for p in signature.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
        annotations = dict(func.__annotations__)
        for name, annotation in FLAGS:
            if names is None or name in names:
                params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None,
                                                annotation=annotation))
                annotations[name] = annotation
        func.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
        func.__annotations__ = annotations
        return func

    return decorate
