"""Issue 3, input and output: casing, durations, datetimes, every action and authentication, secrets, validation,
errors, `x-ms-request-id` and the OpenAPI document."""

from __future__ import annotations

import json

import pytest
import requests

from tests.support.api import SchedulerApi
from tests.support.certs import issue, make_ca
from tests.support.wire import FAR_FUTURE, error_targets, get_job, hourly_job, http_job, put_job

CLIENT_CERTIFICATE = issue(make_ca(), "Scheduler Test Client", server=False)
SECRETS = {
    "password": "pw-9f1c2e7a",
    "pfx": CLIENT_CERTIFICATE.pfx("pw-9f1c2e7a"),
    "secret": "oauth-secret-2718281828",
    "sasToken": "sv=2015&sig=sas-token-161803",
    "sasKey": "sb-sas-key-1414213562",
}

ACTIONS = {
    "basic": {
        "type": "http",
        "request": {
            "uri": "https://example.invalid/hook", "method": "POST", "body": "{}",
            "headers": {"Content-Type": "application/json"},
            "authentication": {"type": "basic", "username": "alice", "password": SECRETS["password"]},
        },
    },
    "certificate": {
        "type": "https",
        "request": {
            "uri": "https://example.invalid/hook", "method": "GET",
            "authentication": {"type": "clientcertificate", "pfx": SECRETS["pfx"], "password": SECRETS["password"]},
        },
    },
    "oauth": {
        "type": "Http",
        "request": {
            "uri": "https://example.invalid/hook", "method": "GET",
            "authentication": {
                "type": "activeDirectoryOAuth", "tenant": "contoso.onmicrosoft.com",
                "audience": "https://management.core.windows.net/", "clientId": "dc23e764", "secret": SECRETS["secret"],
            },
        },
    },
    "storage-queue": {
        "type": "storageQueue",
        "queueMessage": {
            "storageAccount": "devstoreaccount1", "queueName": "myqueue", "sasToken": SECRETS["sasToken"],
            "message": "My message body",
        },
    },
    "service-bus-queue": {
        "type": "serviceBusQueue",
        "serviceBusQueueMessage": {
            "queueName": "q1", "namespace": "mySBNamespace", "transportType": "netMessaging",
            "authentication": {"sasKeyName": "QPolicy", "sasKey": SECRETS["sasKey"], "type": "sharedAccessKey"},
            "message": "Some message", "brokeredMessageProperties": {"label": "l", "timeToLive": "00:05:00"},
            "customMessageProperties": {"appname": "FromScheduler"},
        },
    },
    "service-bus-topic": {
        "type": "serviceBusTopic",
        "serviceBusTopicMessage": {
            "topicPath": "t1", "namespace": "mySBNamespace", "transportType": "AMQP",
            "authentication": {"sasKeyName": "TPolicy", "sasKey": SECRETS["sasKey"], "type": "SharedAccessKey"},
            "message": "Some message",
        },
    },
}


def _assert_no_secret(text: str) -> None:
    for name, value in SECRETS.items():
        assert value not in text, f"{name} leaked"


def test_enums_in_any_case_come_back_canonical(api: SchedulerApi) -> None:
    collection = api.new_collection()
    body = {
        "properties": {
            "startTime": FAR_FUTURE,
            "state": "enabled",
            "action": {
                "type": "http",
                "request": {"uri": "https://example.invalid/", "method": "GET",
                            "authentication": {"type": "basic", "username": "u", "password": "p-123456"}},
                "retryPolicy": {"retryType": "fixed", "retryInterval": "PT1M", "retryCount": 2},
            },
            "recurrence": {"frequency": "week", "schedule": {"weekDays": ["monday", "FRIDAY"]}},
        }
    }
    properties = put_job(api, collection, "cased", body)["properties"]
    assert properties == get_job(api, collection, "cased")["properties"]
    assert properties["state"] == "Enabled"
    assert properties["action"]["type"] == "Http"
    assert properties["action"]["request"]["authentication"] == {"type": "Basic", "username": "u"}
    assert properties["action"]["retryPolicy"]["retryType"] == "Fixed"
    assert properties["recurrence"]["frequency"] == "Week"
    assert properties["recurrence"]["schedule"]["weekDays"] == ["Monday", "Friday"]


def test_occurrence_in_either_case_comes_back_capitalised(api: SchedulerApi) -> None:
    collection = api.new_collection()
    schedule = {"monthlyOccurrences": [{"day": "friday", "occurrence": -1}, {"day": "Monday", "Occurrence": 1}]}
    put_job(api, collection, "monthly", http_job(recurrence={"frequency": "month", "schedule": schedule}))
    got = get_job(api, collection, "monthly")["properties"]["recurrence"]["schedule"]["monthlyOccurrences"]
    assert got == [{"day": "Friday", "Occurrence": -1}, {"day": "Monday", "Occurrence": 1}]


def test_a_lone_integer_for_hours_minutes_or_month_days_comes_back_as_an_array(api: SchedulerApi) -> None:
    # The 2016 concepts doc: minutes "Integer, or Array of integers"; the swagger returns arrays.
    collection = api.new_collection()
    schedule = {"hours": 10, "minutes": 30, "monthDays": -1}
    put_job(api, collection, "lone", http_job(recurrence={"frequency": "Month", "schedule": schedule}))
    got = get_job(api, collection, "lone")["properties"]["recurrence"]["schedule"]
    assert got == {"hours": [10], "minutes": [30], "monthDays": [-1]}
    refused = api.call("PUT", api.job_path(collection, "flag"),
                       http_job(recurrence={"frequency": "Day", "schedule": {"hours": True}}))
    assert "properties.recurrence.schedule.hours" in error_targets(refused)


@pytest.mark.parametrize(
    ("given", "expected"),
    [("00:00:30", "PT30S"), ("1.00:00:00", "P1D"), ("01:30:00", "PT1H30M"), ("PT45S", "PT45S"), ("pt2m", "PT2M")],
)
def test_retry_interval_as_iso_or_timespan_comes_back_iso(api: SchedulerApi, given: str, expected: str) -> None:
    collection = api.new_collection()
    body = hourly_job()
    body["properties"]["action"]["retryPolicy"] = {"retryType": "Fixed", "retryInterval": given, "retryCount": 3}
    put_job(api, collection, "retry", body)
    assert get_job(api, collection, "retry")["properties"]["action"]["retryPolicy"] == {
        "retryType": "Fixed", "retryInterval": expected, "retryCount": 3
    }


def test_datetimes_with_offsets_come_back_in_utc(api: SchedulerApi) -> None:
    collection = api.new_collection()
    body = http_job(
        startTime="2034-06-01T10:00:00+02:00",
        recurrence={"frequency": "Day", "endTime": "2034-07-01T00:00:00-05:00"},
    )
    properties = put_job(api, collection, "zoned", body)["properties"]
    assert properties["startTime"] == "2034-06-01T08:00:00Z"
    assert properties["recurrence"]["endTime"] == "2034-07-01T05:00:00Z"
    assert properties["status"]["nextExecutionTime"] == "2034-06-01T08:00:00Z"
    assert get_job(api, collection, "zoned")["properties"]["startTime"] == "2034-06-01T08:00:00Z"


@pytest.mark.parametrize("kind", sorted(ACTIONS))
def test_every_action_and_authentication_is_stored_without_its_secrets(api: SchedulerApi, kind: str) -> None:
    collection = api.new_collection()
    body = {"properties": {"startTime": FAR_FUTURE, "action": ACTIONS[kind]}}
    created = api.call("PUT", api.job_path(collection, kind), body)
    assert created.status_code == 201, created.text
    _assert_no_secret(created.text)
    patched = api.call("PATCH", api.job_path(collection, kind), {"properties": {"state": "Disabled"}})
    assert patched.status_code == 200, patched.text
    _assert_no_secret(patched.text)
    got = api.call("GET", api.job_path(collection, kind))
    _assert_no_secret(got.text)
    listed = api.call("GET", api.collection_path(collection) + "/jobs")
    _assert_no_secret(listed.text)

    action = got.json()["properties"]["action"]
    canonical = {"basic": "Http", "certificate": "Https", "oauth": "Http", "storage-queue": "StorageQueue",
                 "service-bus-queue": "ServiceBusQueue", "service-bus-topic": "ServiceBusTopic"}[kind]
    assert action["type"] == canonical
    sent = json.loads(json.dumps(ACTIONS[kind]))
    if kind == "basic":
        assert action["request"]["authentication"] == {"type": "Basic", "username": "alice"}
    elif kind == "certificate":
        auth = action["request"]["authentication"]
        assert auth["type"] == "ClientCertificate"
        assert auth["certificateSubjectName"] == "CN=Scheduler Test Client"
        assert auth["certificateThumbprint"]
    elif kind == "oauth":
        auth = dict(sent["request"]["authentication"], type="ActiveDirectoryOAuth")
        del auth["secret"]
        assert action["request"]["authentication"] == auth
    elif kind == "storage-queue":
        assert action["queueMessage"] == {k: v for k, v in sent["queueMessage"].items() if k != "sasToken"}
    elif kind == "service-bus-queue":
        message = action["serviceBusQueueMessage"]
        assert message["authentication"] == {"sasKeyName": "QPolicy", "type": "SharedAccessKey"}
        assert message["transportType"] == "NetMessaging"
        assert message["brokeredMessageProperties"] == {"label": "l", "timeToLive": "PT5M"}
        assert message["customMessageProperties"] == {"appname": "FromScheduler"}
    else:
        assert action["serviceBusTopicMessage"]["topicPath"] == "t1"
        assert action["serviceBusTopicMessage"]["transportType"] == "AMQP"


def test_a_client_certificate_job_saved_from_azure_scheduler_is_accepted_back(api: SchedulerApi) -> None:
    """Azure Scheduler's responses spelt the expiry `certificateExpiration` (the outbound-authentication doc's sample
    response); a job saved from it, its pfx and password put back, is accepted and the pfx decides the details."""
    collection = api.new_collection()
    saved_auth = {
        "certificateThumbprint": "88105CG9DF9ADE75B835711D899296CB217D7055",
        "certificateExpiration": "2021-01-01T07:00:00Z",
        "certificateSubjectName": "CN=Scheduler Mgmt",
        "type": "ClientCertificate",
    }
    auth = dict(saved_auth, pfx=SECRETS["pfx"], password=SECRETS["password"])
    request = {"uri": "https://example.invalid/", "method": "GET", "authentication": auth}
    body = {"properties": {"startTime": FAR_FUTURE, "action": {"type": "http", "request": request}, "state": "enabled"}}
    created = api.call("PUT", api.job_path(collection, "saved"), body)
    assert created.status_code == 201, created.text
    got = get_job(api, collection, "saved")["properties"]["action"]["request"]["authentication"]
    assert set(got) == {"type", "certificateThumbprint", "certificateSubjectName", "certificateExpirationDate"}
    assert got["certificateSubjectName"] == "CN=Scheduler Test Client"
    assert got["certificateThumbprint"] != saved_auth["certificateThumbprint"]


def test_secrets_survive_a_patch_that_does_not_touch_them(api: SchedulerApi) -> None:
    """A PATCH merges into the stored job including its secrets: the job stays valid and keeps them."""
    collection = api.new_collection()
    body = {"properties": {"startTime": FAR_FUTURE, "action": ACTIONS["storage-queue"]}}
    put_job(api, collection, "q", body)
    patched = api.call("PATCH", api.job_path(collection, "q"), {"properties": {"recurrence": {"frequency": "Day"}}})
    assert patched.status_code == 200, patched.text
    _assert_no_secret(patched.text)


@pytest.mark.parametrize(
    ("action", "patch", "secret_paths"),
    [
        ("basic", {"request": {"uri": "https://collector.example/steal"}}, ["request.authentication.password"]),
        ("basic", {"request": {"uri": "https://example.invalid:8443/hook"}}, ["request.authentication.password"]),
        ("basic", {"request": {"uri": "http://example.invalid/hook"}}, ["request.authentication.password"]),
        ("certificate", {"request": {"uri": "https://collector.example/"}},
         ["request.authentication.password", "request.authentication.pfx"]),
        ("oauth", {"request": {"uri": "https://collector.example/"}}, ["request.authentication.secret"]),
        ("oauth", {"request": {"authentication": {"audience": "https://vault.azure.net"}}},
         ["request.authentication.secret"]),
        ("storage-queue", {"queueMessage": {"storageAccount": "collector"}}, ["queueMessage.sasToken"]),
        ("service-bus-queue", {"serviceBusQueueMessage": {"namespace": "collector"}},
         ["serviceBusQueueMessage.authentication.sasKey"]),
    ],
)
def test_a_patch_that_sends_a_stored_secret_somewhere_else_must_give_it_again(
    api: SchedulerApi, action: str, patch: dict, secret_paths: list[str]
) -> None:
    """A stored secret stays bound to where it is sent: another writer of the job cannot point it at a host of
    their own with a PATCH and collect it. Given again, the same PATCH is fine; a PATCH that keeps the destination
    keeps the secret (test above)."""
    collection = api.new_collection()
    put_job(api, collection, "bound", {"properties": {"startTime": FAR_FUTURE, "action": ACTIONS[action]}})
    path = api.job_path(collection, "bound")
    before = api.call("GET", path).json()

    refused = api.call("PATCH", path, {"properties": {"action": patch}})

    assert refused.status_code == 400, refused.text
    assert sorted(d["target"] for d in refused.json()["error"]["details"]) == [
        f"properties.action.{p}" for p in secret_paths
    ]
    _assert_no_secret(refused.text)
    assert api.call("GET", path).json() == before, "nothing changed"
    again = json.loads(json.dumps(patch))
    for secret_path in secret_paths:
        *parents, leaf = secret_path.split(".")
        node, original = again, ACTIONS[action]
        for key in parents:
            node, original = node.setdefault(key, {}), original[key]
        node[leaf] = original[leaf]
    assert api.call("PATCH", path, {"properties": {"action": again}}).status_code == 200


def test_validation_errors_never_quote_a_secret(api: SchedulerApi) -> None:
    collection = api.new_collection()
    action = json.loads(json.dumps(ACTIONS["basic"]))
    action["request"]["authentication"]["bogus"] = SECRETS["secret"]
    action["request"]["uri"] = SECRETS["sasKey"]
    response = api.call("PUT", api.job_path(collection, "leaky"), {"properties": {"action": action}})
    assert response.status_code == 400, response.text
    _assert_no_secret(response.text)


def _action(**request: object) -> dict:
    return {"type": "Http", "request": {"uri": "https://example.invalid/", "method": "GET", **request}}


# What a PATCH sends to cause the same problem where the PUT body alone would merge into something valid.
PATCH_INSTEAD = {
    "missing uri": {"action": {"request": {"uri": None}}},
    "missing action": {"action": None},
}
INVALID = {
    "unknown enum": ({"action": {**_action(), "type": "Carrier-Pigeon"}}, "properties.action.type"),
    "unknown auth type": (
        {"action": _action(authentication={"type": "Kerberos"})}, "properties.action.request.authentication"
    ),
    "wrong type": ({"action": _action(), "recurrence": {"frequency": "Hour", "interval": "often"}},
                   "properties.recurrence.interval"),
    "missing uri": ({"action": {"type": "Http", "request": {"method": "GET"}}}, "properties.action.request.uri"),
    "missing action": ({"startTime": FAR_FUTURE}, "properties.action"),
    "interval zero": ({"action": _action(), "recurrence": {"frequency": "Hour", "interval": 0}},
                      "properties.recurrence.interval"),
    "interval too big": ({"action": _action(), "recurrence": {"frequency": "Month", "interval": 19}},
                         "properties.recurrence.interval"),
    "monthDays 0": ({"action": _action(), "recurrence": {"frequency": "Month", "schedule": {"monthDays": [0]}}},
                    "properties.recurrence.schedule.monthDays[0]"),
    "monthDays 32": ({"action": _action(), "recurrence": {"frequency": "Month", "schedule": {"monthDays": [1, 32]}}},
                     "properties.recurrence.schedule.monthDays[1]"),
    "weekDays not weekly": (
        {"action": _action(), "recurrence": {"frequency": "Day", "schedule": {"weekDays": ["Monday"]}}},
        "properties.recurrence.schedule.weekDays",
    ),
    "occurrence 6": (
        {"action": _action(), "recurrence": {"frequency": "Month",
                                             "schedule": {"monthlyOccurrences": [{"day": "Monday", "Occurrence": 6}]}}},
        "properties.recurrence.schedule.monthlyOccurrences[0].Occurrence",
    ),
    "endTime before startTime": (
        {"startTime": "2034-01-02T00:00:00Z", "action": _action(),
         "recurrence": {"frequency": "Day", "endTime": "2034-01-01T00:00:00Z"}},
        "properties.recurrence.endTime",
    ),
    "body too long": ({"action": _action(body="x" * 8193)}, "properties.action.request.body"),
    "uri too long": ({"action": _action(uri="https://example.invalid/" + "u" * 2048)}, "properties.action.request.uri"),
    "unknown field": ({"action": _action(), "colour": "blue"}, "properties.colour"),
    "sasToken with a line break": (
        {"action": {"type": "StorageQueue", "queueMessage": {
            "storageAccount": "acct1", "queueName": "q1", "message": "m", "sasToken": "sv=2015&sig=abc\r\nX-Evil: 1"}}},
        "properties.action.queueMessage.sasToken",
    ),
    "retry interval too short": (
        {"action": {**_action(), "retryPolicy": {"retryType": "Fixed", "retryInterval": "00:00:00"}}},
        "properties.action.retryPolicy.retryInterval",
    ),
}


@pytest.mark.parametrize("case", sorted(INVALID))
def test_invalid_job_is_400_naming_the_field_and_changes_nothing(api: SchedulerApi, case: str) -> None:
    collection = api.new_collection()
    before = put_job(api, collection, "stable", hourly_job())
    properties, target = INVALID[case]

    put = api.call("PUT", api.job_path(collection, "stable"), {"properties": properties})
    assert target in error_targets(put), put.text
    assert put.headers["x-ms-request-id"]
    patch = api.call("PATCH", api.job_path(collection, "stable"), {"properties": PATCH_INSTEAD.get(case, properties)})
    assert target in error_targets(patch), patch.text
    created = api.call("PUT", api.job_path(collection, "never"), {"properties": properties})
    assert created.status_code == 400

    assert get_job(api, collection, "stable") == before
    assert api.call("GET", api.job_path(collection, "never")).status_code == 404


def test_several_problems_are_reported_together(api: SchedulerApi) -> None:
    collection = api.new_collection()
    body = {"properties": {"action": {"type": "Http", "request": {"method": "GET"}},
                           "recurrence": {"frequency": "Fortnight"}, "state": "Sleeping"}}
    targets = error_targets(api.call("PUT", api.job_path(collection, "many"), body))
    assert {"properties.recurrence.frequency", "properties.state"} <= targets


def test_malformed_json_is_400_in_the_arm_envelope(api: SchedulerApi) -> None:
    collection = api.new_collection()
    for path in (api.job_path(collection, "bad"), api.collection_path(collection)):
        response = api.session.put(
            f"{api.base_url}{path}", data=b'{"properties": {', params={"api-version": "2016-03-01"},
            headers={"Content-Type": "application/json"}, timeout=30,
        )
        assert response.status_code == 400, response.text
        assert response.json()["error"]["code"] == "BadRequest"
        assert response.headers["x-ms-request-id"]


def test_a_job_over_16000_characters_is_400(api: SchedulerApi) -> None:
    collection = api.new_collection()
    headers = {f"x-h{i}": "v" * 400 for i in range(45)}  # ~18,900 characters, each header within its limits
    body = http_job(recurrence={"frequency": "Hour"})
    body["properties"]["action"]["request"]["headers"] = headers
    response = api.call("PUT", api.job_path(collection, "huge"), body)
    assert response.status_code == 400, response.text
    assert "16000" in response.text or "16,000" in response.text
    assert api.call("GET", api.job_path(collection, "huge")).status_code == 404


def test_a_rejected_collection_change_changes_nothing(api: SchedulerApi) -> None:
    collection = api.new_collection()
    path = api.collection_path(collection)
    before = api.call("GET", path).json()
    for method in ("PUT", "PATCH"):
        response = api.call(method, path, {"location": "westus", "properties": {"sku": {"name": "Platinum"}}})
        assert "properties.sku.name" in error_targets(response)
    assert api.call("GET", path).json() == before


def test_the_fixed_segments_of_a_path_are_matched_in_any_case_and_names_kept_as_sent(api: SchedulerApi) -> None:
    # ARM matches `resourceGroups`, `Microsoft.Scheduler`, `jobCollections`... in any case, and ids saved from some
    # tools are lower-cased: a URL built from one must reach the same resource. A job named `History` is a name, not
    # the history segment.
    collection = api.new_collection()
    put_job(api, collection, "History", http_job(recurrence={"frequency": "Hour"}))
    lowered = (api.job_path(collection, "History").replace("resourceGroups", "resourcegroups")
               .replace("Microsoft.Scheduler", "MICROSOFT.SCHEDULER").replace("jobCollections", "jobcollections")
               .replace("/jobs/", "/Jobs/").replace("/subscriptions/", "/Subscriptions/"))

    got = api.call("GET", lowered)
    assert got.status_code == 200, got.text
    assert got.json()["name"] == f"{collection}/History"
    assert got.json()["id"] == api.job_path(collection, "History")  # the id as the swagger spells it
    assert api.call("GET", lowered + "/HISTORY").status_code == 200
    assert api.call("POST", lowered.replace("/Jobs/History", "/DISABLE")).status_code == 200
    assert api.call("GET", api.collection_path(collection)).json()["properties"]["state"] == "Disabled"
    # names, as in ARM, are found in any case and keep the spelling they were created with
    assert api.call("GET", lowered.replace("/History", "/history")).json()["name"] == f"{collection}/History"


def test_api_version_is_optional_but_validated(api: SchedulerApi) -> None:
    collection = api.new_collection()
    url = f"{api.base_url}{api.collection_path(collection)}"
    assert requests.get(url, timeout=30).status_code == 200
    assert requests.get(url, params={"api-version": "2016-01-01"}, timeout=30).status_code == 200
    wrong = requests.get(url, params={"api-version": "1999-01-01"}, timeout=30)
    assert "api-version" in error_targets(wrong)


def test_every_response_carries_a_request_id(api: SchedulerApi) -> None:
    collection = api.new_collection()
    responses = [
        api.call("GET", api.collection_path(collection)),
        api.call("PUT", api.job_path(collection, "j"), hourly_job()),
        api.call("DELETE", api.job_path(collection, "j")),
        api.call("GET", api.job_path(collection, "j")),
        api.call("GET", "/no/such/path"),
        api.call("PUT", api.job_path(collection, "bad"), {"properties": {}}),
    ]
    assert [r.status_code for r in responses] == [200, 201, 200, 404, 404, 400]
    ids = [r.headers.get("x-ms-request-id") for r in responses]
    assert all(ids) and len(set(ids)) == len(ids)
    assert responses[4].json()["error"]["code"] == "ResourceNotFound"


JOB_PATH = (
    "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Scheduler"
    "/jobCollections/{jobCollectionName}/jobs/{jobName}"
)
OPERATIONS = {
    "JobCollections_ListBySubscription", "JobCollections_ListByResourceGroup", "JobCollections_Get",
    "JobCollections_CreateOrUpdate", "JobCollections_Patch", "JobCollections_Delete", "JobCollections_Enable",
    "JobCollections_Disable", "Jobs_Get", "Jobs_CreateOrUpdate", "Jobs_Patch", "Jobs_Delete", "Jobs_Run",
    "Jobs_List", "Jobs_ListJobHistory",
}


def test_openapi_describes_the_operations_and_wire_models(api: SchedulerApi) -> None:
    document = api.session.get(f"{api.base_url}/openapi.json", timeout=30).json()
    operations = {op["operationId"] for ops in document["paths"].values() for op in ops.values()}
    assert OPERATIONS <= operations
    schemas = document["components"]["schemas"]
    for model in ("JobDefinition", "JobProperties", "JobAction", "RetryPolicy", "JobRecurrence",
                  "JobCollectionDefinition", "JobHistoryDefinition", "HttpRequest", "BasicAuthentication",
                  "StorageQueueMessage"):
        assert model in schemas, model
    assert "Occurrence" in schemas["JobRecurrenceScheduleMonthlyOccurrence"]["properties"]
    assert {"startTime", "action", "recurrence", "state", "status"} <= set(schemas["JobProperties"]["properties"])
    assert {"retryType", "retryInterval", "retryCount"} <= set(schemas["RetryPolicy"]["properties"])
    for path in document["paths"].values():
        for op in path.values():
            for ref in json.dumps(op.get("requestBody", {})).split('"$ref": "')[1:]:
                assert ref.split('"')[0].rsplit("/", 1)[1] in schemas
    put_job = document["paths"][JOB_PATH]["put"]
    assert {"200", "201", "default"} <= set(put_job["responses"])
    assert put_job["responses"]["default"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorResponse")
    assert "target" in schemas["ErrorDetail"]["properties"]
    assert api.session.get(f"{api.base_url}/docs", timeout=30).status_code == 200
