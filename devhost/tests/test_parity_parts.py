"""The parts of parity mode on their own: connection resolution, Key Vault references, the Bicep's settings, the
managed-identity endpoint (through azure-identity itself) and the certificate."""

from __future__ import annotations

import json
import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import ManagedIdentityCredential

from devhost.bicep import evaluate_settings
from devhost.config import ConfigError
from devhost.connections import resolve_connection
from devhost.identity import IdentityEndpoint
from devhost.keyvault import resolve_references
from devhost.tls import ensure_certificate

# ---- connections ----------------------------------------------------------------------------------------------------


def test_a_setting_with_a_value_is_a_connection_string() -> None:
    env = {"AzureWebJobsStorage": "UseDevelopmentStorage=true", "AzureWebJobsStorage__queueServiceUri": "https://x"}
    connection = resolve_connection(None, env)
    assert connection.connection_string == "UseDevelopmentStorage=true" and not connection.identity_based


def test_children_make_an_identity_based_connection_with_the_managed_identity() -> None:
    env = {
        "AzureWebJobsStorage__queueServiceUri": "https://acct.queue.core.windows.net/",
        "AzureWebJobsStorage__credential": "managedidentity",
        "AzureWebJobsStorage__clientId": "c1d2",
    }
    connection = resolve_connection("AzureWebJobsStorage", env)
    assert connection.identity_based
    assert connection.queue_service_uri() == "https://acct.queue.core.windows.net/"
    assert isinstance(connection.credential(), ManagedIdentityCredential)


def test_a_name_is_looked_up_with_the_azurewebjobs_prefix_first_and_account_name_gives_the_uri() -> None:
    env = {"AzureWebJobsMine__accountName": "prefixed", "Mine": "UseDevelopmentStorage=true"}
    connection = resolve_connection("Mine", env)
    assert connection.setting == "AzureWebJobsMine"
    assert connection.queue_service_uri() == "https://prefixed.queue.core.windows.net"


def test_a_missing_or_incomplete_connection_fails_naming_the_settings() -> None:
    with pytest.raises(ConfigError, match="Other__queueServiceUri"):
        resolve_connection("Other", {})
    with pytest.raises(ConfigError, match="Other__queueServiceUri"):
        resolve_connection("Other", {"Other__credential": "managedidentity"}).queue_service_uri()


# ---- Key Vault references -------------------------------------------------------------------------------------------


def test_references_resolve_from_the_local_file_and_unknown_ones_stay_literal(tmp_path: Path) -> None:
    vault = tmp_path / "keyvault.json"
    vault.write_text(json.dumps({
        "https://MyVault.vault.azure.net/secrets/keys/": "latest",
        "https://myvault.vault.azure.net/secrets/keys/v2": "second",
    }))
    env = {
        "A": "@Microsoft.KeyVault(SecretUri=https://myvault.vault.azure.net/secrets/keys)",
        "B": "@Microsoft.KeyVault(SecretUri=https://myvault.vault.azure.net/secrets/keys/v2)",
        "C": "@Microsoft.KeyVault(VaultName=myvault;SecretName=keys;SecretVersion=v9)",
        "D": "@Microsoft.KeyVault(SecretUri=https://myvault.vault.azure.net/secrets/missing)",
        "E": "plain",
    }
    resolved = resolve_references(env, vault)
    assert sorted(resolved) == ["A", "B", "C"]
    assert (env["A"], env["B"], env["C"], env["E"]) == ("latest", "second", "latest", "plain")
    assert env["D"].startswith("@Microsoft.KeyVault(")  # as App Service leaves an unresolvable reference


def test_a_vault_file_with_a_non_uri_key_is_refused(tmp_path: Path) -> None:
    vault = tmp_path / "keyvault.json"
    vault.write_text(json.dumps({"not a uri": "x"}))
    with pytest.raises(ConfigError, match="not a uri"):
        resolve_references({"A": "@Microsoft.KeyVault(VaultName=v;SecretName=s)"}, vault)


# ---- the Bicep's settings ----------------------------------------------------------------------------------------


def _template(settings: dict[str, object]) -> dict[str, object]:
    parameters = {
        "endpoint": {"default": None},
        "clientIdParam": {"default": None},
        "otherClientId": {"default": None},
        "withDefault": {"default": "d"},
        "insights": {"default": None},
        "audiences": {"default": None},
    }
    return {"parameters": parameters, "variables": {"appSettings": {"value": settings}}}


def test_settings_are_literals_parameters_and_interpolations_evaluated_locally() -> None:
    template = _template({
        "LITERAL": "90",
        "URI": "endpoint",
        "AUTH": "ClientId=${clientIdParam};Authorization=AAD",
        "DEFAULTED": "withDefault",
        "OTHER": "otherClientId",
        "INSIGHTS": "insights",
        "JOINED": {"function": {"type": "join", "parameters": {"input_array": "audiences", "delimiter": ";"}}},
    })
    params: dict[str, str | list[str] | None] = {
        "endpoint": "https://127.0.0.1:1/devstoreaccount1/",
        "clientIdParam": "cid",
        "insights": None,
        "audiences": ["api://a", "api://b"],
    }
    assert evaluate_settings(template, params, client_id_for=lambda param: f"local-{param}") == {
        "LITERAL": "90",
        "URI": "https://127.0.0.1:1/devstoreaccount1/",
        "AUTH": "ClientId=cid;Authorization=AAD",
        "DEFAULTED": "d",
        "OTHER": "local-otherClientId",
        "JOINED": "api://a;api://b",
    }


def test_a_setting_parity_mode_cannot_evaluate_stops_it() -> None:
    with pytest.raises(ConfigError, match="X"):
        evaluate_settings(_template({"X": "${resourceGroup().id}"}), {}, client_id_for=str)
    with pytest.raises(ConfigError, match="endpoint"):
        evaluate_settings(_template({"Y": "endpoint"}), {}, client_id_for=str)


# ---- the managed-identity endpoint, through azure-identity --------------------------------------------------------


def test_managed_identity_credential_gets_a_storage_token_for_the_known_client_id_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with IdentityEndpoint("c0ffee00-0000-4000-8000-000000000001") as endpoint:
        for name, value in endpoint.environment.items():
            monkeypatch.setenv(name, value)
        token = ManagedIdentityCredential(client_id=endpoint.client_id).get_token("https://storage.azure.com/.default")
        claims = json.loads(_b64(token.token.split(".")[1]))
        assert claims["aud"] == "https://storage.azure.com"
        assert claims["iss"].startswith("https://sts.windows.net/")
        assert claims["appid"] == endpoint.client_id and claims["nbf"] <= claims["iat"] < claims["exp"]
        assert token.expires_on == claims["exp"]
        with pytest.raises(ClientAuthenticationError, match="No User Assigned"):
            ManagedIdentityCredential(client_id="someone-else").get_token("https://storage.azure.com/.default")
        monkeypatch.setenv("IDENTITY_HEADER", "wrong")
        with pytest.raises(ClientAuthenticationError):
            ManagedIdentityCredential(client_id=endpoint.client_id).get_token("https://storage.azure.com/.default")


def _b64(text: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# ---- the certificate ----------------------------------------------------------------------------------------------


def test_the_certificate_is_kept_while_valid_and_the_bundle_trusts_it_and_the_usual_roots(tmp_path: Path) -> None:
    first = ensure_certificate(tmp_path)
    pem = first.cert.read_bytes()
    assert ensure_certificate(tmp_path).cert.read_bytes() == pem
    context = ssl.create_default_context(cafile=str(first.bundle))
    assert len(context.get_ca_certs()) > 50  # certifi's roots are still there
    assert pem.strip() in first.bundle.read_bytes()
    later = datetime.now(UTC) + timedelta(days=29)
    assert ensure_certificate(tmp_path, now=later).cert.read_bytes() != pem


def test_a_bundle_the_operator_trusts_is_extended_not_replaced(tmp_path: Path) -> None:
    private = tmp_path / "private-ca.pem"
    other = ensure_certificate(tmp_path / "other")  # stands in for an operator's private CA
    private.write_bytes(other.cert.read_bytes())
    files = ensure_certificate(tmp_path / "tls", roots=private)
    bundle = files.bundle.read_bytes()
    assert other.cert.read_bytes().strip() in bundle and files.cert.read_bytes().strip() in bundle
    again = ensure_certificate(tmp_path / "tls", roots=files.bundle).bundle.read_bytes()  # a restart in that shell
    assert again.count(files.cert.read_bytes().strip()) == 1
