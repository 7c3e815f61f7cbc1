"""The console's gate: cross-site POSTs are refused, and in Azure only a signed-in principal gets through."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from scheduler_core.api.console.security import (
    COOKIE,
    CrossSiteRequest,
    Platform,
    SignInRequired,
    check_post,
    principal,
    signed_in,
)

TOKEN = "t" * 43


def request(method: str = "POST", path: str = "/console/s/r/c/jobs/j/run", query: str = "",
            **headers: str) -> Request:
    raw = [(k.replace("_", "-").lower().encode(), v.encode()) for k, v in headers.items()]
    scope = {"type": "http", "method": method, "path": path, "query_string": query.encode(), "headers": raw,
             "scheme": "https", "server": ("app.example", 443)}
    return Request(scope)


def same_site(**extra: str) -> Request:
    return request(host="app.example", cookie=f"{COOKIE}={TOKEN}", x_console_token=TOKEN,
                   sec_fetch_site="same-origin", origin="https://app.example", **extra)


def test_a_post_from_the_consoles_own_page_passes() -> None:
    check_post(same_site(), {})


def test_the_token_may_come_as_a_form_field() -> None:
    check_post(request(host="app.example", cookie=f"{COOKIE}={TOKEN}"), {"token": TOKEN})


@pytest.mark.parametrize(
    "headers",
    [
        {"host": "app.example", "cookie": f"{COOKIE}={TOKEN}", "x_console_token": "x" * 43},  # stale token
        {"host": "app.example", "x_console_token": TOKEN},  # no session cookie
        {"host": "app.example", "cookie": f"{COOKIE}={TOKEN}", "x_console_token": TOKEN,
         "sec_fetch_site": "cross-site"},
        {"host": "app.example", "cookie": f"{COOKIE}={TOKEN}", "x_console_token": TOKEN,
         "sec_fetch_site": "same-site"},  # a sibling subdomain is another site's page
        {"host": "app.example", "cookie": f"{COOKIE}={TOKEN}", "x_console_token": TOKEN,
         "origin": "https://evil.example"},
        {"host": "app.example", "cookie": f"{COOKIE}={TOKEN}", "x_console_token": TOKEN, "origin": "null"},
    ],
)
def test_cross_site_or_tokenless_posts_are_refused(headers: dict[str, str]) -> None:
    with pytest.raises(CrossSiteRequest):
        check_post(request(**headers), {})


def test_behind_a_front_end_the_forwarded_host_is_this_host() -> None:
    check_post(request(host="10.0.0.4:8080", x_forwarded_host="app.example", cookie=f"{COOKIE}={TOKEN}",
                       x_console_token=TOKEN, origin="https://app.example"), {})


def test_locally_the_operator_is_local_whatever_a_header_claims() -> None:
    local = Platform.from_env({})
    assert principal(request(x_ms_client_principal_name="mallory"), local) == "local"
    signed_in(request(method="GET"), local)


def test_under_easy_auth_the_operator_is_the_signed_in_principal() -> None:
    easy_auth = Platform.from_env({"WEBSITE_AUTH_ENABLED": "True", "WEBSITE_SITE_NAME": "app"})
    signed = request(x_ms_client_principal_name="ada@contoso.com")
    assert principal(signed, easy_auth) == "ada@contoso.com"
    signed_in(signed, easy_auth)


def test_under_easy_auth_a_browser_without_a_session_is_sent_to_sign_in_once() -> None:
    easy_auth = Platform.from_env({"WEBSITE_AUTH_ENABLED": "true"})
    with pytest.raises(SignInRequired) as raised:
        signed_in(request(method="GET", path="/console/s/r/c/", query="q=abc"), easy_auth)
    assert raised.value.login == (
        "/.auth/login/aad?post_login_redirect_uri=%2Fconsole%2Fs%2Fr%2Fc%2F%3Fq%3Dabc%26signed_in%3D1"
    )
    with pytest.raises(SignInRequired) as again:
        signed_in(request(method="GET", path="/console/s/r/c/", query="q=abc&signed_in=1"), easy_auth)
    assert again.value.login is None  # back from sign-in without a principal: 401, not a loop


def test_under_easy_auth_a_post_or_htmx_request_without_a_principal_gets_401_not_a_redirect() -> None:
    easy_auth = Platform.from_env({"WEBSITE_AUTH_ENABLED": "true"})
    for unsigned in (request(), request(method="GET", hx_request="true")):
        with pytest.raises(SignInRequired) as raised:
            signed_in(unsigned, easy_auth)
        assert raised.value.login is None


def test_on_app_service_without_easy_auth_the_console_refuses_to_serve() -> None:
    with pytest.raises(SignInRequired):
        signed_in(request(method="GET"), Platform.from_env({"WEBSITE_SITE_NAME": "app"}))


def test_the_app_redirects_a_page_to_sign_in_and_refuses_a_post(monkeypatch: pytest.MonkeyPatch) -> None:
    from fastapi.testclient import TestClient

    from scheduler_core.api.app import create_app

    monkeypatch.setenv("WEBSITE_AUTH_ENABLED", "true")
    client = TestClient(create_app(lambda: pytest.fail("no service is reached without a principal")))
    page = client.get("/console/", follow_redirects=False)
    assert page.status_code == 302
    assert page.headers["location"].startswith("/.auth/login/aad?post_login_redirect_uri=%2Fconsole%2F")
    assert client.post("/console/s/r/c/jobs/j/run").status_code == 401
