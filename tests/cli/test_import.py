"""`azsched import` and `azsched export` end to end on the corpus in tests/cli/corpus: every kind of input, the
fixes, secrets, quota, idempotence, --dry-run and the export -> import round trip."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import CORPUS, Cli


def _report(cli: Cli, *args: str, expect: int = 0) -> dict[str, dict]:
    """`import -o json`: {collection/job: step}."""
    steps = cli.json("import", *args, expect=expect)["value"]
    return {f"{s['collection']}/{s['job']}": s for s in steps}


def _props(cli: Cli, job: str) -> dict:
    return cli.json("jobs", "show", job)["properties"]


def test_rest_list_with_lowercase_enums_and_misplaced_fields_then_a_second_run_is_unchanged(cli: Cli) -> None:
    first = _report(cli, str(CORPUS / "rest_list.json"))
    assert {k: s["result"] for k, s in first.items()} == {
        "legacy-rest/nightly-report": "created", "legacy-rest/month-end": "created",
        "legacy-rest/queue-nudge": "created",
    }
    assert cli.json("collections", "show", "legacy-rest")["properties"]["sku"]["name"] == "Standard"

    nightly = _props(cli, "legacy-rest/nightly-report")
    assert nightly["action"]["type"] == "Http"
    assert nightly["action"]["retryPolicy"] == {"retryType": "Fixed", "retryInterval": "PT5M", "retryCount": 2}
    assert "retryPolicy" not in nightly["action"]["request"]
    assert nightly["action"]["request"]["headers"]["secret"] == "a header, not a secret field"
    assert nightly["startTime"] == "2027-03-01T01:00:00Z"
    assert nightly["state"] == "Enabled"
    assert "moved to action.retryPolicy" in " ".join(first["legacy-rest/nightly-report"]["warnings"])

    month_end = _props(cli, "legacy-rest/month-end")
    assert month_end["recurrence"]["schedule"]["monthlyOccurrences"] == [{"day": "Friday", "Occurrence": -1}]
    assert month_end["state"] == "Disabled"
    assert first["legacy-rest/month-end"]["needsSecret"] == ["action.request.authentication.password"]
    nudge = _props(cli, "legacy-rest/queue-nudge")
    assert nudge["state"] == "Disabled", "a Completed job must not run again after the move"
    assert first["legacy-rest/queue-nudge"]["needsSecret"] == ["action.queueMessage.sasToken"]

    second = _report(cli, str(CORPUS / "rest_list.json"))
    assert {s["result"] for s in second.values()} == {"unchanged"}
    table = cli("import", str(CORPUS / "rest_list.json")).stdout
    assert "3 unchanged" in table and "needs a secret" in table


def test_secrets_file_supplies_what_exports_never_hold(cli: Cli, tmp_path: Path) -> None:
    secrets = tmp_path / "secrets.json"
    secrets.write_text(json.dumps({
        "month-end": {"action.request.authentication.password": "pw-from-vault"},
        "legacy-rest/queue-nudge": {"action.queueMessage.sasToken": "sv=2020&sig=abc"},
    }))
    report = _report(cli, str(CORPUS / "rest_list.json"), "--secrets", str(secrets))
    assert all(not s["needsSecret"] for s in report.values())
    month_end = _props(cli, "legacy-rest/month-end")
    assert month_end["state"] == "Disabled", "the export said Disabled"
    assert "password" not in json.dumps(month_end), "secrets are never returned"
    assert _props(cli, "legacy-rest/queue-nudge")["state"] == "Disabled"  # was Completed


def test_arm_template_with_nested_jobs_parameters_variables_and_an_unresolvable_expression(cli: Cli) -> None:
    files = [str(CORPUS / "arm_nested.json"), "-p", f"@{CORPUS / 'arm_nested.parameters.json'}"]
    report = _report(cli, *files, expect=1)
    assert report["arm-nested/prod-heartbeat"]["result"] == "created"
    heartbeat = _props(cli, "arm-nested/prod-heartbeat")
    assert heartbeat["action"]["request"]["uri"] == "http://127.0.0.1:9/prod/heartbeat"
    assert heartbeat["action"]["request"]["headers"] == {"x-env": "PROD"}
    assert heartbeat["action"]["retryPolicy"] == {"retryType": "Fixed", "retryInterval": "PT1M", "retryCount": 3}
    collection = cli.json("collections", "show", "arm-nested")
    assert collection["location"] == "westus"
    assert collection["properties"]["quota"]["maxJobCount"] == 10

    secured = report["arm-nested/secured"]
    assert secured["result"] == "created" and secured["needsSecret"] == ["action.request.authentication.password"]
    assert _props(cli, "arm-nested/secured")["state"] == "Disabled"

    nightly = report["arm-nested/nightly"]
    assert nightly["result"] == "failed"
    assert "resources[1].resources[2]" in nightly["source"]
    assert "properties.action.request.uri" in nightly["message"]
    assert "[reference(resourceId('Microsoft.Web/sites', 'api')).defaultHostName]" in nightly["message"]
    cli("jobs", "show", "arm-nested/nightly", expect=3)

    fixed = _report(cli, *files, "--set", "nightly:action.request.uri=http://127.0.0.1:9/nightly", "-p",
                    "retries=5")
    assert fixed["arm-nested/nightly"]["result"] == "created"
    assert fixed["arm-nested/prod-heartbeat"]["result"] == "updated", "retries=5 changes the retry policy"
    assert _props(cli, "arm-nested/prod-heartbeat")["action"]["retryPolicy"]["retryCount"] == 5
    assert _props(cli, "arm-nested/nightly")["action"]["request"]["uri"] == "http://127.0.0.1:9/nightly"


def test_arm_template_with_top_level_jobs_of_older_api_versions(cli: Cli) -> None:
    report = _report(cli, str(CORPUS / "arm_toplevel.json"))
    assert {k: s["result"] for k, s in report.items()} == {
        "arm-toplevel/weekly": "created", "arm-toplevel/topic-post": "created"}
    weekly = _props(cli, "arm-toplevel/weekly")
    assert weekly["recurrence"]["schedule"]["weekDays"] == ["Monday", "Thursday"]
    assert weekly["action"]["request"]["uri"] == "http://127.0.0.1:9/weekly"
    assert report["arm-toplevel/topic-post"]["needsSecret"] == [
        "action.serviceBusTopicMessage.authentication.sasKey"]
    assert _report(cli, str(CORPUS / "arm_toplevel.json"))["arm-toplevel/weekly"]["result"] == "unchanged"


def test_arm_copy_loops_conditions_if_and_unique_string(cli: Cli) -> None:
    report = _report(cli, str(CORPUS / "arm_copy.json"), expect=1)
    assert {k: s["result"] for k, s in report.items()} == {
        "arm-copy/shard-1": "created", "arm-copy/shard-2": "created", "arm-copy/shard-3": "created",
        "arm-copy/unique": "failed"}, "the audit job's condition is false"
    shard = _props(cli, "arm-copy/shard-2")
    assert shard["action"]["request"] == {"uri": "http://127.0.0.1:9/shard/1", "method": "POST"}
    assert shard["recurrence"]["interval"] == 15
    unique = report["arm-copy/unique"]
    assert "uniqueString(resourceGroup().id)" in unique["message"] and "properties.action.request.uri" in unique[
        "message"] and "--set unique:action.request.uri=" in unique["message"]

    again = _report(cli, str(CORPUS / "arm_copy.json"), "-p", "shards=4", "-p", "withAudit=true", "-p", "tier=test",
                    "--set", "unique:action.request.uri=http://127.0.0.1:9/unique")
    assert {k: s["result"] for k, s in again.items()} == {
        "arm-copy/shard-1": "updated", "arm-copy/shard-2": "updated", "arm-copy/shard-3": "updated",
        "arm-copy/shard-4": "created", "arm-copy/audit": "created", "arm-copy/unique": "created"}
    assert _props(cli, "arm-copy/shard-4")["action"]["request"]["method"] == "GET"


def test_arm_linked_template_by_relative_path_and_a_remote_link_is_an_error(cli: Cli) -> None:
    report = _report(cli, str(CORPUS / "arm_linked.json"), expect=1)
    linked = report["arm-linked-staging/linked-ping"]
    assert linked["result"] == "created" and "linked/jobs.json" in linked["source"]
    assert _props(cli, "arm-linked-staging/linked-ping")["action"]["request"]["uri"] == "http://127.0.0.1:9/linked"
    remote = next(s for s in report.values() if s["job"] == "remote")
    assert remote["result"] == "failed" and "https://example.org/templates/more-jobs.json" in remote["message"]


def test_quota_overflow_is_an_error_per_job_and_nothing_half_written(cli: Cli) -> None:
    report = _report(cli, str(CORPUS / "quota_overflow.json"), expect=1)
    assert {k: s["result"] for k, s in report.items()} == {
        "quota-small/job-01": "created", "quota-small/job-02": "created", "quota-small/job-03": "created",
        "quota-small/job-04": "failed", "quota-small/job-05": "failed"}
    assert "maxJobCount" in report["quota-small/job-04"]["message"]
    assert [j["name"] for j in cli.json("jobs", "list", "-c", "quota-small")["value"]] == [
        "quota-small/job-01", "quota-small/job-02", "quota-small/job-03"]


def test_powershell_output_best_effort_with_what_it_cannot_carry_written_down(cli: Cli) -> None:
    report = _report(cli, str(CORPUS / "powershell.json"))
    ping = _props(cli, "ps-jobs/ps-ping")
    assert ping["recurrence"] == {"frequency": "Minute", "interval": 30}
    assert ping["startTime"] == "2027-03-01T00:00:00Z"
    assert ping["action"]["request"] == {"uri": "http://127.0.0.1:9/ps-ping", "method": "GET"}
    assert any("headers were not carried over" in w for w in report["ps-jobs/ps-ping"]["warnings"])
    queue = _props(cli, "ps-jobs/ps-queue")
    assert queue["recurrence"]["endTime"] == "2027-12-31T00:00:00Z"
    assert queue["state"] == "Disabled"
    assert report["ps-jobs/ps-queue"]["needsSecret"] == ["action.queueMessage.sasToken"]


def test_powershell_cmdlet_objects_keep_the_time_of_day_their_next_run_shows(cli: Cli) -> None:
    """Get-AzureRmSchedulerJob's objects have no schedule: a daily job's 09:30 comes back from `Nextrun`."""
    report = _report(cli, str(CORPUS / "powershell_cmdlet.json"))
    daily = _props(cli, "ps-cmdlet/daily-report")
    assert daily["recurrence"] == {"frequency": "Day", "interval": 1, "count": 500,
                                   "schedule": {"hours": [9], "minutes": [30]}}
    assert daily["action"]["request"]["headers"] == {"Content-Type": "application/json", "x-team": "finance"}
    assert daily["action"]["request"]["authentication"]["username"] == "reporter"
    assert daily["action"]["errorAction"]["queueMessage"]["queueName"] == "report-failures"
    assert daily["state"] == "Disabled"
    assert report["ps-cmdlet/daily-report"]["needsSecret"] == [
        "action.request.authentication.password", "action.errorAction.queueMessage.sasToken"]
    assert any("hours [9]" in w and "several times" in w for w in report["ps-cmdlet/daily-report"]["warnings"])

    weekly = _props(cli, "ps-cmdlet/weekly-sweep")
    assert weekly["recurrence"]["schedule"] == {"weekDays": ["Friday"], "hours": [6], "minutes": [15]}
    assert weekly["recurrence"]["endTime"] == "2027-12-31T00:00:00Z"
    assert weekly["action"]["serviceBusQueueMessage"]["namespace"] == "contoso-bus"
    assert weekly["action"]["serviceBusQueueMessage"]["authentication"]["sasKeyName"] == "sender"

    hourly = _props(cli, "ps-cmdlet/hourly-at-start")
    assert hourly["recurrence"] == {"frequency": "Hour", "interval": 1, "count": 20,
                                    "endTime": "2027-03-02T12:00:00Z"}, "runs on the start's minute: no schedule"
    assert {s["result"] for s in _report(cli, str(CORPUS / "powershell_cmdlet.json")).values()} == {"unchanged"}


def test_powershell_resource_objects_carry_the_whole_schedule(cli: Cli) -> None:
    """Get-AzureRmResource -ExpandProperties (camelCase properties) and the SDK's JobDefinition (PascalCase, enums
    as numbers, a TimeSpan object) both carry the recurrence's schedule in full."""
    report = _report(cli, str(CORPUS / "powershell_resource.json"))
    assert {s["result"] for s in report.values()} == {"created"}
    close = _props(cli, "ps-resource/nightly-close")
    assert close["recurrence"]["schedule"] == {"weekDays": ["Monday", "Friday"], "hours": [9, 17], "minutes": [30]}
    month_end = _props(cli, "ps-resource/month-end-sdk")
    assert month_end["recurrence"]["frequency"] == "Month"
    assert month_end["recurrence"]["schedule"]["monthlyOccurrences"] == [{"day": "Friday", "Occurrence": -1}]
    assert month_end["recurrence"]["schedule"]["hours"] == [23]
    assert month_end["action"]["retryPolicy"] == {"retryType": "Fixed", "retryInterval": "PT5M", "retryCount": 2}
    assert month_end["state"] == "Disabled"


def test_classic_2014_job_json_needs_a_collection(cli: Cli) -> None:
    missing = _report(cli, str(CORPUS / "classic_2014.json"), expect=1)
    assert "--collection" in missing["None/classic-ping"]["message"]
    report = _report(cli, str(CORPUS / "classic_2014.json"), "--collection", "classic")
    assert report["classic/classic-ping"]["result"] == "created"
    props = _props(cli, "classic/classic-ping")
    assert props["recurrence"] == {"frequency": "Minute", "interval": 30, "count": 100}
    assert props["action"]["retryPolicy"] == {"retryType": "None"}


def test_dry_run_prints_the_plan_and_writes_nothing(cli: Cli) -> None:
    plan = cli("import", str(CORPUS / "rest_list.json"), str(CORPUS / "quota_overflow.json"), "--dry-run",
               expect=1).stdout
    assert "would create" in plan and "error" in plan and "plan: 8 jobs" in plan
    assert cli.json("collections", "list") == {"value": []}


def test_bad_input_is_a_usage_error(cli: Cli, tmp_path: Path) -> None:
    not_json = tmp_path / "x.json"
    not_json.write_text("{nope")
    assert "not JSON" in cli("import", str(not_json), expect=2).stderr
    other = tmp_path / "other.json"
    other.write_text('{"hello": "world"}')
    cli("import", str(other), expect=2)
    cli("import", str(CORPUS / "rest_list.json"), "--set", "novalue", expect=2)


def test_export_then_import_into_another_collection_gives_equal_definitions(cli: Cli, tmp_path: Path) -> None:
    _report(cli, str(CORPUS / "rest_list.json"))
    _report(cli, str(CORPUS / "arm_toplevel.json"))
    exported = cli("export", "-c", "legacy-rest", "-c", "arm-toplevel").stdout
    assert "password" not in exported and "sasKey\"" not in exported
    path = tmp_path / "jobs.json"
    path.write_text(exported)
    report = _report(cli, str(path), "--collection", "copy")
    assert {s["result"] for s in report.values()} == {"created"}

    def definitions(collection: str) -> dict[str, dict]:
        jobs = cli.json("jobs", "list", "-c", collection)["value"]
        return {j["name"].split("/")[1]: {k: v for k, v in j["properties"].items() if k != "status"} for j in jobs}

    originals = {**definitions("legacy-rest"), **definitions("arm-toplevel")}
    assert definitions("copy") == originals
    assert {s["result"] for s in _report(cli, str(path), "--collection", "copy").values()} == {"unchanged"}


def test_a_job_that_finished_since_the_first_import_stays_unchanged(cli: Cli, tmp_path: Path, target) -> None:  # noqa: ANN001
    from devhost.tests.running import wait_for

    path = tmp_path / "once.json"
    path.write_text(json.dumps({"value": [{"name": "once/now", "properties": {
        "action": {"type": "Http", "request": {"uri": f"{target.url}/once", "method": "POST"}},
        "state": "Enabled"}}]}))
    assert _report(cli, str(path))["once/now"]["result"] == "created"
    wait_for(lambda: _props(cli, "once/now")["state"] == "Completed", "the one-time job to complete", 60)
    assert _report(cli, str(path))["once/now"]["result"] == "unchanged"
    assert len(target.requests_to("/once")) == 1, "re-importing a finished job does not run it again"
