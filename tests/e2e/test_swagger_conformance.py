"""Every operation of the published swagger (Microsoft.Scheduler 2016-03-01, tests/support/swagger/), through HTTP
against the local host: the status codes it declares, bodies that validate strictly against its response schemas
(every enum value spelt as it spells it), `x-ms-pageable` nextLink paging, the ARM error envelope for every failure
(the swagger declares no error responses), and request bodies that use every property and enum value it declares.

The repository holds no `examples/` for this API version, so the request bodies (tests/support/swagger_bodies.py) are
written from the swagger's definitions.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
import requests

from devhost.tests.running import wait_for
from tests.support.api import SchedulerApi, unique
from tests.support.swagger import (
    ARM_ERROR,
    definition,
    enum_values_used,
    operations,
    swagger,
    validate,
)
from tests.support.swagger_bodies import collection_bodies, job_bodies
from tests.support.target import Target
from tests.support.wire import FAR_FUTURE

OPERATIONS = operations()


class Client:
    """Calls operations by their swagger `operationId`, on the path the swagger's template gives, and checks each
    answer against the swagger: a declared status code and a body that validates against its schema."""

    def __init__(self, api: SchedulerApi, subscription: str, group: str, collection: str) -> None:
        self.api = api
        self.names = {"subscriptionId": subscription, "resourceGroupName": group, "jobCollectionName": collection}
        self.exercised: set[str] = set()

    def path(self, operation_id: str, **names: str) -> str:
        return OPERATIONS[operation_id].template.format(**{**self.names, **names})

    def raw(self, operation_id: str, body: Any = None, **names: str) -> requests.Response:
        params = {k: names.pop(k) for k in list(names) if k.startswith("$") or k == "api-version"}
        return self.api.call(OPERATIONS[operation_id].method, self.path(operation_id, **names), body, **params)

    def call(self, operation_id: str, body: Any = None, *, expect: int | None = None, **names: str) -> Any:
        """The operation's answer body (None where the swagger declares none), after checking it conforms."""
        response = self.raw(operation_id, body, **names)
        self.exercised.add(operation_id)
        return conforms(response, operation_id, expect)


def conforms(response: requests.Response, operation_id: str, expect: int | None = None) -> Any:
    operation = OPERATIONS[operation_id]
    assert response.status_code in operation.responses, (
        f"{operation_id} answered {response.status_code}; the swagger declares {sorted(operation.responses)}: "
        f"{response.text[:500]}"
    )
    if expect is not None:
        assert response.status_code == expect, response.text[:500]
    schema = operation.responses[response.status_code]
    if schema is None:
        assert response.content == b"", f"{operation_id} {response.status_code} declares no body: {response.text}"
        return None
    assert response.headers["Content-Type"].split(";")[0] in ("application/json", "text/json")  # swagger `produces`
    body = response.json()
    problems = validate(body, schema)
    assert not problems, f"{operation_id} {response.status_code}:\n" + "\n".join(problems)
    return body


def arm_error(response: requests.Response, status: int, code: str) -> dict[str, Any]:
    """The answer is `status` with the ARM error envelope and `code` (the swagger declares no error responses, so
    what ARM clients parse is the contract)."""
    assert response.status_code == status, response.text[:500]
    assert response.headers["Content-Type"].split(";")[0] == "application/json"
    body = response.json()
    problems = validate(body, ARM_ERROR)
    assert not problems, "\n".join(problems)
    assert body["error"]["code"] == code
    return dict(body)


@pytest.fixture
def client(api: SchedulerApi) -> Client:
    return Client(api, unique("sub"), unique("rg"), unique("jc"))


# ---- every operation, once, in the order a user would call them -----------------------------------------------------


def test_every_operation_the_swagger_declares_answers_as_it_declares(client: Client, target: Target) -> None:
    collection = client.names["jobCollectionName"]
    body = {"location": "West US", "properties": {"sku": {"name": "Standard"}}}
    client.call("JobCollections_CreateOrUpdate", body, expect=201)
    client.call("JobCollections_CreateOrUpdate", body, expect=200)
    assert client.call("JobCollections_Get")["name"] == collection
    assert client.call("JobCollections_Patch", {"tags": {"owner": "swagger"}})["tags"] == {"owner": "swagger"}
    listed = client.call("JobCollections_ListByResourceGroup")
    assert [c["name"] for c in listed["value"]] == [collection]
    listed = client.call("JobCollections_ListBySubscription")
    assert [c["name"] for c in listed["value"]] == [collection]

    job = {
        "properties": {
            "startTime": FAR_FUTURE,
            "action": {"type": "Http", "request": {"uri": f"{target.url}/run", "method": "POST", "body": "x"}},
            "recurrence": {"frequency": "Day", "interval": 1},
        }
    }
    client.call("Jobs_CreateOrUpdate", job, expect=201, jobName="job1")
    client.call("Jobs_CreateOrUpdate", job, expect=200, jobName="job1")
    assert client.call("Jobs_Get", jobName="job1")["name"] == f"{collection}/job1"
    patched = client.call("Jobs_Patch", {"properties": {"state": "Disabled"}}, jobName="job1")
    assert patched["properties"]["state"] == "Disabled"
    assert [j["name"] for j in client.call("Jobs_List")["value"]] == [f"{collection}/job1"]
    client.call("Jobs_Run", expect=200, jobName="job1")
    wait_for(lambda: client.call("Jobs_ListJobHistory", jobName="job1")["value"], "a history entry of the run")

    client.call("JobCollections_Disable", expect=200)
    client.call("JobCollections_Enable", expect=200)
    client.call("Jobs_Delete", expect=200, jobName="job1")
    client.call("JobCollections_Delete", expect=200)
    assert client.exercised == set(OPERATIONS)


# ---- bodies using every property and enum value the swagger declares -----------------------------------------------


def test_a_collection_using_every_property_and_enum_value_is_accepted_and_answered_as_the_swagger_spells_it(
    client: Client,
) -> None:
    answers = []
    for index, body in enumerate(collection_bodies()):
        answer = client.call("JobCollections_CreateOrUpdate", body, expect=201, jobCollectionName=f"jc{index}")
        assert answer["tags"] == body["tags"]
        assert answer["properties"]["sku"] == body["properties"]["sku"]
        assert answer["properties"]["state"] == body["properties"]["state"]
        assert answer["properties"]["quota"] == body["properties"]["quota"]
        answers.append(answer)
        assert client.call("JobCollections_Get", jobCollectionName=f"jc{index}") == answer
    schema = definition("JobCollectionDefinition")
    assert enum_values_used(schema, answers) == enum_values_used(schema, collection_bodies())


def test_jobs_using_every_property_and_enum_value_are_accepted_and_answered_as_the_swagger_spells_them(
    client: Client,
) -> None:
    client.call("JobCollections_CreateOrUpdate", {"location": "West US"}, expect=201)
    answers = []
    for index, body in enumerate(job_bodies()):
        answer = client.call("Jobs_CreateOrUpdate", body, expect=201, jobName=f"job{index}")
        assert answer["properties"]["recurrence"] == body["properties"]["recurrence"]
        assert answer["properties"]["action"]["type"] == body["properties"]["action"]["type"]
        answers.append(answer)
        assert client.call("Jobs_Get", jobName=f"job{index}") == answer
    listed = client.call("Jobs_List")["value"]
    assert sorted(j["name"] for j in listed) == sorted(a["name"] for a in answers)
    schema = definition("JobDefinition")
    used = enum_values_used(schema, answers)
    for name, values in enum_values_used(schema, job_bodies()).items():
        assert used[name] == values, name


def test_enum_values_sent_in_any_case_come_back_as_the_swagger_spells_them(client: Client) -> None:
    client.call("JobCollections_CreateOrUpdate", {"properties": {"sku": {"name": "p20premium"}, "state": "enabled"}})
    body = job_bodies()[4]  # StorageQueue with a ServiceBusQueue errorAction: most enums in one body
    shouted = _recase(copy.deepcopy(body), str.lower)
    answer = client.call("Jobs_CreateOrUpdate", shouted, expect=201, jobName="lower")
    expected = client.call("Jobs_CreateOrUpdate", body, expect=201, jobName="canonical")
    assert _without_identity(answer) == _without_identity(expected)


def _recase(value: Any, how: Any) -> Any:
    """Every value of an enum property (the swagger's) recased with `how`; other values unchanged."""
    enum_keys = {"type", "retryType", "frequency", "state", "transportType", "day", "name"}
    if isinstance(value, dict):
        return {k: how(v) if k in enum_keys and isinstance(v, str) else _recase(v, how) for k, v in value.items()}
    if isinstance(value, list):
        return [how(v) if isinstance(v, str) else _recase(v, how) for v in value]
    return value


def _without_identity(job: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in job.items() if k not in ("id", "name")}


# ---- integers: the swagger's `integer` is an int32 in every generated client ---------------------------------------

BEYOND_INT32 = 2**31


@pytest.mark.parametrize(
    ("operation_id", "target", "properties"),
    [
        ("JobCollections_CreateOrUpdate", "properties.quota.maxJobCount", {"quota": {"maxJobCount": BEYOND_INT32}}),
        (
            "JobCollections_CreateOrUpdate",
            "properties.quota.maxJobOccurrence",
            {"quota": {"maxJobOccurrence": BEYOND_INT32}},
        ),
        (
            "JobCollections_CreateOrUpdate",
            "properties.quota.maxRecurrence.interval",
            {"quota": {"maxRecurrence": {"frequency": "Minute", "interval": BEYOND_INT32}}},
        ),
        (
            "Jobs_CreateOrUpdate",
            "properties.recurrence.count",
            {"recurrence": {"frequency": "Hour", "count": BEYOND_INT32}},
        ),
    ],
)
def test_an_integer_beyond_int32_is_refused_naming_the_field_as_clients_of_the_swagger_cannot_read_it_back(
    client: Client, operation_id: str, target: str, properties: dict[str, Any]
) -> None:
    # The swagger's `integer` has no format, which AutoRest generates as int32 (.NET `int?`, Go `*int32`, the
    # Az.Scheduler cmdlets' `Int32` parameters): a job answered with `count` 2147483648 breaks those clients' reads.
    if operation_id == "Jobs_CreateOrUpdate":
        client.call("JobCollections_CreateOrUpdate", {"location": "West US"}, expect=201)
        body = job_bodies()[3]
        body["properties"].update(properties)
    else:
        body = {"location": "West US", "properties": properties}
    error = arm_error(client.raw(operation_id, body, jobName="job1"), 400, "BadRequest")
    assert target in {d["target"] for d in error["error"]["details"]}
    # The largest int32 is a value like any other; a quota's maxRecurrence has a lower bound of its own (18 months
    # between runs at most: docs/api.md), and its largest value is as good as any.
    body = copy.deepcopy(body)
    _set(body, target, 789120 if target.endswith("maxRecurrence.interval") else 2**31 - 1)
    names = {"jobName": "job2"} if operation_id == "Jobs_CreateOrUpdate" else {"jobCollectionName": unique("jc")}
    client.call(operation_id, body, expect=201, **names)


def _set(body: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for key in parents:
        body = body[key]
    body[last] = value


# ---- x-ms-pageable ---------------------------------------------------------------------------------------------------


def _follow(client: Client, operation_id: str, first: Any) -> list[dict[str, Any]]:
    """Every item of an `x-ms-pageable` listing, each page checked against the swagger."""
    assert OPERATIONS[operation_id].pageable
    items, page = list(first["value"]), first
    while "nextLink" in page:
        assert page["nextLink"].startswith("http"), page["nextLink"]
        page = conforms(client.api.session.get(page["nextLink"], timeout=30), operation_id, 200)
        items += page["value"]
    return items


def test_next_link_pages_through_jobs_as_x_ms_pageable_clients_follow_it(client: Client) -> None:
    client.call("JobCollections_CreateOrUpdate", {"location": "West US"}, expect=201)
    for index in range(5):
        client.call("Jobs_CreateOrUpdate", job_bodies()[index % 4], expect=201, jobName=f"job{index}")
    first = client.call("Jobs_List", **{"$top": "2"})
    assert len(first["value"]) == 2 and "nextLink" in first
    names = [j["name"].split("/")[1] for j in _follow(client, "Jobs_List", first)]
    assert sorted(names) == [f"job{i}" for i in range(5)]
    enabled = _follow(client, "Jobs_List", client.call("Jobs_List", **{"$top": "1", "$filter": "state eq 'Enabled'"}))
    assert sorted(j["name"].split("/")[1] for j in enabled) == ["job0", "job2", "job4"]


def test_history_of_every_status_and_action_name_pages_as_the_swagger_declares(client: Client) -> None:
    target = Target(lambda path: 500 if path.startswith("/fail") else 200)
    try:
        client.call("JobCollections_CreateOrUpdate", {"location": "West US"}, expect=201)
        job = {
            "properties": {
                "startTime": FAR_FUTURE,
                "action": {
                    "type": "Http", "request": {"uri": f"{target.url}/fail", "method": "GET"},
                    "retryPolicy": {"retryType": "None"},
                    "errorAction": {"type": "Http", "request": {"uri": f"{target.url}/error", "method": "POST"}},
                },
            }
        }
        client.call("Jobs_CreateOrUpdate", job, expect=201, jobName="failing")
        client.call("Jobs_Run", expect=200, jobName="failing")
        client.call("Jobs_Run", expect=200, jobName="failing")

        def listed() -> list[dict[str, Any]] | None:
            first = client.call("Jobs_ListJobHistory", jobName="failing", **{"$top": "1"})
            found = _follow(client, "Jobs_ListJobHistory", first)
            return found if len(found) >= 4 else None

        entries = wait_for(listed, "two runs, each with its errorAction, in history", deadline=45)
        assert {e["properties"]["actionName"] for e in entries} == {"MainAction", "ErrorAction"}
        assert {e["properties"]["status"] for e in entries} >= {"Failed", "Completed"}
        failed = client.call("Jobs_ListJobHistory", jobName="failing", **{"$filter": "status eq 'Failed'"})
        assert failed["value"] and {e["properties"]["status"] for e in failed["value"]} == {"Failed"}
    finally:
        target.close()


# ---- failures: the ARM error envelope --------------------------------------------------------------------------------


@pytest.mark.parametrize("operation_id", sorted(OPERATIONS))
def test_every_operation_answers_an_unknown_api_version_with_the_arm_error_envelope(
    client: Client, operation_id: str
) -> None:
    response = client.raw(operation_id, {}, jobName="job1", **{"api-version": "1999-01-01"})
    error = arm_error(response, 400, "BadRequest")
    assert [d["target"] for d in error["error"]["details"]] == ["api-version"]


# Every operation on a named collection, but the PUT that creates one.
MISSING = sorted(
    op
    for op, operation in OPERATIONS.items()
    if "{jobCollectionName}" in operation.template and op != "JobCollections_CreateOrUpdate"
)


@pytest.mark.parametrize("operation_id", MISSING)
def test_every_operation_on_a_missing_resource_answers_404_with_the_arm_error_envelope(
    client: Client, operation_id: str
) -> None:
    job = job_bodies()[0] if operation_id.startswith("Jobs_") else {"tags": {"a": "b"}}
    arm_error(client.raw(operation_id, job, jobName="job1"), 404, "ResourceNotFound")


def test_a_job_body_the_swagger_does_not_describe_answers_400_with_the_arm_error_envelope(client: Client) -> None:
    client.call("JobCollections_CreateOrUpdate", {"location": "West US"}, expect=201)
    body = job_bodies()[0]
    body["properties"]["recurrence"]["frequency"] = "Fortnight"
    error = arm_error(client.raw("Jobs_CreateOrUpdate", body, jobName="job1"), 400, "BadRequest")
    assert "properties.recurrence.frequency" in {d["target"] for d in error["error"]["details"]}


def test_a_method_the_swagger_does_not_declare_answers_405_with_the_arm_error_envelope(client: Client) -> None:
    client.call("JobCollections_CreateOrUpdate", {"location": "West US"}, expect=201)
    response = client.api.call("POST", client.path("JobCollections_Get"))
    arm_error(response, 405, "InvalidHttpVerb")


def test_a_quota_breach_answers_409_with_the_arm_error_envelope(client: Client) -> None:
    client.call("JobCollections_CreateOrUpdate", {"properties": {"quota": {"maxJobCount": 1}}}, expect=201)
    client.call("Jobs_CreateOrUpdate", job_bodies()[0], expect=201, jobName="job1")
    error = arm_error(client.raw("Jobs_CreateOrUpdate", job_bodies()[0], jobName="job2"), 409, "ConflictError")
    assert "maxJobCount" in error["error"]["message"]


def test_the_openapi_document_declares_every_swagger_operation_and_property_as_the_swagger_does(
    api: SchedulerApi,
) -> None:
    document = api.session.get(f"{api.base_url}/openapi.json", timeout=30).json()
    served = {
        spec["operationId"]: (method.upper(), path, set(spec["responses"]) - {"default"})
        for path, item in document["paths"].items()
        for method, spec in item.items()
    }
    for operation in OPERATIONS.values():
        method, path, codes = served[operation.operation_id]
        assert (method, path) == (operation.method, operation.template), operation.operation_id
        # The swagger's 202s are for asynchronous completion, which this API never needs: it answers 200 when done.
        assert {str(code) for code in operation.responses if code != 202} == codes, operation.operation_id
    schemas = document["components"]["schemas"]
    for name, model in swagger()["definitions"].items():
        if name in schemas and "properties" in model:  # the polymorphic base is a union there, not a model
            assert set(model["properties"]) <= set(schemas[name]["properties"]), name
