"""The state of one invocation: the global options, the lazily built client, and the command's own failures."""

from __future__ import annotations

from dataclasses import dataclass

import typer

from azsched.client import SchedulerClient, Target
from azsched.output import Format


class Failed(Exception):
    """A command's own failure (not the API's): printed to stderr, exit code `code` (2 for a usage problem)."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class Settings:
    """The global options, resolved once, handed to every command through the click context."""

    target: Target
    output: Format
    pool: int = 16  # keep-alive connections: a command that sends more requests at once raises it before `client`
    _client: SchedulerClient | None = None

    @property
    def client(self) -> SchedulerClient:
        if self._client is None:
            self._client = SchedulerClient(self.target, pool=self.pool)
        return self._client


def settings(ctx: typer.Context) -> Settings:
    """The global options of this invocation."""
    root = ctx.find_root()
    assert isinstance(root.obj, Settings)
    return root.obj
