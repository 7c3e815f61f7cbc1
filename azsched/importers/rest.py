"""REST exports: `{"value": [...]}` lists, single JobDefinitions as GET returns them, and classic (2014) job JSON.

`id`, `type`, `name` and `status` are read-only and ignored, except that `name` ("jc/job") or `id` (the ARM path)
tells the collection and the job's name. Classic job JSON has no `properties` wrapper: `id` is the job's name and
`action`, `recurrence`, `startTime` and `state` sit at the top.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from azsched.importers.model import ImportedCollection, ImportedJob

_ARM_JOB = re.compile(r"/jobCollections/(?P<collection>[^/]+)/jobs/(?P<job>[^/]+)/?$", re.IGNORECASE)
_CLASSIC_FIELDS = ("startTime", "action", "recurrence", "state")
_JOB_TYPE = "microsoft.scheduler/jobcollections/jobs"


def is_job(node: Any) -> bool:
    """A JobDefinition, a classic job, or a job resource without its definition (`az resource list` output)."""
    return isinstance(node, Mapping) and (
        isinstance(node.get("properties"), Mapping) and "action" in node["properties"] or "action" in node
        or str(node.get("type", "")).lower() == _JOB_TYPE
    )


def is_collection(node: Any) -> bool:
    return isinstance(node, Mapping) and str(node.get("type", "")).lower() == "microsoft.scheduler/jobcollections"


def read_job(node: Mapping[str, Any], source: str, file_name: str | None = None) -> ImportedJob:
    """A JobDefinition (ARM shape) or a classic job; one without `name` or `id` is called `file_name` when given
    (the stem of a file that holds it alone), with a warning."""
    if str(node.get("type", "")).lower() == _JOB_TYPE and not (
            isinstance(node.get("properties"), Mapping) and "action" in node["properties"]):
        collection, name = _identity(node)
        job = ImportedJob(source, collection, name or "", {})
        job.problems.append("no properties.action: the file leaves the job's definition out (as `az resource list` "
                            "does); export the job with `az resource show` or as a REST GET")
    elif isinstance(node.get("properties"), Mapping):
        collection, name = _identity(node)
        properties = dict(node["properties"])
        job = ImportedJob(source, collection, name or "", properties)
    else:
        name = str(node.get("id") or node.get("name") or "")
        job = ImportedJob(source, None, name.split("/")[-1], {k: node[k] for k in _CLASSIC_FIELDS if k in node})
        job.warnings.append("classic (2014) job JSON: enum values are accepted in any case")
    if not job.name and file_name:
        job.name = file_name
        job.warnings.append(f"the job has no name (`name` or `id`): named after its file, {file_name}")
    if not job.name:
        job.problems.append("the job has no name (`name` or `id`)")
    return job


def read_collection(node: Mapping[str, Any], source: str) -> ImportedCollection:
    definition = {k: node[k] for k in ("location", "tags", "properties") if k in node}
    return ImportedCollection(source, str(node.get("name", "")), definition)


def _identity(node: Mapping[str, Any]) -> tuple[str | None, str | None]:
    name = str(node.get("name") or "")
    if "/" in name:
        collection, _, job = name.rpartition("/")
        return collection.split("/")[-1], job
    match = _ARM_JOB.search(str(node.get("id") or ""))
    if match:
        return match["collection"], match["job"]
    return None, name or None
