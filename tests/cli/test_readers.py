"""The PowerShell and ARM readers on their own (no host): the shapes the e2e corpus does not spell out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from azsched.importers import ImportOptions, read_files
from azsched.importers.arm import read_template
from azsched.importers.powershell import read_powershell


def _cmdlet(**fields: Any) -> dict[str, Any]:
    job = {"JobCollectionName": "jc", "JobName": "j", "StartTime": "2027-03-01T08:00:00Z",
           "JobAction": {"JobActionType": 0, "Uri": "http://127.0.0.1:9/x", "RequestMethod": "GET"}}
    return {**job, **fields}


@pytest.mark.parametrize(("end", "expected"), [
    ("Until 5 executions.", {"count": 5}),
    ("On 12/31/2027 18:30:00.", {"endTime": "2027-12-31T18:30:00Z"}),
    ("On 2027-12-31T18:30:00+01:00.", {"endTime": "2027-12-31T17:30:00Z"}),
    ("Until 5 executions. Or on 12/31/2027 00:00:00 whichever occurs first.",
     {"count": 5, "endTime": "2027-12-31T00:00:00Z"}),
    ("None", {}),
])
def test_end_schedule_sentences(end: str, expected: dict[str, Any]) -> None:
    job = read_powershell(_cmdlet(Recurrence="Every 2 Hours", EndSchedule=end), "ps.json")
    recurrence = job.properties["recurrence"]
    assert {k: v for k, v in recurrence.items() if k in ("count", "endTime")} == expected
    assert recurrence["frequency"] == "Hour" and recurrence["interval"] == 2


def test_a_monthly_job_takes_its_day_and_time_from_the_last_run_when_there_is_no_next() -> None:
    job = read_powershell(_cmdlet(Recurrence="Every 1 Months", Lastrun="/Date(1802505600000)/",  # 2027-02-13 08:00
                                  Nextrun=None, Status="Disabled"), "ps.json")
    assert job.properties["recurrence"]["schedule"] == {"monthDays": [13]}
    assert job.properties["state"] == "Disabled"


def test_a_one_time_job_and_a_minute_job_get_no_schedule() -> None:
    once = read_powershell(_cmdlet(Recurrence=None, EndSchedule="Run once"), "ps.json")
    assert "recurrence" not in once.properties
    minutes = read_powershell(_cmdlet(Recurrence="Every 5 Minutes", Nextrun="2027-03-01T08:07:00Z"), "ps.json")
    assert minutes.properties["recurrence"] == {"frequency": "Minute", "interval": 5}


def test_an_unknown_action_type_number_is_a_problem_not_a_guess() -> None:
    job = read_powershell(_cmdlet(JobAction={"JobActionType": 9, "Uri": "http://x"}), "ps.json")
    assert job.problems and any("'9'" in w or "9" in w for w in job.warnings)


def test_sdk_objects_timespans_and_enum_numbers() -> None:
    job = read_powershell({"Name": "jc/sdk", "Properties": {
        "Action": {"Type": 2, "QueueMessage": {"StorageAccount": "a", "QueueName": "q", "Message": "m"},
                   "RetryPolicy": {"RetryType": 1, "RetryCount": 4, "RetryInterval": {"Ticks": 9000000000,
                                                                                         "TotalSeconds": 900.0}}},
        "Recurrence": {"Frequency": 3, "Interval": 2, "Schedule": {"WeekDays": [1, 5], "Hours": [6]}},
        "State": 0}}, "sdk.json")
    assert (job.collection, job.name) == ("jc", "sdk")
    assert job.properties["action"]["type"] == "StorageQueue"
    assert job.properties["action"]["retryPolicy"] == {"retryType": "Fixed", "retryCount": 4, "retryInterval": "PT15M"}
    assert job.properties["recurrence"] == {"frequency": "Week", "interval": 2,
                                            "schedule": {"weekDays": ["Monday", "Friday"], "hours": [6]}}
    assert job.properties["state"] == "Enabled"


def test_copy_index_with_a_loop_name_and_an_offset_and_a_foreign_loop_name() -> None:
    template = {"resources": [{
        "type": "Microsoft.Scheduler/jobCollections/jobs", "name": "[concat('jc/j', copyIndex('loop', 10))]",
        "copy": {"name": "loop", "count": 2},
        "properties": {"action": {"type": "Http", "request": {
            "uri": "[concat('http://127.0.0.1:9/', copyIndex('other'))]", "method": "GET"}}}}]}
    jobs, _ = read_template(template, "t.json", {}, {}, subscription="s", resource_group="g", location="l")
    assert [j.name for j in jobs] == ["j10", "j11"]
    assert all(u[0] == "action.request.uri" and "copyIndex('other')" in u[2] for j in jobs for u in j.unresolved)


def test_a_copy_loop_over_an_array_parameter_of_job_objects() -> None:
    template = {
        "parameters": {"jobs": {"type": "array", "defaultValue": [
            {"name": "a", "path": "/a", "every": 5}, {"name": "b", "path": "/b", "every": 10}]}},
        "resources": [{
            "type": "Microsoft.Scheduler/jobCollections/jobs",
            "name": "[concat('jc/', parameters('jobs')[copyIndex()].name)]",
            "copy": {"name": "jobLoop", "count": "[length(parameters('jobs'))]"},
            "properties": {
                "action": {"type": "Http", "request": {
                    "uri": "[concat('http://127.0.0.1:9', parameters('jobs')[copyIndex('jobLoop')].path)]",
                    "method": "GET"}},
                "recurrence": {"frequency": "Minute", "interval": "[parameters('jobs')[copyIndex()]['every']]"}}}]}
    jobs, _ = read_template(template, "t.json", {}, {}, subscription="s", resource_group="g", location="l")
    found = [(j.key, j.properties["action"]["request"]["uri"], j.properties["recurrence"]["interval"]) for j in jobs]
    assert found == [("jc/a", "http://127.0.0.1:9/a", 5), ("jc/b", "http://127.0.0.1:9/b", 10)]


def test_property_and_variable_copy_loops() -> None:
    template = {
        "parameters": {"hours": {"type": "array", "defaultValue": [6, 18]}},
        "variables": {
            "copy": [{"name": "paths", "count": 2, "input": "[concat('/shard/', copyIndex('paths', 1))]"}],
            "target": "http://127.0.0.1:9",
        },
        "resources": [{
            "type": "Microsoft.Scheduler/jobCollections/jobs",
            "name": "[concat('jc/shard-', copyIndex())]",
            "copy": {"name": "shards", "count": 2},
            "properties": {
                "action": {"type": "Http", "request": {
                    "uri": "[concat(variables('target'), variables('paths')[copyIndex()])]", "method": "GET"}},
                "recurrence": {"frequency": "Month", "interval": 1, "schedule": {
                    "hours": "[parameters('hours')]", "minutes": [0],
                    "copy": [{"name": "monthlyOccurrences", "count": "[add(copyIndex(), 1)]", "input": {
                        "day": "Friday", "occurrence": "[sub(0, add(copyIndex('monthlyOccurrences'), 1))]"}}]}}}}]}
    jobs, _ = read_template(template, "t.json", {}, {}, subscription="s", resource_group="g", location="l")
    assert [j.properties["action"]["request"]["uri"] for j in jobs] == [
        "http://127.0.0.1:9/shard/1", "http://127.0.0.1:9/shard/2"]
    assert jobs[1].properties["recurrence"]["schedule"] == {
        "hours": [6, 18], "minutes": [0],
        "monthlyOccurrences": [{"day": "Friday", "occurrence": -1}, {"day": "Friday", "occurrence": -2}]}
    assert "copy" not in jobs[0].properties["recurrence"]["schedule"]
    assert all(not j.unresolved for j in jobs)


def test_sdk_authentication_type_numbers_are_their_own_enums() -> None:
    http = read_powershell({"Name": "jc/basic", "Properties": {"Action": {"Type": 1, "Request": {
        "Uri": "https://127.0.0.1:9/x", "Method": "GET", "Authentication": {"Type": 3, "Username": "u"}}}}}, "sdk")
    assert http.properties["action"]["type"] == "Https"
    assert http.properties["action"]["request"]["authentication"]["type"] == "Basic"
    bus = read_powershell({"Name": "jc/bus", "Properties": {"Action": {"Type": 3, "ServiceBusQueueMessage": {
        "Namespace": "ns", "QueueName": "q", "TransportType": 1,
        "Authentication": {"Type": 1, "SasKeyName": "k"}}}}}, "sdk")
    message = bus.properties["action"]["serviceBusQueueMessage"]
    assert message["authentication"]["type"] == "SharedAccessKey" and message["transportType"] == "NetMessaging"


def test_a_remote_template_link_is_named_without_its_sas_signature() -> None:
    template = {"resources": [{"type": "Microsoft.Resources/deployments", "name": "more", "properties": {
        "templateLink": {"uri": "https://store.blob.core.windows.net/t/jobs.json?sv=2019-02-02&sig=S3cr3tSig%3D&se=x"}}}]}
    jobs, _ = read_template(template, "t.json", {}, {}, subscription="s", resource_group="g", location="l")
    assert "https://store.blob.core.windows.net/t/jobs.json?sv=2019-02-02&sig=***&se=x" in jobs[0].problems[0]
    assert "S3cr3tSig" not in jobs[0].problems[0]


def test_a_parameter_whose_default_needs_a_deployment_says_why() -> None:
    template = {"parameters": {"start": {"type": "string", "defaultValue": "[utcNow()]"}}, "resources": [{
        "type": "Microsoft.Scheduler/jobCollections/jobs", "name": "jc/j",
        "properties": {"startTime": "[parameters('start')]"}}]}
    jobs, _ = read_template(template, "t.json", {}, {}, subscription="s", resource_group="g", location="l")
    (path, _, reason), = jobs[0].unresolved
    assert path == "startTime" and "its defaultValue [utcNow()]: utcNow() needs a deployment" in reason


def test_job_properties_from_a_parameter_without_a_value_name_the_parameter(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"parameters": {"job": {"type": "object"}}, "resources": [{
        "type": "Microsoft.Scheduler/jobCollections/jobs", "name": "jc/j", "properties": "[parameters('job')]"}]}))
    (job,), _ = read_files([path], ImportOptions())
    assert job.problems == [
        "properties = [parameters('job')]: parameter 'job' has no value (give it with --parameters job=VALUE)"]
