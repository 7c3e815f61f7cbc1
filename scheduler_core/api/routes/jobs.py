"""Jobs: create or replace, patch, get, delete, run now, list, and their history (ARM paths of 2016-03-01)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from scheduler_core.api import models
from scheduler_core.api.etags import precondition, set_etag, with_etag
from scheduler_core.api.routes.common import (
    JC,
    JOB,
    CollectionRefDep,
    JobRefDep,
    ServicesDep,
    body_schema,
    call,
    check_api_version,
    next_link,
    parse_filter,
)
from scheduler_core.api.validation import parse_job, parse_json
from scheduler_core.domain.definition import JobWrite
from scheduler_core.domain.errors import InvalidInput, Problem
from scheduler_core.domain.job import JobExecutionStatus, JobState
from scheduler_core.ports import StoredJob
from scheduler_core.secrets import rebound_secrets
from scheduler_core.service import jobs
from scheduler_core.service.merge import merge_patch

# Not the value: error messages never quote one, and this one is a secret.
_GIVE_AGAIN = (
    "must be given again: the PATCH changes where it is sent (the request's scheme, host or port, the Service Bus "
    "namespace, the storage account, or the authentication's other fields)"
)

router = APIRouter(dependencies=[Depends(check_api_version)])

Top = Annotated[int, Query(alias="$top", ge=1, le=100)]
Skip = Annotated[int, Query(alias="$skip", ge=0)]
Filter = Annotated[str | None, Query(alias="$filter")]
SkipToken = Annotated[str | None, Query(alias="$skiptoken")]


@router.put(
    JOB,
    response_model=models.JobDefinition,
    response_model_exclude_none=True,
    status_code=200,
    responses={201: {"model": models.JobDefinition}},
    operation_id="Jobs_CreateOrUpdate",
    openapi_extra=body_schema("JobDefinition"),
)
async def put_job(request: Request, ref: JobRefDep, services: ServicesDep) -> Any:
    properties = parse_job(parse_json(await request.body()), services.settings, services.clock())
    write = models.job_write_from_wire(properties)
    stored, created = await call(services, jobs.put_job, ref, write, precondition(request))
    return with_etag(models.job_to_wire(stored), stored.version, 201 if created else 200)


@router.patch(
    JOB,
    response_model=models.JobDefinition,
    response_model_exclude_none=True,
    operation_id="Jobs_Patch",
    openapi_extra=body_schema("JobDefinition"),
)
async def patch_job(request: Request, response: Response, ref: JobRefDep, services: ServicesDep) -> Any:
    raw = parse_json(await request.body())
    if not isinstance(raw, dict):
        raise InvalidInput("The request body must be a JSON object (a JobDefinition).", "")
    # Read-only fields are ignored, as in a PUT; anything else merges (RFC 7386) and the result must be a valid job.
    patch = {k: v for k, v in raw.items() if k not in ("id", "type", "name")}
    keep_state = "state" not in (raw.get("properties") or {})

    def build(current: StoredJob) -> JobWrite:
        # Called inside the service's guarded write, again after a concurrent write: nothing is lost.
        base = {"properties": models.job_properties_to_wire(current)}
        properties = parse_job(merge_patch(base, patch), services.settings, services.clock())
        moved = rebound_secrets(current.definition.wire, current.secrets, properties, raw.get("properties") or {})
        if moved:
            raise InvalidInput([Problem(f"properties.{path}", _GIVE_AGAIN) for path in moved])
        if keep_state:
            properties.pop("state", None)  # keep whatever state the job reaches meanwhile
        return models.job_write_from_wire(properties)

    stored = await call(services, jobs.patch_job, ref, build, precondition(request))
    set_etag(response, stored.version)
    return models.job_to_wire(stored)


@router.get(JOB, response_model=models.JobDefinition, response_model_exclude_none=True, operation_id="Jobs_Get")
async def get_job(response: Response, ref: JobRefDep, services: ServicesDep) -> Any:
    stored = await call(services, jobs.get_job, ref)
    set_etag(response, stored.version)
    return models.job_to_wire(stored)


@router.delete(JOB, operation_id="Jobs_Delete")
async def delete_job(request: Request, ref: JobRefDep, services: ServicesDep) -> Response:
    await call(services, jobs.delete_job, ref, precondition(request))
    return Response(status_code=200)


@router.post(JOB + "/run", operation_id="Jobs_Run")
async def run_job(ref: JobRefDep, services: ServicesDep) -> Response:
    await call(services, jobs.run_job, ref)
    return Response(status_code=200)


@router.get(
    JC + "/jobs", response_model=models.JobListResult, response_model_exclude_none=True, operation_id="Jobs_List"
)
async def list_jobs(
    request: Request,
    ref: CollectionRefDep,
    services: ServicesDep,
    top: Top = 100,
    skip: Skip = 0,
    filter: Filter = None,
    skiptoken: SkipToken = None,
) -> Any:
    state = parse_filter(filter, "state", JobState)
    items, token = await call(services, jobs.list_jobs, ref, top=top, skip=skip, token=skiptoken, state=state)
    return {"value": [models.job_to_wire(j) for j in items], "nextLink": next_link(request, token, top)}


@router.get(
    JOB + "/history",
    response_model=models.JobHistoryListResult,
    response_model_exclude_none=True,
    operation_id="Jobs_ListJobHistory",
)
async def list_history(
    request: Request,
    ref: JobRefDep,
    services: ServicesDep,
    top: Top = 100,
    skip: Skip = 0,
    filter: Filter = None,
    skiptoken: SkipToken = None,
) -> Any:
    status = parse_filter(filter, "status", JobExecutionStatus)
    items, token = await call(services, jobs.list_history, ref, top=top, skip=skip, token=skiptoken, status=status)
    return {"value": [models.history_to_wire(e) for e in items], "nextLink": next_link(request, token, top)}
