"""`azsched import` on files as people have them: Windows PowerShell's UTF-16, templates with comments and trailing
commas, saved list pages, `az resource list` output; and bad files, which get an error naming the file and the place
in it, never a traceback and never a secret."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import CORPUS, Cli


def _report(cli: Cli, *args: str, expect: int = 0) -> dict[str, dict]:
    """`import -o json`: {collection/job: step}."""
    steps = cli.json("import", *args, expect=expect)["value"]
    return {f"{s['collection']}/{s['job']}": s for s in steps}


def test_windows_powershell_utf16_output_and_secrets_file_import(cli: Cli, tmp_path: Path) -> None:
    """`Get-AzureRmSchedulerJob | ConvertTo-Json > jobs.json` in Windows PowerShell writes UTF-16 with a BOM."""
    jobs = tmp_path / "jobs.json"
    jobs.write_text((CORPUS / "powershell_cmdlet.json").read_text(), encoding="utf-16")
    secrets = tmp_path / "secrets.json"
    secrets.write_text(json.dumps({"daily-report": {"action.request.authentication.password": "pw"}}),
                       encoding="utf-16")
    report = _report(cli, str(jobs), "--secrets", str(secrets))
    assert {s["result"] for s in report.values()} == {"created"}
    assert report["ps-cmdlet/daily-report"]["needsSecret"] == ["action.errorAction.queueMessage.sasToken"]

    without_bom = tmp_path / "rest.json"
    without_bom.write_bytes((CORPUS / "rest_list.json").read_text().encode("utf-16-le"))
    assert len(_report(cli, str(without_bom))) == 3


def test_arm_template_with_comments_trailing_commas_and_crlf_imports(cli: Cli, tmp_path: Path) -> None:
    template = tmp_path / "azuredeploy.json"
    template.write_bytes((CORPUS / "arm_comments.json").read_text().replace("\n", "\r\n").encode("utf-8-sig"))
    report = _report(cli, str(template))
    assert report["arm-comments/weekday-ping"]["result"] == "created"
    props = cli.json("jobs", "show", "arm-comments/weekday-ping")["properties"]
    assert props["action"]["request"]["uri"] == "http://127.0.0.1:9/ping?from=//scheduler,"
    assert props["recurrence"]["schedule"]["weekDays"] == ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]


def test_files_that_cannot_be_read_name_the_file_and_the_place(cli: Cli, tmp_path: Path) -> None:
    latin = tmp_path / "latin.json"
    latin.write_bytes('{"value": [{"name": "jc/caf\u00e9"}]}'.encode("latin-1"))
    error = cli("import", str(latin), expect=2).stderr
    assert "latin.json: not UTF-8 or UTF-16 text" in error and "Traceback" not in error

    broken = tmp_path / "broken.json"
    broken.write_text('{\n  // a comment\n  "resources": [\n    {"type": "jobs" "name": "x"}\n  ]\n}\n')
    assert "broken.json: not JSON (Expecting ',' delimiter: line 4 column 21)" in cli(
        "import", str(broken), expect=2).stderr

    listed = tmp_path / "listed.json"
    listed.write_text(json.dumps({"parameters": ["jobCollectionName"], "resources": []}))
    assert "listed.json: parameters must be an object" in cli("import", str(listed), expect=2).stderr


def test_a_parameter_value_of_the_wrong_type_is_a_usage_error_that_does_not_show_it(cli: Cli, tmp_path: Path) -> None:
    template = tmp_path / "azuredeploy.json"
    template.write_text(json.dumps({
        "parameters": {"retries": {"type": "int"}, "auth": {"type": "secureObject"}},
        "resources": [{"type": "Microsoft.Scheduler/jobCollections/jobs", "name": "jc/j", "properties": {
            "action": {"type": "Http", "request": {"uri": "http://127.0.0.1:9/j", "method": "GET",
                                                   "authentication": "[parameters('auth')]"}}}}]}))
    error = cli("import", str(template), "-p", "retries=three", "--dry-run", expect=2).stderr
    assert "--parameters retries: the template declares it int" in error
    error = cli("import", str(template), "-p", "retries=3", "-p", "auth=hunter2-not-json", "--dry-run",
                expect=2).stderr
    assert "--parameters auth: the template declares it secureObject" in error and "hunter2" not in error


def test_a_job_whose_action_is_not_an_object_is_an_error_of_that_job(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "jobs.json"
    path.write_text(json.dumps({"value": [
        {"name": "odd/string", "properties": {"action": "Http"}},
        {"name": "odd/ok", "properties": {"action": {"type": "Http", "request": {
            "uri": "http://127.0.0.1:9/ok", "method": "GET"}}}},
    ]}))
    report = _report(cli, str(path), "--dry-run", expect=1)
    assert report["odd/string"]["message"] == "properties.action must be an object, not a string"
    assert report["odd/ok"]["action"] == "create"


def test_a_saved_list_page_with_a_next_link_says_the_other_pages_are_missing(cli: Cli, tmp_path: Path) -> None:
    page = json.loads((CORPUS / "rest_list.json").read_text())
    page["nextLink"] = "https://management.azure.com/subscriptions/s/resourceGroups/g/providers/Microsoft.Scheduler/" \
                       "jobCollections/legacy-rest/jobs?api-version=2016-03-01&$skiptoken=abc"
    path = tmp_path / "page1.json"
    path.write_text(json.dumps(page))
    report = _report(cli, str(path))
    assert all(any("page1.json has a nextLink" in w for w in s["warnings"]) for s in report.values())


def test_az_resource_list_output_without_properties_is_an_error_per_job(cli: Cli, tmp_path: Path) -> None:
    """`az resource list` gives each resource with `"properties": null`: a job without its definition is not
    silently skipped."""
    base = "/subscriptions/s/resourceGroups/g/providers"
    path = tmp_path / "resources.json"
    path.write_text(json.dumps([
        {"id": f"{base}/Microsoft.Scheduler/jobCollections/listed", "name": "listed", "properties": None,
         "type": "Microsoft.Scheduler/jobCollections", "location": "westus"},
        {"id": f"{base}/Microsoft.Scheduler/jobCollections/listed/jobs/ping", "name": "listed/ping",
         "properties": None, "type": "Microsoft.Scheduler/jobCollections/jobs", "location": "westus"},
        {"id": f"{base}/Microsoft.Web/sites/app", "name": "app", "properties": None, "type": "Microsoft.Web/sites"},
    ]))
    report = _report(cli, str(path), expect=1)
    assert list(report) == ["listed/ping"]
    assert report["listed/ping"]["result"] == "failed" and "az resource show" in report["listed/ping"]["message"]
    assert cli.json("collections", "list") == {"value": []}, "nothing written"


def test_a_secret_for_every_job_goes_only_to_the_jobs_that_take_it(cli: Cli, tmp_path: Path) -> None:
    secrets = tmp_path / "secrets.json"
    secrets.write_text(json.dumps({"*": {"action.queueMessage.sasToken": "sv=2020&sig=abc"}}))
    report = _report(cli, str(CORPUS / "rest_list.json"), "--secrets", str(secrets))
    assert {k: s["result"] for k, s in report.items()} == {
        "legacy-rest/nightly-report": "created", "legacy-rest/month-end": "created",
        "legacy-rest/queue-nudge": "created"}
    assert report["legacy-rest/queue-nudge"]["needsSecret"] == []
    assert "queueMessage" not in cli.json("jobs", "show", "legacy-rest/nightly-report")["properties"]["action"]


def test_an_error_of_the_api_is_reported_once(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "jobs.json"
    path.write_text(json.dumps({"name": "refused/fortnightly", "properties": {
        "action": {"type": "Http", "request": {"uri": "http://127.0.0.1:9/x", "method": "GET"}},
        "recurrence": {"frequency": "Fortnight", "interval": 1}}}))
    message = _report(cli, str(path), expect=1)["refused/fortnightly"]["message"]
    assert message.startswith("BadRequest: properties.recurrence.frequency")
    assert message.count("properties.recurrence.frequency") == 1


def test_a_lone_integer_for_minutes_imports_and_a_second_run_is_unchanged(cli: Cli, tmp_path: Path) -> None:
    """The 2016 concepts doc allowed `"minutes": "Integer, or Array of integers"`; the API answers arrays."""
    saved = tmp_path / "lone.json"
    job = {"name": "lone-integer/quarter-past", "properties": {
        "startTime": "2027-01-01T00:00:00Z",
        "action": {"type": "Http", "request": {"uri": "http://127.0.0.1:9/ping", "method": "GET"}},
        "recurrence": {"frequency": "Hour", "schedule": {"minutes": 15}}}}
    saved.write_text(json.dumps({"value": [job]}))

    assert _report(cli, str(saved))["lone-integer/quarter-past"]["result"] == "created"
    props = cli.json("jobs", "show", "lone-integer/quarter-past")["properties"]
    assert props["recurrence"]["schedule"] == {"minutes": [15]}
    assert _report(cli, str(saved))["lone-integer/quarter-past"]["result"] == "unchanged"
