"""The vendored swagger of Microsoft.Scheduler 2016-03-01, the validator the conformance tests check responses with, and
the request bodies they send: the validator finds each kind of departure, and the bodies use every writable property
and every sendable enum value the swagger declares."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from tests.support.swagger import (
    ARM_ERROR,
    SWAGGER_FILE,
    declared,
    declared_enums,
    definition,
    enum_values_used,
    operations,
    validate,
    values_at,
)
from tests.support.swagger_bodies import UNSENDABLE, collection_bodies, job_bodies


def test_the_vendored_swagger_is_the_published_file_unchanged() -> None:
    # azure-rest-api-specs e55bbf71, specification/scheduler/resource-manager/Microsoft.Scheduler/stable/2016-03-01.
    data = SWAGGER_FILE.read_bytes()
    assert len(data) == 60764
    assert hashlib.sha256(data).hexdigest() == "3d79ae21c97b858cbbad9f2bb72b9ff39790945d7ac7417561399ba9404d75c7"


def test_the_swagger_declares_fifteen_operations_with_their_status_codes() -> None:
    found = {op.operation_id: (op.method, sorted(op.responses)) for op in operations().values()}
    assert found == {
        "JobCollections_ListBySubscription": ("GET", [200]),
        "JobCollections_ListByResourceGroup": ("GET", [200]),
        "JobCollections_Get": ("GET", [200]),
        "JobCollections_CreateOrUpdate": ("PUT", [200, 201]),
        "JobCollections_Patch": ("PATCH", [200]),
        "JobCollections_Delete": ("DELETE", [200, 202]),
        "JobCollections_Enable": ("POST", [200, 202]),
        "JobCollections_Disable": ("POST", [200, 202]),
        "Jobs_Get": ("GET", [200]),
        "Jobs_CreateOrUpdate": ("PUT", [200, 201]),
        "Jobs_Patch": ("PATCH", [200]),
        "Jobs_Delete": ("DELETE", [200]),
        "Jobs_Run": ("POST", [200]),
        "Jobs_List": ("GET", [200]),
        "Jobs_ListJobHistory": ("GET", [200]),
    }
    assert {op.operation_id for op in operations().values() if op.pageable} == {
        "JobCollections_ListBySubscription", "JobCollections_ListByResourceGroup", "Jobs_List", "Jobs_ListJobHistory"
    }


JOB = {"$ref": "#/definitions/JobDefinition"}
LOWER_OCCURRENCE = {"frequency": "Month", "schedule": {"monthlyOccurrences": [{"day": "Monday", "occurrence": 1}]}}


def job(**properties: Any) -> dict[str, Any]:
    return {
        "id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Scheduler/jobCollections/c/jobs/j",
        "type": "Microsoft.Scheduler/jobCollections/jobs",
        "name": "c/j",
        "properties": {
            "startTime": "2035-01-01T00:00:00Z",
            "action": {"type": "Http", "request": {"uri": "https://a.invalid/", "method": "GET"}},
            "state": "Enabled",
            "status": {"executionCount": 0, "failureCount": 0, "faultedCount": 0},
            **properties,
        },
    }


def test_a_job_as_the_swagger_describes_it_validates() -> None:
    basic = {"type": "Basic", "username": "alice"}
    body = job(action={"type": "Https", "request": {"uri": "https://a.invalid/", "authentication": basic}})
    body["properties"]["recurrence"] = {"frequency": "Month", "schedule": {"monthlyOccurrences": [
        {"day": "Monday", "Occurrence": -1}]}}
    body["properties"]["action"]["retryPolicy"] = {"retryType": "Fixed", "retryInterval": "PT30S", "retryCount": 4}
    assert validate(body, JOB) == []


@pytest.mark.parametrize(
    ("properties", "problem"),
    [
        ({"state": "enabled"}, "$.properties.state: 'enabled' is not one of"),
        ({"startTime": "2035-01-01 00:00:00"}, "$.properties.startTime: '2035-01-01 00:00:00' is not an RFC 3339"),
        ({"startTime": "2035-01-01T00:00:00"}, "is not an RFC 3339 date-time"),
        ({"colour": "red"}, "$.properties: property 'colour' is not in the swagger"),
        ({"recurrence": {"frequency": "Hour", "count": 2**31}}, "$.properties.recurrence.count: 2147483648 does not"),
        ({"recurrence": {"frequency": "Hour", "interval": "2"}}, "$.properties.recurrence.interval: str where"),
        ({"recurrence": {"frequency": "Hour", "interval": True}}, "$.properties.recurrence.interval: bool where"),
        ({"recurrence": {"frequency": "Hour", "endTime": None}}, "$.properties.recurrence.endTime: null where"),
        (
            {"recurrence": LOWER_OCCURRENCE},
            "$.properties.recurrence.schedule.monthlyOccurrences[0]: property 'occurrence' is not in the swagger",
        ),
        ({"recurrence": {"frequency": "Week", "schedule": {"weekDays": ["monday"]}}},
         "$.properties.recurrence.schedule.weekDays[0]: 'monday' is not one of"),
        ({"action": {"type": "Http", "retryPolicy": {"retryType": "Fixed", "retryInterval": "00:00:30"}}},
         "$.properties.action.retryPolicy.retryInterval: '00:00:30' is not an ISO 8601 duration"),
        ({"action": {"type": "Http", "request": {"authentication": {"type": "Basic", "tenant": "t"}}}},
         "$.properties.action.request.authentication: property 'tenant' is not in the swagger"),
        ({"action": {"type": "Http", "request": {"authentication": {"username": "alice"}}}},
         "$.properties.action.request.authentication: required property 'type' is missing"),
        ({"action": {"type": "Http", "request": {"headers": {"a": 1}}}}, "$.properties.action.request.headers.a: int"),
    ],
)
def test_the_validator_names_each_departure_from_the_swagger(properties: dict[str, Any], problem: str) -> None:
    problems = validate(job(**properties), JOB)
    assert any(p.startswith(problem) or problem in p for p in problems), problems


def test_a_negative_duration_is_a_duration_as_dotnet_writes_one() -> None:
    # XmlConvert.ToString(TimeSpan) writes `-PT1H`; what the value means is the API's business, not the format's.
    message = {"brokeredMessageProperties": {"timeToLive": "-PT1H"}}
    action = {"type": "ServiceBusQueue", "serviceBusQueueMessage": message}
    assert validate(job(action=action), JOB) == []


def test_the_arm_error_envelope_needs_a_code_and_a_message() -> None:
    assert validate({"error": {"code": "BadRequest", "message": "m", "details": [{"code": "c", "message": "m"}]}},
                    ARM_ERROR) == []
    assert validate({"error": {"code": "BadRequest"}}, ARM_ERROR) == ["$.error: required property 'message' is missing"]
    assert validate({"code": "BadRequest", "message": "m"}, ARM_ERROR)


def _covered(bodies: list[dict[str, Any]]) -> set[str]:
    found: set[str] = set()
    for body in bodies:
        found |= {path.replace("[]", "") if path.endswith("[]") else path for path in values_at(body)}
    return found


@pytest.mark.parametrize(
    ("model", "bodies"), [("JobDefinition", job_bodies()), ("JobCollectionDefinition", collection_bodies())]
)
def test_the_conformance_bodies_use_every_writable_property_the_swagger_declares(
    model: str, bodies: list[dict[str, Any]]
) -> None:
    missing = set(declared(definition(model))) - _covered(bodies)
    assert not missing, sorted(missing)


@pytest.mark.parametrize(
    ("model", "bodies"), [("JobDefinition", job_bodies()), ("JobCollectionDefinition", collection_bodies())]
)
def test_the_conformance_bodies_send_every_enum_value_a_client_may_send(
    model: str, bodies: list[dict[str, Any]]
) -> None:
    schema = definition(model)
    used = enum_values_used(schema, bodies)
    for name, values in declared_enums(schema).items():
        assert used.get(name, set()) == values - UNSENDABLE.get(name, set()), name
    assert all(not problems for problems in (validate(body, {"$ref": f"#/definitions/{model}"}) for body in bodies))
