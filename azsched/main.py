"""The `azsched` command: global options, exit codes, and the command groups.

Exit codes: 0 ok, 1 failed, 2 usage, 3 not found, 4 conflict (a quota or a state the API refused).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from azsched.client import ApiError, Target
from azsched.context import Failed, Settings
from azsched.output import Format, note


class _Group(TyperGroup):
    """Maps API errors to the exit codes (3 not found, 4 conflict, 1 otherwise) with the message on stderr."""

    def invoke(self, ctx: Any) -> Any:  # typer's vendored click Context
        try:
            return super().invoke(ctx)
        except ApiError as exc:
            note(f"error: {exc.code}: {exc.message}")
            raise typer.Exit(exc.exit_code) from None
        except Failed as exc:
            note(f"error: {exc}")
            raise typer.Exit(exc.code) from None


HELP = """A command line for the scheduler's REST API, and a one-command migration from Azure Scheduler exports.

\b
Examples:
  azsched collections create nightly-jobs
  azsched jobs create http ping -c nightly-jobs --uri https://example.org/ping --every 15m
  azsched jobs list -c nightly-jobs -o json
  azsched import exported-jobs.json azuredeploy.json --parameters @azuredeploy.parameters.json --dry-run
"""

app = typer.Typer(cls=_Group, help=HELP, no_args_is_help=True, rich_markup_mode=None, pretty_exceptions_enable=False)


@app.callback()
def main(
    ctx: typer.Context,
    endpoint: Annotated[str, typer.Option(envvar="AZSCHED_ENDPOINT", help="Base URL of the deployment.")] = (
        "http://127.0.0.1:7071"
    ),
    subscription: Annotated[str, typer.Option(envvar="AZSCHED_SUBSCRIPTION", help="Subscription id in the paths.")] = (
        "local"
    ),
    resource_group: Annotated[str, typer.Option(
        "--resource-group", "-g", envvar="AZSCHED_RESOURCE_GROUP", help="Resource group in the paths."
    )] = "local",
    output: Annotated[Format, typer.Option("--output", "-o", envvar="AZSCHED_OUTPUT", help="Output format.")] = (
        Format.TABLE
    ),
    audience: Annotated[
        str | None,
        typer.Option(
            envvar="AZSCHED_AUDIENCE",
            help="Entra audience of the deployment: send a bearer token from DefaultAzureCredential (none locally).",
        ),
    ] = None,
) -> None:
    """Global options apply to every command."""
    ctx.obj = Settings(Target(endpoint, subscription, resource_group, audience), output)


@app.command()
def completion(
    shell: Annotated[str, typer.Argument(help="bash, zsh, fish or powershell.")],
) -> None:
    """Print the shell completion script (job and collection names are completed from the endpoint).

    Example: azsched completion bash >> ~/.bashrc   (or: azsched --install-completion)
    """
    from typer._completion_shared import get_completion_script  # typer's own scripts, as --show-completion prints

    if shell not in ("bash", "zsh", "fish", "powershell", "pwsh"):
        raise Failed(f"no completion for shell '{shell}': use bash, zsh, fish or powershell", 2)
    typer.echo(get_completion_script(prog_name="azsched", complete_var="_AZSCHED_COMPLETE", shell=shell))


def _register() -> None:
    from azsched.commands import collections, jobs, migrate

    app.add_typer(collections.app, name="collections", help="Job collections: list, show, create, update, delete, "
                  "enable, disable.\n\nExample: azsched collections create nightly-jobs --max-jobs 100")
    app.add_typer(jobs.app, name="jobs", help="Jobs: list, show, create, update, delete, enable, disable, run, "
                  "history, preview.\n\nExample: azsched jobs list -c nightly-jobs")
    migrate.register(app)


_register()
