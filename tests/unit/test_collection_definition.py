"""Job collection definitions: parsed once from a request into a typed value, rendered back unchanged, the quota in
force computed on typed values, and the quota rules checked on them (no storage, no host)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from scheduler_core.api.models import collection_patch
from scheduler_core.api.validation import parse_collection
from scheduler_core.domain.collection import (
    CollectionDefinition,
    CollectionQuota,
    JobCollectionState,
    MaxRecurrence,
    QuotaFrequency,
    QuotaInForce,
    SkuDefinition,
)
from scheduler_core.domain.errors import InvalidInput, QuotaExceeded
from scheduler_core.service.quota import check_job_count, check_jobs_fit, check_new_job_fits, check_recurrence
from scheduler_core.wire import collection_definition_from_wire, collection_definition_to_wire, definition_from_wire

NOW = datetime(2030, 1, 1, tzinfo=UTC)


def parsed(raw: dict[str, Any]) -> CollectionDefinition:
    return collection_definition_from_wire(parse_collection(raw))


def every(frequency: str, interval: int = 1) -> Any:
    return definition_from_wire({"action": {"type": "Http", "request": {"uri": "https://x/"}},
                                 "startTime": "2030-01-01T00:00:00Z",
                                 "recurrence": {"frequency": frequency, "interval": interval}})


# ---- parsing and rendering ---------------------------------------------------------------------------------------


def test_a_definition_is_typed_from_any_casing_and_rendered_back_canonical() -> None:
    definition = parsed({
        "id": "ignored", "location": "westeurope", "tags": {"team": "a"},
        "properties": {"sku": {"name": "free"}, "state": "disabled",
                       "quota": {"maxJobCount": 3, "maxRecurrence": {"frequency": "hour", "interval": 2}}},
    })
    assert definition == CollectionDefinition(
        location="westeurope", tags={"team": "a"}, sku=SkuDefinition.FREE, state=JobCollectionState.DISABLED,
        quota=CollectionQuota(max_job_count=3, max_recurrence=MaxRecurrence(QuotaFrequency.HOUR, 2)),
    )
    assert collection_definition_to_wire(definition) == {
        "location": "westeurope", "tags": {"team": "a"},
        "properties": {"sku": {"name": "Free"}, "state": "Disabled",
                       "quota": {"maxJobCount": 3, "maxRecurrence": {"frequency": "Hour", "interval": 2}}},
    }


@pytest.mark.parametrize(
    "wire",
    [
        {},
        {"location": "local"},
        {"tags": {}},
        {"properties": {"quota": {}}},
        {"properties": {"quota": {"maxRecurrence": {}}}},
        {"properties": {"quota": {"maxJobOccurrence": 7, "maxRecurrence": {"interval": 5}}}},
    ],
)
def test_what_was_never_set_stays_unset_through_a_round_trip(wire: dict[str, Any]) -> None:
    assert collection_definition_to_wire(collection_definition_from_wire(wire)) == wire


@pytest.mark.parametrize(
    ("raw", "path"),
    [
        ({"properties": {"sku": {"name": 5}}}, "properties.sku.name"),
        ({"properties": {"sku": {"name": "Gold"}}}, "properties.sku.name"),
        ({"properties": {"state": "Paused"}}, "properties.state"),
        ({"properties": {"quota": {"maxJobCount": "5"}}}, "properties.quota.maxJobCount"),
        ({"properties": {"quota": {"maxJobCount": 0}}}, "properties.quota.maxJobCount"),
        ({"properties": {"quota": {"maxRecurrence": {"frequency": "Fortnight"}}}},
         "properties.quota.maxRecurrence.frequency"),
        ({"properties": {"quota": {"maxRecurrence": []}}}, "properties.quota.maxRecurrence"),
        ({"properties": {"quota": {"maxRecurrence": {"frequency": "Month", "interval": 10**9}}}},
         "properties.quota.maxRecurrence.interval"),
        ({"properties": {"quota": {"maxRecurrence": {"frequency": "Day", "interval": 549}}}},
         "properties.quota.maxRecurrence.interval"),
        ({"properties": {"quota": {"maxRecurrence": {"interval": 10**8}}}}, "properties.quota.maxRecurrence.interval"),
        ({"tags": {"a": 1}}, "tags.a"),
        ({"location": ["x"]}, "location"),
    ],
)
def test_wrong_types_are_refused_with_their_path_before_anything_is_parsed(raw: dict[str, Any], path: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parsed(raw)
    assert path in {p.path for p in caught.value.problems}


def test_a_patch_merges_into_the_typed_definition_and_null_removes() -> None:
    current = parsed({"location": "local", "tags": {"a": "1", "b": "2"}, "properties": {"sku": {"name": "Free"}}})
    patch = parse_collection({"location": None, "tags": {"c": "3"}, "properties": {"quota": {"maxJobCount": 4}}},
                             partial=True)
    assert collection_patch(patch)(current) == CollectionDefinition(
        tags={"a": "1", "b": "2", "c": "3"}, sku=SkuDefinition.FREE, quota=CollectionQuota(max_job_count=4)
    )


# ---- the quota in force ------------------------------------------------------------------------------------------


def test_without_a_plan_or_state_a_collection_is_standard_and_enabled() -> None:
    definition = CollectionDefinition()
    assert definition.plan is SkuDefinition.STANDARD and definition.enabled
    assert definition.effective_quota() == QuotaInForce(50, QuotaFrequency.MINUTE, 1)
    assert not CollectionDefinition(state=JobCollectionState.SUSPENDED).enabled


@pytest.mark.parametrize(
    ("sku", "count", "frequency"),
    [(SkuDefinition.FREE, 5, QuotaFrequency.HOUR), (SkuDefinition.P10_PREMIUM, 50, QuotaFrequency.MINUTE),
     (SkuDefinition.P20_PREMIUM, 1000, QuotaFrequency.MINUTE)],
)
def test_each_plan_has_its_quota(sku: SkuDefinition, count: int, frequency: QuotaFrequency) -> None:
    assert CollectionDefinition(sku=sku).effective_quota() == QuotaInForce(count, frequency, 1)


def test_fields_set_by_hand_win_and_a_new_plan_brings_its_defaults_for_the_rest() -> None:
    own = CollectionQuota(max_recurrence=MaxRecurrence(interval=30), max_job_occurrence=9)
    free = CollectionDefinition(sku=SkuDefinition.FREE, quota=own)
    assert free.effective_quota() == QuotaInForce(5, QuotaFrequency.HOUR, 30, max_job_occurrence=9)
    premium = CollectionDefinition(sku=SkuDefinition.P20_PREMIUM, quota=own)
    assert premium.effective_quota() == QuotaInForce(1000, QuotaFrequency.MINUTE, 30, max_job_occurrence=9)


# ---- quota rules -------------------------------------------------------------------------------------------------


def test_job_count_rules() -> None:
    three = CollectionDefinition(quota=CollectionQuota(max_job_count=3))
    check_job_count(three, 3)
    check_new_job_fits(three, 2, "jc")
    with pytest.raises(QuotaExceeded, match="maxJobCount is 3"):
        check_job_count(three, 4)
    with pytest.raises(QuotaExceeded, match="'jc' already holds 3 jobs"):
        check_new_job_fits(three, 3, "jc")


def test_a_job_may_not_recur_more_often_than_max_recurrence() -> None:
    free = CollectionDefinition(sku=SkuDefinition.FREE)
    check_recurrence(every("Hour"), free, NOW)
    with pytest.raises(QuotaExceeded, match=r"every 0:30:00.*\(1 Hour\)"):
        check_recurrence(every("Minute", 30), free, NOW)
    every_two_days = CollectionDefinition(quota=CollectionQuota(max_recurrence=MaxRecurrence(QuotaFrequency.DAY, 2)))
    with pytest.raises(QuotaExceeded, match="maxRecurrence"):
        check_jobs_fit(every_two_days, [every("Day", 2), every("Day")], NOW)
    check_jobs_fit(every_two_days, [every("Day", 2), every("Week")], NOW)


def in_berlin(start: str, recurrence: dict[str, Any]) -> Any:
    return definition_from_wire({"action": {"type": "Http", "request": {"uri": "https://x/"}}, "startTime": start,
                                 "recurrence": {**recurrence, "timeZone": "Europe/Berlin"}})


@pytest.mark.parametrize(
    ("quota", "recurrence"),
    [
        (QuotaFrequency.DAY, {"frequency": "Day"}),
        (QuotaFrequency.DAY, {"frequency": "Day", "schedule": {"hours": [2], "minutes": [30]}}),
        (QuotaFrequency.WEEK, {"frequency": "Week", "schedule": {"weekDays": ["Sunday"], "hours": [2],
                                                                 "minutes": [30]}}),
        # 2032-02-28 to 2032-03-28 is the shortest month (28 days), and Berlin springs forward on 2032-03-28.
        (QuotaFrequency.MONTH, {"frequency": "Month", "schedule": {"monthDays": [28], "hours": [2],
                                                                   "minutes": [30]}}),
    ],
)
def test_a_job_in_a_zone_with_daylight_saving_time_fits_the_quota_of_its_own_period(
    quota: QuotaFrequency, recurrence: dict[str, Any]
) -> None:
    # Europe/Berlin springs forward on the last Sunday of March: that day has 23 hours and no 02:30 (a job set for
    # 02:30 fires at 03:00).
    once = CollectionDefinition(quota=CollectionQuota(max_recurrence=MaxRecurrence(quota, 1)))
    start = "2032-02-01T01:30:00Z" if quota is QuotaFrequency.MONTH else "2030-03-01T01:30:00Z"
    check_recurrence(in_berlin(start, recurrence), once, NOW)


def test_daylight_saving_time_does_not_let_a_job_recur_more_often_than_its_quota() -> None:
    once_a_day = CollectionDefinition(quota=CollectionQuota(max_recurrence=MaxRecurrence(QuotaFrequency.DAY, 1)))
    with pytest.raises(QuotaExceeded, match="every 23:00:00"):
        check_recurrence(in_berlin("2030-03-01T01:30:00Z", {"frequency": "Hour", "interval": 23}), once_a_day, NOW)
    twice_a_day = {"frequency": "Day", "schedule": {"hours": [2, 14]}}
    with pytest.raises(QuotaExceeded, match="maxRecurrence"):
        check_recurrence(in_berlin("2030-03-01T01:00:00Z", twice_a_day), once_a_day, NOW)
