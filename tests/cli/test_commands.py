"""`azsched collections ...` and `azsched jobs ...` end to end against the local host: what a user sees, the exit
codes, and `-o json` being the API's own JSON."""

from __future__ import annotations

import json

import yaml

from tests.cli.conftest import Cli
from tests.support.api import SchedulerApi
from tests.support.target import Target


def test_collections_lifecycle_and_json_is_the_apis_own(cli: Cli, api: SchedulerApi) -> None:
    created = cli.json("collections", "create", "nightly", "--max-jobs", "7")
    assert created["properties"]["quota"]["maxJobCount"] == 7
    assert cli.json("collections", "show", "nightly") == cli.api_get(api, "/jobCollections/nightly")
    listed = cli.json("collections", "list")
    assert listed == {"value": cli.api_get(api, "/jobCollections")["value"]}

    table = cli("collections", "list").stdout
    assert "nightly" in table and "Standard" in table and "7" in table

    updated = cli.json("collections", "update", "nightly", "--plan", "P20Premium", "--max-recurrence", "5 Minute")
    assert updated["properties"]["sku"]["name"] == "P20Premium"
    assert updated["properties"]["quota"]["maxRecurrence"] == {"frequency": "Minute", "interval": 5}

    cli("collections", "disable", "nightly")
    assert cli.json("collections", "show", "nightly")["properties"]["state"] == "Disabled"
    cli("collections", "enable", "nightly")
    assert cli.json("collections", "show", "nightly")["properties"]["state"] == "Enabled"

    cli("collections", "delete", "nightly")
    missing = cli("collections", "show", "nightly", expect=3)
    assert "ResourceNotFound" in missing.stderr and missing.stdout == ""


def test_jobs_create_show_update_list_and_delete(cli: Cli, api: SchedulerApi) -> None:
    cli("collections", "create", "jc")
    created = cli.json(
        "jobs", "create", "http", "report", "-c", "jc", "--uri", "http://127.0.0.1:9/r", "--method", "post",
        "--header", "X-Team=ops", "--body", '{"a": 1}', "--frequency", "week", "--week-days", "Monday,Friday",
        "--hours", "9", "--minutes", "0,30", "--time-zone", "Europe/Berlin", "--retry-type", "fixed",
        "--retry-count", "2", "--retry-interval", "00:01:00", "--error-uri", "http://127.0.0.1:9/alert",
        # A schedule without a startTime runs once at once (reference (c)): its failing call would change the
        # counters between the two reads compared below.
        "--start", "2027-03-01T00:00:00Z",
    )
    props = created["properties"]
    assert props["action"]["request"] == {"uri": "http://127.0.0.1:9/r", "method": "post",
                                          "headers": {"X-Team": "ops"}, "body": '{"a": 1}'}
    assert props["action"]["retryPolicy"] == {"retryType": "Fixed", "retryInterval": "PT1M", "retryCount": 2}
    assert props["action"]["errorAction"]["request"]["uri"] == "http://127.0.0.1:9/alert"
    assert props["recurrence"] == {"frequency": "Week", "schedule": {"weekDays": ["Monday", "Friday"],
                                   "hours": [9], "minutes": [0, 30]}, "timeZone": "Europe/Berlin"}

    assert cli.json("jobs", "show", "jc/report") == cli.api_get(api, "/jobCollections/jc/jobs/report")
    shown = cli("jobs", "show", "report", "-c", "jc", "--next", "3").stdout
    assert "every Monday and Friday at 09:00, 09:30" in shown or "Monday and Friday" in shown
    assert "Europe/Berlin" in shown
    assert shown.count("\n           20") == 2  # three fire times: one on the `next` line, two below it

    cli.json("jobs", "create", "http", "ping", "-c", "jc", "--uri", "http://127.0.0.1:9/p", "--every", "15m",
             "--start", "2027-03-01T00:00:00Z")
    listed = cli.json("jobs", "list", "-c", "jc")
    assert listed == {"value": cli.api_get(api, "/jobCollections/jc/jobs")["value"]}
    assert [j["name"] for j in listed["value"]] == ["jc/ping", "jc/report"]
    table = cli("jobs", "list", "-c", "jc").stdout
    assert "every 15 minutes, UTC" in table and "Europe/Berlin" in table
    assert [json.loads(line)["name"] for line in cli("-o", "jsonl", "jobs", "list").stdout.splitlines()] == [
        "jc/ping", "jc/report"]
    assert yaml.safe_load(cli("-o", "yaml", "jobs", "list", "--name-contains", "PIN").stdout)["value"][0][
        "name"] == "jc/ping"
    assert cli.json("jobs", "list", "-c", "jc", "--top", "1")["value"][0]["name"] == "jc/ping"

    updated = cli.json("jobs", "update", "jc/ping", "--cron", "0 9 * * 1-5", "--retry-type", "None")
    assert updated["properties"]["recurrence"] == {"cron": "0 9 * * 1-5"}
    assert updated["properties"]["action"]["request"]["uri"] == "http://127.0.0.1:9/p", "PATCH keeps the rest"
    assert updated["properties"]["action"]["retryPolicy"] == {"retryType": "None"}

    cli("jobs", "disable", "jc/ping", "--reason", "target down")
    assert cli.json("jobs", "list", "-c", "jc", "--state", "Disabled")["value"][0]["name"] == "jc/ping"
    cli("jobs", "enable", "jc/ping")
    assert cli.json("jobs", "show", "jc/ping")["properties"]["state"] == "Enabled"

    cli("jobs", "delete", "jc/ping")
    cli("jobs", "show", "jc/ping", expect=3)
    cli("jobs", "delete", "jc/ping", expect=3)


def test_create_from_file_and_other_action_kinds(cli: Cli, tmp_path) -> None:  # noqa: ANN001
    cli("collections", "create", "jc")
    saved = {"properties": {"action": {"type": "Http", "request": {"uri": "http://127.0.0.1:9/f", "method": "GET"}},
                            "recurrence": {"frequency": "Hour", "interval": 2}, "startTime": "2027-03-01T00:00:00Z"}}
    path = tmp_path / "job.json"
    path.write_text(json.dumps(saved))
    from_file = cli.json("jobs", "create", "http", "jc/from-file", "--from-file", str(path), "--disabled")
    assert from_file["properties"]["recurrence"] == {"frequency": "Hour", "interval": 2}
    assert from_file["properties"]["state"] == "Disabled"

    queue = cli.json("jobs", "create", "storage-queue", "jc/q", "--account", "devstoreaccount1", "--queue", "work",
                     "--sas-token", "sv=secret-token", "--message", "hi", "--every", "1h", "--disabled")
    assert queue["properties"]["action"]["queueMessage"] == {"storageAccount": "devstoreaccount1",
                                                             "queueName": "work", "message": "hi"}
    topic = cli.json("jobs", "create", "service-bus-topic", "jc/t", "--namespace", "ns", "--topic", "events",
                     "--message", "tick", "--sas-key-name", "Root", "--sas-key", "k3y", "--every", "1d", "--disabled")
    assert topic["properties"]["action"]["serviceBusTopicMessage"]["authentication"] == {
        "sasKeyName": "Root", "type": "SharedAccessKey"}


def test_exit_codes_usage_not_found_conflict_and_bad_request(cli: Cli) -> None:
    assert cli("jobs", "frobnicate", expect=2).exit_code == 2
    usage = cli("jobs", "show", "no-collection-given", expect=2)
    assert "--collection" in usage.stderr
    cli("jobs", "show", "jc/none", expect=3)

    cli("collections", "create", "tiny", "--max-jobs", "1")
    cli("jobs", "create", "http", "tiny/one", "--uri", "http://127.0.0.1:9/1", "--every", "1h", "--disabled")
    conflict = cli("jobs", "create", "http", "tiny/two", "--uri", "http://127.0.0.1:9/2", "--every", "1h", expect=4)
    assert "maxJobCount" in conflict.stderr

    bad = cli("jobs", "create", "http", "tiny/one", "--uri", "not-a-url", "--every", "1h", expect=1)
    assert "properties.action.request.uri" in bad.stderr
    assert cli("jobs", "create", "http", "tiny/x", "--uri", "http://x", "--every", "fortnightly", expect=2)


def test_run_wait_prints_the_history_entry_it_produced(cli: Cli, target: Target) -> None:
    cli("collections", "create", "jc")
    later = ("--every", "1d", "--start", "2027-03-01T00:00:00Z")  # nothing fires but the runs asked for
    cli("jobs", "create", "http", "jc/on-demand", "--uri", f"{target.url}/hook", *later, "--disabled")
    entry = cli.json("jobs", "run", "jc/on-demand", "--wait", "--timeout", "60")
    assert entry["properties"]["status"] == "Completed"
    assert entry["properties"]["actionName"] == "MainAction"
    assert len(target.requests_to("/hook")) == 1

    history = cli.json("jobs", "history", "jc/on-demand")
    assert history["value"] == [entry]
    assert "Completed" in cli("jobs", "history", "jc/on-demand").stdout

    cli("jobs", "create", "http", "jc/broken", "--uri", "http://127.0.0.1:9/down", "--retry-type", "None", *later,
        "--disabled")
    failed = cli("-o", "json", "jobs", "run", "jc/broken", "--wait", "--timeout", "60", expect=1)
    assert json.loads(failed.stdout)["properties"]["status"] == "Failed"
    assert cli.json("jobs", "history", "jc/broken", "--status", "Failed")["value"][0]["properties"][
        "status"] == "Failed"


def test_preview_of_a_job_of_flags_and_of_a_file(cli: Cli, tmp_path) -> None:  # noqa: ANN001
    cli("collections", "create", "jc")
    cli("jobs", "create", "http", "jc/p", "--uri", "http://127.0.0.1:9/p", "--every", "1d",
        "--start", "2027-03-01T06:00:00Z")
    assert cli.json("jobs", "preview", "jc/p", "--next", "2") == {
        "value": ["2027-03-01T06:00:00Z", "2027-03-02T06:00:00Z"]}
    table = cli("jobs", "preview", "jc/p", "-n", "2").stdout
    assert "day" in table.splitlines()[0] and "UTC" in table.splitlines()[0]
    assert "2027-03-02" in table

    local = cli.json("jobs", "preview", "--frequency", "Month", "--monthly-occurrences", "Friday:-1",
                     "--hours", "18", "--minutes", "30", "--start", "2027-01-01T00:00:00Z", "-n", "3")
    assert local == {"value": ["2027-01-29T18:30:00Z", "2027-02-26T18:30:00Z", "2027-03-26T18:30:00Z"]}
    phrase = cli("jobs", "preview", "--frequency", "Month", "--monthly-occurrences", "Friday:-1", "--hours", "18",
                 "--minutes", "30", "--start", "2027-01-01T00:00:00Z", "-n", "1").stdout.splitlines()[0]
    assert "last Friday" in phrase and "UTC" in phrase

    path = tmp_path / "recurrence.json"
    path.write_text(json.dumps({"frequency": "hour", "interval": 6}))
    assert cli.json("jobs", "preview", "--file", str(path), "--start", "2027-01-01T00:00:00Z", "-n", "2") == {
        "value": ["2027-01-01T00:00:00Z", "2027-01-01T06:00:00Z"]}
    cli("jobs", "preview", expect=2)


def test_every_command_has_help_with_an_example(cli: Cli) -> None:
    import typer.main

    from azsched.main import app

    root = typer.main.get_command(app)
    assert "Examples:" in cli("--help").stdout
    paths: list[list[str]] = []
    for name, command in root.commands.items():  # type: ignore[attr-defined]
        subcommands = getattr(command, "commands", None)
        paths += [[name]] + ([[name, sub] for sub in subcommands] if subcommands else [])
    assert len(paths) >= 20
    for path in paths:
        text = cli(*path, "--help").stdout
        assert "Example" in text and "azsched " in text.split("Example", 1)[1], path
