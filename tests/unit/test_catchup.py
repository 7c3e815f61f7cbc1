"""Misfire planning after downtime: the most recent missed occurrence within the window fires, the rest are listed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from scheduler_core.domain.catchup import plan_catch_up

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def minutes_before(*offsets: int) -> list[datetime]:
    return [NOW - timedelta(minutes=m) for m in offsets]


def test_most_recent_missed_occurrence_within_window_fires_and_older_ones_are_postponed() -> None:
    plan = plan_catch_up(minutes_before(30, 20, 10), NOW, timedelta(hours=1))
    assert plan.fire == NOW - timedelta(minutes=10)
    assert plan.postponed == tuple(minutes_before(30, 20))
    assert plan.more == 0


def test_nothing_fires_when_even_the_latest_is_beyond_the_window() -> None:
    plan = plan_catch_up(minutes_before(180, 120, 90), NOW, timedelta(hours=1))
    assert plan.fire is None
    assert plan.postponed == tuple(minutes_before(180, 120, 90))


def test_occurrences_after_now_are_not_missed() -> None:
    plan = plan_catch_up([NOW - timedelta(minutes=5), NOW + timedelta(minutes=5)], NOW, timedelta(hours=1))
    assert plan.fire == NOW - timedelta(minutes=5)
    assert plan.postponed == ()


def test_a_long_outage_lists_up_to_the_limit_and_counts_the_rest() -> None:
    missed = [NOW - timedelta(seconds=s) for s in range(1000, 0, -1)]
    plan = plan_catch_up(missed, NOW, timedelta(minutes=1), limit=100)
    assert plan.fire == NOW - timedelta(seconds=1)
    assert len(plan.postponed) == 100
    assert plan.more == 999 - 100
    assert list(plan.postponed) == sorted(plan.postponed)


def test_no_missed_occurrences_means_nothing_to_do() -> None:
    assert plan_catch_up([], NOW, timedelta(hours=1)).fire is None
