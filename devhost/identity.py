"""A local managed-identity endpoint speaking App Service's protocol, issuing tokens Azurite accepts.

On App Service and Azure Functions the platform sets `IDENTITY_ENDPOINT` (a loopback URL) and `IDENTITY_HEADER` (a
secret the caller echoes in `X-IDENTITY-HEADER`); azure-identity's `ManagedIdentityCredential` then asks
`GET {IDENTITY_ENDPOINT}?api-version=2019-08-01&resource=...&client_id=...` and gets
`{"access_token", "expires_on", "resource", "token_type", "client_id"}`. This endpoint answers the same way for the
user-assigned identities it is given (the Bicep gives the app no system-assigned one), and refuses another client id
as App Service does.

The tokens are JWTs with what Azurite's `--oauth basic` checks: an `sts.windows.net` issuer, the requested resource
as the audience, `iat`/`nbf`/`exp`. Azurite does not check the signature (nor does anything else here): they are
signed with a key made at start only so that they have the usual shape.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

logger = logging.getLogger("devhost")

LOCAL_TENANT_ID = "00000000-0000-0000-0000-00000000a0a0"
TOKEN_LIFETIME_SECONDS = 3600
API_VERSION = "2019-08-01"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def mint_token(
    resource: str,
    *,
    client_id: str,
    key: bytes,
    tenant_id: str = LOCAL_TENANT_ID,
    now: float | None = None,
    lifetime: int = TOKEN_LIFETIME_SECONDS,
) -> tuple[str, int]:
    """An access token for resource as Entra would issue it to the identity client_id.

    Args:
        resource: The audience, e.g. ``https://storage.azure.com`` (a trailing ``/.default`` is dropped).
        client_id: The identity's client id (``appid`` claim).
        key: The HMAC key that signs it.
        tenant_id: The tenant (issuer and ``tid``).
        now: Issue time in epoch seconds (tests).
        lifetime: Seconds until it expires.

    Returns:
        The JWT and its expiry in epoch seconds.
    """
    issued = int(time.time() if now is None else now)
    expires = issued + lifetime
    audience = resource.removesuffix("/.default")
    claims = {
        "aud": audience,
        "iss": f"https://sts.windows.net/{tenant_id}/",
        "iat": issued,
        "nbf": issued - 300,
        "exp": expires,
        "appid": client_id,
        "oid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"devhost-identity:{client_id}")),
        "sub": client_id,
        "tid": tenant_id,
        "idtyp": "app",
        "ver": "1.0",
    }
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = _b64url(json.dumps(claims, separators=(",", ":")).encode())
    signature = hmac.new(key, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64url(signature)}", expires


class IdentityEndpoint:
    """The endpoint, served from a thread on 127.0.0.1; also a context manager that stops it.

    Args:
        client_ids: The user-assigned identities assigned to the app, the first being its own (storage, Key Vault).

    Attributes:
        client_id: The first of client_ids.
        client_ids: As given.
        url: ``IDENTITY_ENDPOINT``.
        header: ``IDENTITY_HEADER`` (random per start).
        issued: The resource of every token issued, in order.
    """

    def __init__(self, *client_ids: str) -> None:
        if not client_ids:
            raise ValueError("an identity endpoint needs at least one client id")
        self.client_id = client_ids[0]
        self.client_ids = frozenset(client_ids)
        self.header = secrets.token_urlsafe(24)
        self.issued: list[str] = []
        self._key = secrets.token_bytes(32)
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                status, body = owner._answer(self.path, self.headers.get("X-IDENTITY-HEADER"))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/msi/token"
        self._thread = threading.Thread(target=self._server.serve_forever, name="identity endpoint", daemon=True)
        self._thread.start()

    @property
    def environment(self) -> dict[str, str]:
        """The variables App Service sets for the worker."""
        return {"IDENTITY_ENDPOINT": self.url, "IDENTITY_HEADER": self.header}

    def _answer(self, path: str, header: str | None) -> tuple[int, dict[str, object]]:
        parts = urlsplit(path)
        query = {name: values[0] for name, values in parse_qs(parts.query).items()}
        if parts.path != "/msi/token":
            return 404, {"statusCode": 404, "message": "Not found."}
        if header is None or not hmac.compare_digest(header, self.header):
            return 401, {"statusCode": 401, "message": "X-IDENTITY-HEADER is missing or wrong."}
        if query.get("api-version") != API_VERSION or not query.get("resource"):
            return 400, {"statusCode": 400, "message": f"api-version {API_VERSION} and resource are required."}
        client_id = query.get("client_id")
        if client_id not in self.client_ids:
            logger.warning("identity: refused a token for client id %r (the app's identities: %s)",
                           client_id, ", ".join(sorted(self.client_ids)))
            return 400, {
                "statusCode": 400,
                "message": "No User Assigned or Delegated Managed Identity found for specified ClientId/ResourceId/"
                "PrincipalId.",
            }
        token, expires_on = mint_token(query["resource"], client_id=client_id, key=self._key)
        self.issued.append(query["resource"])
        logger.info("identity: token for %s issued to client id %s", query["resource"], client_id)
        return 200, {
            "access_token": token,
            "expires_on": str(expires_on),
            "resource": query["resource"],
            "token_type": "Bearer",
            "client_id": client_id,
        }

    def stop(self) -> None:
        """Stops serving and closes the socket."""
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> IdentityEndpoint:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
