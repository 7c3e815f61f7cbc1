"""The environment is read once for outbound HTTP: a CA bundle is applied explicitly, and requests keeps reading
the environment per request only when a proxy is set (so NO_PROXY still applies host by host)."""

from __future__ import annotations

import requests

from scheduler_core.adapters.environment import OutboundEnvironment


def test_without_a_proxy_sessions_stop_reading_the_environment_but_keep_its_ca_bundle() -> None:
    environment = OutboundEnvironment.read({"REQUESTS_CA_BUNDLE": "/etc/ca.pem", "PATH": "/bin", "http_proxy": ""})
    session = environment.apply(requests.Session())
    assert (session.trust_env, session.verify) == (False, "/etc/ca.pem")


def test_curl_ca_bundle_is_the_fallback_and_no_bundle_means_the_default_one() -> None:
    assert OutboundEnvironment.read({"CURL_CA_BUNDLE": "/etc/curl.pem"}).verify == "/etc/curl.pem"
    assert OutboundEnvironment.read({}).verify is True


def test_any_proxy_variable_keeps_requests_reading_the_environment() -> None:
    for name in ("HTTPS_PROXY", "http_proxy", "ALL_PROXY", "NO_PROXY"):
        session = OutboundEnvironment.read({name: "http://proxy.internal:3128"}).apply(requests.Session())
        assert session.trust_env is True, name


def test_credentials_in_netrc_are_never_added_to_a_request(tmp_path, monkeypatch) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine target.example login someone password stored-secret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    plain = requests.Session().prepare_request(requests.Request("GET", "https://target.example/run"))
    assert "Authorization" in plain.headers  # what requests does by itself

    for environment in (OutboundEnvironment.read({}), OutboundEnvironment.read({"HTTPS_PROXY": "http://p:3128"})):
        session = environment.apply(requests.Session())
        prepared = session.prepare_request(requests.Request("GET", "https://target.example/run"))
        assert "Authorization" not in prepared.headers
        own = session.prepare_request(
            requests.Request("GET", "https://target.example/run", headers={"Authorization": "Bearer job-token"})
        )
        assert own.headers["Authorization"] == "Bearer job-token"
