"""Headless Chromium for the console's browser tests: the distribution's package driven by playwright's Python
client (no browser download). Under CI=true, running as root, a missing Chromium is installed with apt-get; elsewhere
the tests skip with one line saying how to get one.

Every page records the requests it makes and the errors its scripts log; a test fails on a request to any host other
than the app, and on any JavaScript error (`Page.assert_clean`)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest

INSTALL_HINT = "no Chromium found: install one with `sudo apt-get install -y chromium` to run the browser tests"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def in_ci() -> bool:
    return os.environ.get("CI") == "true"


def browser_available() -> bool:
    """A Chromium is here, or this is CI, where the browser tests must run (installed here, or failing loudly)."""
    return bool(shutil.which("chromium")) or in_ci()


def skip_or_fail(reason: str) -> None:
    """Outside CI a missing browser skips with one line; under CI=true the browser tests must run, so it fails."""
    if in_ci():
        pytest.fail(f"CI=true requires the browser tests to run: {reason}", pytrace=False)
    pytest.skip(reason)


def _find_or_install_chromium() -> str | None:
    found = shutil.which("chromium")
    if found or not in_ci() or os.geteuid() != 0:
        return found
    subprocess.run("apt-get update -qq && apt-get install -y -qq chromium", shell=True, check=True,
                   env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    return shutil.which("chromium")


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    executable = _find_or_install_chromium()
    if executable is None:
        skip_or_fail(INSTALL_HINT)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("playwright is not installed: `pip install -r requirements-dev.txt`")
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=executable, args=LAUNCH_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@dataclass
class Recorded:
    """What a page did: every request URL, and every JavaScript error it logged or threw."""

    origin: str
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def foreign(self) -> list[str]:
        allowed = urlsplit(self.origin).netloc
        return [u for u in self.requests if not u.startswith("data:") and urlsplit(u).netloc != allowed]


@pytest.fixture
def page(browser: object, host: str) -> Iterator[object]:
    """A fresh browser context's page on the console's host; fails the test on foreign requests or JS errors."""
    context = browser.new_context(base_url=host, viewport={"width": 1400, "height": 900})  # type: ignore[attr-defined]
    tab = context.new_page()
    recorded = Recorded(host)
    tab.on("request", lambda request: recorded.requests.append(request.url))
    tab.on("console", lambda message: recorded.errors.append(message.text) if message.type == "error" else None)
    tab.on("pageerror", lambda error: recorded.errors.append(str(error)))
    tab.recorded = recorded
    try:
        yield tab
        assert recorded.foreign() == [], f"the page loaded from other hosts: {recorded.foreign()}"
        assert recorded.errors == [], f"JavaScript errors: {recorded.errors}"
    finally:
        context.close()
