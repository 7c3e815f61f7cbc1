"""Shared fixtures: a private in-memory Azurite on free loopback ports, the local Functions host serving
function_app.py against it, real HTTP targets, and an API client. Nothing touches the developer's `make run` data."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from devhost.azurite import Azurite, free_port
from devhost.tests.running import Devhost
from tests.support.api import SchedulerApi
from tests.support.target import Target

REPO = Path(__file__).resolve().parents[1]
# One key per test session, shared by every host it starts, so any host can open the secrets another one stored.
SECRET_KEYS = f"test={base64.b64encode(os.urandom(32)).decode()}"


@pytest.fixture(scope="session")
def azurite() -> Iterator[Azurite]:
    with Azurite.start(repo_root=REPO) as emulator:
        yield emulator


def host_env(azurite: Azurite, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        AzureWebJobsStorage=azurite.connection_string,
        SCHEDULER_ALLOW_LOOPBACK_TARGETS="true",
        SCHEDULER_TICK_SCHEDULE="*/5 * * * * *",
        SCHEDULER_MAINTENANCE_SCHEDULE="0 30 3 * * *",
        SCHEDULER_LOOKAHEAD_SECONDS="20",
        SCHEDULER_SECRET_KEYS=SECRET_KEYS,
        SCHEDULER_STORAGE_QUEUE_ENDPOINTS=f"devstoreaccount1=http://127.0.0.1:{azurite.queue_port}/devstoreaccount1",
        SCHEDULER_MIN_RETRY_INTERVAL_SECONDS="1",
        DEVHOST_QUEUE_LEASE_SECONDS="6",
    )
    env.update(extra)
    return env


def start_host(azurite: Azurite, log_path: Path, **extra: str) -> tuple[Devhost, str]:
    port = free_port()
    host = Devhost(["--app-dir", str(REPO), "--port", str(port)], host_env(azurite, **extra), log_path)
    host.wait_ready()
    return host, f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def host(azurite: Azurite, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of the local Functions host serving function_app.py (ticks every 5 s, lookahead 20 s)."""
    process, url = start_host(azurite, tmp_path_factory.mktemp("host") / "host.log")
    try:
        yield url
    finally:
        process.terminate()


@pytest.fixture
def api(host: str) -> SchedulerApi:
    return SchedulerApi(host)


@pytest.fixture
def target() -> Iterator[Target]:
    server = Target()
    try:
        yield server
    finally:
        server.close()
