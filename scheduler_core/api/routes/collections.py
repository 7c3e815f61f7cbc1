"""Job collections: list, get, create or replace, patch, delete, enable and disable (ARM paths of 2016-03-01)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from scheduler_core.api import models
from scheduler_core.api.etags import precondition, set_etag, with_etag
from scheduler_core.api.routes.common import JC, CollectionRefDep, P, ServicesDep, body_schema, call, check_api_version
from scheduler_core.api.validation import parse_collection, parse_json
from scheduler_core.domain.job import JobState
from scheduler_core.service import collections
from scheduler_core.wire import collection_definition_from_wire

router = APIRouter(dependencies=[Depends(check_api_version)])


@router.get(
    "/subscriptions/{subscriptionId}/providers/Microsoft.Scheduler/jobCollections",
    response_model=models.JobCollectionListResult,
    response_model_exclude_none=True,
    operation_id="JobCollections_ListBySubscription",
)
async def list_by_subscription(subscriptionId: str, services: ServicesDep) -> Any:
    found = await call(services, collections.list_collections, subscriptionId, None)
    return {"value": [models.collection_to_wire(c) for c in found]}


@router.get(
    P + "/jobCollections",
    response_model=models.JobCollectionListResult,
    response_model_exclude_none=True,
    operation_id="JobCollections_ListByResourceGroup",
)
async def list_by_group(subscriptionId: str, resourceGroupName: str, services: ServicesDep) -> Any:
    found = await call(services, collections.list_collections, subscriptionId, resourceGroupName)
    return {"value": [models.collection_to_wire(c) for c in found]}


@router.get(
    JC,
    response_model=models.JobCollectionDefinition,
    response_model_exclude_none=True,
    operation_id="JobCollections_Get",
)
async def get_collection(response: Response, ref: CollectionRefDep, services: ServicesDep) -> Any:
    found = await call(services, collections.get_collection, ref)
    set_etag(response, found.version)
    return models.collection_to_wire(found)


@router.put(
    JC,
    response_model=models.JobCollectionDefinition,
    response_model_exclude_none=True,
    status_code=200,
    responses={201: {"model": models.JobCollectionDefinition}},
    operation_id="JobCollections_CreateOrUpdate",
    openapi_extra=body_schema("JobCollectionDefinition"),
)
async def put_collection(request: Request, ref: CollectionRefDep, services: ServicesDep) -> Any:
    definition = collection_definition_from_wire(parse_collection(parse_json(await request.body())))
    stored, created = await call(services, collections.put_collection, ref, definition, precondition(request))
    return with_etag(models.collection_to_wire(stored), stored.version, 201 if created else 200)


@router.patch(
    JC,
    response_model=models.JobCollectionDefinition,
    response_model_exclude_none=True,
    operation_id="JobCollections_Patch",
    openapi_extra=body_schema("JobCollectionDefinition"),
)
async def patch_collection(request: Request, response: Response, ref: CollectionRefDep, services: ServicesDep) -> Any:
    patch = models.collection_patch(parse_collection(parse_json(await request.body()), partial=True))
    stored = await call(services, collections.patch_collection, ref, patch, precondition(request))
    set_etag(response, stored.version)
    return models.collection_to_wire(stored)


@router.delete(JC, operation_id="JobCollections_Delete")
async def delete_collection(request: Request, ref: CollectionRefDep, services: ServicesDep) -> Response:
    await call(services, collections.delete_collection, ref, precondition(request))
    return Response(status_code=200)


# POST enable / disable: "Enables (disables) all of the jobs in the job collection."
@router.post(JC + "/enable", operation_id="JobCollections_Enable", name="enable_collection")
async def enable_collection(ref: CollectionRefDep, services: ServicesDep) -> Response:
    await call(services, collections.set_collection_state, ref, JobState.ENABLED)
    return Response(status_code=200)


@router.post(JC + "/disable", operation_id="JobCollections_Disable", name="disable_collection")
async def disable_collection(ref: CollectionRefDep, services: ServicesDep) -> Response:
    await call(services, collections.set_collection_state, ref, JobState.DISABLED)
    return Response(status_code=200)
