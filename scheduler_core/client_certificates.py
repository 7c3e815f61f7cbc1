"""ClientCertificate authentication at PUT: read the pfx, report what the old service reported instead of it.

Reference (g): the stored and returned job shows `certificateThumbprint`, `certificateSubjectName` and
`certificateExpirationDate`; `pfx` and `password` are secrets. An unreadable pfx or a wrong password is a 400 naming
the field. Pure (the `cryptography` package only), so the API can call it before anything is written.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import pkcs12

from scheduler_core.domain.errors import Problem
from scheduler_core.domain.payloads import AuthenticationType


@dataclass(frozen=True)
class CertificateInfo:
    """What the API reports about a ClientCertificate instead of the pfx."""

    thumbprint: str  # SHA-1 of the DER certificate, upper-case hex, as Windows and the old service showed it
    subject_name: str
    expiration: datetime


def load_pfx(pfx: str | None, password: str | None) -> tuple[Any, x509.Certificate, list[x509.Certificate]]:
    """(private key, certificate, further chain) from a base64 pfx.

    Raises:
        ValueError: not base64, not openable with the password, or no certificate and key inside.
    """
    if not pfx:
        raise ValueError("the pfx is missing")
    try:
        data = base64.b64decode(pfx, validate=True)
    except ValueError:
        raise ValueError("the pfx is not valid base64") from None
    try:
        key, cert, extra = pkcs12.load_key_and_certificates(data, password.encode("utf-8") if password else None)
    except ValueError:
        raise ValueError("the pfx cannot be read: it is damaged or the password is wrong") from None
    if key is None or cert is None:
        raise ValueError("the pfx must hold a certificate and its private key")
    return key, cert, list(extra)


def describe_certificate(pfx: str | None, password: str | None) -> CertificateInfo:
    """Thumbprint, subject and expiry of the certificate in a base64 pfx.

    Raises:
        ValueError: see `load_pfx`.
    """
    _, cert, _ = load_pfx(pfx, password)
    return CertificateInfo(
        thumbprint=cert.fingerprint(hashes.SHA1()).hex().upper(),  # noqa: S303 - an identifier, not a security check
        subject_name=cert.subject.rfc4514_string(),
        expiration=cert.not_valid_after_utc.astimezone(UTC),
    )


def _authentications(properties: MutableMapping[str, Any]) -> Iterator[tuple[str, MutableMapping[str, Any]]]:
    action = properties.get("action") or {}
    for path, act in (("properties.action", action), ("properties.action.errorAction", action.get("errorAction"))):
        auth = ((act or {}).get("request") or {}).get("authentication")
        if isinstance(auth, MutableMapping) and auth.get("type") == AuthenticationType.CLIENT_CERTIFICATE:
            yield f"{path}.request.authentication", auth


def fill_certificate_details(properties: MutableMapping[str, Any]) -> list[Problem]:
    """Read every ClientCertificate pfx of a canonical job `properties` and fill in what it shows in its place.

    Returns:
        The problems, by JSON path (empty when every pfx opened); `properties` is updated in place.
    """
    problems: list[Problem] = []
    for path, auth in _authentications(properties):
        try:
            info = describe_certificate(auth.get("pfx"), auth.get("password"))
        except ValueError as exc:
            problems.append(Problem(f"{path}.pfx", str(exc)))
            continue
        auth["certificateThumbprint"] = info.thumbprint
        auth["certificateSubjectName"] = info.subject_name
        auth["certificateExpirationDate"] = info.expiration.isoformat().replace("+00:00", "Z")
    return problems
