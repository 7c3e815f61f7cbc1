"""`azsched` run in-process (typer's CliRunner) against the local host of tests/conftest.py, each test in its own
resource group so that listing shows only what the test made."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from azsched.main import app
from tests.support.api import SchedulerApi

CORPUS = Path(__file__).parent / "corpus"


@dataclass
class Cli:
    """`cli("jobs", "list")` runs `azsched --endpoint HOST --subscription SUB -g GROUP jobs list`."""

    host: str
    subscription: str
    group: str

    def __call__(self, *args: str, expect: int | None = 0) -> Result:
        runner = CliRunner()
        result = runner.invoke(
            app, ["--endpoint", self.host, "--subscription", self.subscription, "-g", self.group, *args],
            env={"AZSCHED_COLLECTION": None, "AZSCHED_OUTPUT": None, "COLUMNS": "250"},
        )
        if expect is not None:
            assert result.exit_code == expect, (
                f"azsched {' '.join(args)} exited {result.exit_code}, expected {expect}\n"
                f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}\n{result.exception!r}"
            )
        return result

    def json(self, *args: str, expect: int = 0) -> Any:
        return json.loads(self("-o", "json", *args, expect=expect).stdout)

    def api_get(self, api: SchedulerApi, path: str, **params: Any) -> Any:
        """The API's own JSON for a path under this test's resource group."""
        base = f"/subscriptions/{self.subscription}/resourceGroups/{self.group}/providers/Microsoft.Scheduler"
        response = api.call("GET", base + path, **params)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def cli(host: str) -> Cli:
    return Cli(host, "sub-cli", f"rg-{uuid.uuid4().hex[:10]}")
