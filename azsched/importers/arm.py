"""ARM templates with `Microsoft.Scheduler/jobCollections` resources (apiVersions 2014-08-01-preview, 2016-01-01,
2016-03-01): jobs nested as child resources (`"type": "jobs"`) or at the top level
(`Microsoft.Scheduler/jobCollections/jobs`, name "jc/job"). Other resource types are left alone.

Parameters take their values from `--parameters` (k=v or @file), then the parameter files given, then their
`defaultValue`. An expression that cannot be evaluated here is a problem of its job naming the resource, the JSON
path and the expression, unless `--set` gives that field a value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from azsched.importers.expressions import Scope, Unresolvable, evaluate_collecting, evaluate_string, evaluate_tree
from azsched.importers.jsonfile import load
from azsched.importers.model import ImportedCollection, ImportedJob, ReadError

COLLECTION_TYPE = "microsoft.scheduler/jobcollections"
JOB_TYPE = "microsoft.scheduler/jobcollections/jobs"
DEPLOYMENT_TYPE = "microsoft.resources/deployments"
API_VERSIONS = ("2014-08-01-preview", "2016-01-01", "2016-03-01")
_MAX_LINK_DEPTH = 8  # linked templates that link each other in a circle end here
_SAS_SIGNATURE = re.compile(r"(?i)(\bsig=)[^&'\"\s]+")


_QUOTA_FIELDS = {name.lower(): name for name in (
    "maxJobCount", "maxJobOccurrence", "maxRecurrence", "frequency", "interval")}


def _quota(quota: Mapping[str, Any]) -> dict[str, Any]:
    """A collection's quota as the API reads it. Templates of the 2014 preview wrote numbers as strings
    (`"maxJobCount": "10"`) and member names in any case (`"Frequency"`), which ARM's deserializer took; the API
    takes neither, so the names get their case and the numeric strings become numbers here."""
    fixed: dict[str, Any] = {}
    for key, value in quota.items():
        if isinstance(value, Mapping):
            value = _quota(value)
        elif isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        fixed[_QUOTA_FIELDS.get(str(key).lower(), key)] = value
    return fixed


class _LinkError(Exception):
    """A linked template that cannot be read (the message names the link)."""


def is_template(doc: Any) -> bool:
    return isinstance(doc, Mapping) and (
        "deploymentTemplate" in str(doc.get("$schema", "")) or isinstance(doc.get("resources"), list)
    )


def is_parameters_file(doc: Any) -> bool:
    return isinstance(doc, Mapping) and (
        "deploymentParameters" in str(doc.get("$schema", ""))
        or (set(doc) <= {"$schema", "contentVersion", "parameters"} and isinstance(doc.get("parameters"), Mapping)
            and all(isinstance(v, Mapping) and ("value" in v or "reference" in v) for v in doc["parameters"].values()))
    )


def parameter_values(doc: Mapping[str, Any]) -> dict[str, Any]:
    """`{name: value}` of a parameters file; Key Vault references are left out (they need Azure)."""
    return {k: v["value"] for k, v in (doc.get("parameters") or {}).items() if isinstance(v, Mapping) and "value" in v}


def coerce(value: str, declared: Mapping[str, Any] | None) -> Any:
    """A `--parameters k=v` string as the template declares the parameter (int, bool, object, array)."""
    kind = str((declared or {}).get("type", "string")).lower()
    if kind == "int":
        return int(value)
    if kind == "bool":
        return value.lower() == "true"
    if kind in ("object", "array", "secureobject"):
        import json

        return json.loads(value)
    return value


def read_template(
    doc: Mapping[str, Any], source: str, given: Mapping[str, Any], raw_given: Mapping[str, str],
    *, subscription: str, resource_group: str, location: str, directory: Path | None = None,
    notes: list[str] | None = None,
) -> tuple[list[ImportedJob], list[ImportedCollection]]:
    """The jobs and collections of a template.

    Args:
        doc: the template.
        source: its file name, for the report.
        given: parameter values from parameter files (typed).
        raw_given: `--parameters k=v` strings (coerced to the declared type here; they win over files).
        subscription, resource_group, location: what `subscription()` and `resourceGroup()` return.
        directory: where the template file is: a nested deployment's `templateLink.relativePath` is read from there.
        notes: where to add a line naming the other resource types the template holds (they are not imported).
    """
    try:
        scope = _scope(doc, given, raw_given, Scope(subscription_id=subscription, resource_group=resource_group,
                                                    location=location))
    except ReadError as exc:
        raise ReadError(f"{source}: {exc}") from None
    reader = _Reader(scope, source, directory)
    for i, resource in enumerate(doc.get("resources") or []):
        reader.resource(resource, f"resources[{i}]", None)
    if notes is not None and reader.other_types:
        counted = ", ".join(f"{t} ({n})" if n > 1 else t for t, n in reader.other_types.items())
        notes.append(f"{source}: left alone, not Scheduler resources: {counted}")
    return reader.jobs, reader.collections


def _scope(doc: Mapping[str, Any], given: Mapping[str, Any], raw_given: Mapping[str, str], place: Scope) -> Scope:
    """The scope of a template: its parameters' values (a default that cannot be evaluated leaves the parameter
    without a value, reported where it is used) and its variables, at `place`'s subscription and resource group."""
    declared, variables = doc.get("parameters") or {}, doc.get("variables") or {}
    for key, value in (("parameters", declared), ("variables", variables)):
        if not isinstance(value, Mapping):
            raise ReadError(f"{key} must be an object")
    scope = Scope(subscription_id=place.subscription_id, resource_group=place.resource_group,
                  location=place.location, variables=variables)
    for name, spec in declared.items():
        raw = next((v for k, v in raw_given.items() if k.lower() == name.lower()), None)
        value = next((v for k, v in given.items() if k.lower() == name.lower()), None)
        if raw is not None:
            try:
                scope.parameters[name] = coerce(raw, spec)
            except ValueError:  # the value is not shown: it may be a secret
                kind = str((spec if isinstance(spec, Mapping) else {}).get("type", "string"))
                raise ReadError(f"--parameters {name}: the template declares it {kind}, and the value given is "
                                "not one") from None
        elif value is not None:
            scope.parameters[name] = value
        elif isinstance(spec, Mapping) and "defaultValue" in spec:
            try:
                scope.parameters[name] = evaluate_tree(spec["defaultValue"], scope)
            except Unresolvable as exc:
                scope.unresolved_defaults[name] = f"its defaultValue {exc.expression}: {exc.reason}"
    return scope


class _Reader:
    def __init__(self, scope: Scope, source: str, directory: Path | None, depth: int = 0) -> None:
        self.scope, self.source, self.directory, self.depth = scope, source, directory, depth
        self.jobs: list[ImportedJob] = []
        self.collections: list[ImportedCollection] = []
        self.other_types: dict[str, int] = {}  # resource type -> how many: they are left alone, and the user told

    def resource(self, resource: Any, path: str, parent: tuple[str, str, dict[str, Any]] | None) -> None:
        """One resource (a `copy` loop expands to its copies); `parent` = (type, name, definition) when nested."""
        if not isinstance(resource, Mapping):
            return
        loop = resource.get("copy")
        if isinstance(loop, Mapping):
            try:
                count = int(evaluate_string(str(loop.get("count", 0)), self.scope)) if isinstance(
                    loop.get("count"), str) else int(loop.get("count", 0))
            except (Unresolvable, ValueError) as exc:
                self._unreadable(resource, path, f"copy.count: {exc}")
                return
            self.scope.copy_name = str(loop["name"]) if loop.get("name") else None
            for index in range(count):
                self.scope.copy_index = index
                self._one(resource, f"{path}[copy {index}]", parent)
            self.scope.copy_index = self.scope.copy_name = None
            return
        self._one(resource, path, parent)

    def _one(self, resource: Mapping[str, Any], path: str, parent: tuple[str, str, dict[str, Any]] | None) -> None:
        rtype = str(resource.get("type", ""))
        full = f"{parent[0]}/{rtype}" if parent and "/" not in rtype else rtype
        if full.lower() == DEPLOYMENT_TYPE:
            self._nested_template(resource, path)
            return
        if full.lower() not in (COLLECTION_TYPE, JOB_TYPE):
            self.other_types[full] = self.other_types.get(full, 0) + 1
            return
        where = f"{self.source} {path}"
        try:
            if "condition" in resource and not evaluate_tree(resource["condition"], self.scope):
                return
            name = str(evaluate_tree(resource.get("name", ""), self.scope))
        except Unresolvable as exc:
            children = [c for c in resource.get("resources") or [] if isinstance(c, Mapping)]
            if full.lower() == COLLECTION_TYPE and children:
                # Its jobs are what the user is importing: each is reported, none silently skipped.
                for i, child in enumerate(children):
                    self._unreadable(child, f"{path}.resources[{i}]",
                                     f"its job collection's name {exc.expression}: {exc.reason}")
            else:
                self._unreadable(resource, path, f"name {exc.expression}: {exc.reason}")
            return
        api_version = str(resource.get("apiVersion", ""))
        warnings = [] if not api_version or api_version in API_VERSIONS else [
            f"apiVersion {api_version} is not one of {', '.join(API_VERSIONS)}; read as 2016-03-01"]
        if full.lower() == COLLECTION_TYPE:
            definition = self._collection(resource, path)
            self.collections.append(ImportedCollection(where, name, definition))
            for i, child in enumerate(resource.get("resources") or []):
                self.resource(child, f"{path}.resources[{i}]", (rtype, name, definition))
            return
        if parent:
            collection, job_name = parent[1], name.split("/")[-1]
        else:
            collection, _, job_name = name.rpartition("/")
        problems: list[tuple[str, Unresolvable]] = []
        properties = evaluate_collecting(resource.get("properties") or {}, self.scope, "", problems)
        job = ImportedJob(where, collection or None, job_name, properties if isinstance(properties, dict) else {},
                          warnings=warnings)
        job.unresolved = [(p, e.expression, e.reason) for p, e in problems]
        self.jobs.append(job)

    def _nested_template(self, resource: Mapping[str, Any], path: str) -> None:
        """A nested deployment. An inline template's resources are read in the outer scope (ARM's default) or, with
        `expressionEvaluationOptions.scope` inner, in its own with the parameters the deployment passes. A linked
        template is read from the local file its `templateLink.relativePath` names (relative to the file that links
        it, as ARM resolves it), always in its own scope; a `templateLink.uri` is not fetched (no network)."""
        properties = resource.get("properties") or {}
        template = properties.get("template")
        link = properties.get("templateLink")
        source, directory = self.source, self.directory
        if not isinstance(template, Mapping) and isinstance(link, Mapping):
            try:
                template, source, directory = self._linked(link, path)
            except _LinkError as exc:
                self._unreadable(resource, path, str(exc))
                return
        if not isinstance(template, Mapping):
            return
        scope = self.scope
        inner = str((properties.get("expressionEvaluationOptions") or {}).get("scope", "outer")).lower() == "inner"
        if inner or isinstance(link, Mapping):
            passed: dict[str, Any] = {}
            for name, spec in (properties.get("parameters") or {}).items():
                try:
                    if isinstance(spec, Mapping) and "value" in spec:
                        passed[name] = evaluate_tree(spec["value"], self.scope)
                except Unresolvable:
                    continue  # left without a value: reported where the nested template uses it
            try:
                scope = _scope(template, passed, {}, self.scope)
            except ReadError as exc:
                self._unreadable(resource, path, f"template: {exc}")
                return
        nested = _Reader(scope, source, directory, self.depth + 1)
        prefix = f"{path}.properties.template." if source == self.source else ""  # a linked file: its own paths
        for i, child in enumerate(template.get("resources") or []):
            nested.resource(child, f"{prefix}resources[{i}]", None)
        self.jobs += nested.jobs
        self.collections += nested.collections
        for rtype, count in nested.other_types.items():
            self.other_types[rtype] = self.other_types.get(rtype, 0) + count

    def _linked(self, link: Mapping[str, Any], path: str) -> tuple[Mapping[str, Any], str, Path | None]:
        """(template, source label, its directory) of a `templateLink` with a `relativePath`."""
        if self.depth >= _MAX_LINK_DEPTH:
            raise _LinkError(f"templateLink: more than {_MAX_LINK_DEPTH} linked templates deep")
        relative = link.get("relativePath")
        if not relative:
            # A link's SAS token (`?sv=...&sig=...`, often written into the template) is a secret: its signature is
            # not shown.
            uri = _SAS_SIGNATURE.sub(r"\1***", str(link.get("uri") or link.get("id") or "?"))
            raise _LinkError(f"templateLink {uri}: a linked template is not fetched; give its file to azsched "
                             "import (or link it with relativePath)")
        try:
            relative = str(evaluate_tree(relative, self.scope))
        except Unresolvable as exc:
            raise _LinkError(f"templateLink.relativePath {exc.expression}: {exc.reason}") from None
        if self.directory is None:
            raise _LinkError(f"templateLink.relativePath {relative}: the linking template's directory is not known")
        file = (self.directory / relative).resolve()
        try:
            doc = load(file)
        except ReadError as exc:
            raise _LinkError(f"templateLink.relativePath {relative}: {exc}") from None
        if not is_template(doc):
            raise _LinkError(f"templateLink.relativePath {relative}: not an ARM template")
        return doc, f"{self.source} {path} -> {relative}", file.parent

    def _collection(self, resource: Mapping[str, Any], path: str) -> dict[str, Any]:
        definition: dict[str, Any] = {}
        for key in ("location", "tags", "properties"):
            if key in resource:
                problems: list[tuple[str, Unresolvable]] = []
                definition[key] = evaluate_collecting(resource[key], self.scope, key, problems)
                if problems:
                    # A collection's own field that cannot be evaluated: keep the plan's defaults for it.
                    definition.pop(key)
        if isinstance(definition.get("properties"), Mapping) and isinstance(definition["properties"].get("quota"),
                                                                             Mapping):
            definition["properties"] = {**definition["properties"],
                                        "quota": _quota(definition["properties"]["quota"])}
        return definition

    def _unreadable(self, resource: Mapping[str, Any], path: str, reason: str) -> None:
        job = ImportedJob(f"{self.source} {path}", None, str(resource.get("name", "?")), {})
        job.problems.append(reason)
        self.jobs.append(job)
