"""Outbound authentication without the network: Basic, OAuth token cache, ManagedIdentity wiring, pfx handling."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import pytest

from scheduler_core.adapters.outbound_auth import AuthenticationFailed, OutboundAuth, client_certificate_context
from scheduler_core.client_certificates import describe_certificate, fill_certificate_details
from scheduler_core.wire import authentication_from_wire as typed
from tests.support.certs import issue, make_ca

OAUTH = {"type": "ActiveDirectoryOAuth", "tenant": "t1", "audience": "https://api.example/", "clientId": "c1",
         "secret": "s3cret-value"}


class FakeResponse:
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        self.status_code, self._body = status, body

    def json(self) -> dict[str, Any]:
        return self._body


class FakeSession:
    def __init__(self, *responses: FakeResponse) -> None:
        self.responses = list(responses)
        self.posts: list[tuple[str, dict[str, str]]] = []

    def post(self, url: str, data: dict[str, str], **_: Any) -> FakeResponse:
        self.posts.append((url, data))
        return self.responses.pop(0)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_basic_header() -> None:
    prepared = OutboundAuth().prepare(typed({"type": "Basic", "username": "u", "password": "p:w"}))
    assert prepared.headers == {"Authorization": "Basic " + base64.b64encode(b"u:p:w").decode()}
    assert OutboundAuth().prepare(typed(None)).headers == {}
    assert OutboundAuth().prepare(typed({"type": "NotSpecified"})).headers == {}


def test_oauth_token_is_requested_once_and_renewed_shortly_before_expiry() -> None:
    clock = Clock()
    session = FakeSession(
        FakeResponse(200, {"access_token": "A", "expires_in": "3600"}),
        FakeResponse(200, {"access_token": "B", "expires_in": "3600"}),
    )
    auth = OutboundAuth(authority_host="https://login.test/", clock=clock, session=session)  # type: ignore[arg-type]
    assert auth.prepare(typed(OAUTH)).headers == {"Authorization": "Bearer A"}
    clock.now += 3000
    assert auth.prepare(typed(OAUTH)).headers == {"Authorization": "Bearer A"}
    clock.now += 400  # within five minutes of expiry
    assert auth.prepare(typed(OAUTH)).headers == {"Authorization": "Bearer B"}
    url, form = session.posts[0]
    assert url == "https://login.test/t1/oauth2/token"
    assert form == {"grant_type": "client_credentials", "client_id": "c1", "client_secret": "s3cret-value",
                    "resource": "https://api.example/"}
    assert len(session.posts) == 2


def test_a_different_secret_is_a_different_cache_entry() -> None:
    session = FakeSession(FakeResponse(200, {"access_token": "A", "expires_in": 3600}),
                          FakeResponse(200, {"access_token": "B", "expires_in": 3600}))
    auth = OutboundAuth(session=session)  # type: ignore[arg-type]
    assert auth.prepare(typed(OAUTH)).headers["Authorization"] == "Bearer A"
    assert auth.prepare(typed({**OAUTH, "secret": "rotated"})).headers["Authorization"] == "Bearer B"


def test_oauth_refusal_names_the_error_not_the_secret() -> None:
    session = FakeSession(FakeResponse(401, {"error": "invalid_client", "error_description": "bad s3cret-value"}))
    with pytest.raises(AuthenticationFailed, match="invalid_client") as raised:
        OutboundAuth(session=session).prepare(typed(OAUTH))  # type: ignore[arg-type]
    assert "s3cret-value" not in str(raised.value)
    with pytest.raises(AuthenticationFailed, match="lacks secret"):
        OutboundAuth().prepare(typed({**OAUTH, "secret": None}))


@dataclass
class Token:
    token: str
    expires_on: int


class FakeCredential:
    def __init__(self, client_id: str | None) -> None:
        self.client_id = client_id
        self.scopes: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str) -> Token:
        self.scopes.append(scopes)
        return Token(f"mi-{self.client_id}", 2_000_000_000)


def _mi(factory: Any, audiences: frozenset[str] = frozenset({"api://backend"})) -> OutboundAuth:
    return OutboundAuth(credential_factory=factory, clock=lambda: 1_000_000_000.0,
                        managed_identity_audiences=audiences, outbound_identity_client_id="outbound-1")


def test_managed_identity_tokens_come_from_the_outbound_identity_for_allowed_audiences() -> None:
    made: list[FakeCredential] = []

    def factory(client_id: str | None) -> FakeCredential:
        made.append(FakeCredential(client_id))
        return made[-1]

    auth = _mi(factory)
    assert auth.prepare(typed({"type": "ManagedIdentity", "audience": "api://backend"})).headers == {
        "Authorization": "Bearer mi-outbound-1"}
    named = typed({"type": "ManagedIdentity", "audience": "api://backend/", "clientId": "OUTBOUND-1"})
    assert auth.prepare(named).headers["Authorization"] == "Bearer mi-outbound-1"
    assert [c.client_id for c in made] == ["outbound-1"]
    assert made[0].scopes == [("api://backend/.default",)], "cached: one token for two runs"


@pytest.mark.parametrize(
    ("authentication", "audiences", "why"),
    [
        ({"audience": "api://backend"}, frozenset(), "off on this deployment"),
        ({}, frozenset({"api://backend"}), "audience is required"),
        ({"audience": "api://other"}, frozenset({"api://backend"}), "not an audience the operator allows"),
        ({"audience": "https://vault.azure.net"}, frozenset({"https://vault.azure.net"}), "scheduler itself uses"),
        ({"audience": "https://storage.azure.com/"}, frozenset({"https://storage.azure.com"}), "scheduler itself uses"),
        ({"audience": "https://management.azure.com/"}, frozenset({"https://management.azure.com"}), "itself uses"),
        ({"audience": "https://kv1.vault.azure.net"}, frozenset({"https://kv1.vault.azure.net"}), "itself uses"),
        ({"audience": "api://backend", "clientId": "app-identity"}, frozenset({"api://backend"}), "clientId"),
    ],
)
def test_managed_identity_refuses_what_the_operator_did_not_allow(authentication, audiences, why) -> None:
    def factory(client_id: str | None) -> FakeCredential:
        raise AssertionError("no token may be asked for")

    with pytest.raises(AuthenticationFailed, match=why):
        _mi(factory, audiences).prepare(typed({"type": "ManagedIdentity", **authentication}))


def test_managed_identity_failure_is_an_authentication_failure() -> None:
    class Broken:
        def get_token(self, *scopes: str) -> Token:
            raise RuntimeError("no identity endpoint")

    with pytest.raises(AuthenticationFailed, match="ManagedIdentity.*RuntimeError"):
        _mi(lambda _: Broken()).prepare(typed({"type": "ManagedIdentity", "audience": "api://backend"}))


# ---- client certificates -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def client():
    return issue(make_ca(), "Scheduler Client", server=False)


def test_describe_certificate(client) -> None:
    info = describe_certificate(client.pfx("pw"), "pw")
    assert info.subject_name == "CN=Scheduler Client"
    assert len(info.thumbprint) == 40 and info.thumbprint == info.thumbprint.upper()
    assert info.expiration == client.cert.not_valid_after_utc


def test_certificate_details_are_filled_for_action_and_error_action(client) -> None:
    auth = {"type": "ClientCertificate", "pfx": client.pfx("pw"), "password": "pw"}
    wrong = {**auth, "password": "no"}
    error_action = {"type": "Https", "request": {"uri": "https://y/", "authentication": wrong}}
    properties = {"action": {"type": "Https", "request": {"uri": "https://x/", "authentication": dict(auth)},
                             "errorAction": error_action}}
    problems = fill_certificate_details(properties)
    filled = properties["action"]["request"]["authentication"]
    assert filled["certificateSubjectName"] == "CN=Scheduler Client"
    assert filled["certificateExpirationDate"].endswith("Z")
    assert [p.path for p in problems] == ["properties.action.errorAction.request.authentication.pfx"]
    assert "password is wrong" in problems[0].message


def test_client_certificate_context_loads_and_bad_pfx_fails_cleanly(client) -> None:
    assert client_certificate_context(client.pfx("pw"), "pw") is not None
    with pytest.raises(AuthenticationFailed, match="ClientCertificate authentication failed: the pfx cannot be read"):
        OutboundAuth().prepare(typed({"type": "ClientCertificate", "pfx": client.pfx("pw"), "password": "nope"}))
    with pytest.raises(AuthenticationFailed, match="not valid base64"):
        OutboundAuth().prepare(typed({"type": "ClientCertificate", "pfx": "%%%", "password": "x"}))
