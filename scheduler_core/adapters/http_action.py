"""The `Http` / `Https` action: one outbound request with `requests`, no redirects followed (reference (h))."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests

from scheduler_core.ports import Outcome
from scheduler_core.secrets import redact


class HttpActionRunner:
    """Performs the `request` of an Http(s) action and reports what happened."""

    def __init__(self, *, timeout_seconds: float = 60.0, snippet_bytes: int = 2048) -> None:
        self._timeout = timeout_seconds
        self._snippet_bytes = snippet_bytes
        self._session = requests.Session()

    def run(self, action: Mapping[str, Any], secrets: Mapping[str, str], headers: Mapping[str, str]) -> Outcome:
        request = action.get("request") or {}
        outbound = {**(request.get("headers") or {}), **headers}
        body = request.get("body")
        try:
            response = self._session.request(
                request.get("method", "GET"),
                request["uri"],
                headers=outbound,
                data=body.encode("utf-8") if isinstance(body, str) else None,
                timeout=self._timeout,
                allow_redirects=False,
            )
        except requests.Timeout:
            return Outcome(False, f"Http request timed out after {self._timeout:g} seconds.")
        except requests.RequestException as exc:
            return Outcome(False, redact(f"Http request failed: {type(exc).__name__}: {exc}", secrets))
        snippet = response.content[: self._snippet_bytes].decode("utf-8", errors="replace")
        host = response.url.split("/")[2]
        summary = f"Http Action - Response from host '{host}': '{response.status_code}' '{response.reason}'"
        if 300 <= response.status_code < 400:
            summary += f" (redirect to '{response.headers.get('Location', '')}' not followed)"
        return Outcome(200 <= response.status_code < 300, f"{summary}. Body: {snippet}")
