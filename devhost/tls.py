"""A self-signed certificate for Azurite over HTTPS, and a CA bundle that trusts it besides the usual roots."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import certifi
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

VALID_DAYS = 30
# A certificate this close to its end is replaced at start rather than reused.
RENEW_BEFORE = timedelta(days=2)
COMMON_NAME = "devhost parity (127.0.0.1)"


@dataclass(frozen=True)
class TlsFiles:
    """The PEM files of the local certificate.

    Attributes:
        cert: The self-signed certificate (also its own CA), for 127.0.0.1 and localhost.
        key: Its private key (unencrypted; it never leaves the state folder).
        bundle: certifi's roots (or the bundle given) plus the certificate: what REQUESTS_CA_BUNDLE and
            SSL_CERT_FILE point at, so that calls to real HTTPS endpoints keep working.
    """

    cert: Path
    key: Path
    bundle: Path


def ensure_certificate(folder: Path, now: datetime | None = None, roots: Path | None = None) -> TlsFiles:
    """Reuses the certificate in folder while it is valid for a while yet, else makes a new one.

    Args:
        folder: Where cert.pem, key.pem and ca-bundle.pem live (created if missing).
        now: The current instant (tests).
        roots: The CA bundle the new bundle extends (default: certifi's), e.g. an operator's own private CAs.

    Returns:
        The three files.
    """
    now = now or datetime.now(UTC)
    folder.mkdir(parents=True, exist_ok=True)
    files = TlsFiles(folder / "cert.pem", folder / "key.pem", folder / "ca-bundle.pem")
    if not _still_valid(files, now):
        _make(files, now)
    if roots is None or roots.resolve() == files.bundle.resolve():  # never extend our own bundle with itself
        roots = Path(certifi.where())
    base = roots.read_bytes().rstrip(b"\n")
    files.bundle.write_bytes(base + b"\n" + files.cert.read_bytes())
    return files


def _still_valid(files: TlsFiles, now: datetime) -> bool:
    if not (files.cert.exists() and files.key.exists()):
        return False
    try:
        cert = x509.load_pem_x509_certificate(files.cert.read_bytes())
    except ValueError:
        return False
    return cert.not_valid_after_utc - RENEW_BEFORE > now


def _make(files: TlsFiles, now: datetime) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, COMMON_NAME)])
    names = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        # Its own CA: OpenSSL accepts a self-signed leaf as a trust anchor only when it says so.
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    files.key.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    files.key.chmod(0o600)
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
