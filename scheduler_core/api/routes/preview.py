"""Preview (extension): a job's next occurrences, and a recurrence's before any job is stored."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from scheduler_core.api.routes.common import JOB, JobRefDep, ServicesDep, call, check_api_version, parse_instant_param
from scheduler_core.api.validation import parse_job, parse_json
from scheduler_core.domain.errors import InvalidInput, Problem
from scheduler_core.domain.recurrence import occurrences
from scheduler_core.service import jobs
from scheduler_core.service.dispatch import default_anchor
from scheduler_core.wire import definition_from_wire, format_datetime

router = APIRouter(dependencies=[Depends(check_api_version)])

_PREVIEW_FIELDS = {"count", "startTime", "recurrence", "from"}


@router.get(JOB + "/preview", operation_id="Jobs_Preview")
async def preview_job(
    ref: JobRefDep,
    services: ServicesDep,
    count: Annotated[int, Query(ge=1, le=jobs.MAX_PREVIEW)] = 10,
    from_: Annotated[str | None, Query(alias="from")] = None,
) -> Any:
    start = parse_instant_param(from_, "from")
    return {"value": await call(services, jobs.preview, ref, count=count, start=start)}


@router.post("/providers/Microsoft.Scheduler/previewRecurrence", operation_id="PreviewRecurrence")
async def preview_recurrence(request: Request, services: ServicesDep) -> Any:
    raw = parse_json(await request.body())
    if not isinstance(raw, dict):
        raise InvalidInput("The request body must be a JSON object.", "")
    unknown = sorted(set(raw) - _PREVIEW_FIELDS)
    if unknown:  # as in a job: a misspelt field must not be silently ignored
        raise InvalidInput([Problem(name, "Extra inputs are not permitted") for name in unknown])
    now = services.clock()
    count = raw.get("count", 10)
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= jobs.MAX_PREVIEW:
        raise InvalidInput(f"must be an integer between 1 and {jobs.MAX_PREVIEW}", "count")
    placeholder = {"type": "Http", "request": {"uri": "https://preview.invalid/", "method": "GET"}}
    timing = {"startTime": raw.get("startTime"), "recurrence": raw.get("recurrence")}
    try:
        properties = parse_job({"properties": {**timing, "action": placeholder}}, services.settings, now)
    except InvalidInput as exc:  # name the fields where this body has them: `recurrence`, not `properties.recurrence`
        raise InvalidInput([Problem(p.path.removeprefix("properties."), p.message) for p in exc.problems]) from None
    definition = definition_from_wire(properties)
    start = definition.start_time or default_anchor(now, definition.recurrence)
    after = parse_instant_param(raw.get("from"), "from") or now
    found = occurrences(start, definition.recurrence, after=after, limit=count)
    return {"value": [format_datetime(t) for t in found]}
