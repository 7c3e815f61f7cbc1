"""The target guard reads a URL once and the HTTP client can read it no other way (issue 16, item 1).

Every spelling here reached a refused address through the old guard: the parser differential of a backslash before
`@`, Azure's WireServer, and the metadata address inside IPv6 (IPv4-compatible, NAT64, 6to4).
"""

from __future__ import annotations

import pytest
import urllib3
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler_core.adapters.target_guard import TargetGuard, TargetRefused
from scheduler_core.domain.targets import parse_target


def nowhere(host: str) -> list[str]:
    raise AssertionError(f"resolved {host}")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8090\\@192.0.2.1/x",
        "http://169.254.169.254\\@any.example.com/",
        "http://user:pw@example.com/",
        "http://example.com@169.254.169.254/",
        "http://exa%6dple.com/",
        "http://example.com /x",
        "http://example.com/\r\nX-Injected: 1",
        "ftp://example.com/",
        "http:///path",
        "http://[::1/",
        "http://example.com:99999/",
        "//example.com/",
    ],
)
def test_urls_another_parser_could_read_differently_are_refused_before_any_lookup(url: str) -> None:
    with pytest.raises(TargetRefused):
        TargetGuard(allow_loopback=True, resolver=nowhere).check_url(url)


@pytest.mark.parametrize(
    "host",
    [
        "169.254.169.254",
        "168.63.129.16",
        "[::169.254.169.254]",
        "[::ffff:169.254.169.254]",
        "[64:ff9b::a9fe:a9fe]",
        "[2002:a9fe:a9fe::1]",
        "[fd00:ec2::254]",
        "[fe80::1]",
    ],
)
def test_metadata_and_wireserver_in_every_spelling_are_refused(host: str) -> None:
    with pytest.raises(TargetRefused, match="SCHEDULER_ALLOW_LINK_LOCAL_TARGETS"):
        TargetGuard(allow_loopback=True, resolver=nowhere).check_url(f"http://{host}/metadata")


@pytest.mark.parametrize("host", ["[::127.0.0.1]", "[::ffff:127.0.0.1]", "[64:ff9b::7f00:1]", "[2002:7f00:1::1]"])
def test_loopback_inside_ipv6_is_loopback(host: str) -> None:
    with pytest.raises(TargetRefused, match="SCHEDULER_ALLOW_LOOPBACK_TARGETS"):
        TargetGuard(resolver=nowhere).check_url(f"http://{host}/")


def test_an_ordinary_url_reads_as_every_client_reads_it() -> None:
    target = TargetGuard(resolver=lambda host: ["20.1.2.3"]).check_url("HTTPS://Api.Example.COM:8443/run?x=1#frag")
    assert (target.scheme, target.host, target.port) == ("https", "api.example.com", 8443)


_pieces = st.sampled_from(
    ["example.com", "127.0.0.1", "169.254.169.254", "[::1]", "[64:ff9b::a9fe:a9fe]", "@", "\\", ":", "80", "#",
     "?", "/", "%40", "user", ".", "a", " ", "[", "]", "\t", "%"]
)


@settings(max_examples=400, deadline=None)
@given(scheme=st.sampled_from(["http://", "https://", "HTTP://"]), authority=st.lists(_pieces, max_size=7).map("".join),
       rest=st.lists(_pieces, max_size=4).map("".join))
def test_what_the_guard_accepts_is_the_host_urllib3_connects_to(scheme: str, authority: str, rest: str) -> None:
    url = f"{scheme}{authority}/{rest}"
    try:
        target = parse_target(url)
    except ValueError:
        return  # refused: nothing is connected to
    parsed = urllib3.util.parse_url(url)
    assert (parsed.host or "").strip("[]").lower().rstrip(".") == target.host.lower()
    assert (parsed.port or {"http": 80, "https": 443}[target.scheme]) == target.port
