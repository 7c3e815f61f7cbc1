"""Which hosts a job may call: no cloud metadata or link-local addresses, no loopback, unless settings allow them.

A job's target is chosen by whoever can write jobs, and the function app can reach things they must not: the
instance metadata and managed identity endpoints (169.254.169.254, fd00:ec2::254) and services on its own loopback.
Every address a host name resolves to is checked, so a public name pointing at a private address is refused too.

Known limit: the check resolves the name, then the HTTP client resolves it again to connect; a DNS server that
answers differently the second time (rebinding) is not caught. Refusing redirects (reference (h)) closes the other
common bypass.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

_METADATA = (ipaddress.ip_address("fd00:ec2::254"),)

Resolver = Callable[[str], Sequence[str]]


def resolve(host: str) -> list[str]:
    """Every address `host` resolves to (IPv4 and IPv6)."""
    infos: list[Any] = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    return sorted({info[4][0] for info in infos})


class TargetRefused(Exception):
    """A target the settings do not allow; the message says why and which setting would allow it."""


class TargetGuard:
    """Checks outbound targets against `SCHEDULER_ALLOW_LOOPBACK_TARGETS` / `SCHEDULER_ALLOW_LINK_LOCAL_TARGETS`."""

    def __init__(
        self, *, allow_loopback: bool = False, allow_link_local: bool = False, resolver: Resolver = resolve
    ) -> None:
        self._allow_loopback = allow_loopback
        self._allow_link_local = allow_link_local
        self._resolve = resolver

    def check_url(self, url: str) -> None:
        """Raises TargetRefused unless the URL's host may be called."""
        host = urlsplit(url).hostname
        if not host:
            raise TargetRefused(f"The target URL has no host: '{url}'.")
        self.check_host(host)

    def check_host(self, host: str) -> None:
        """Raises TargetRefused when `host` (a name or an address) resolves to a forbidden address."""
        try:
            addresses = [ipaddress.ip_address(host.strip("[]"))]
        except ValueError:
            try:
                addresses = [ipaddress.ip_address(a.split("%")[0]) for a in self._resolve(host)]
            except OSError as exc:
                raise TargetRefused(f"The target host '{host}' could not be resolved: {exc.strerror or exc}.") from None
        for address in addresses:
            reason = self._refusal(address)
            if reason:
                raise TargetRefused(f"The target host '{host}' resolves to {address}, {reason}.")

    def _refusal(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if (address.is_link_local or address in _METADATA) and not self._allow_link_local:
            return (
                "a link-local or cloud metadata address; targets there are refused unless "
                "SCHEDULER_ALLOW_LINK_LOCAL_TARGETS is true"
            )
        if (address.is_loopback or address.is_unspecified) and not self._allow_loopback:
            return "a loopback address; targets there are refused unless SCHEDULER_ALLOW_LOOPBACK_TARGETS is true"
        return None
