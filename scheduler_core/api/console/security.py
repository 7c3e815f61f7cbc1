"""Cross-site request protection for the console's POSTs, and who the operator is.

A POST is accepted only when all of these hold:
- its `X-Console-Token` header (htmx sends it on every request) or `token` form field equals the session's token,
  a random value in the `console_token` cookie (HttpOnly, SameSite=Strict, path /console): a page of another site
  can neither read the cookie nor the page that carries the token (double submit, compared in constant time);
- `Sec-Fetch-Site`, when the browser sends it, is `same-origin`;
- `Origin`, when present, names this host (`Host`, or `X-Forwarded-Host` behind a front end).

The operator's name is the Easy Auth principal (`X-MS-CLIENT-PRINCIPAL-NAME`, which App Service sets after sign-in
and strips from incoming requests) when the app runs with Easy Auth on, else "local".
"""

from __future__ import annotations

import hmac
import os
import secrets
from collections.abc import Mapping
from urllib.parse import urlsplit

from fastapi import Request

COOKIE = "console_token"
HEADER = "X-Console-Token"
PRINCIPAL_HEADER = "X-MS-CLIENT-PRINCIPAL-NAME"


class CrossSiteRequest(Exception):
    """A state-changing request that did not come from a console page of this host."""


def session_token(request: Request) -> tuple[str, bool]:
    """(the session's token, whether it is new and must be set as the cookie)."""
    current = request.cookies.get(COOKIE, "")
    if len(current) == 43:  # token_urlsafe(32)
        return current, False
    return secrets.token_urlsafe(32), True


def check_post(request: Request, form: Mapping[str, str]) -> None:
    """Raises CrossSiteRequest unless the POST carries the session's token and comes from this host."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site != "same-origin":
        raise CrossSiteRequest(f"a request from a {fetch_site} page was refused")
    origin = request.headers.get("origin")
    if origin is not None:
        hosts = {request.headers.get("host", "").lower(), request.headers.get("x-forwarded-host", "").lower()}
        if origin == "null" or urlsplit(origin).netloc.lower() not in hosts - {""}:
            raise CrossSiteRequest(f"a request from {origin} was refused")
    expected = request.cookies.get(COOKIE, "")
    given = request.headers.get(HEADER) or form.get("token", "")
    if not expected or not hmac.compare_digest(expected.encode(), given.encode()):
        raise CrossSiteRequest("the page's session token is missing or stale; reload the page")


def principal(request: Request, env: Mapping[str, str] | None = None) -> str:
    """The signed-in principal's name under Easy Auth (`WEBSITE_AUTH_ENABLED`), else "local"."""
    env = os.environ if env is None else env
    if (env.get("WEBSITE_AUTH_ENABLED") or "").lower() == "true":
        return request.headers.get(PRINCIPAL_HEADER) or "unknown"
    return "local"
