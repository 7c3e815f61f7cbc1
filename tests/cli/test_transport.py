"""How requests travel. Against Azure, every request carries a bearer token for the deployment's Entra audience
from azure-identity's DefaultAzureCredential; locally (no --audience) none. The credential is replaced by a stand-in
that hands out a fixed token; the receiving end is a real HTTP server on 127.0.0.1 that records the headers. A busy
host (503) is asked again."""

from __future__ import annotations

import time

import azure.identity
import pytest
from azure.core.credentials import AccessToken
from typer.testing import CliRunner

from azsched.main import app
from tests.support.target import Target


class _Credential:
    scopes: list[str] = []

    def get_token(self, *scopes: str, **_: object) -> AccessToken:
        _Credential.scopes.extend(scopes)
        return AccessToken("token-for-test", int(time.time()) + 3600)


def test_audience_sends_a_bearer_token_and_no_audience_sends_none(
    target: Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(azure.identity, "DefaultAzureCredential", _Credential)
    runner = CliRunner()
    with_audience = runner.invoke(app, ["--endpoint", target.url, "--audience", "api://scheduler-prod",
                                        "collections", "list"], env={"AZSCHED_AUDIENCE": None})
    assert with_audience.exit_code == 1 and "without JSON" in with_audience.stderr  # the target is no scheduler
    assert _Credential.scopes == ["api://scheduler-prod/.default"]
    assert target.received[-1].headers["authorization"] == "Bearer token-for-test"

    runner.invoke(app, ["--endpoint", target.url, "collections", "list"], env={"AZSCHED_AUDIENCE": None})
    assert "authorization" not in target.received[-1].headers


def test_a_busy_host_is_asked_again() -> None:
    answers = iter([503, 503])
    busy = Target(lambda path: next(answers, 200))
    try:
        result = CliRunner().invoke(app, ["--endpoint", busy.url, "collections", "list"],
                                    env={"AZSCHED_AUDIENCE": None})
    finally:
        busy.close()
    assert len(busy.received) == 3, "two 503s, then the answer"
    assert result.exit_code == 1 and "answered 200 without JSON" in result.stderr
