"""The `Http` / `Https` action: one outbound request with `requests`, no redirects followed (reference (h)).

Before anything is sent: the outbound limits of reference (e) (checked at PUT too, but an operator may have lowered
them since), the target guard, and the authentication. Every failure is an `Outcome` with a message for history in
which no secret appears.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from scheduler_core.adapters.environment import OutboundEnvironment
from scheduler_core.adapters.outbound_auth import AuthenticationFailed, OutboundAuth
from scheduler_core.adapters.target_guard import TargetGuard, TargetRefused
from scheduler_core.ports import Outcome
from scheduler_core.secrets import redact
from scheduler_core.settings import CONCURRENT_ATTEMPTS


@dataclass(frozen=True)
class OutboundLimits:
    """Reference (e): 2,048 URI chars, 8,192 body chars, 50 headers of 4,096 chars in all (app settings can raise)."""

    max_uri_chars: int = 2_048
    max_body_chars: int = 8_192
    max_headers: int = 50
    max_header_chars: int = 4_096

    def problem(self, uri: str, body: str | None, headers: Mapping[str, str]) -> str | None:
        """Why the request exceeds a limit, or None."""
        if len(uri) > self.max_uri_chars:
            return f"The request URI is {len(uri)} characters; the limit is {self.max_uri_chars}."
        if body and len(body) > self.max_body_chars:
            return f"The request body is {len(body)} characters; the limit is {self.max_body_chars}."
        if len(headers) > self.max_headers:
            return f"The request has {len(headers)} headers; the limit is {self.max_headers}."
        size = sum(len(k) + len(v) for k, v in headers.items())
        if size > self.max_header_chars:
            return f"The request headers are {size} characters in all; the limit is {self.max_header_chars}."
        return None


class _TlsContextAdapter(HTTPAdapter):
    """Sends through a given SSL context (one that presents a client certificate)."""

    def __init__(self, context: ssl.SSLContext) -> None:
        self._context = context
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["ssl_context"] = self._context
        super().init_poolmanager(*args, **kwargs)


class HttpActionRunner:
    """Performs the `request` of an Http(s) action and reports what happened."""

    def __init__(
        self,
        *,
        timeout_seconds: float = 60.0,
        snippet_bytes: int = 2048,
        limits: OutboundLimits | None = None,
        guard: TargetGuard | None = None,
        auth: OutboundAuth | None = None,
    ) -> None:
        self._timeout = timeout_seconds
        self._snippet_bytes = snippet_bytes
        self._limits = limits or OutboundLimits()
        self._guard = guard or TargetGuard()
        self._auth = auth or OutboundAuth(timeout_seconds=timeout_seconds)
        self._environment = OutboundEnvironment.read()  # proxies and CA bundle, read once
        self._session = self._environment.apply(requests.Session())
        # One keep-alive pool per target host, as large as the attempts that may call one host at once; requests'
        # default of 10 would open and drop a connection per call beyond the tenth.
        for scheme in ("http://", "https://"):
            self._session.mount(scheme, HTTPAdapter(pool_maxsize=CONCURRENT_ATTEMPTS))

    def run(self, action: Mapping[str, Any], secrets: Mapping[str, str], headers: Mapping[str, str]) -> Outcome:
        request = action.get("request") or {}
        uri = request.get("uri") or ""
        body = request.get("body")
        own_headers = request.get("headers") or {}
        problem = self._limits.problem(uri, body, own_headers)
        if problem:
            return Outcome(False, f"Http Action - {problem}")
        try:
            self._guard.check_url(uri)
            prepared = self._auth.prepare(request.get("authentication"))
        except (TargetRefused, AuthenticationFailed) as exc:
            return Outcome(False, redact(f"Http Action - {exc}", secrets))
        # Tokens and Basic credentials are as secret as what they are made from: keep them out of history too.
        secrets = {**secrets, **{f"header.{k}": v.partition(" ")[2] for k, v in prepared.headers.items()}}
        session = self._session
        if prepared.ssl_context is not None:
            session = self._environment.apply(requests.Session())
            session.mount("https://", _TlsContextAdapter(prepared.ssl_context))
        try:
            response = session.request(
                request.get("method") or "GET",
                uri,
                headers={**own_headers, **prepared.headers, **headers},
                data=body.encode("utf-8") if isinstance(body, str) else None,
                timeout=self._timeout,
                allow_redirects=False,
            )
        except requests.Timeout:
            return Outcome(False, f"Http Action - Request to '{uri}' timed out after {self._timeout:g} seconds.")
        except requests.RequestException as exc:
            return Outcome(False, redact(f"Http Action - Request failed: {type(exc).__name__}: {exc}", secrets))
        finally:
            if session is not self._session:
                session.close()
        snippet = response.content[: self._snippet_bytes].decode("utf-8", errors="replace")
        host = response.url.split("/")[2]
        summary = f"Http Action - Response from host '{host}': '{response.status_code}' '{response.reason}'"
        if 300 <= response.status_code < 400:
            summary += f" (redirect to '{response.headers.get('Location', '')}' not followed)"
        return Outcome(200 <= response.status_code < 300, redact(f"{summary}. Body: {snippet}", secrets))
