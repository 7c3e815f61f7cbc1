"""HTTP route templates as the Functions host matches them (ASP.NET-style, case-insensitive)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

from devhost.loader import Function

_PARAMETER = re.compile(r"^\{(\*)?([A-Za-z_][A-Za-z0-9_]*)(:[^}=?]+)*(\?|=[^}]*)?\}$")
_CONSTRAINTS = {
    "int": re.compile(r"^-?\d+$"),
    "long": re.compile(r"^-?\d+$"),
    "alpha": re.compile(r"^[A-Za-z]+$"),
    "bool": re.compile(r"^(?i:true|false)$"),
    "guid": re.compile(r"^[{(]?[0-9A-Fa-f]{8}-?([0-9A-Fa-f]{4}-?){3}[0-9A-Fa-f]{12}[)}]?$"),
}


@dataclass(frozen=True)
class _Segment:
    literal: str | None = None
    name: str = ""
    catch_all: bool = False
    optional: bool = False
    default: str | None = None
    constraints: tuple[str, ...] = ()

    @property
    def rank(self) -> int:
        """Precedence: literals first, then constrained, plain, optional parameters, catch-alls last."""
        if self.literal is not None:
            return 0
        if self.catch_all:
            return 4
        if self.optional or self.default is not None:
            return 3
        return 1 if self.constraints else 2

    def accepts(self, value: str) -> bool:
        for constraint in self.constraints:
            pattern = _CONSTRAINTS.get(constraint.split("(")[0].lower())
            if pattern is not None and not pattern.match(value):
                return False
        return True


def _parse_segment(text: str) -> _Segment:
    match = _PARAMETER.match(text)
    if not match:
        return _Segment(literal=text.lower())
    star, name, _, suffix = match.groups()
    constraints = tuple(c for c in re.findall(r":([^:}=?]+)", text[len(name) + 1 + bool(star) :]))
    default = suffix[1:] if suffix and suffix.startswith("=") else None
    return _Segment(name=name, catch_all=bool(star), optional=suffix == "?", default=default, constraints=constraints)


@dataclass(frozen=True)
class Route:
    """One HTTP function's route: its full template (route prefix included) and allowed methods."""

    function: Function
    template: str
    methods: frozenset[str] | None
    segments: tuple[_Segment, ...]

    def match(self, path: str) -> dict[str, str] | None:
        """Returns the route parameters if the (not yet decoded) path matches, else None."""
        parts = [unquote(part) for part in path.strip("/").split("/")] if path.strip("/") else []
        params: dict[str, str] = {}
        for index, segment in enumerate(self.segments):
            if segment.catch_all:
                params[segment.name] = "/".join(parts[index:])
                return params
            if index >= len(parts):
                if segment.literal is None and (segment.optional or segment.default is not None):
                    if segment.default is not None:
                        params[segment.name] = segment.default
                    continue
                return None
            value = parts[index]
            if segment.literal is not None:
                if value.lower() != segment.literal:
                    return None
            elif not value or not segment.accepts(value):
                return None
            else:
                params[segment.name] = value
        return params if len(parts) <= len(self.segments) else None


def build_routes(functions: list[Function], route_prefix: str) -> list[Route]:
    """Builds the route table for the HTTP functions, most specific template first.

    Args:
        functions: All functions of the app; non-HTTP ones are skipped.
        route_prefix: host.json ``extensions.http.routePrefix`` ("" for none).
    """
    routes = []
    for function in functions:
        if function.trigger_type != "httpTrigger":
            continue
        route = (function.trigger.route or function.name).strip("/")
        template = "/".join(part for part in (route_prefix, route) if part)
        methods = function.trigger.methods
        allowed = frozenset(str(getattr(m, "value", m)).upper() for m in methods) if methods else None
        segments = tuple(_parse_segment(part) for part in template.split("/") if part)
        routes.append(Route(function=function, template="/" + template, methods=allowed, segments=segments))
    return sorted(routes, key=lambda r: [s.rank for s in r.segments] + [5])


def find_route(routes: list[Route], method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """Finds the route serving method and path.

    A route whose template matches but whose methods exclude the request's method does not match at all, so
    the caller answers 404 as the host does.
    """
    for route in routes:
        if route.methods is not None and method.upper() not in route.methods:
            continue
        params = route.match(path)
        if params is not None:
            return route, params
    return None
