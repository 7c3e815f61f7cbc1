"""A small evaluator of ARM template expressions: what templates of Scheduler job collections use.

`"[concat(parameters('prefix'), '-jobs')]"` is an expression; `"[[literal"` is the literal `[literal`. Supported:
parameters, variables, concat, format, toLower/toUpper, string/int/bool, resourceGroup() and subscription(),
resourceId, if/equals/not/and/or, add/sub/mul/div/mod, length/empty/contains/startsWith/endsWith, replace, substring,
trim, split/join/first/last, padLeft, coalesce, createArray/createObject, union, json, base64, uri, copyIndex,
property and index access, and property and variable `copy` loops. Whatever needs a deployment (`reference()`,
`listKeys()`, `newGuid()`, `utcNow()`, ...) raises `Unresolvable`, which the reader reports with the resource and
the JSON path; so does `uniqueString()`, whose hash Azure does not publish.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin


class Unresolvable(Exception):
    """An expression that cannot be evaluated here (a deployment-time function, a missing parameter, bad syntax)."""

    def __init__(self, reason: str, expression: str = "") -> None:
        super().__init__(reason)
        self.reason, self.expression = reason, expression


@dataclass
class Scope:
    """What expressions see: parameter values, raw variables (evaluated on first use), the deployment's place."""

    parameters: dict[str, Any] = field(default_factory=dict)
    variables: Mapping[str, Any] = field(default_factory=dict)
    subscription_id: str = "local"
    resource_group: str = "local"
    location: str = "westus"
    copy_index: int | None = None  # the resource's own copy loop
    copy_name: str | None = None
    loops: dict[str, int] = field(default_factory=dict)  # property and variable copy loops running: name -> index
    unresolved_defaults: dict[str, str] = field(default_factory=dict)  # parameter -> why its defaultValue failed
    _resolved: dict[str, Any] = field(default_factory=dict)
    _resolving: set[str] = field(default_factory=set)

    def variable(self, name: str) -> Any:
        key = _key(self.variables, name)
        loop = None
        if key is None or key == "copy":
            # A variable made by a copy loop: "variables": {"copy": [{"name": ..., "count": ..., "input": ...}]}.
            loop = next((c for c in _copy_loops(self.variables) or [] if str(c["name"]).lower() == name.lower()), None)
            if loop is None:
                raise Unresolvable(f"variable '{name}' is not defined")
            key = f"copy:{str(loop['name']).lower()}"
        if key not in self._resolved:
            if key in self._resolving:
                raise Unresolvable(f"variable '{name}' refers to itself")
            self._resolving.add(key)
            try:
                if loop is not None:
                    problems: list[tuple[str, Unresolvable]] = []
                    self._resolved[key] = _expand_loop(loop, self, name, problems)
                    if problems:
                        raise problems[0][1]
                else:
                    self._resolved[key] = evaluate_tree(self.variables[key], self)
            finally:
                self._resolving.discard(key)
        return self._resolved[key]

    def parameter(self, name: str) -> Any:
        key = _key(self.parameters, name)
        if key is None:
            why = next((v for k, v in self.unresolved_defaults.items() if k.lower() == name.lower()), "")
            raise Unresolvable(f"parameter '{name}' has no value{f' ({why})' if why else ''} (give it with "
                               f"--parameters {name}=VALUE)")
        return self.parameters[key]


def _key(mapping: Mapping[str, Any], name: str) -> str | None:
    """ARM names are case-insensitive."""
    if name in mapping:
        return name
    return next((k for k in mapping if k.lower() == name.lower()), None)


def is_expression(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("[") and value.endswith("]") and not value.startswith("[[")


def evaluate_string(value: str, scope: Scope) -> Any:
    """A template string: an expression's value, the `[[` escape unescaped, or the string itself."""
    if is_expression(value):
        try:
            return _Parser(value[1:-1], scope).parse()
        except Unresolvable as exc:
            raise Unresolvable(exc.reason, value) from None
    if value.startswith("[["):
        return value[1:]
    return value


def evaluate_tree(node: Any, scope: Scope) -> Any:
    """Every string in a JSON tree evaluated (raises the first Unresolvable; see `evaluate_collecting`)."""
    problems: list[tuple[str, Unresolvable]] = []
    value = evaluate_collecting(node, scope, "", problems)
    if problems:
        raise problems[0][1]
    return value


def evaluate_collecting(node: Any, scope: Scope, path: str, problems: list[tuple[str, Unresolvable]]) -> Any:
    """Every string in a JSON tree evaluated; an unresolvable one is kept as written and (path, error) recorded.

    An object's `copy` array of `{name, count, input}` (ARM's property iteration) becomes the arrays it names."""
    if isinstance(node, str):
        try:
            return evaluate_string(node, scope)
        except Unresolvable as exc:
            problems.append((path, exc))
            return node
    if isinstance(node, Mapping):
        loops = _copy_loops(node)
        out: dict[str, Any] = {}
        for k, v in node.items():
            if loops is not None and k == "copy":
                continue
            here = f"{path}.{k}" if path else k
            if is_expression(k):
                try:
                    k = _string(evaluate_string(k, scope))
                except Unresolvable as exc:
                    problems.append((here, exc))
            out[k] = evaluate_collecting(v, scope, here, problems)
        for loop in loops or []:
            name = str(loop["name"])
            out[name] = _expand_loop(loop, scope, f"{path}.{name}" if path else name, problems)
        return out
    if isinstance(node, list):
        return [evaluate_collecting(item, scope, f"{path}[{i}]", problems) for i, item in enumerate(node)]
    return node


def _copy_loops(node: Mapping[str, Any]) -> list[Mapping[str, Any]] | None:
    """The property (or variable) copy loops of an object, or None when its `copy` is not one."""
    loops = node.get("copy")
    if isinstance(loops, list) and loops and all(
            isinstance(c, Mapping) and {"name", "count", "input"} <= set(c) for c in loops):
        return loops
    return None


def _expand_loop(loop: Mapping[str, Any], scope: Scope, path: str, problems: list[tuple[str, Unresolvable]]) -> Any:
    """`count` copies of `input`, `copyIndex('name')` being 0, 1, ... in each."""
    name = str(loop["name"]).lower()
    try:
        count = loop["count"]
        count = int(evaluate_string(count, scope) if isinstance(count, str) else count)
    except (Unresolvable, TypeError, ValueError) as exc:
        problems.append((f"{path} (copy count)", exc if isinstance(exc, Unresolvable) else Unresolvable(str(exc))))
        return []
    outer = scope.loops.get(name)
    items = []
    try:
        for index in range(count):
            scope.loops[name] = index
            items.append(evaluate_collecting(loop["input"], scope, f"{path}[{index}]", problems))
    finally:
        if outer is None:
            scope.loops.pop(name, None)
        else:
            scope.loops[name] = outer
    return items


# ---- parsing and evaluation -------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?)|(?P<name>[A-Za-z_][\w]*)|(?P<op>[(),.\[\]]))"
)

_DEPLOYMENT_ONLY = {"reference", "listkeys", "listsecrets", "listaccountsas", "listservicesas", "listcallbackurl",
                    "uniquestring", "newguid", "utcnow", "deployment", "environment", "pickzones", "managementgroup",
                    "tenant", "extensionresourceid", "subscriptionresourceid", "tenantresourceid", "providers"}


class _Parser:
    """Recursive descent over `call(args)`, literals and `.prop` / `[index]` accessors; evaluates as it parses."""

    def __init__(self, text: str, scope: Scope) -> None:
        self.text, self.scope = text, scope
        self.tokens: list[tuple[str, str]] = []
        pos = 0
        while pos < len(text):
            match = _TOKEN.match(text, pos)
            if not match or match.end() == pos:
                if text[pos:].strip() == "":
                    break
                raise Unresolvable(f"cannot parse the expression at '{text[pos:pos + 20]}'")
            kind = match.lastgroup or ""
            self.tokens.append((kind, match[kind]))
            pos = match.end()
        self.i = 0

    def parse(self) -> Any:
        value = self._expression()
        if self.i != len(self.tokens):
            raise Unresolvable(f"unexpected '{self.tokens[self.i][1]}'")
        return value

    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def _take(self, op: str | None = None) -> tuple[str, str]:
        token = self._peek()
        if token is None or (op is not None and token != ("op", op)):
            raise Unresolvable(f"expected '{op}'" if op else "the expression ends too early")
        self.i += 1
        return token

    def _expression(self) -> Any:
        kind, text = self._take()
        if kind == "str":
            value: Any = text[1:-1].replace("''", "'")
        elif kind == "num":
            value = float(text) if "." in text else int(text)
        elif kind == "name":
            self._take("(")
            args: list[Any] = []
            if self._peek() != ("op", ")"):
                args.append(self._expression())
                while self._peek() == ("op", ","):
                    self._take(",")
                    args.append(self._expression())
            self._take(")")
            value = self._call(text, args)
        else:
            raise Unresolvable(f"unexpected '{text}'")
        while self._peek() in (("op", "."), ("op", "[")):
            if self._take()[1] == ".":
                name = self._take()[1]
                value = _member(value, name)
            else:
                index = self._expression()
                self._take("]")
                value = _member(value, index)
        return value

    def _call(self, name: str, args: list[Any]) -> Any:
        lowered = name.lower()
        if lowered == "uniquestring":
            # Deterministic, but Azure does not publish the hash: a value computed here that differed from Azure's
            # would silently give the job another name or URI than the deployment did.
            raise Unresolvable(
                "uniqueString() needs a deployment: its hash is one Azure does not publish, so it cannot be "
                "reproduced here"
            )
        if lowered in _DEPLOYMENT_ONLY or lowered.startswith("list"):
            raise Unresolvable(f"{name}() needs a deployment in Azure and cannot be evaluated here")
        function = _FUNCTIONS.get(lowered)
        if function is None:
            raise Unresolvable(f"the template function {name}() is not supported")
        try:
            return function(self.scope, *args)
        except Unresolvable:
            raise
        except (TypeError, ValueError, IndexError, KeyError, ZeroDivisionError) as exc:
            raise Unresolvable(f"{name}(): {exc}") from None


def _member(value: Any, key: Any) -> Any:
    if isinstance(value, Mapping) and isinstance(key, str):
        found = _key(value, key)
        if found is None:
            raise Unresolvable(f"no property '{key}'")
        return value[found]
    if isinstance(value, list) and isinstance(key, int) and -len(value) <= key < len(value):
        return value[key]
    raise Unresolvable(f"cannot index {type(value).__name__} with {key!r}")


def _string(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _format(_: Scope, template: str, *args: Any) -> str:
    def replace(match: re.Match[str]) -> str:
        index, spec = int(match[1]), match[2]
        value = args[index]
        if spec and isinstance(value, (int, float)) and not isinstance(value, bool):
            return format(value, spec.replace("N", ",.").replace("D", "0") if spec[0] in "ND" else spec)
        return _string(value)

    return re.sub(r"\{(\d+)(?::([^}]*))?\}", replace, template).replace("{{", "{").replace("}}", "}")


def _concat(_: Scope, *args: Any) -> Any:
    if args and all(isinstance(a, list) for a in args):
        return [item for a in args for item in a]
    return "".join(_string(a) for a in args)


def _resource_id(scope: Scope, *args: str) -> str:
    parts = list(args)
    sub, group = scope.subscription_id, scope.resource_group
    type_index = next(i for i, p in enumerate(parts) if "/" in p)
    if type_index == 2:
        sub, group = parts[0], parts[1]
    elif type_index == 1:
        group = parts[0]
    resource_type, names = parts[type_index], parts[type_index + 1:]
    namespace, *types = resource_type.split("/")
    segments = "/".join(f"{t}/{n}" for t, n in zip(types, names, strict=False))
    return f"/subscriptions/{sub}/resourceGroups/{group}/providers/{namespace}/{segments}"


def _union(_: Scope, *args: Any) -> Any:
    if all(isinstance(a, Mapping) for a in args):
        merged: dict[str, Any] = {}
        for a in args:
            merged.update(a)
        return merged
    seen: list[Any] = []
    for a in args:
        seen += [x for x in a if x not in seen]
    return seen


def _copy_index(scope: Scope, *args: Any) -> int:
    """`copyIndex()`, `copyIndex(offset)` (the resource's loop), `copyIndex('loop')`, `copyIndex('loop', offset)` (a
    property or variable loop running, or the resource's loop by its name)."""
    name = args[0] if args and isinstance(args[0], str) else None
    offset = args[-1] if args and not isinstance(args[-1], str) else 0
    if name is not None and name.lower() in scope.loops:
        return scope.loops[name.lower()] + int(offset)
    if scope.copy_index is None or (name is not None and scope.copy_name is not None
                                    and name.lower() != scope.copy_name.lower()):
        raise Unresolvable(f"copyIndex({repr(name) if name else ''}) outside its copy loop")
    return scope.copy_index + int(offset)


def _if(_: Scope, condition: Any, yes: Any, no: Any) -> Any:
    return yes if condition else no


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "parameters": lambda s, name: s.parameter(name),
    "variables": lambda s, name: s.variable(name),
    "concat": _concat,
    "format": _format,
    "tolower": lambda _, v: v.lower(),
    "toupper": lambda _, v: v.upper(),
    "string": lambda _, v: _string(v),
    "int": lambda _, v: int(v),
    "bool": lambda _, v: v if isinstance(v, bool) else str(v).lower() == "true",
    "true": lambda _: True,
    "false": lambda _: False,
    "null": lambda _: None,
    "json": lambda _, v: json.loads(v),
    "resourcegroup": lambda s: {"name": s.resource_group, "location": s.location,
                                "id": f"/subscriptions/{s.subscription_id}/resourceGroups/{s.resource_group}",
                                "properties": {"provisioningState": "Succeeded"}},
    "subscription": lambda s: {"subscriptionId": s.subscription_id, "id": f"/subscriptions/{s.subscription_id}",
                               "displayName": s.subscription_id},
    "resourceid": _resource_id,
    "if": _if,
    "equals": lambda _, a, b: a == b,
    "not": lambda _, a: not a,
    "and": lambda _, *a: all(a),
    "or": lambda _, *a: any(a),
    "greater": lambda _, a, b: a > b,
    "less": lambda _, a, b: a < b,
    "greaterorequals": lambda _, a, b: a >= b,
    "lessorequals": lambda _, a, b: a <= b,
    "add": lambda _, a, b: a + b,
    "sub": lambda _, a, b: a - b,
    "mul": lambda _, a, b: a * b,
    "div": lambda _, a, b: a // b,
    "mod": lambda _, a, b: a % b,
    "min": lambda _, *a: min(a[0] if len(a) == 1 else a),
    "max": lambda _, *a: max(a[0] if len(a) == 1 else a),
    "length": lambda _, v: len(v),
    "empty": lambda _, v: not v,
    "contains": lambda _, c, v: (_key(c, v) is not None) if isinstance(c, Mapping) else (
        v.lower() in c.lower() if isinstance(c, str) else v in c),
    "startswith": lambda _, a, b: a.lower().startswith(b.lower()),
    "endswith": lambda _, a, b: a.lower().endswith(b.lower()),
    "indexof": lambda _, a, b: a.lower().find(b.lower()),
    "replace": lambda _, v, old, new: v.replace(old, new),
    "substring": lambda _, v, start, length=None: v[start:] if length is None else v[start:start + length],
    "trim": lambda _, v: v.strip(),
    "split": lambda _, v, sep: v.split(sep) if isinstance(sep, str) else re.split("|".join(map(re.escape, sep)), v),
    "join": lambda _, items, sep: sep.join(_string(i) for i in items),
    "first": lambda _, v: v[0],
    "last": lambda _, v: v[-1],
    "skip": lambda _, v, n: v[n:],
    "take": lambda _, v, n: v[:n],
    "padleft": lambda _, v, n, pad=" ": _string(v).rjust(n, pad),
    "coalesce": lambda _, *a: next((x for x in a if x is not None), None),
    "createarray": lambda _, *a: list(a),
    "array": lambda _, v: v if isinstance(v, list) else [v],
    "createobject": lambda _, *a: {a[i]: a[i + 1] for i in range(0, len(a), 2)},
    "union": _union,
    "base64": lambda _, v: base64.b64encode(v.encode()).decode(),
    "base64tostring": lambda _, v: base64.b64decode(v).decode(),
    "uri": lambda _, base, rel: urljoin(base, rel),
    "copyindex": _copy_index,
}
