"""Request bodies -> canonical wire JSON, and every problem named by its JSON path (api/validation.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from scheduler_core.api.validation import parse_collection, parse_job, parse_json
from scheduler_core.domain.errors import InvalidInput
from scheduler_core.settings import Settings, StorageConnection

NOW = datetime(2030, 1, 1, tzinfo=UTC)
SETTINGS = Settings(storage=StorageConnection(connection_string="UseDevelopmentStorage=true"))
HTTP = {"type": "Http", "request": {"uri": "https://example.invalid/", "method": "GET"}}


def _paths(raw: Any) -> set[str]:
    with pytest.raises(InvalidInput) as caught:
        parse_job(raw, SETTINGS, NOW)
    return {p.path for p in caught.value.problems}


def test_a_valid_job_comes_back_canonical_with_secrets_and_without_status() -> None:
    properties = parse_job(
        {
            "id": "ignored", "name": "ignored",
            "properties": {
                "startTime": "2030-02-01T01:00:00+01:00",
                "action": {"type": "http", "request": {"uri": "https://x/", "method": "GET",
                                                       "authentication": {"type": "basic", "username": "u",
                                                                          "password": "p"}}},
                "recurrence": {"frequency": "day", "interval": 2},
                "status": {"executionCount": 7},
            },
        },
        SETTINGS,
        NOW,
    )
    assert properties == {
        "startTime": "2030-02-01T00:00:00Z",
        "action": {"type": "Http", "request": {"uri": "https://x/", "method": "GET",
                                               "authentication": {"type": "Basic", "username": "u", "password": "p"}}},
        "recurrence": {"frequency": "Day", "interval": 2},
    }


@pytest.mark.parametrize(
    ("properties", "path"),
    [
        ({"action": {"type": "Fax", "request": HTTP["request"]}}, "properties.action.type"),
        ({"action": {"type": "Http"}}, "properties.action.request"),
        ({"action": {"type": "Http", "request": {"method": "GET"}}}, "properties.action.request.uri"),
        ({"action": {"type": "StorageQueue", "queueMessage": {"queueName": "q", "message": "m", "sasToken": "t"}}},
         "properties.action.queueMessage.storageAccount"),
        ({"action": {"type": "ServiceBusTopic", "serviceBusTopicMessage": {"namespace": "n", "message": "m"}}},
         "properties.action.serviceBusTopicMessage.topicPath"),
        ({"action": {**HTTP, "queueMessage": {"queueName": "q"}}}, "properties.action.queueMessage"),
        ({"action": {**HTTP, "errorAction": {"type": "Http", "request": {"method": "GET"}}}},
         "properties.action.errorAction.request.uri"),
        ({"action": HTTP, "recurrence": {"frequency": "Hour", "interval": "x"}}, "properties.recurrence.interval"),
        ({"action": HTTP, "recurrence": {"frequency": "Hour", "interval": 0}}, "properties.recurrence.interval"),
        ({"action": HTTP, "recurrence": {"frequency": "Minute", "interval": 1001}}, "properties.recurrence.interval"),
        ({"action": HTTP, "recurrence": {"frequency": "Month", "schedule": {"monthDays": [32]}}},
         "properties.recurrence.schedule.monthDays[0]"),
        ({"action": HTTP, "recurrence": {"frequency": "Month", "schedule": {"monthDays": [0]}}},
         "properties.recurrence.schedule.monthDays[0]"),
        ({"action": HTTP, "recurrence": {"frequency": "Hour", "schedule": {"weekDays": ["Monday"]}}},
         "properties.recurrence.schedule.weekDays"),
        ({"action": HTTP, "recurrence": {"frequency": "Month",
                                         "schedule": {"monthlyOccurrences": [{"day": "Monday", "occurrence": 6}]}}},
         "properties.recurrence.schedule.monthlyOccurrences[0].Occurrence"),
        ({"action": HTTP, "recurrence": {"frequency": "Week", "schedule": {"weekDays": ["Someday"]}}},
         "properties.recurrence.schedule.weekDays[0]"),
        ({"startTime": "2030-01-02T00:00:00Z", "action": HTTP,
          "recurrence": {"frequency": "Day", "endTime": "2030-01-01T00:00:00Z"}}, "properties.recurrence.endTime"),
        ({"startTime": "yesterday", "action": HTTP}, "properties.startTime"),
        ({"action": {**HTTP, "retryPolicy": {"retryType": "Fixed", "retryInterval": "soon"}}},
         "properties.action.retryPolicy.retryInterval"),
        ({"action": {**HTTP, "retryPolicy": {"retryType": "Fixed", "retryCount": 21}}},
         "properties.action.retryPolicy.retryCount"),
        ({"action": {"type": "Http", "request": {**HTTP["request"], "headers": {"a": 1}}}},
         "properties.action.request.headers.a"),
        ({"action": HTTP, "extra": True}, "properties.extra"),
        # What azure-mgmt-scheduler sends back for a cron recurrence it read: its model has no `cron`.
        ({"action": HTTP, "recurrence": {}}, "properties.recurrence.frequency"),
        ({"action": HTTP, "recurrence": {"timeZone": "Europe/Berlin"}}, "properties.recurrence.frequency"),
    ],
)
def test_each_problem_is_named_by_its_json_path(properties: dict, path: str) -> None:
    assert path in _paths({"properties": properties})


def test_job_properties_sent_without_their_properties_wrapper_are_named_as_misplaced() -> None:
    """azure-mgmt-scheduler serialises whatever model it is given: its own test passed `JobProperties` as the job."""
    with pytest.raises(InvalidInput) as caught:
        parse_job({"action": HTTP, "recurrence": {"frequency": "hour"}, "state": "Disabled"}, SETTINGS, NOW)
    problems = {p.path: p.message for p in caught.value.problems}
    assert set(problems) == {"action", "recurrence", "state"}
    assert all("properties" in message for message in problems.values())


def test_every_problem_of_a_body_is_reported_at_once() -> None:
    paths = _paths({"properties": {"action": {"type": "Http", "request": {"method": 1}}, "state": "Asleep"}})
    assert {"properties.action.request.method", "properties.state"} <= paths


@pytest.mark.parametrize(
    ("request_fields", "path"),
    [
        ({"body": "x" * 8193}, "properties.action.request.body"),
        ({"uri": "https://example.invalid/" + "u" * 2048}, "properties.action.request.uri"),
        ({"headers": {f"h{i}": "v" for i in range(51)}}, "properties.action.request.headers"),
        ({"uri": "ftp://example.invalid/"}, "properties.action.request.uri"),
    ],
)
def test_limits_of_the_http_request(request_fields: dict, path: str) -> None:
    action = {"type": "Http", "request": {**HTTP["request"], **request_fields}}
    assert path in _paths({"properties": {"action": action}})


def test_the_limits_are_inclusive() -> None:
    action = {"type": "Http", "request": {"uri": "https://e/" + "u" * 2038, "method": "POST", "body": "b" * 8192}}
    assert len(action["request"]["uri"]) == 2048
    parse_job({"properties": {"action": action}}, SETTINGS, NOW)


def test_a_job_over_the_size_limit_is_refused_as_a_whole() -> None:
    headers = {f"h{i}": "v" * 79 for i in range(45)}
    body = {"properties": {"action": {"type": "Http", "request": {**HTTP["request"], "headers": headers}}}}
    small = Settings(storage=SETTINGS.storage, max_job_chars=2000)
    with pytest.raises(InvalidInput) as caught:
        parse_job(body, small, NOW)
    assert "2000" in str(caught.value)


def test_the_job_size_counts_characters_not_escapes() -> None:
    """A body of 7,000 non-ASCII characters is well within the 16,000-character job limit."""
    action = {"type": "Http", "request": {**HTTP["request"], "method": "POST", "body": "é" * 7000}}
    parse_job({"properties": {"action": action}}, SETTINGS, NOW)


@pytest.mark.parametrize("body", [b"{", b"[1,", b"\xff\xfe", b"{'a': 1}"])
def test_malformed_json_is_invalid_input(body: bytes) -> None:
    with pytest.raises(InvalidInput):
        parse_json(body)


@pytest.mark.parametrize("raw", [None, [], "job", 3])
def test_a_body_that_is_not_an_object_is_invalid_input(raw: Any) -> None:
    with pytest.raises(InvalidInput):
        parse_job(raw, SETTINGS, NOW)
    with pytest.raises(InvalidInput):
        parse_collection(raw)


def test_a_collection_patch_keeps_explicit_nulls_and_drops_what_it_does_not_set() -> None:
    patch = parse_collection({"tags": None, "properties": {"sku": {"name": "free"}}}, partial=True)
    assert patch == {"tags": None, "properties": {"sku": {"name": "Free"}}}
    full = parse_collection({"id": "x", "location": "westus", "properties": {"state": "disabled"}})
    assert full == {"location": "westus", "properties": {"state": "Disabled"}}


def _messages(raw: Any) -> dict[str, str]:
    with pytest.raises(InvalidInput) as caught:
        parse_job(raw, SETTINGS, NOW)
    return {p.path: p.message for p in caught.value.problems}


def test_an_unknown_enum_value_is_answered_with_the_values_the_field_takes_not_a_class_name() -> None:
    messages = _messages({"properties": {
        "action": {**HTTP, "retryPolicy": {"retryType": "Exponentialy"}},
        "recurrence": {"frequency": "Hourly", "schedule": {"weekDays": ["Mon"]}},
    }})
    assert messages == {
        "properties.action.retryPolicy.retryType": "must be one of None, Fixed, Exponential",
        "properties.recurrence.frequency": "must be one of Minute, Hour, Day, Week, Month",
        "properties.recurrence.schedule.weekDays[0]": (
            "must be one of Monday, Tuesday, Wednesday, Thursday, Friday, Saturday, Sunday"
        ),
    }
    assert _messages({"properties": {"action": {**HTTP, "type": 5}}}) == {
        "properties.action.type": "must be one of Http, Https, StorageQueue, ServiceBusQueue, ServiceBusTopic",
    }


def test_a_value_error_reads_as_a_sentence_about_the_field_without_pydantics_prefix() -> None:
    messages = _messages({"properties": {"action": {**HTTP, "retryPolicy": {"retryInterval": "soon"}}}})
    assert messages == {
        "properties.action.retryPolicy.retryInterval": "is not an ISO 8601 duration (PT30S) or a TimeSpan (00:00:30)",
    }


@pytest.mark.parametrize("ttl", ["-PT1H", "PT0S"])
def test_a_service_bus_message_that_would_expire_before_it_is_sent_is_refused(ttl: str) -> None:
    action = {"type": "ServiceBusQueue", "serviceBusQueueMessage": {
        "namespace": "ns", "queueName": "q", "message": "m", "transportType": "AMQP",
        "authentication": {"type": "SharedAccessKey", "sasKeyName": "k", "sasKey": "s"},
        "brokeredMessageProperties": {"timeToLive": ttl},
    }}
    assert _messages({"properties": {"action": action}}) == {
        "properties.action.serviceBusQueueMessage.brokeredMessageProperties.timeToLive": "must be longer than zero",
    }
