"""`ETag` on responses and `If-Match` / `If-None-Match` on requests (RFC 9110 sections 8.8.3 and 13.1).

A job's or a collection's ETag is its version (see `ports.StoredJob.version`), quoted. `If-Match` compares strongly,
so a weak tag (`W/"..."`) never matches; `If-None-Match` compares weakly. Clients that send neither header are not
affected: every write is unconditional for them, as in Azure Scheduler.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from scheduler_core.domain.precondition import Precondition


def _tags(header: str | None, *, weak: bool) -> tuple[str, ...] | None:
    if header is None:
        return None
    tags: list[str] = []
    for raw in header.split(","):
        tag = raw.strip()
        if not tag:
            continue
        if tag.startswith("W/"):
            if not weak:
                tags.append(tag)  # kept, but never equal to a version: a weak tag does not match strongly
                continue
            tag = tag[2:]
        tags.append(tag.strip('"'))
    return tuple(tags)


def precondition(request: Request) -> Precondition:
    """The request's conditions on the resource it writes."""
    return Precondition(
        if_match=_tags(request.headers.get("if-match"), weak=False),
        if_none_match=_tags(request.headers.get("if-none-match"), weak=True),
    )


def with_etag(body: Any, version: str, status_code: int = 200) -> JSONResponse:
    """A JSON response carrying the resource's `ETag`."""
    return JSONResponse(body, status_code=status_code, headers={"ETag": f'"{version}"'})


def set_etag(response: Response, version: str) -> None:
    """Give a response that FastAPI renders through its response model the resource's `ETag`."""
    response.headers["ETag"] = f'"{version}"'
