"""Outbound authentication of Http(s) actions (reference (g)): Basic, ClientCertificate, ActiveDirectoryOAuth and the
`ManagedIdentity` extension.

`OutboundAuth.prepare(authentication)` turns the request's typed authentication (secrets filled in) into what the
request needs: headers (Basic, Bearer) and/or a TLS context that presents a client certificate. Failures raise
`AuthenticationFailed` with a message fit for job history: it never quotes a secret.
"""

from __future__ import annotations

import base64
import hashlib
import os
import ssl
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import requests
from cryptography.hazmat.primitives import serialization

from scheduler_core.client_certificates import load_pfx
from scheduler_core.domain.payloads import (
    ActiveDirectoryOAuth,
    Authentication,
    Basic,
    ClientCertificate,
    ManagedIdentity,
)
from scheduler_core.domain.targets import managed_identity_refusal

# A token is used until this long before it expires, so a request never arrives with one that just lapsed.
_TOKEN_MARGIN_SECONDS = 300.0


class AuthenticationFailed(Exception):
    """Credentials could not be turned into a request (bad pfx, token endpoint refused, ...); safe for history."""


# ---- client certificates -----------------------------------------------------------------------------------------


def client_certificate_context(pfx: str | None, password: str | None, cafile: str | None = None) -> ssl.SSLContext:
    """A client TLS context that verifies servers as usual and presents the pfx's certificate.

    `ssl` loads certificates only from files: the chain is written to a private temporary directory with the key
    encrypted under a one-time password, loaded, and deleted at once, so no usable key stays on disk.

    Raises:
        ValueError: see `client_certificates.load_pfx`.
    """
    key, cert, chain = load_pfx(pfx, password)
    one_time = base64.b64encode(os.urandom(24))
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(one_time),
    ) + b"".join(c.public_bytes(serialization.Encoding.PEM) for c in [cert, *chain])
    context = ssl.create_default_context(cafile=cafile or requests.utils.DEFAULT_CA_BUNDLE_PATH)
    with tempfile.TemporaryDirectory(prefix="scheduler-cert-") as folder:  # mode 0700
        path = os.path.join(folder, "client.pem")
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(pem)
        context.load_cert_chain(path, password=one_time)
    return context


# ---- tokens ------------------------------------------------------------------------------------------------------


class TokenCredential(Protocol):
    """What azure-identity credentials offer (`ManagedIdentityCredential`)."""

    def get_token(self, *scopes: str) -> Any:  # azure.core.credentials.AccessToken: .token, .expires_on (epoch s)
        ...


def managed_identity_credential(client_id: str | None) -> TokenCredential:
    """The function app's system-assigned identity, or the user-assigned one with `client_id`."""
    from azure.identity import ManagedIdentityCredential

    return ManagedIdentityCredential(client_id=client_id) if client_id else ManagedIdentityCredential()


@dataclass
class _TokenCache:
    """Tokens by a key that includes a hash of the credential, valid until shortly before they expire."""

    clock: Callable[[], float] = time.time
    _tokens: dict[str, tuple[str, float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, key: str, fetch: Callable[[], tuple[str, float]]) -> str:
        """The cached token for `key`, or a new one from `fetch() -> (token, expires at epoch seconds)`."""
        with self._lock:
            cached = self._tokens.get(key)
        if cached and cached[1] - _TOKEN_MARGIN_SECONDS > self.clock():
            return cached[0]
        token, expires_at = fetch()
        with self._lock:
            if len(self._tokens) > 1000:  # bound memory: drop what has expired
                now = self.clock()
                self._tokens = {k: v for k, v in self._tokens.items() if v[1] > now}
            self._tokens[key] = (token, expires_at)
        return token


def _digest(*parts: str | None) -> str:
    return hashlib.sha256("\x00".join(p or "" for p in parts).encode("utf-8")).hexdigest()


# ---- the whole ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Prepared:
    """What an authenticated request carries: extra headers and, for a client certificate, a TLS context."""

    headers: Mapping[str, str] = field(default_factory=dict)
    ssl_context: ssl.SSLContext | None = None


class OutboundAuth:
    """Prepares the authentication of Http(s) actions.

    Args:
        authority_host: Entra ID authority (`SCHEDULER_OAUTH_AUTHORITY_HOST`); tests point it at a local server.
        timeout_seconds: for token requests.
        credential_factory: builds a managed identity credential from an optional client id (tests inject a fake).
        clock: epoch seconds, for the token cache.
    """

    def __init__(
        self,
        *,
        authority_host: str = "https://login.microsoftonline.com",
        timeout_seconds: float = 60.0,
        credential_factory: Callable[[str | None], TokenCredential] = managed_identity_credential,
        clock: Callable[[], float] = time.time,
        session: requests.Session | None = None,
        managed_identity_audiences: frozenset[str] = frozenset(),
        outbound_identity_client_id: str | None = None,
    ) -> None:
        self._mi_audiences = managed_identity_audiences
        self._outbound_client_id = outbound_identity_client_id
        self._authority = authority_host.rstrip("/")
        self._timeout = timeout_seconds
        self._credential_factory = credential_factory
        self._credentials: dict[str | None, TokenCredential] = {}
        self._cache = _TokenCache(clock=clock)
        self._clock = clock
        self._session = session or requests.Session()

    def prepare(self, authentication: Authentication | None) -> Prepared:
        """Headers and TLS context for `authentication` (None: nothing).

        Raises:
            AuthenticationFailed: the credentials cannot be used; the message names the field, never its value.
        """
        match authentication:
            case None:
                return Prepared()
            case Basic():
                return Prepared(headers={"Authorization": _basic(authentication)})
            case ClientCertificate(pfx=pfx, password=password):
                try:
                    return Prepared(ssl_context=client_certificate_context(pfx, password))
                except (ValueError, ssl.SSLError) as exc:
                    raise AuthenticationFailed(f"ClientCertificate authentication failed: {exc}.") from None
            case ActiveDirectoryOAuth():
                return Prepared(headers={"Authorization": f"Bearer {self._oauth_token(authentication)}"})
            case ManagedIdentity():
                return Prepared(headers={"Authorization": f"Bearer {self._managed_identity_token(authentication)}"})

    def _oauth_token(self, auth: ActiveDirectoryOAuth) -> str:
        given = {"tenant": auth.tenant, "audience": auth.audience, "clientId": auth.client_id, "secret": auth.secret}
        missing = [name for name, value in given.items() if not value]
        if missing:
            raise AuthenticationFailed(f"ActiveDirectoryOAuth authentication lacks {', '.join(missing)}.")
        tenant, audience, client_id, secret = auth.tenant, auth.audience, auth.client_id, auth.secret
        # The v1 endpoint takes the audience as `resource`, exactly as the old service's jobs state it.
        url = f"{self._authority}/{tenant}/oauth2/token"

        def fetch() -> tuple[str, float]:
            try:
                response = self._session.post(
                    url,
                    data={
                        "grant_type": "client_credentials",
                        "client_id": client_id,
                        "client_secret": secret,
                        "resource": audience,
                    },
                    timeout=self._timeout,
                    allow_redirects=False,
                )
            except requests.RequestException as exc:
                raise AuthenticationFailed(
                    f"ActiveDirectoryOAuth: the token request to {url} failed: {type(exc).__name__}."
                ) from None
            try:
                body = response.json()
            except ValueError:
                body = {}
            if response.status_code != 200 or not body.get("access_token"):
                error = body.get("error") or f"HTTP {response.status_code}"
                raise AuthenticationFailed(f"ActiveDirectoryOAuth: the token endpoint {url} refused: {error}.")
            return body["access_token"], _expires_at(body, self._clock())

        return self._cache.get(_digest("oauth", url, client_id, audience, secret), fetch)

    def _managed_identity_token(self, auth: ManagedIdentity) -> str:
        # Checked again at run time: the operator may have narrowed the audiences since the job was written.
        refusal = managed_identity_refusal(
            auth.audience, auth.client_id,
            allowed=self._mi_audiences, outbound_client_id=self._outbound_client_id,
        )
        if refusal is not None:
            field, why = refusal
            raise AuthenticationFailed(f"ManagedIdentity: authentication.{field} {why}.")
        if self._outbound_client_id is None:
            raise AuthenticationFailed(
                "ManagedIdentity: the deployment has no outbound identity (SCHEDULER_OUTBOUND_IDENTITY_CLIENT_ID)."
            )
        client_id = self._outbound_client_id  # never the app's own identity, whatever the job names
        # azure-identity turns a scope back into a resource by removing "/.default": the audience arrives unchanged.
        scope = f"{str(auth.audience).strip().removesuffix('/.default').rstrip('/')}/.default"

        def fetch() -> tuple[str, float]:
            try:
                credential = self._credentials.get(client_id)
                if credential is None:
                    credential = self._credentials[client_id] = self._credential_factory(client_id)
                token = credential.get_token(scope)
            except Exception as exc:  # azure-identity raises several types; the class name is enough for history
                raise AuthenticationFailed(
                    f"ManagedIdentity: no token for {scope}: {type(exc).__name__}."
                ) from None
            return token.token, float(token.expires_on)

        return self._cache.get(_digest("mi", client_id, scope), fetch)


def _basic(auth: Basic) -> str:
    if auth.username is None:
        raise AuthenticationFailed("Basic authentication lacks username.")
    pair = f"{auth.username}:{auth.password or ''}".encode()
    return "Basic " + base64.b64encode(pair).decode("ascii")


def _expires_at(body: Mapping[str, Any], now: float) -> float:
    """Expiry from a token response: `expires_on` (v1, epoch seconds) or `expires_in` (seconds; strings in v1)."""
    try:
        if body.get("expires_on"):
            return float(body["expires_on"])
        return now + float(body.get("expires_in") or 0)
    except (TypeError, ValueError):
        return now  # unknown lifetime: use the token once

