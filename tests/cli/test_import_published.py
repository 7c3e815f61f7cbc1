"""`azsched import` on what people published: Azure quickstart templates, the Azure docs' REST samples and templates,
and one template of our own in the shape of real ones (tests/cli/corpus/published/README.md says where each comes
from). Each test asserts what a user of that file would expect: every Scheduler job planned or created as written
(after the template's expressions, with its default parameter values or its parameters file), what needs Azure
reported per job, secrets never printed, other resource types left alone with a note, and a second run unchanged."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import CORPUS, Cli

PUBLISHED = CORPUS / "published"


def _run(cli: Cli, *args: str, expect: int = 0) -> tuple[dict[str, dict], str]:
    """`import -o json`: ({collection/job: step}, stderr)."""
    result = cli("-o", "json", "import", *args, expect=expect)
    steps = json.loads(result.stdout)["value"]
    return {f"{s['collection']}/{s['job']}": s for s in steps}, result.stderr


def _props(cli: Cli, job: str) -> dict:
    return cli.json("jobs", "show", job)["properties"]


def _file(name: str) -> str:
    return str(PUBLISHED / name)


def test_quickstart_service_bus_template_with_its_parameters_file(cli: Cli) -> None:
    """Azure quickstart `scheduler-service-bus`: a Service Bus namespace beside a collection whose job posts to its
    queue with a key from `listKeys()`, and a recurrence that is a whole object parameter."""
    template = _file("quickstart_scheduler_service_bus.azuredeploy.json")
    parameters = f"@{_file('quickstart_scheduler_service_bus.azuredeploy.parameters.json')}"

    without, _ = _run(cli, template, "--dry-run", expect=1)
    message = without["QueuePoster/PostMessage"]["message"]
    assert "parameter 'serviceBusNamespaceName' has no value" in message

    report, stderr = _run(cli, template, "-p", parameters, expect=1)
    step = report["QueuePoster/PostMessage"]
    assert step["result"] == "failed" and "resources[1].resources[0]" in step["source"]
    assert "authentication.sasKeyName = [listKeys(variables('queueSendOnlyKeyName'), '2018-01-01-preview').keyName]"\
        in step["message"] and "listKeys() needs a deployment in Azure" in step["message"]
    assert "Microsoft.ServiceBus/namespaces" in stderr, "the namespace is left alone, and the user is told so"
    cli("jobs", "show", "QueuePoster/PostMessage", expect=3)

    fixed = [template, "-p", parameters, "--set", "PostMessage:action.serviceBusQueueMessage.authentication."
             "sasKeyName=Scheduler"]
    report, _ = _run(cli, *fixed)
    step = report["QueuePoster/PostMessage"]
    assert step["result"] == "created"
    assert step["needsSecret"] == ["action.serviceBusQueueMessage.authentication.sasKey"], "listKeys().primaryKey"
    props = _props(cli, "QueuePoster/PostMessage")
    assert props["state"] == "Disabled", "until its key is given"
    assert props["recurrence"] == {"frequency": "Minute", "interval": 1}
    message = props["action"]["serviceBusQueueMessage"]
    assert message["namespace"] == "GEN-UNIQUE" and message["queueName"] == "autoposted"
    assert message["message"] == "mymessage" and message["transportType"] == "AMQP"
    assert message["authentication"] == {"type": "SharedAccessKey", "sasKeyName": "Scheduler"}
    assert cli.json("collections", "show", "QueuePoster")["properties"]["sku"]["name"] == "Standard"

    again, _ = _run(cli, *fixed)
    assert again["QueuePoster/PostMessage"]["result"] == "unchanged"
    assert [j["name"] for j in cli.json("jobs", "list", "-c", "QueuePoster")["value"]] == ["QueuePoster/PostMessage"]


def test_quickstart_webapp_template_names_each_parameter_and_reference_it_needs(cli: Cli) -> None:
    """Azure quickstart `scheduler-webapp`: names from parameters without defaults, a URI from `reference()`, a
    retryPolicy written under `request`, the collection's sku from an object parameter."""
    template = _file("quickstart_scheduler_webapp.azuredeploy.json")
    bare, stderr = _run(cli, template, "--dry-run", expect=1)
    (step,) = bare.values()
    assert "parameter 'jobCollectionName' has no value" in step["message"]
    assert "jobs" in step["source"] or "resources[0]" in step["source"], "the job itself is reported, not skipped"
    assert "Microsoft.Web/serverfarms" in stderr and "Microsoft.Web/sites" in stderr

    named = [template, "-p", "jobCollectionName=webapp-jobs", "-p", "jobName=warmup", "-p", "webAppName=contoso",
             "-p", "appSvcPlanName=plan"]
    report, _ = _run(cli, *named, expect=1)
    step = report["webapp-jobs/warmup"]
    assert step["result"] == "failed" and "properties.action.request.uri = [concat('http://', reference(" in step[
        "message"] and "--set warmup:action.request.uri=" in step["message"]

    fixed = [*named, "--set", "warmup:action.request.uri=http://127.0.0.1:9/contoso"]
    report, _ = _run(cli, *fixed)
    assert report["webapp-jobs/warmup"]["result"] == "created"
    assert "action.request.retryPolicy moved to action.retryPolicy" in report["webapp-jobs/warmup"]["warnings"]
    props = _props(cli, "webapp-jobs/warmup")
    assert props["state"] == "Enabled"
    assert props["action"]["retryPolicy"] == {"retryType": "None"}
    assert props["action"]["request"] == {"uri": "http://127.0.0.1:9/contoso", "method": "GET"}
    assert props["recurrence"] == {"frequency": "Week", "interval": 1, "schedule": {
        "weekDays": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"], "hours": [10, 12], "minutes": [0, 30]}}
    assert cli.json("collections", "show", "webapp-jobs")["properties"]["sku"]["name"] == "Standard"
    assert _run(cli, *fixed)[0]["webapp-jobs/warmup"]["result"] == "unchanged"


def test_docs_webjobs_template_of_2014_preview_with_string_quota_values(cli: Cli) -> None:
    """The Azure docs' 2015 "web app that uses WebJobs" collection: apiVersion 2014-08-01-preview, lowercase enums,
    quota numbers written as strings, and a URI from `list(...)`."""
    template = [_file("docs_webapp_webjobs_2015.json"), "-p", "siteName=contoso", "-p", "siteLocation=West US",
                "-p", "hostingPlanName=plan", "-p", "repoUrl=https://github.com/user/project",
                "-p", "jobCollectionName=webjobs"]
    report, _ = _run(cli, *template, expect=1)
    assert "list() needs a deployment in Azure" in report["webjobs/DavidJob"]["message"]

    fixed = [*template, "--set", "DavidJob:action.request.uri=http://127.0.0.1:9/api/triggeredjobs/run"]
    report, _ = _run(cli, *fixed)
    assert report["webjobs/DavidJob"]["result"] == "created"
    props = _props(cli, "webjobs/DavidJob")
    assert props["startTime"] == "2015-02-10T00:08:00Z"
    assert props["action"]["type"] == "Http" and props["action"]["request"]["method"] == "POST"
    assert props["action"]["retryPolicy"] == {"retryType": "Fixed", "retryInterval": "PT1M", "retryCount": 2}
    assert props["recurrence"] == {"frequency": "Minute", "interval": 1}
    assert props["state"] == "Enabled"
    collection = cli.json("collections", "show", "webjobs")
    assert collection["location"] == "West US"
    assert collection["properties"]["quota"]["maxJobCount"] == 10
    assert collection["properties"]["quota"]["maxRecurrence"] == {"frequency": "Minute", "interval": 1}
    assert _run(cli, *fixed)[0]["webjobs/DavidJob"]["result"] == "unchanged"


def test_docs_rest_responses_of_both_api_generations(cli: Cli) -> None:
    """GET responses from the Azure docs: ARM (2016, `name` "jc/job", response-only certificate fields) and classic
    (2014, `id` the job's name, `\\/` in the URI)."""
    report, _ = _run(cli, _file("docs_outbound_auth_clientcertificate_response.json"))
    step = report["southeastasiajc/httpjob"]
    assert step["result"] == "created" and step["needsSecret"] == ["action.request.authentication.pfx"]
    props = _props(cli, "southeastasiajc/httpjob")
    assert props["state"] == "Disabled"
    assert "authentication" not in props["action"]["request"], "left out until its pfx is given"
    assert props["action"]["request"]["headers"] == {"x-ms-version": "2013-03-01"}
    assert props["recurrence"] == {"frequency": "Minute", "interval": 1, "endTime": "2016-04-10T08:00:00Z"}

    report, _ = _run(cli, _file("docs_outbound_auth_basic_response.json"), "--collection", "basic-auth")
    assert report["basic-auth/httpjob"]["needsSecret"] == ["action.request.authentication.password"]
    assert _props(cli, "basic-auth/httpjob")["action"]["request"]["authentication"] == {
        "type": "Basic", "username": "user1"}

    classic = [_file("docs_outbound_auth_classic_clientcertificate_response.json"), "--collection", "classic"]
    report, _ = _run(cli, *classic)
    assert report["classic/testScheduler"]["result"] == "created"
    assert _props(cli, "classic/testScheduler")["action"]["request"]["uri"] == (
        "https://management.core.windows.net/7e2dffb5-45b5-475a-91be-d3d9973c82d5/cloudservices/"
        "CS-NorthCentralUS-scheduler/resources/scheduler/~/JobCollections/testScheduler/jobs/test")
    assert _run(cli, *classic)[0]["classic/testScheduler"]["result"] == "unchanged"


def test_a_saved_request_body_without_a_name_is_named_after_its_file_and_its_secret_never_printed(cli: Cli) -> None:
    """The docs' PUT body for ActiveDirectoryOAuth: `{"properties": ...}` with the client secret in it and no name
    (the name was in the URL)."""
    args = [_file("docs_outbound_auth_oauth_request.json"), "--collection", "oauth"]
    secret = "G6u071r8Gjw4V4KSibnb+VK4+tX399hkHaj7LOyHuj5="
    table = cli("import", *args, "--dry-run")
    assert secret not in table.stdout + table.stderr
    report, stderr = _run(cli, *args)
    step = report["oauth/docs_outbound_auth_oauth_request"]
    assert step["result"] == "created" and step["needsSecret"] == []
    assert any("named after its file" in w for w in step["warnings"])
    assert secret not in json.dumps(report) + stderr
    auth = _props(cli, "oauth/docs_outbound_auth_oauth_request")["action"]["request"]["authentication"]
    assert auth == {"type": "ActiveDirectoryOAuth", "tenant": "microsoft.onmicrosoft.com",
                    "audience": "https://management.core.windows.net/",
                    "clientId": "dc23e764-9be6-4a33-9b9a-c46e36f0c137"}
    again = cli("import", *args)
    assert "1 unchanged" in again.stdout and secret not in again.stdout + again.stderr


def test_docs_concept_jobs_with_comments_and_trailing_commas(cli: Cli) -> None:
    """The docs' "comprehensive" job, as the 2015 page wrote it (bare classic fields, `//` comments, trailing commas)
    and as the 2018 page did (`properties`, a retryPolicy under `request`)."""
    files = [_file("docs_concepts_job_2015.json"), _file("docs_concepts_job_2018.json"), "--collection", "concepts"]
    report, _ = _run(cli, *files)
    assert {k: s["result"] for k, s in report.items()} == {
        "concepts/docs_concepts_job_2015": "created", "concepts/docs_concepts_job_2018": "created"}
    for name in ("docs_concepts_job_2015", "docs_concepts_job_2018"):
        props = _props(cli, f"concepts/{name}")
        assert props["startTime"] == "2012-08-04T00:00:00Z"
        assert props["state"] == "Disabled"
        assert props["action"]["retryPolicy"] == {"retryType": "None"}
        assert props["action"]["request"]["body"] == "Posting from a timer"
        assert props["action"]["errorAction"] == {"type": "Http", "request": {
            "uri": "http://contoso.com/notifyError", "method": "POST"}}
        assert props["recurrence"] == {"frequency": "Week", "interval": 1, "count": 10,
                                       "endTime": "2012-11-04T00:00:00Z",
                                       "schedule": {"weekDays": ["Monday", "Wednesday", "Friday"], "hours": [10, 22]}}
    assert {s["result"] for s in _run(cli, *files)[0].values()} == {"unchanged"}


def test_own_template_with_a_copy_loop_of_storage_queue_jobs_and_account_sas(cli: Cli, tmp_path: Path) -> None:
    """Written by us in the shape of real templates (no licensed one had it): top-level jobs named with concat() in a
    copy loop, a SAS token from listAccountSas() and one from a securestring parameter, monthlyOccurrences, a
    retryPolicy from a variable, a storage account beside them."""
    template = _file("own_storage_queue_copy_monthly.json")
    report, stderr = _run(cli, template, "--dry-run")
    assert set(report) == {"dev-reports/month-end-emea", "dev-reports/month-end-amer", "dev-reports/month-end-apac",
                           "dev-reports/warm-cache"}
    assert "Microsoft.Storage/storageAccounts" in stderr
    assert report["dev-reports/month-end-amer"]["needsSecret"] == [
        "action.queueMessage.sasToken", "action.errorAction.queueMessage.sasToken"]

    secrets = tmp_path / "secrets.json"
    secrets.write_text(json.dumps({"*": {"action.queueMessage.sasToken": "sv=2019&sig=primary-sig",
                                         "action.errorAction.queueMessage.sasToken": "sv=2019&sig=alert-sig"}}))
    report, stderr = _run(cli, template, "--secrets", str(secrets))
    assert {s["result"] for s in report.values()} == {"created"}
    assert "sig=primary-sig" not in json.dumps(report) + stderr
    amer = _props(cli, "dev-reports/month-end-amer")
    assert amer["state"] == "Enabled"
    assert amer["recurrence"]["schedule"] == {"monthlyOccurrences": [{"day": "Friday", "Occurrence": -1}],
                                              "hours": [7], "minutes": [0]}
    assert amer["action"]["retryPolicy"] == {"retryType": "Fixed", "retryInterval": "PT10M", "retryCount": 3}
    assert amer["action"]["queueMessage"]["queueName"] == "reports-amer"
    assert json.loads(amer["action"]["queueMessage"]["message"]) == {"region": "amer", "kind": "month-end"}
    assert amer["action"]["errorAction"]["queueMessage"]["message"] == "month-end failed for amer"
    warm = _props(cli, "dev-reports/warm-cache")
    assert json.loads(warm["action"]["request"]["body"]) == {"regions": ["emea", "amer", "apac"]}
    assert cli.json("collections", "show", "dev-reports")["properties"]["quota"]["maxJobCount"] == 20

    again, _ = _run(cli, template, "--secrets", str(secrets))
    assert {s["result"] for s in again.values()} == {"unchanged"}
    assert len(cli.json("jobs", "list", "-c", "dev-reports")["value"]) == 4, "nothing imported twice"
