"""Run ``python -m devhost`` as a subprocess and wait for it the way a user would: its ready line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

REPO_ROOT = Path(__file__).resolve().parents[2]
DEADLINE_SECONDS = 30.0
T = TypeVar("T")


def wait_for(condition: Callable[[], T], what: str, deadline: float = DEADLINE_SECONDS) -> T:
    """Polls condition until it returns something truthy; fails after a generous deadline.

    Returns:
        The truthy value.
    """
    end = time.monotonic() + deadline
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


class Devhost:
    """A devhost subprocess with its stdout collected and stderr in a log file.

    Args:
        args: Arguments after ``python -m devhost``.
        env: The full environment.
        log_path: Where its stderr goes.
    """

    def __init__(self, args: list[str], env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self.lines: list[str] = []
        with open(log_path, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "devhost", *args],
                cwd=REPO_ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
            )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def output(self) -> str:
        """Its stdout and stderr so far, for failure messages."""
        return "\n".join(self.lines) + "\n--- stderr ---\n" + self.log_path.read_text(errors="replace")

    def wait_ready(self) -> None:
        """Waits for the ready line; fails with its output if it exits first."""

        def ready() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"devhost exited with {self.process.returncode}:\n{self.output()}")
            return any(line.startswith("devhost: ready") for line in self.lines)

        wait_for(ready, "devhost to be ready")

    def terminate(self) -> int:
        """Sends SIGTERM and returns the exit code (killing it if it does not stop in time)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=DEADLINE_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"devhost did not stop on SIGTERM:\n{self.output()}") from None
        self._reader.join(timeout=5)
        return code


def devhost_env(**values: str) -> dict[str, str]:
    """The test process's environment without storage settings, plus values."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AzureWebJobs")}
    env.update(values)
    return env
