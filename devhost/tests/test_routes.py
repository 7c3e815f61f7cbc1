"""Route templates matched as the Functions host does: prefix, parameters, catch-all, methods, precedence."""

from __future__ import annotations

from types import SimpleNamespace

from devhost.loader import Function
from devhost.routes import build_routes, find_route


def _http(name: str, route: str | None, methods: list[str] | None = None) -> Function:
    trigger = SimpleNamespace(type="httpTrigger", name="req", route=route, methods=methods)
    return Function(name, trigger, lambda req: None, "req", False, False, "/app")


def _match(functions: list[Function], method: str, path: str, prefix: str = "api") -> tuple[str, dict[str, str]]:
    found = find_route(build_routes(functions, prefix), method, path)
    return ("", {}) if found is None else (found[0].function.name, found[1])


def test_literal_route_beats_catch_all_whatever_the_registration_order() -> None:
    functions = [_http("asgi", "/{*route}"), _http("hello", "hello/{name}")]

    assert _match(functions, "GET", "/api/hello/ada") == ("hello", {"name": "ada"})
    assert _match(functions, "GET", "/api/other/deeper") == ("asgi", {"route": "other/deeper"})
    assert _match(functions, "GET", "/api") == ("asgi", {"route": ""})


def test_path_outside_the_prefix_is_not_found() -> None:
    assert _match([_http("hello", "hello")], "GET", "/hello") == ("", {})


def test_empty_prefix_serves_routes_at_the_root() -> None:
    assert _match([_http("hello", "hello/{name}")], "GET", "/hello/ada", prefix="") == ("hello", {"name": "ada"})


def test_missing_route_defaults_to_the_function_name_case_insensitively() -> None:
    assert _match([_http("Status", None)], "GET", "/API/status") == ("Status", {})


def test_method_outside_the_list_does_not_match() -> None:
    functions = [_http("hello", "hello", ["GET"])]

    assert _match(functions, "POST", "/api/hello") == ("", {})
    assert _match(functions, "get", "/api/hello") == ("hello", {})


def test_parameters_are_url_decoded_and_constraints_apply() -> None:
    functions = [_http("item", "items/{id:int}"), _http("named", "items/{name}")]

    assert _match(functions, "GET", "/api/items/42") == ("item", {"id": "42"})
    assert _match(functions, "GET", "/api/items/a%20b") == ("named", {"name": "a b"})


def test_optional_and_default_parameters() -> None:
    assert _match([_http("page", "pages/{n?}")], "GET", "/api/pages") == ("page", {})
    assert _match([_http("page", "pages/{n=1}")], "GET", "/api/pages") == ("page", {"n": "1"})
    assert _match([_http("page", "pages/{n}")], "GET", "/api/pages") == ("", {})


def test_extra_segments_do_not_match() -> None:
    assert _match([_http("hello", "hello/{name}")], "GET", "/api/hello/ada/extra") == ("", {})
