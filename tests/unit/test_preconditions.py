"""If-Match / If-None-Match: how the headers read and what a condition lets through (RFC 9110 section 13)."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from scheduler_core.api.etags import precondition
from scheduler_core.domain.errors import PreconditionFailed
from scheduler_core.domain.precondition import Precondition


def conditions(**headers: str) -> Precondition:
    raw = [(k.replace("_", "-").lower().encode(), v.encode()) for k, v in headers.items()]
    return precondition(Request({"type": "http", "headers": raw}))


def test_no_header_is_no_condition() -> None:
    assert conditions() == Precondition()
    conditions().check("job", None)
    conditions().check("job", "v1")


def test_if_match_takes_a_list_and_compares_strongly() -> None:
    condition = conditions(If_Match='"v1", "v2", W/"v3"')
    condition.check("job", "v2")
    for version in ("v3", "v4", None):
        with pytest.raises(PreconditionFailed):
            condition.check("job", version)


def test_if_match_star_means_it_exists() -> None:
    conditions(If_Match="*").check("job", "anything")
    with pytest.raises(PreconditionFailed):
        conditions(If_Match="*").check("job", None)


def test_if_none_match_star_means_create_only_and_a_tag_compares_weakly() -> None:
    conditions(If_None_Match="*").check("job", None)
    with pytest.raises(PreconditionFailed):
        conditions(If_None_Match="*").check("job", "v1")
    with pytest.raises(PreconditionFailed):
        conditions(If_None_Match='W/"v1"').check("job", "v1")
    conditions(If_None_Match='"v1"').check("job", "v2")
