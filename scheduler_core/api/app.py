"""The FastAPI application: Azure Scheduler 2016-03-01 ARM paths, each route one call into the service.

Bodies are read as raw JSON (so PATCH can tell an explicit `null` from an absent field and malformed JSON gets the ARM
envelope), validated in `validation.py`, and handed to `scheduler_core.service`. OpenAPI lists the wire models.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Query, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from scheduler_core.api import models
from scheduler_core.api.console import install_console
from scheduler_core.api.docs import install_docs
from scheduler_core.api.errors import install_error_handlers
from scheduler_core.api.types import parse_datetime
from scheduler_core.api.validation import parse_collection, parse_job, parse_json
from scheduler_core.domain.errors import InvalidInput
from scheduler_core.domain.job import CollectionRef, JobRef, JobState
from scheduler_core.domain.recurrence import occurrences
from scheduler_core.service import collections, jobs
from scheduler_core.service.context import Services
from scheduler_core.service.dispatch import default_anchor
from scheduler_core.service.merge import merge_patch
from scheduler_core.wire import format_datetime, parse_instant, recurrence_from_wire

API_VERSIONS = ("2016-03-01", "2016-01-01")
P = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Scheduler"
JC = P + "/jobCollections/{jobCollectionName}"
JOB = JC + "/jobs/{jobName}"


def _body_schema(model: str) -> dict[str, Any]:
    schema = {"$ref": f"#/components/schemas/{model}"}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def create_app(services_factory: Callable[[], Services]) -> FastAPI:
    """Build the API. `services_factory` is called once, lazily, on the first request."""
    app = FastAPI(
        title="Azure Scheduler (revived)",
        version="2016-03-01",
        description="The Azure Scheduler 2016-03-01 management API on Azure Functions.",
        docs_url=None,  # served by install_docs from local files
        redoc_url=None,
    )
    install_error_handlers(app)
    _document_errors(app)
    cache: dict[str, Services] = {}

    def svc() -> Services:
        if "s" not in cache:
            cache["s"] = services_factory()
        return cache["s"]

    async def call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return await run_in_threadpool(fn, svc(), *args, **kwargs)

    def check_version(api_version: str | None) -> None:
        if api_version is not None and api_version not in API_VERSIONS:
            raise InvalidInput("this api-version is not supported; use 2016-03-01", "api-version")

    def next_link(request: Request, token: str | None, top: int) -> str | None:
        if token is None:
            return None
        query = {"api-version": request.query_params.get("api-version") or API_VERSIONS[0], "$top": top}
        for key in ("$filter",):
            if key in request.query_params:
                query[key] = request.query_params[key]
        query["$skiptoken"] = token
        return f"{str(request.base_url).rstrip('/')}{request.url.path}?{urlencode(query)}"

    version = Query(default=None, alias="api-version")

    @app.get("/health", include_in_schema=False)
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    # ---- job collections ---------------------------------------------------------------------------------------

    @app.get(
        "/subscriptions/{subscriptionId}/providers/Microsoft.Scheduler/jobCollections",
        response_model=models.JobCollectionListResult,
        response_model_exclude_none=True,
        operation_id="JobCollections_ListBySubscription",
    )
    async def list_by_subscription(subscriptionId: str, api_version: str | None = version) -> Any:
        check_version(api_version)
        return {"value": await call(collections.list_collections, subscriptionId, None)}

    @app.get(P + "/jobCollections", response_model=models.JobCollectionListResult, response_model_exclude_none=True,
             operation_id="JobCollections_ListByResourceGroup")
    async def list_by_group(subscriptionId: str, resourceGroupName: str, api_version: str | None = version) -> Any:
        check_version(api_version)
        return {"value": await call(collections.list_collections, subscriptionId, resourceGroupName)}

    @app.get(JC, response_model=models.JobCollectionDefinition, response_model_exclude_none=True,
             operation_id="JobCollections_Get")
    async def get_collection(
        subscriptionId: str, resourceGroupName: str, jobCollectionName: str, api_version: str | None = version
    ) -> Any:
        check_version(api_version)
        ref = CollectionRef(subscriptionId, resourceGroupName, jobCollectionName)
        return await call(collections.get_collection, ref)

    @app.put(JC, response_model=models.JobCollectionDefinition, response_model_exclude_none=True,
             status_code=200, responses={201: {"model": models.JobCollectionDefinition}},
             operation_id="JobCollections_CreateOrUpdate", openapi_extra=_body_schema("JobCollectionDefinition"))
    async def put_collection(
        request: Request, subscriptionId: str, resourceGroupName: str, jobCollectionName: str,
        api_version: str | None = version,
    ) -> Any:
        check_version(api_version)
        ref = CollectionRef(subscriptionId, resourceGroupName, jobCollectionName)
        definition = parse_collection(parse_json(await request.body()))
        rendered, created = await call(collections.put_collection, ref, definition)
        return JSONResponse(rendered, status_code=201 if created else 200)

    @app.patch(JC, response_model=models.JobCollectionDefinition, response_model_exclude_none=True,
               operation_id="JobCollections_Patch", openapi_extra=_body_schema("JobCollectionDefinition"))
    async def patch_collection(
        request: Request, subscriptionId: str, resourceGroupName: str, jobCollectionName: str,
        api_version: str | None = version,
    ) -> Any:
        check_version(api_version)
        ref = CollectionRef(subscriptionId, resourceGroupName, jobCollectionName)
        patch = parse_collection(parse_json(await request.body()), partial=True)
        return await call(collections.patch_collection, ref, patch)

    @app.delete(JC, operation_id="JobCollections_Delete")
    async def delete_collection(
        subscriptionId: str, resourceGroupName: str, jobCollectionName: str, api_version: str | None = version
    ) -> Response:
        check_version(api_version)
        await call(collections.delete_collection, CollectionRef(subscriptionId, resourceGroupName, jobCollectionName))
        return Response(status_code=200)

    def collection_state_route(state: JobState) -> Callable[..., Any]:
        async def set_state(
            subscriptionId: str, resourceGroupName: str, jobCollectionName: str, api_version: str | None = version
        ) -> Response:
            check_version(api_version)
            ref = CollectionRef(subscriptionId, resourceGroupName, jobCollectionName)
            await call(collections.set_collection_state, ref, state)
            return Response(status_code=200)

        return set_state

    # POST enable / disable: "Enables (disables) all of the jobs in the job collection."
    for verb, state in (("enable", JobState.ENABLED), ("disable", JobState.DISABLED)):
        app.add_api_route(
            f"{JC}/{verb}",
            collection_state_route(state),
            methods=["POST"],
            operation_id=f"JobCollections_{verb.capitalize()}",
            name=f"{verb}_collection",
        )

    # ---- jobs --------------------------------------------------------------------------------------------------

    def job_ref(subscriptionId: str, resourceGroupName: str, jobCollectionName: str, jobName: str) -> JobRef:
        return JobRef(CollectionRef(subscriptionId, resourceGroupName, jobCollectionName), jobName)

    @app.put(JOB, response_model=models.JobDefinition, response_model_exclude_none=True, status_code=200,
             responses={201: {"model": models.JobDefinition}}, operation_id="Jobs_CreateOrUpdate",
             openapi_extra=_body_schema("JobDefinition"))
    async def put_job(
        request: Request, subscriptionId: str, resourceGroupName: str, jobCollectionName: str, jobName: str,
        api_version: str | None = version,
    ) -> Any:
        check_version(api_version)
        ref = job_ref(subscriptionId, resourceGroupName, jobCollectionName, jobName)
        properties = parse_job(parse_json(await request.body()), svc().settings, svc().clock())
        rendered, created = await call(jobs.put_job, ref, properties)
        return JSONResponse(rendered, status_code=201 if created else 200)

    @app.patch(JOB, response_model=models.JobDefinition, response_model_exclude_none=True,
               operation_id="Jobs_Patch", openapi_extra=_body_schema("JobDefinition"))
    async def patch_job(
        request: Request, subscriptionId: str, resourceGroupName: str, jobCollectionName: str, jobName: str,
        api_version: str | None = version,
    ) -> Any:
        check_version(api_version)
        ref = job_ref(subscriptionId, resourceGroupName, jobCollectionName, jobName)
        raw = parse_json(await request.body())
        if not isinstance(raw, dict):
            raise InvalidInput("The request body must be a JSON object (a JobDefinition).", "")
        current = await call(jobs.current_definition, ref)
        # Read-only fields are ignored, as in a PUT; anything else merges (RFC 7386) and the result must be a valid job.
        patch = {k: v for k, v in raw.items() if k not in ("id", "type", "name")}
        properties = parse_job(merge_patch({"properties": current}, patch), svc().settings, svc().clock())
        if "state" not in (raw.get("properties") or {}):
            properties.pop("state", None)  # keep whatever state the job reaches meanwhile
        rendered, _ = await call(jobs.put_job, ref, properties)
        return rendered

    @app.get(JOB, response_model=models.JobDefinition, response_model_exclude_none=True, operation_id="Jobs_Get")
    async def get_job(
        subscriptionId: str, resourceGroupName: str, jobCollectionName: str, jobName: str,
        api_version: str | None = version,
    ) -> Any:
        check_version(api_version)
        return await call(jobs.get_job, job_ref(subscriptionId, resourceGroupName, jobCollectionName, jobName))

    @app.delete(JOB, operation_id="Jobs_Delete")
    async def delete_job(
        subscriptionId: str, resourceGroupName: str, jobCollectionName: str, jobName: str,
        api_version: str | None = version,
    ) -> Response:
        check_version(api_version)
        await call(jobs.delete_job, job_ref(subscriptionId, resourceGroupName, jobCollectionName, jobName))
        return Response(status_code=200)

    @app.post(JOB + "/run", operation_id="Jobs_Run")
    async def run_job(
        subscriptionId: str, resourceGroupName: str, jobCollectionName: str, jobName: str,
        api_version: str | None = version,
    ) -> Response:
        check_version(api_version)
        await call(jobs.run_job, job_ref(subscriptionId, resourceGroupName, jobCollectionName, jobName))
        return Response(status_code=200)

    @app.get(JC + "/jobs", response_model=models.JobListResult, response_model_exclude_none=True,
             operation_id="Jobs_List")
    async def list_jobs(
        request: Request, subscriptionId: str, resourceGroupName: str, jobCollectionName: str,
        api_version: str | None = version,
        top: int = Query(default=100, alias="$top", ge=1, le=100),
        skip: int = Query(default=0, alias="$skip", ge=0),
        filter: str | None = Query(default=None, alias="$filter"),
        skiptoken: str | None = Query(default=None, alias="$skiptoken"),
    ) -> Any:
        check_version(api_version)
        state = _parse_filter(filter, "state", JobState)
        ref = CollectionRef(subscriptionId, resourceGroupName, jobCollectionName)
        items, token = await call(jobs.list_jobs, ref, top=top, skip=skip, token=skiptoken, state=state)
        return {"value": items, "nextLink": next_link(request, token, top)}

    @app.get(JOB + "/history", response_model=models.JobHistoryListResult, response_model_exclude_none=True,
             operation_id="Jobs_ListJobHistory")
    async def list_history(
        request: Request, subscriptionId: str, resourceGroupName: str, jobCollectionName: str, jobName: str,
        api_version: str | None = version,
        top: int = Query(default=100, alias="$top", ge=1, le=100),
        skip: int = Query(default=0, alias="$skip", ge=0),
        filter: str | None = Query(default=None, alias="$filter"),
        skiptoken: str | None = Query(default=None, alias="$skiptoken"),
    ) -> Any:
        check_version(api_version)
        status = _parse_filter(filter, "status", models.JobExecutionStatus)
        ref = job_ref(subscriptionId, resourceGroupName, jobCollectionName, jobName)
        items, token = await call(
            jobs.list_history, ref, top=top, skip=skip, token=skiptoken, status=status.value if status else None
        )
        return {"value": items, "nextLink": next_link(request, token, top)}

    # ---- preview (extension) -----------------------------------------------------------------------------------

    @app.get(JOB + "/preview", operation_id="Jobs_Preview")
    async def preview_job(
        subscriptionId: str, resourceGroupName: str, jobCollectionName: str, jobName: str,
        api_version: str | None = version,
        count: int = Query(default=10, ge=1, le=jobs.MAX_PREVIEW),
        from_: str | None = Query(default=None, alias="from"),
    ) -> Any:
        check_version(api_version)
        start = _parse_instant_param(from_, "from")
        ref = job_ref(subscriptionId, resourceGroupName, jobCollectionName, jobName)
        return {"value": await call(jobs.preview, ref, count=count, start=start)}

    @app.post("/providers/Microsoft.Scheduler/previewRecurrence", operation_id="PreviewRecurrence")
    async def preview_recurrence(request: Request, api_version: str | None = version) -> Any:
        check_version(api_version)
        raw = parse_json(await request.body())
        if not isinstance(raw, dict):
            raise InvalidInput("The request body must be a JSON object.", "")
        now = svc().clock()
        count = raw.get("count", 10)
        if not isinstance(count, int) or not 1 <= count <= jobs.MAX_PREVIEW:
            raise InvalidInput(f"must be an integer between 1 and {jobs.MAX_PREVIEW}", "count")
        placeholder = {"type": "Http", "request": {"uri": "https://preview.invalid/", "method": "GET"}}
        timing = {"startTime": raw.get("startTime"), "recurrence": raw.get("recurrence")}
        job = parse_job({"properties": {**timing, "action": placeholder}}, svc().settings, now)
        start = parse_instant(job.get("startTime")) or default_anchor(now, job.get("recurrence"))
        after = _parse_instant_param(raw.get("from"), "from") or now
        found = occurrences(start, recurrence_from_wire(job.get("recurrence")), after=after, limit=count)
        return {"value": [format_datetime(t) for t in found]}

    install_docs(app)
    install_console(app, svc)
    return app


def _document_errors(app: FastAPI) -> None:
    """OpenAPI: every operation fails with the ARM error envelope (FastAPI would document its own 422 instead)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            schemas = schema.setdefault("components", {}).setdefault("schemas", {})
            for name in ("HTTPValidationError", "ValidationError"):
                schemas.pop(name, None)
            error_schemas = models.ErrorResponse.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas.update(error_schemas.pop("$defs", {}))
            schemas["ErrorResponse"] = error_schemas
            error = {
                "description": "The ARM error envelope",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}},
            }
            for operations in schema.get("paths", {}).values():
                for operation in operations.values():
                    operation.get("responses", {}).pop("422", None)
                    operation.setdefault("responses", {})["default"] = error
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _parse_instant_param(value: Any, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = parse_datetime(value)
    except ValueError as exc:
        raise InvalidInput(str(exc), name) from None
    if not isinstance(parsed, datetime):
        raise InvalidInput("must be an ISO 8601 date-time", name)
    return parsed


def _parse_filter(text: str | None, field: str, enum: Any) -> Any:
    """OData `<field> eq 'Value'` (quotes optional, any case), the only filter the old API documented."""
    if not text:
        return None
    parts = text.split()
    if len(parts) != 3 or parts[0].lower() != field or parts[1].lower() != "eq":
        raise InvalidInput(f"use \"{field} eq '<value>'\"", "$filter")
    value = parts[2].strip("'\"").lower()
    for member in enum:
        if member.value.lower() == value:
            return member
    raise InvalidInput(f"not a {field}; use one of {', '.join(m.value for m in enum)}", "$filter")
