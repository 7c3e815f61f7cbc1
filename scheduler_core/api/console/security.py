"""Cross-site request protection for the console's POSTs, and who the operator is.

A POST is accepted only when all of these hold:
- its `X-Console-Token` header (htmx sends it on every request) or `token` form field equals the session's token,
  a random value in the `console_token` cookie (HttpOnly, SameSite=Strict, path /console): a page of another site
  can neither read the cookie nor the page that carries the token (double submit, compared in constant time);
- `Sec-Fetch-Site`, when the browser sends it, is `same-origin`;
- `Origin`, when present, names this host (`Host`, or `X-Forwarded-Host` behind a front end).

The operator's name is the Easy Auth principal (`X-MS-CLIENT-PRINCIPAL-NAME`, which App Service sets after sign-in
and strips from incoming requests) when the app runs with Easy Auth on, else "local".

Sign-in (docs/deploy.md): in Azure, App Service authentication answers 401 to any request without an Entra token or
session, except on /console, which it lets through so that a browser can be sent to sign in. `signed_in` keeps that
gate closed in the app: under Easy Auth (`WEBSITE_AUTH_ENABLED`) a console request without a principal is sent to
`/.auth/login/aad` (a page) or refused with 401 (a POST or an htmx request); on App Service without Easy Auth the
console refuses to serve at all.
"""

from __future__ import annotations

import hmac
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

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


@dataclass(frozen=True)
class Platform:
    """What the console needs to know of where it runs, read once from the environment App Service sets."""

    easy_auth: bool = False  # WEBSITE_AUTH_ENABLED: App Service authentication is on
    app_service: bool = False  # WEBSITE_SITE_NAME: running on App Service / Functions in Azure

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Platform:
        env = os.environ if env is None else env
        return cls(
            easy_auth=(env.get("WEBSITE_AUTH_ENABLED") or "").strip().lower() == "true",
            app_service=bool((env.get("WEBSITE_SITE_NAME") or "").strip()),
        )


def principal(request: Request, platform: Platform) -> str:
    """The signed-in principal's name under Easy Auth, else "local"."""
    if platform.easy_auth:
        return request.headers.get(PRINCIPAL_HEADER) or "unknown"
    return "local"


class SignInRequired(Exception):
    """The console needs a signed-in principal; `login` is where a browser signs in (None: it cannot)."""

    def __init__(self, message: str, login: str | None) -> None:
        super().__init__(message)
        self.login = login


def signed_in(request: Request, platform: Platform) -> None:
    """Raises SignInRequired unless the console may serve this request (see the module docstring)."""
    if platform.easy_auth:
        if request.headers.get(PRINCIPAL_HEADER):
            return
        back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        page = request.method == "GET" and request.headers.get("hx-request") != "true"
        if page and request.query_params.get("signed_in") != "1":  # a second miss is not sent round again
            back += ("&" if "?" in back else "?") + "signed_in=1"
            raise SignInRequired("sign in", f"/.auth/login/aad?post_login_redirect_uri={quote(back, safe='')}")
        raise SignInRequired("sign in to use the console", None)
    if platform.app_service:
        raise SignInRequired("the console needs App Service authentication (see docs/deploy.md)", None)
