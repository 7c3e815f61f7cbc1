"""Readers of Azure Scheduler exports, told apart by content, and the fixes every job gets before import.

Kinds: REST lists and single JobDefinitions (`rest`), classic 2014 job JSON (`rest`), ARM templates and parameter
files (`arm`, `expressions`), PowerShell `ConvertTo-Json` output (`powershell`). Then, for every job: a `retryPolicy`
misplaced under `request` moves up (with a warning), read-only fields go, `--set` values are applied, secrets from
`--secrets` are put in, and a job that needs a secret nobody gave is marked to be imported Disabled.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from azsched.importers import arm, powershell, rest
from azsched.importers.jsonfile import load
from azsched.importers.model import ImportedCollection, ImportedJob, ReadError

__all__ = ["ImportOptions", "ImportedCollection", "ImportedJob", "ReadError", "read_files", "parse_set"]

NEEDS_SECRET_PLACEHOLDER = "azsched-needs-a-secret"


@dataclass
class ImportOptions:
    """What the `import` command's options say about reading."""

    collection: str | None = None
    parameters: dict[str, str] = field(default_factory=dict)  # --parameters k=v
    parameter_files: list[Path] = field(default_factory=list)  # --parameters @file
    sets: list[tuple[str | None, str, Any]] = field(default_factory=list)  # --set [JOB:]PATH=VALUE
    secrets: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # --secrets: {job or *: {path: value}}
    subscription: str = "local"
    resource_group: str = "local"
    location: str = "westus"


def parse_set(text: str) -> tuple[str | None, str, Any]:
    """`nightly:action.request.uri=https://x` -> ("nightly", "action.request.uri", "https://x"); a value that is
    JSON (a number, true, an object) is taken as such."""
    target, sep, raw = text.partition("=")
    if not sep or not target:
        raise ValueError(f"--set '{text}': use [JOB:]PATH=VALUE")
    job, _, path = target.rpartition(":") if ":" in target else ("", "", target)
    try:
        value: Any = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    return (job or None), path.strip(), value


def read_files(
    paths: Sequence[Path], options: ImportOptions, notes: list[str] | None = None,
) -> tuple[list[ImportedJob], list[ImportedCollection]]:
    """Every job and collection of the files, fixed up and ready to compare with the API.

    Args:
        paths: the files.
        options: what the command's options say.
        notes: where to add what the user should know of a file as a whole (resources left alone).

    Raises:
        ReadError: a file that is not JSON or of no known kind.
    """
    docs = [(path, load(path)) for path in paths]
    given: dict[str, Any] = {}
    for path in options.parameter_files:
        doc = load(path)
        if not arm.is_parameters_file(doc):
            raise ReadError(f"{path}: not an ARM parameters file")
        given.update(arm.parameter_values(doc))
    for _, doc in docs:
        if arm.is_parameters_file(doc):
            given = {**arm.parameter_values(doc), **given}
    jobs: list[ImportedJob] = []
    collections: list[ImportedCollection] = []
    for path, doc in docs:
        source = path.name
        if arm.is_parameters_file(doc):
            continue
        if arm.is_template(doc):
            found, defined = arm.read_template(
                doc, source, given, options.parameters, subscription=options.subscription,
                resource_group=options.resource_group, location=options.location, directory=path.parent,
                notes=notes,
            )
            jobs += found
            collections += defined
            continue
        listed = isinstance(doc, list) or (isinstance(doc, Mapping) and isinstance(doc.get("value"), list))
        items = (doc if isinstance(doc, list) else doc["value"]) if listed else [doc]
        # A list response saved as it came: its `nextLink` page (and any after it) is not in the file.
        more = doc.get("nextLink") if listed and isinstance(doc, Mapping) else None
        known = False
        for i, item in enumerate(items):
            where = f"{source} [{i}]" if listed else source
            if powershell.is_powershell(item):
                jobs.append(powershell.read_powershell(item, where))
            elif rest.is_collection(item):
                collections.append(rest.read_collection(item, where))
            elif rest.is_job(item):
                # A file of one job saved without its name (a PUT body: the name was in the URL) is named after it.
                jobs.append(rest.read_job(item, where, None if listed else path.stem))
                if more:
                    jobs[-1].warnings.append(f"{source} has a nextLink: the jobs of the list's further pages are "
                                             "not in it; save every page and import them all")
            else:
                continue
            known = True
        if not known and items:
            raise ReadError(f"{path}: neither a REST export, an ARM template, nor PowerShell output")
    for job in jobs:
        _finish(job, options)
    _mark_duplicates(jobs)
    return jobs, collections


def _finish(job: ImportedJob, options: ImportOptions) -> None:
    if options.collection:
        job.collection = options.collection
    props = job.properties
    if "action" in props and not isinstance(props["action"], dict):
        kind = {str: "a string", list: "an array", bool: "a boolean", type(None): "null"}.get(
            type(props["action"]), "a number")
        job.problems.append(f"properties.action must be an object, not {kind}")
        return
    for key in ("status",):
        props.pop(key, None)
    _move_retry_policies(job)
    state = str(props.get("state", "")).lower()
    if state in ("completed", "faulted"):
        props["state"] = "Disabled"
        job.warnings.append(f"was {state.capitalize()} in the export: imported Disabled so that it does not run again")
    for target, path, value in options.sets:
        path = path.removeprefix("properties.")
        if target is None or target.lower() in (job.name.lower(), job.key.lower()):
            _set_path(props, path, value)
            job.unresolved = [u for u in job.unresolved if not (u[0] == path or u[0].startswith(path + "."))]
    # `*` gives a secret to the jobs whose action takes it: one SAS token for every queue job must not give the HTTP
    # jobs a queueMessage.
    takes = _secret_fields(job)
    secrets = {**{p: v for p, v in options.secrets.get("*", {}).items() if p in takes},
               **_secrets_for(job, options.secrets)}
    for path, value in secrets.items():
        _set_path(props, path, value)
        job.unresolved = [u for u in job.unresolved if u[0] != path]
    from azsched.normalize import SECRET_FIELDS

    for path, expression, reason in job.unresolved:
        if path.rsplit(".", 1)[-1] in SECRET_FIELDS:
            _set_path(props, path, None)  # an unresolvable secret is a missing secret
        elif not path:  # `"properties": "[parameters('job')]"`: only a parameter can give it
            job.problems.append(f"properties = {expression}: {reason}")
        else:
            hint = f"give it with --set {job.name}:{path}=VALUE"
            job.problems.append(f"properties.{path} = {expression}: {reason} ({hint})")
    _check_secrets(job)


def _secrets_for(job: ImportedJob, secrets: Mapping[str, Mapping[str, str]]) -> dict[str, str]:
    found: dict[str, str] = {}
    for key, values in secrets.items():
        if key.lower() in (job.name.lower(), job.key.lower()):
            found.update(values)
    return found


def _move_retry_policies(job: ImportedJob) -> None:
    action = job.properties.get("action")
    for owner, where in ((action, "action"), ((action or {}).get("errorAction"), "action.errorAction")):
        if not isinstance(owner, dict) or not isinstance(owner.get("request"), dict):
            continue
        misplaced = owner["request"].pop("retryPolicy", None)
        if misplaced is not None:
            if "retryPolicy" not in owner:
                owner["retryPolicy"] = misplaced
                job.warnings.append(f"{where}.request.retryPolicy moved to {where}.retryPolicy")
            else:
                job.warnings.append(f"{where}.request.retryPolicy dropped: {where}.retryPolicy is also given")


def _set_path(node: dict[str, Any], path: str, value: Any) -> None:
    *parents, leaf = path.split(".")
    for key in parents:
        child = node.get(key)
        if not isinstance(child, dict):
            child = node[key] = {}
        node = child
    if value is None:
        node.pop(leaf, None)
    else:
        node[leaf] = value


def _secret_needs(owner: dict[str, Any], prefix: str) -> list[tuple[str, dict[str, Any], list[str]]]:
    """(path of the object, the object, its secret fields that must be given) for an action (and errorAction)."""
    needs: list[tuple[str, dict[str, Any], list[str]]] = []
    request = owner.get("request")
    if isinstance(request, dict) and isinstance(request.get("authentication"), dict):
        auth = request["authentication"]
        fields = {"basic": ["password"], "clientcertificate": ["pfx"],
                  "activedirectoryoauth": ["secret"]}.get(str(auth.get("type", "")).lower(), [])
        needs.append((f"{prefix}.request.authentication", auth, fields))
    queue = owner.get("queueMessage")
    if isinstance(queue, dict):
        needs.append((f"{prefix}.queueMessage", queue, ["sasToken"]))
    for key in ("serviceBusQueueMessage", "serviceBusTopicMessage"):
        message = owner.get(key)
        if isinstance(message, dict) and isinstance(message.get("authentication"), dict):
            auth = message["authentication"]
            if str(auth.get("type", "")).lower() == "sharedaccesskey":
                needs.append((f"{prefix}.{key}.authentication", auth, ["sasKey"]))
    if isinstance(owner.get("errorAction"), dict):
        needs += _secret_needs(owner["errorAction"], f"{prefix}.errorAction")
    return needs


def _secret_fields(job: ImportedJob) -> set[str]:
    """The paths of the secret fields the job's action (and errorAction) takes, given or not."""
    action = job.properties.get("action")
    if not isinstance(action, dict):
        return set()
    return {f"{path}.{name}" for path, _, fields in _secret_needs(action, "action") for name in fields}


def _check_secrets(job: ImportedJob) -> None:
    """Exports hold no secrets: a job whose action needs one that nobody gave is imported Disabled, with a
    placeholder where the API requires a value (a SAS token) and without a client certificate it cannot open."""
    action = job.properties.get("action")
    if not isinstance(action, dict):
        return
    for path, owner, fields in _secret_needs(action, "action"):
        for name in fields:
            if owner.get(name):
                continue
            job.missing_secrets.append(f"{path}.{name}")
            if name == "sasToken":
                owner[name] = NEEDS_SECRET_PLACEHOLDER
            elif name == "pfx":
                parent_path = path.rsplit(".", 1)[0]
                parent = _walk(job.properties, parent_path)
                if isinstance(parent, dict):
                    parent.pop("authentication", None)
                job.warnings.append(f"{path} (ClientCertificate) left out until its pfx is given with --secrets")
    if job.missing_secrets:
        job.properties["state"] = "Disabled"


def _walk(node: Any, path: str) -> Any:
    for key in path.split("."):
        node = node.get(key) if isinstance(node, dict) else None
    return node


def _mark_duplicates(jobs: list[ImportedJob]) -> None:
    seen: dict[str, ImportedJob] = {}
    for job in jobs:
        if job.problems or not job.collection:
            continue
        key = job.key.lower()
        if key in seen:
            job.problems.append(f"defined twice: also in {seen[key].source}")
        else:
            seen[key] = job


