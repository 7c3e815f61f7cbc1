"""An ASGI application that turns requests into ``func.HttpRequest`` and invokes the matching HTTP function."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl

import azure.functions as func

from devhost.invoke import Invoker
from devhost.routes import Route, find_route

logger = logging.getLogger("devhost")

# The reason the host logs for HTTP-triggered invocations.
_REASON = "This function was programmatically called via the host APIs."

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


def _join_pairs(pairs: list[tuple[str, str]], lower: bool) -> dict[str, str]:
    # Repeated names reach the worker as one comma-joined value, as ASP.NET's StringValues.ToString() gives.
    joined: dict[str, str] = {}
    for name, value in pairs:
        key = name.lower() if lower else name
        joined[key] = f"{joined[key]},{value}" if key in joined else value
    return joined


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def _url(scope: Scope) -> str:
    headers = dict(scope["headers"])
    host = headers.get(b"host", b"").decode("latin-1")
    if not host:
        server = scope.get("server") or ("127.0.0.1", 80)
        host = f"{server[0]}:{server[1]}"
    query = scope.get("query_string", b"").decode("latin-1")
    raw_path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
    return f"{scope.get('scheme', 'http')}://{host}{raw_path}" + (f"?{query}" if query else "")


def _response_parts(result: Any) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    if result is None:
        return 204, [], b""
    if isinstance(result, str):
        return 200, [(b"content-type", b"text/plain; charset=utf-8")], result.encode()
    if not isinstance(result, func.HttpResponse):
        raise TypeError(f"an HTTP function must return func.HttpResponse or str, not {type(result).__name__}")
    headers = [(k.lower().encode("latin-1"), str(v).encode("latin-1")) for k, v in result.headers.items()]
    if not any(name == b"content-type" for name, _ in headers):
        # The same default as the library's HttpResponseConverter.
        mimetype = result.mimetype
        content_type = f"{mimetype}; charset={result.charset}" if mimetype.startswith("text/") else mimetype
        headers.append((b"content-type", content_type.encode("latin-1")))
    return result.status_code, headers, result.get_body() or b""


class HttpShim:
    """ASGI application serving the app's HTTP functions through their route templates.

    Args:
        routes: The route table from ``build_routes``.
        invoker: Runs the functions.
    """

    def __init__(self, routes: list[Route], invoker: Invoker) -> None:
        self._routes = routes
        self._invoker = invoker

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return  # uvicorn runs with lifespan="off"; websockets are not a Functions feature.
        found = find_route(self._routes, scope["method"], scope["path"])
        if found is None:
            await self._send(send, 404, [], b"")
            return
        route, route_params = found
        header_pairs = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        query_pairs = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        request = func.HttpRequest(
            method=scope["method"],
            url=_url(scope),
            headers=_join_pairs(header_pairs, lower=True),
            params=_join_pairs(query_pairs, lower=False),
            route_params=route_params,
            body=await _read_body(receive),
        )
        try:
            result = await self._invoker.invoke(route.function, request, reason=_REASON)
        except Exception:  # Already logged with its traceback by the invoker.
            await self._send(send, 500, [], b"")
            return
        try:
            status, headers, body = _response_parts(result)
        except Exception:
            logger.exception("Function '%s' returned an invalid HTTP response", route.function.name)
            await self._send(send, 500, [], b"")
            return
        await self._send(send, status, headers, body)

    @staticmethod
    async def _send(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        headers = headers + [(b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
