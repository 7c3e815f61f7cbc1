"""What every route shares: the ARM paths, the `api-version` check, references built from the path, the services
(built once, off the event loop), and the small query helpers (`$filter`, `nextLink`, instants)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from enum import Enum
from typing import Annotated, Any, TypeVar
from urllib.parse import urlencode

from fastapi import Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from scheduler_core.api.types import parse_datetime
from scheduler_core.domain.errors import InvalidInput
from scheduler_core.domain.job import CollectionRef, JobRef
from scheduler_core.service.context import Services

API_VERSIONS = ("2016-03-01", "2016-01-01")
P = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Scheduler"
JC = P + "/jobCollections/{jobCollectionName}"
JOB = JC + "/jobs/{jobName}"

E = TypeVar("E", bound=Enum)


# The dependencies below are pure and cheap, so they are `async def`: FastAPI runs each plain `def` dependency in a
# worker thread, and three thread hand-overs per request cost more host CPU than the route's own validation.


async def check_api_version(api_version: Annotated[str | None, Query(alias="api-version")] = None) -> None:
    """Every route's dependency: `api-version` is optional; when given it must be one the API speaks."""
    if api_version is not None and api_version not in API_VERSIONS:
        raise InvalidInput("this api-version is not supported; use 2016-03-01", "api-version")


class ServicesHolder:
    """Builds the services once, on first use; `get` builds them in a worker thread: building creates tables and
    queues, blocking calls the event loop must not make."""

    def __init__(self, factory: Callable[[], Services]) -> None:
        self._factory = factory
        self._services: Services | None = None
        self._building = threading.Lock()

    def sync(self) -> Services:
        """The services, built now if need be (blocks: not for the event loop)."""
        with self._building:
            if self._services is None:
                self._services = self._factory()
            return self._services

    async def get(self) -> Services:
        return self._services if self._services is not None else await run_in_threadpool(self.sync)


async def get_services(request: Request) -> Services:
    holder: ServicesHolder = request.app.state.services
    return await holder.get()


ServicesDep = Annotated[Services, Depends(get_services)]


async def call(services: Services, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run a (blocking) use case in a worker thread."""
    return await run_in_threadpool(fn, services, *args, **kwargs)


async def collection_ref(subscriptionId: str, resourceGroupName: str, jobCollectionName: str) -> CollectionRef:
    """The collection a path names (400 for a name that is not valid)."""
    return CollectionRef(subscriptionId, resourceGroupName, jobCollectionName)


CollectionRefDep = Annotated[CollectionRef, Depends(collection_ref)]


async def job_ref(collection: CollectionRefDep, jobName: str) -> JobRef:
    """The job a path names (400 for a name that is not valid)."""
    return JobRef(collection, jobName)


JobRefDep = Annotated[JobRef, Depends(job_ref)]


def body_schema(model: str) -> dict[str, Any]:
    """OpenAPI `requestBody` for a route that reads its raw body itself."""
    schema = {"$ref": f"#/components/schemas/{model}"}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def next_link(request: Request, token: str | None, top: int) -> str | None:
    if token is None:
        return None
    query: dict[str, Any] = {"api-version": request.query_params.get("api-version") or API_VERSIONS[0], "$top": top}
    for key in ("$filter",):
        if key in request.query_params:
            query[key] = request.query_params[key]
    query["$skiptoken"] = token
    return f"{str(request.base_url).rstrip('/')}{request.url.path}?{urlencode(query)}"


def parse_instant_param(value: Any, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = parse_datetime(value)
    except ValueError as exc:
        raise InvalidInput(str(exc), name) from None
    if not isinstance(parsed, datetime):
        raise InvalidInput("must be an ISO 8601 date-time", name)
    return parsed


def parse_filter(text: str | None, field: str, enum: type[E]) -> E | None:
    """OData `<field> eq 'Value'` (quotes optional, any case), the only filter the old API documented."""
    if not text:
        return None
    parts = text.split()
    if len(parts) != 3 or parts[0].lower() != field or parts[1].lower() != "eq":
        raise InvalidInput(f"use \"{field} eq '<value>'\"", "$filter")
    value = parts[2].strip("'\"").lower()
    for member in enum:
        if str(member.value).lower() == value:
            return member
    raise InvalidInput(f"not a {field}; use one of {', '.join(m.value for m in enum)}", "$filter")
