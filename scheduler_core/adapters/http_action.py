"""The `Http` / `Https` action: one outbound request with `requests`, no redirects followed (reference (h)).

Before anything is sent: the outbound limits of reference (e) (checked at PUT too, but an operator may have lowered
them since), the target guard, and the authentication. Every failure is an `Outcome` with a message for history in
which no secret appears.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import requests
import urllib3

from scheduler_core.adapters.environment import OutboundEnvironment
from scheduler_core.adapters.guarded_http import Deadline, GuardedAdapter, TargetRefusedError
from scheduler_core.adapters.outbound_auth import AuthenticationFailed, OutboundAuth
from scheduler_core.adapters.target_guard import TargetGuard, TargetRefused
from scheduler_core.domain.definition import Action
from scheduler_core.domain.payloads import HttpRequest
from scheduler_core.ports import Outcome
from scheduler_core.secrets import redact
from scheduler_core.settings import CONCURRENT_ATTEMPTS

# Framing and hop-by-hop headers are the HTTP client's: it derives them from the body and the connection. A job's own
# `Transfer-Encoding: chunked` went out beside the computed Content-Length (a request a proxy in front of the target
# may read differently from the target: request smuggling), so a job's values for these are left out of the call.
CLIENT_OWNED_HEADERS = frozenset(
    {"content-length", "transfer-encoding", "connection", "keep-alive", "te", "trailer", "upgrade", "proxy-connection"}
)


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
            self._session.mount(scheme, GuardedAdapter(self._guard, pool_maxsize=CONCURRENT_ATTEMPTS))

    def run(self, action: Action, secrets: Mapping[str, str], headers: Mapping[str, str]) -> Outcome:
        """Send the action's request (its secret fields filled in); `secrets` are kept out of the message."""
        request = action.payload
        if not isinstance(request, HttpRequest):
            return Outcome(False, f"Http Action - An action of type {action.type} has no request.")
        uri = request.uri
        problem = self._limits.problem(uri, request.body, request.headers)
        if problem:
            return Outcome(False, f"Http Action - {problem}")
        try:
            self._guard.check_url(uri)
            prepared = self._auth.prepare(request.authentication)
        except (TargetRefused, AuthenticationFailed) as exc:
            return Outcome(False, redact(f"Http Action - {exc}", secrets))
        # Tokens and Basic credentials are as secret as what they are made from: keep them out of history too.
        secrets = {**secrets, **{f"header.{k}": v.partition(" ")[2] for k, v in prepared.headers.items()}}
        session = self._session
        if prepared.ssl_context is not None:
            session = self._environment.apply(requests.Session())
            session.mount("https://", GuardedAdapter(self._guard, prepared.ssl_context))
        try:
            with Deadline(self._timeout) as deadline:
                own_headers = {k: v for k, v in request.headers.items() if k.lower() not in CLIENT_OWNED_HEADERS}
                outcome = self._call(session, deadline, request, uri, {**own_headers, **prepared.headers, **headers})
        finally:
            if session is not self._session:
                session.close()
        if deadline.expired:
            return Outcome(False, f"Http Action - Request to '{uri}' timed out after {self._timeout:g} seconds.")
        return Outcome(outcome.succeeded, redact(outcome.message, secrets))

    def _call(
        self, session: requests.Session, deadline: Deadline, request: HttpRequest, uri: str,
        headers: Mapping[str, str],
    ) -> Outcome:
        """One request within `deadline`, reading at most what history keeps of the body."""
        body = request.body
        try:
            response = session.request(
                request.method,
                uri,
                headers=dict(headers),
                data=body.encode("utf-8") if isinstance(body, str) else None,
                timeout=(deadline.remaining(), deadline.remaining()),
                allow_redirects=False,
                stream=True,
            )
        except requests.Timeout:
            return Outcome(False, f"Http Action - Request to '{uri}' timed out after {self._timeout:g} seconds.")
        except requests.RequestException as exc:
            refused = _refusal(exc)
            if refused is not None:
                return Outcome(False, f"Http Action - {refused}")
            return Outcome(False, f"Http Action - Request failed: {type(exc).__name__}: {exc}")
        try:
            snippet, exhausted = self._read_snippet(response)
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            response.close()
            return Outcome(False, f"Http Action - Reading the response failed: {type(exc).__name__}.")
        if exhausted:
            response.raw.release_conn()  # read to the end: the connection goes back to the pool
        else:
            response.close()  # a long body is not read on: the connection closes instead
        host = response.url.split("/")[2]
        summary = f"Http Action - Response from host '{host}': '{response.status_code}' '{response.reason}'"
        if 300 <= response.status_code < 400:
            summary += f" (redirect to '{response.headers.get('Location', '')}' not followed)"
        return Outcome(200 <= response.status_code < 300, f"{summary}. Body: {snippet}")

    def _read_snippet(self, response: requests.Response) -> tuple[str, bool]:
        """The first `snippet_bytes` of the body, and whether the body was read to its end.

        A short rest is drained so the connection can be reused; a long one is left unread. urllib3's `read(n)`
        returns fewer than n bytes only at the end of the body."""
        kept = response.raw.read(self._snippet_bytes, decode_content=True) or b""
        exhausted = len(kept) < self._snippet_bytes
        if not exhausted:
            exhausted = len(response.raw.read(_DRAIN_BYTES, decode_content=False) or b"") < _DRAIN_BYTES
        return kept.decode("utf-8", errors="replace"), exhausted


# What is read past the snippet so a keep-alive connection can go back to the pool; beyond it, the connection closes.
_DRAIN_BYTES = 64 * 1024


def _refusal(exc: BaseException) -> str | None:
    """The guard's message when a connection was refused by it (deep inside requests' exception chain)."""
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return None
        if isinstance(seen, TargetRefusedError):
            return str(seen.refused)
        inner = seen.args[0] if seen.args and isinstance(seen.args[0], BaseException) else None
        seen = getattr(seen, "reason", None) or inner or seen.__cause__ or seen.__context__
    return None
