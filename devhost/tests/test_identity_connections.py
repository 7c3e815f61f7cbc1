"""End-to-end: queue triggers on an identity-based connection, against Azurite over HTTPS that demands tokens.

The devhost is started without --parity, with the settings written by hand as an operator would: the connection's
``__queueServiceUri``/``__credential``/``__clientId``, a managed-identity endpoint, the certificate's bundle, and a
queue name that is a Key Vault reference resolved from the local file.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from azure.core.credentials import AccessToken
from azure.core.exceptions import ResourceNotFoundError
from azure.storage.queue import QueueClient, TextBase64EncodePolicy

from devhost.azurite import Azurite
from devhost.identity import IdentityEndpoint, mint_token
from devhost.tests.running import Devhost, devhost_env, wait_for
from devhost.tests.sample_app import records, write_app
from devhost.tls import TlsFiles, ensure_certificate

pytestmark = pytest.mark.e2e

CLIENT_ID = "5a1e0000-0000-4000-8000-0000000000c1"
SECRET_URI = "https://devhost-test.vault.azure.net/secrets/fail-queue"


class Token:
    def __init__(self) -> None:
        self._key = secrets.token_bytes(32)

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken(*mint_token(scopes[0], client_id="test-operator", key=self._key))


def queue(azurite: Azurite, tls: TlsFiles, name: str, **options: Any) -> QueueClient:
    url = azurite.service_url("queue")
    return QueueClient(url, name, credential=Token(), connection_verify=str(tls.cert), **options)


@pytest.fixture(scope="module")
def running(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Azurite, TlsFiles, Path, Devhost, IdentityEndpoint]]:
    root = tmp_path_factory.mktemp("identity")
    tls = ensure_certificate(root / "tls")
    vault = root / "keyvault.json"
    vault.write_text(json.dumps({SECRET_URI: "identity-fail"}))
    with Azurite.start(tls=(tls.cert, tls.key), oauth=True) as azurite, IdentityEndpoint(CLIENT_ID) as identity:
        env = devhost_env(
            AzureWebJobsStorage__queueServiceUri=azurite.service_url("queue") + "/",
            AzureWebJobsStorage__credential="managedidentity",
            AzureWebJobsStorage__clientId=CLIENT_ID,
            REQUESTS_CA_BUNDLE=str(tls.bundle),
            DEVHOST_KEY_VAULT_FILE=str(vault),
            TICK_SCHEDULE="0 0 0 1 1 *",
            WORK_QUEUE="identity-work",
            FAIL_QUEUE=f"@Microsoft.KeyVault(SecretUri={SECRET_URI})",
            RECORD_DIR=str(root / "records"),
            **identity.environment,
        )
        (root / "records").mkdir()
        app_dir = write_app(root / "app", {"maxPollingInterval": "00:00:00.500", "maxDequeueCount": 2})
        # Without the sample's connection string, which would win over the identity-based settings (as on the host).
        (app_dir / "local.settings.json").write_text(json.dumps({"Values": {"FUNCTIONS_WORKER_RUNTIME": "python"}}))
        host = Devhost(["--app-dir", str(app_dir), "--port", "0"], env, root / "devhost.log")
        try:
            host.wait_ready()
            yield azurite, tls, root / "records", host, identity
        finally:
            assert host.terminate() == 0, host.output()


def test_a_message_is_delivered_and_a_failing_one_poisoned_through_the_identity(running: Any) -> None:
    azurite, tls, record_dir, host, identity = running
    assert any(line.endswith("queueTrigger identity-fail") for line in host.lines), host.output()

    queue(azurite, tls, "identity-work", message_encode_policy=TextBase64EncodePolicy()).send_message("hello")
    queue(azurite, tls, "identity-fail", message_encode_policy=TextBase64EncodePolicy()).send_message("doomed")

    delivered = wait_for(lambda: records(record_dir, "work"), "the work function")
    assert [r["body"] for r in delivered] == ["hello"]
    poison = queue(azurite, tls, "identity-fail-poison")

    def moved() -> list[str]:
        try:
            return [m.content for m in poison.peek_messages(max_messages=32)]
        except ResourceNotFoundError:
            return []

    assert wait_for(moved, "the poison queue") == [base64.b64encode(b"doomed").decode()]
    assert "https://storage.azure.com" in identity.issued
