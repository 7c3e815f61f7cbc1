"""JSON Merge Patch (RFC 7386), the semantics of PATCH on jobs and job collections."""

from __future__ import annotations

from scheduler_core.service.merge import merge_patch


def test_objects_merge_recursively() -> None:
    target = {"action": {"type": "Http", "request": {"uri": "https://a/", "method": "GET"}}, "state": "Enabled"}
    patch = {"action": {"request": {"method": "POST"}}}
    assert merge_patch(target, patch) == {
        "action": {"type": "Http", "request": {"uri": "https://a/", "method": "POST"}}, "state": "Enabled"
    }


def test_null_removes_a_field() -> None:
    target = {"request": {"uri": "https://a/", "authentication": {"type": "Basic", "username": "u"}}}
    assert merge_patch(target, {"request": {"authentication": None}}) == {"request": {"uri": "https://a/"}}


def test_null_for_a_missing_field_is_harmless() -> None:
    assert merge_patch({"a": 1}, {"b": None}) == {"a": 1}


def test_arrays_and_scalars_replace() -> None:
    target = {"schedule": {"hours": [1, 2, 3], "minutes": [0]}, "interval": 1}
    assert merge_patch(target, {"schedule": {"hours": [4]}, "interval": 2}) == {
        "schedule": {"hours": [4], "minutes": [0]}, "interval": 2
    }


def test_an_object_replaces_a_scalar_and_a_scalar_an_object() -> None:
    assert merge_patch({"a": "x"}, {"a": {"b": 1}}) == {"a": {"b": 1}}
    assert merge_patch({"a": {"b": 1}}, {"a": "x"}) == {"a": "x"}


def test_a_non_object_patch_replaces_the_whole_target() -> None:
    assert merge_patch({"a": 1}, [1, 2]) == [1, 2]


def test_the_target_is_not_modified() -> None:
    target = {"a": {"b": 1}}
    merge_patch(target, {"a": {"b": None, "c": 2}})
    assert target == {"a": {"b": 1}}
