"""The published swagger of Microsoft.Scheduler 2016-03-01 (vendored in tests/support/swagger/), its operations, and a
strict validator of response bodies against its schemas.

A small resolver of our own rather than a JSON Schema library: the swagger's polymorphism (`discriminator` with
`x-ms-discriminator-value` and `allOf`) is not JSON Schema, and the check wanted is stricter than JSON Schema's
defaults: a field the swagger does not declare is a mismatch (a generated SDK drops it, or, for `occurrence` instead of
`Occurrence`, loses the value), unless the schema declares `additionalProperties`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

SWAGGER_FILE = Path(__file__).parent / "swagger" / "scheduler-2016-03-01.json"

# RFC 3339 date-time (what `format: date-time` means in swagger 2.0 and what msrest and azure-core parse).
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
# An `integer` without `format` is an int32 in AutoRest's clients (.NET `int?`, Go `*int32`, Az.Scheduler's `Int32`
# parameters): a larger value in a response is one they cannot read.
INT32 = (-(2**31), 2**31 - 1)
# ISO 8601 duration (`format: duration`, what msrest's isodate parses): PnYnMnDTnHnMnS or PnW, negative with a
# leading minus as xs:duration and .NET's XmlConvert write it.
_DURATION = re.compile(r"^-?P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$")


# The ARM error envelope (azure-rest-api-specs common-types `ErrorResponse`), what ARM clients parse from any failure:
# the swagger declares no error responses of its own.
_ERROR_DETAIL: dict[str, Any] = {
    "type": "object",
    "required": ["code", "message"],
    "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "target": {"type": "string"}},
}
ARM_ERROR: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                **_ERROR_DETAIL["properties"],
                "details": {"type": "array", "items": _ERROR_DETAIL},
            },
        }
    },
}


@cache
def swagger() -> dict[str, Any]:
    """The vendored swagger document."""
    return dict(json.loads(SWAGGER_FILE.read_text(encoding="utf-8")))


@dataclass(frozen=True)
class Operation:
    """One operation the swagger declares: its id, HTTP method, path template and responses by status code."""

    operation_id: str
    method: str
    template: str
    responses: dict[int, dict[str, Any] | None]  # status -> the body's schema (None: no body)
    pageable: bool
    long_running: bool


@cache
def operations() -> dict[str, Operation]:
    """Every operation of the swagger by `operationId`."""
    found: dict[str, Operation] = {}
    for template, item in swagger()["paths"].items():
        for method, spec in item.items():
            responses = {int(code): response.get("schema") for code, response in spec["responses"].items()}
            found[spec["operationId"]] = Operation(
                spec["operationId"],
                method.upper(),
                template,
                responses,
                "x-ms-pageable" in spec,
                bool(spec.get("x-ms-long-running-operation")),
            )
    return found


def definition(name: str) -> dict[str, Any]:
    return dict(swagger()["definitions"][name])


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        ref = schema["$ref"]
        if not ref.startswith("#/definitions/"):
            raise ValueError(f"unsupported $ref {ref}")
        schema = definition(ref.removeprefix("#/definitions/"))
    return schema


def _name_of(schema: dict[str, Any]) -> str | None:
    return schema["$ref"].removeprefix("#/definitions/") if "$ref" in schema else None


def _flatten(schema: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    """The properties and required names of a schema with those of its `allOf` parents."""
    schema = _resolve(schema)
    properties: dict[str, Any] = {}
    required: set[str] = set()
    for parent in schema.get("allOf", []):
        more, needed = _flatten(parent)
        properties.update(more)
        required |= needed
    properties.update(schema.get("properties", {}))
    required |= set(schema.get("required", []))
    return properties, required


def _subtype(base_name: str, value: Any) -> dict[str, Any] | None:
    """The definition that extends `base_name` (allOf) and whose discriminator value is `value`."""
    for name, candidate in swagger()["definitions"].items():
        parents = {_name_of(p) for p in candidate.get("allOf", [])}
        if base_name in parents and candidate.get("x-ms-discriminator-value", name) == value:
            return {"$ref": f"#/definitions/{name}"}
    return None


def validate(instance: Any, schema: dict[str, Any], path: str = "$") -> list[str]:
    """Every way `instance` departs from `schema`, each as `<JSON path>: <problem>` (empty when it conforms).

    Strict where the swagger is silent: an object may hold only the properties its schema (with its `allOf` parents,
    and for a polymorphic base the subtype its discriminator names) declares, and `null` is no value of any type.
    """
    name = _name_of(schema)
    resolved = _resolve(schema)
    discriminator = resolved.get("discriminator")
    if discriminator and name and isinstance(instance, dict):
        value = instance.get(discriminator)
        subtype = _subtype(name, value)
        if subtype is not None:
            return validate(instance, subtype, path)
    problems: list[str] = []
    properties, required = _flatten(resolved)
    kind = resolved.get("type") or ("object" if properties or "additionalProperties" in resolved else None)
    if instance is None:
        return [f"{path}: null where the swagger declares {kind or 'a value'}"]
    if kind is not None and not _is_type(instance, kind):
        return [f"{path}: {type(instance).__name__} where the swagger declares {kind}"]
    if "enum" in resolved and instance not in resolved["enum"]:
        problems.append(f"{path}: {instance!r} is not one of {resolved['enum']} (spelt as the swagger spells them)")
    fmt = resolved.get("format")
    if kind == "integer" and fmt != "int64" and not INT32[0] <= instance <= INT32[1]:
        problems.append(f"{path}: {instance} does not fit the int32 a swagger `integer` is in generated clients")
    if fmt == "date-time" and not _DATE_TIME.match(instance):
        problems.append(f"{path}: {instance!r} is not an RFC 3339 date-time")
    if fmt == "duration" and not _DURATION.match(instance):
        problems.append(f"{path}: {instance!r} is not an ISO 8601 duration")
    if kind == "array":
        for index, item in enumerate(instance):
            problems += validate(item, resolved.get("items", {}), f"{path}[{index}]")
    if kind == "object":
        for key in sorted(required - instance.keys()):
            problems.append(f"{path}: required property {key!r} is missing")
        extra = resolved.get("additionalProperties")
        for key, value in instance.items():
            if key in properties:
                problems += validate(value, properties[key], f"{path}.{key}")
            elif isinstance(extra, dict):
                problems += validate(value, extra, f"{path}.{key}")
            else:
                problems.append(f"{path}: property {key!r} is not in the swagger")
    return problems


def _is_type(instance: Any, kind: str) -> bool:
    if kind == "integer":
        return isinstance(instance, int) and not isinstance(instance, bool)
    if kind == "number":
        return isinstance(instance, int | float) and not isinstance(instance, bool)
    return isinstance(instance, {"string": str, "boolean": bool, "array": list, "object": dict}[kind])


def declared(schema: dict[str, Any], *, writable: bool = True) -> dict[str, dict[str, Any]]:
    """Every property a schema declares, by JSON path (`properties.action.request.uri`), with its resolved schema; a
    polymorphic property once per subtype (`authentication[Basic].username`), array items as `[]`; read-only
    properties left out when `writable` (what a request may carry)."""
    found: dict[str, dict[str, Any]] = {}

    def walk(schema: dict[str, Any], prefix: str, seen: tuple[str, ...]) -> None:
        name = _name_of(schema)
        if name in seen:
            return
        trail = (*seen, name) if name else seen
        resolved = _resolve(schema)
        if resolved.get("type") == "array":
            walk(resolved.get("items", {}), prefix + "[]", trail)
            return
        if resolved.get("discriminator") and name and not prefix.endswith("]"):
            for kind in resolved["properties"][resolved["discriminator"]]["enum"]:
                # A value without a subtype (`NotSpecified`) is the base itself.
                walk(_subtype(name, kind) or resolved, f"{prefix}[{kind}]", seen)
            return
        properties, _ = _flatten(resolved)
        for key, child in properties.items():
            if writable and (child.get("readOnly") or _resolve(child).get("readOnly")):
                continue
            path = f"{prefix}.{key}".lstrip(".")
            found[path] = _resolve(child)
            walk(child, path, trail)

    walk(schema, "", ())
    return found


def declared_enums(schema: dict[str, Any], *, writable: bool = True) -> dict[str, set[str]]:
    """Every enum a schema uses, by its `x-ms-enum` name, with its values."""
    enums: dict[str, set[str]] = {}
    for child in declared(schema, writable=writable).values():
        target = child.get("items", child) if child.get("type") == "array" else child
        if "enum" in target:
            enums.setdefault(target["x-ms-enum"]["name"], set()).update(target["enum"])
    return enums


def values_at(instance: Any, prefix: str = "") -> dict[str, list[Any]]:
    """The JSON paths of every property in `instance`, in the notation of `declared` (the `type` of an HTTP
    `authentication` object marking its subtype), each with the values found there."""
    found: dict[str, list[Any]] = {}

    def walk(value: Any, path: str) -> None:
        if isinstance(value, list):
            found.setdefault(path, [])
            for item in value:
                walk(item, path + "[]")
            return
        if not isinstance(value, dict):
            found.setdefault(path, []).append(value)
            return
        found.setdefault(path, [])
        if path.endswith("request.authentication"):
            path = f"{path}[{value.get('type')}]"
        for key, child in value.items():
            child_path = f"{path}.{key}".lstrip(".")
            if key in ("headers", "customMessageProperties", "tags"):  # maps of the user's own names
                found.setdefault(child_path, [])
            else:
                walk(child, child_path)

    walk(instance, prefix)
    return found


def enum_values_used(schema: dict[str, Any], instances: list[Any]) -> dict[str, set[Any]]:
    """The values `instances` hold at the properties where `schema` declares an enum, by the enum's name."""
    paths = declared(schema, writable=False)
    used: dict[str, set[Any]] = {}
    for instance in instances:
        for path, values in values_at(instance).items():
            child = paths.get(path.removesuffix("[]"))
            if child is None:
                continue
            target = child.get("items", child) if child.get("type") == "array" else child
            if "enum" in target:
                used.setdefault(target["x-ms-enum"]["name"], set()).update(values)
    return used
