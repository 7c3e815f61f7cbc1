"""Parity mode: the app runs with the settings the deployment gives it, against storage that demands a token.

What starts, all on 127.0.0.1, with its files in a git-ignored state folder:

- a self-signed certificate (``tls/``), trusted through ``REQUESTS_CA_BUNDLE`` and ``SSL_CERT_FILE`` (certifi's roots,
  or the bundle those variables named already, plus it, so real HTTPS endpoints stay trusted);
- Azurite over HTTPS with ``--oauth basic`` (data in ``azurite/``): it accepts the bearer tokens below;
- a managed-identity endpoint (``IDENTITY_ENDPOINT`` / ``IDENTITY_HEADER``, App Service's protocol) for the
  user-assigned identities whose client ids the app settings name (the app's, and the jobs' outbound one);
- the app settings of ``infra/modules/functionapp.bicep``, the storage endpoints pointing at Azurite, the Key Vault
  reference resolved from ``keyvault.json`` (made with a fresh keyring the first time).

No connection string: starting with ``AzureWebJobsStorage`` set is refused, and local.settings.json (which holds
one) is not read. Variables already in the environment win over the Bicep's values, as they win over
local.settings.json in the ordinary mode (tests shorten the timer schedules that way).
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import uuid
from collections.abc import MutableMapping
from dataclasses import dataclass
from pathlib import Path

from devhost.azurite import ACCOUNT_NAME, Azurite
from devhost.bicep import FUNCTION_APP_BICEP, evaluate_settings, parse_template
from devhost.config import ConfigError
from devhost.identity import IdentityEndpoint
from devhost.keyvault import FILE_SETTING, load_secrets, resolve, secret_address
from devhost.tls import TlsFiles, ensure_certificate

STORAGE = "AzureWebJobsStorage"
# The local identities and vault: stable names, so a state folder's keyring and data stay usable across runs.
LOCAL_CLIENT_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "devhost-parity-identity"))


def local_client_id(param: str) -> str:
    """The client id of the local identity a ``...ClientId`` parameter names (one per parameter, stable)."""
    return LOCAL_CLIENT_ID if param == "identityClientId" else str(uuid.uuid5(uuid.NAMESPACE_URL, f"devhost:{param}"))


LOCAL_VAULT = "https://devhost-parity.vault.azure.net"
SECRET_KEYS_NAME = "scheduler-secret-keys"  # infra/modules/keyvault.bicep
SECRET_KEY_ID = "k1"  # infra/main.bicep's default secretKeyId
REGION = "local"
# Parameters of functionapp.bicep with no local counterpart: the settings using them are left out.
NO_LOCAL_COUNTERPART = ("applicationInsightsConnectionString",)


def local_parameters(azurite: Azurite) -> dict[str, str | list[str] | None]:
    """functionapp.bicep's parameters as the local stack fills them (storage endpoints end with '/', as Azure's)."""
    return {
        "identityClientId": LOCAL_CLIENT_ID,
        "storageBlobEndpoint": azurite.service_url("blob") + "/",
        "storageQueueEndpoint": azurite.service_url("queue") + "/",
        "storageTableEndpoint": azurite.service_url("table") + "/",
        "secretKeysSecretUri": f"{LOCAL_VAULT}/secrets/{SECRET_KEYS_NAME}",
        "secretKeyId": SECRET_KEY_ID,
        "location": REGION,
        "managedIdentityAudiences": [],  # main.bicep's default: jobs' ManagedIdentity authentication off
        **{name: None for name in NO_LOCAL_COUNTERPART},
    }


@dataclass
class ParityStack:
    """The running parts of parity mode; `stop` ends them.

    Attributes:
        state: The state folder.
        tls: The certificate files.
        azurite: Azurite over HTTPS with OAuth.
        identity: The managed-identity endpoint.
        settings: The app settings taken from the Bicep (before the environment's overrides).
    """

    state: Path
    tls: TlsFiles
    azurite: Azurite
    identity: IdentityEndpoint
    settings: dict[str, str]

    def stop(self) -> None:
        """Stops the identity endpoint and Azurite."""
        self.identity.stop()
        self.azurite.stop()


def start(
    state: Path, app_dir: Path, ports: tuple[int, int, int], env: MutableMapping[str, str] | None = None
) -> ParityStack:
    """Starts the parity stack and puts the deployment's app settings into env (default: the environment).

    Args:
        state: The state folder (created if missing).
        app_dir: The app directory, holding infra/modules/functionapp.bicep.
        ports: Azurite's blob, queue and table ports (0: a free one).
        env: The app settings to fill.

    Raises:
        ConfigError: A connection string is set, or the Bicep cannot be evaluated.
        AzuriteError: Azurite did not start.
    """
    env = os.environ if env is None else env
    if env.get(STORAGE):
        raise ConfigError(f"parity mode runs without a connection string: unset {STORAGE}")
    template = parse_template(app_dir / FUNCTION_APP_BICEP)
    state.mkdir(parents=True, exist_ok=True)
    # A bundle the operator already trusts (a private CA for job targets) is extended, not replaced.
    roots = env.get("REQUESTS_CA_BUNDLE") or env.get("SSL_CERT_FILE")
    tls = ensure_certificate(state / "tls", roots=Path(roots) if roots else None)
    blob, queue, table = ports
    azurite = Azurite.start(
        location=str(state / "azurite"),
        blob_port=blob,
        queue_port=queue,
        table_port=table,
        repo_root=Path(__file__).resolve().parent.parent,
        tls=(tls.cert, tls.key),
        oauth=True,
    )
    # Every identity the Bicep names (the app's, the jobs' outbound one) is known to the endpoint, each by its own id.
    identities = {"identityClientId": LOCAL_CLIENT_ID}

    def client_id_for(param: str) -> str:
        return identities.setdefault(param, local_client_id(param))

    try:
        settings = evaluate_settings(template, local_parameters(azurite), client_id_for=client_id_for)
    except BaseException:
        azurite.stop()
        raise
    identity = IdentityEndpoint(*identities.values())
    for name, value in settings.items():
        env.setdefault(name, value)
    env.update(identity.environment)
    env["REQUESTS_CA_BUNDLE"] = env["SSL_CERT_FILE"] = str(tls.bundle)
    # What `{account}.queue.core.windows.net` is in Azure: where a StorageQueue action finds the local account.
    env.setdefault("SCHEDULER_STORAGE_QUEUE_ENDPOINTS", f"{ACCOUNT_NAME}={azurite.service_url('queue')}")
    env.setdefault(FILE_SETTING, str(state / "keyvault.json"))
    _ensure_keyring(Path(env[FILE_SETTING]), env.get("SCHEDULER_SECRET_KEYS", ""))
    return ParityStack(state, tls, azurite, identity, settings)


def _ensure_keyring(path: Path, reference: str) -> None:
    """Puts a fresh keyring into the local vault file under the reference's secret URI, unless one is there."""
    if not reference.startswith("@Microsoft.KeyVault("):
        return
    if path.exists() and resolve(reference, load_secrets(path)) is not None:
        return
    stored: dict[str, str] = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    host, name, _ = secret_address(reference.strip()[len("@Microsoft.KeyVault("):-1])
    key = base64.b64encode(secrets.token_bytes(32)).decode()
    stored[f"https://{host}/secrets/{name}"] = f"{SECRET_KEY_ID}={key}"
    path.write_text(json.dumps(stored, indent=2) + "\n", encoding="utf-8")
    path.chmod(0o600)

