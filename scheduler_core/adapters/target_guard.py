"""Which addresses a job may call, checked on the address that is actually connected to.

A job's target is chosen by whoever can write jobs, and the function app can reach things they must not: the
instance metadata and managed identity endpoints (169.254.169.254, fd00:ec2::254), Azure's WireServer
(168.63.129.16), and services on its own loopback. The policy:

- the URL is read once by `scheduler_core.domain.targets.parse_target`, which refuses every form that another parser
  could read differently (backslashes, user information, percent-encoded hosts);
- every address the host resolves to is checked, with IPv4 addresses embedded in IPv6 (IPv4-mapped, -compatible,
  NAT64 64:ff9b::/96, 6to4 2002::/16, Teredo) checked as the IPv4 address they reach;
- the connection itself goes through `GuardedAdapter` (adapters/guarded_http.py), which resolves the host once,
  checks those addresses, and connects to them, not to a second resolution: a DNS answer that changes between the
  check and the connect (rebinding) changes nothing.

Link-local addresses (the metadata service among them) and the WireServer are refused unless
`SCHEDULER_ALLOW_LINK_LOCAL_TARGETS`; loopback and the unspecified address unless `SCHEDULER_ALLOW_LOOPBACK_TARGETS`.
Redirects are never followed (docs/actions.md).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from typing import Any

from scheduler_core.domain.targets import Target, parse_target

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str], Sequence[str]]

_METADATA_V6 = ipaddress.ip_address("fd00:ec2::254")
_WIRESERVER = ipaddress.ip_address("168.63.129.16")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")


def resolve(host: str) -> list[str]:
    """Every address `host` resolves to (IPv4 and IPv6)."""
    infos: list[Any] = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    return sorted({info[4][0] for info in infos})


class TargetRefused(Exception):
    """A target the settings do not allow; the message says why and which setting would allow it."""


def embedded_ipv4(address: IPAddress) -> list[IPAddress]:
    """The address itself and every IPv4 address it carries inside (mapped, compatible, NAT64, 6to4, Teredo)."""
    found: list[IPAddress] = [address]
    if isinstance(address, ipaddress.IPv6Address):
        packed = address.packed
        if address.ipv4_mapped is not None:
            found.append(address.ipv4_mapped)
        if address.sixtofour is not None:
            found.append(address.sixtofour)
        if address.teredo is not None:
            found.append(address.teredo[1])
        if address in _NAT64 or address in _NAT64_LOCAL:
            found.append(ipaddress.IPv4Address(packed[-4:]))
        if packed[:12] == bytes(12) and int(address) > 1:  # IPv4-compatible ::a.b.c.d (deprecated, still routed)
            found.append(ipaddress.IPv4Address(packed[-4:]))
    return found


class TargetGuard:
    """Checks outbound targets against `SCHEDULER_ALLOW_LOOPBACK_TARGETS` / `SCHEDULER_ALLOW_LINK_LOCAL_TARGETS`."""

    def __init__(
        self, *, allow_loopback: bool = False, allow_link_local: bool = False, resolver: Resolver = resolve
    ) -> None:
        self._allow_loopback = allow_loopback
        self._allow_link_local = allow_link_local
        self._resolve = resolver

    def check_url(self, url: str) -> Target:
        """The URL read once, after checking every address its host resolves to.

        Raises:
            TargetRefused: the URL is malformed, or its host resolves to a refused address or not at all.
        """
        try:
            target = parse_target(url)
        except ValueError as exc:
            raise TargetRefused(f"The target URL {exc}.") from None
        self.addresses(target.host)
        return target

    def check_host(self, host: str) -> None:
        """Raises TargetRefused when `host` (a name or an address) resolves to a forbidden address."""
        self.addresses(host)

    def addresses(self, host: str) -> list[IPAddress]:
        """The addresses to connect to for `host`, all of them allowed.

        Raises:
            TargetRefused: any address is refused (a name that resolves to one refused address is refused whole), or
                the name does not resolve.
        """
        literal = host.strip("[]").split("%")[0]
        try:
            addresses: list[IPAddress] = [ipaddress.ip_address(literal)]
        except ValueError:
            try:
                addresses = [ipaddress.ip_address(a.split("%")[0]) for a in self._resolve(host)]
            except OSError as exc:
                raise TargetRefused(f"The target host '{host}' could not be resolved: {exc.strerror or exc}.") from None
            if not addresses:
                raise TargetRefused(f"The target host '{host}' resolves to no address.") from None
        for address in addresses:
            reason = self.refusal(address)
            if reason:
                raise TargetRefused(f"The target host '{host}' resolves to {address}, {reason}.")
        return addresses

    def refusal(self, address: IPAddress) -> str | None:
        """Why `address` may not be called, or None."""
        for candidate in embedded_ipv4(address):
            if (candidate.is_link_local or candidate in (_METADATA_V6, _WIRESERVER)) and not self._allow_link_local:
                return (
                    "a link-local, cloud metadata or WireServer address; targets there are refused unless "
                    "SCHEDULER_ALLOW_LINK_LOCAL_TARGETS is true"
                )
            if (candidate.is_loopback or candidate.is_unspecified) and not self._allow_loopback:
                return "a loopback address; targets there are refused unless SCHEDULER_ALLOW_LOOPBACK_TARGETS is true"
        return None
