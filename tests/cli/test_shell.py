"""`azsched` as a shell runs it, in a subprocess: `history --follow` streaming, and shell completion of collection and
job names from the endpoint."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path

from devhost.tests.running import wait_for
from tests.cli.conftest import Cli
from tests.support.target import Target

ROOT = Path(__file__).resolve().parents[2]


def _env(cli: Cli, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AZSCHED_")}
    env.update(AZSCHED_ENDPOINT=cli.host, AZSCHED_SUBSCRIPTION=cli.subscription, AZSCHED_RESOURCE_GROUP=cli.group,
               **extra)
    return env


def test_history_follow_prints_each_new_entry_as_it_comes(cli: Cli, target: Target) -> None:
    cli("collections", "create", "jc")
    cli("jobs", "create", "http", "jc/j", "--uri", f"{target.url}/f", "--every", "1d", "--start",
        "2027-03-01T00:00:00Z", "--disabled")
    follower = subprocess.Popen(
        [sys.executable, "-m", "azsched", "-o", "json", "jobs", "history", "jc/j", "--follow", "--interval", "0.3"],
        cwd=ROOT, env=_env(cli), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in follower.stdout or []], daemon=True).start()
    try:
        for expected in (1, 2):
            cli("jobs", "run", "jc/j")
            entry = json.loads(wait_for(lambda: _next(lines), f"history entry {expected} on stdout", 60))
            assert entry["properties"]["status"] == "Completed"
            assert entry["name"].startswith("jc/j/")
        assert follower.poll() is None, "--follow keeps running"
    finally:
        follower.send_signal(signal.SIGINT)
        assert follower.wait(timeout=30) == 0


def _next(lines: queue.Queue[str]) -> str | None:
    try:
        return lines.get_nowait()
    except queue.Empty:
        return None


def _complete(cli: Cli, words: str) -> str:
    env = _env(cli, _AZSCHED_COMPLETE="complete_zsh", _TYPER_COMPLETE_ARGS=words)
    return subprocess.run([sys.executable, "-m", "azsched"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60).stdout


def test_completion_of_collection_and_job_names_from_the_endpoint(cli: Cli) -> None:
    cli("collections", "create", "alpha")
    cli("collections", "create", "beta")
    cli("jobs", "create", "http", "alpha/nightly", "--uri", "http://127.0.0.1:9/n", "--every", "1d", "--disabled")
    cli("jobs", "create", "http", "alpha/noon", "--uri", "http://127.0.0.1:9/n", "--every", "1d", "--disabled")
    collections = _complete(cli, "azsched collections show a")
    assert "alpha" in collections and "beta" not in collections
    jobs = _complete(cli, "azsched jobs show alpha/n")
    assert "alpha/nightly" in jobs and "alpha/noon" in jobs
    assert "nightly" in _complete(cli, "azsched jobs run --collection alpha ni")

    script = cli("completion", "bash").stdout
    assert "_AZSCHED_COMPLETE=complete_bash" in script
    cli("completion", "tcsh", expect=2)
