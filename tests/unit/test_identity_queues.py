"""SCHEDULER_IDENTITY_QUEUES: which queues a StorageQueue action may reach with the app's identity (no network)."""

from __future__ import annotations

from typing import Any

import pytest

from scheduler_core.adapters.storage_queue_action import StorageQueueActionRunner
from scheduler_core.domain.definition import Action
from scheduler_core.settings import EXECUTIONS_QUEUE, POISON_QUEUE, Settings
from scheduler_core.wire import action_from_wire

HEADERS = {"x-ms-scheduler-jobid": "j"}


def action(account: str, queue: str, sas: str | None = None) -> Action:
    return action_from_wire({"type": "StorageQueue",
                             "queueMessage": {"storageAccount": account, "queueName": queue, "message": "m",
                                              "sasToken": sas}})


def test_the_setting_is_empty_by_default_and_lists_account_queue_pairs() -> None:
    assert Settings.from_env({}).identity_queues == frozenset()
    parsed = Settings.from_env({"SCHEDULER_IDENTITY_QUEUES": " acct1/jobs-in ; acct2/other-queue ;"})
    assert parsed.identity_queues == {("acct1", "jobs-in"), ("acct2", "other-queue")}


@pytest.mark.parametrize("value", ["acct1", "acct1/", "/q", "Acct1/queue", "acct1/Queue", "acct1/a--b", "a/qqq"])
def test_a_malformed_pair_is_refused_naming_the_setting(value: str) -> None:
    with pytest.raises(ValueError, match="SCHEDULER_IDENTITY_QUEUES"):
        Settings.from_env({"SCHEDULER_IDENTITY_QUEUES": value})


@pytest.mark.parametrize("queue", [EXECUTIONS_QUEUE, POISON_QUEUE])
def test_the_schedulers_own_queues_cannot_be_allowed(queue: str) -> None:
    with pytest.raises(ValueError, match="own queue"):
        Settings.from_env({"SCHEDULER_IDENTITY_QUEUES": f"acct1/{queue}"})


def runner(identity_calls: list[str], own: str | None = "https://acct1.queue.core.windows.net/") -> Any:
    def identity() -> Any:
        identity_calls.append("made")
        raise AssertionError("the identity must not be used here")

    return StorageQueueActionRunner(identity_queues={("acct1", "allowed")}, identity=identity, own_queue_endpoint=own)


def test_without_a_sas_a_queue_not_listed_is_refused_before_any_call_and_the_identity_is_not_made() -> None:
    calls: list[str] = []
    outcome = runner(calls).run(action("acct1", "other"), {}, HEADERS)
    assert not outcome.succeeded
    assert "no sasToken" in outcome.message and "SCHEDULER_IDENTITY_QUEUES" in outcome.message
    assert calls == []


@pytest.mark.parametrize("queue", [EXECUTIONS_QUEUE, POISON_QUEUE])
def test_the_apps_own_queues_are_refused_even_with_a_sas(queue: str) -> None:
    calls: list[str] = []
    outcome = runner(calls).run(action("acct1", queue, sas="sv=1&sig=abc"), {}, HEADERS)
    assert not outcome.succeeded and "scheduler's own" in outcome.message
    assert "sig=abc" not in outcome.message


def test_a_queue_of_the_same_name_in_another_account_is_not_the_apps_own() -> None:
    calls: list[str] = []
    outcome = runner(calls).run(action("acct2", EXECUTIONS_QUEUE), {}, HEADERS)
    assert not outcome.succeeded and "scheduler's own" not in outcome.message  # refused for want of a sasToken


@pytest.mark.parametrize("queue", [f"{EXECUTIONS_QUEUE}/messages", "Scheduler-Executions", "../other", "q%2Fx"])
def test_a_queue_name_that_could_address_something_else_is_refused(queue: str) -> None:
    outcome = runner([]).run(action("acct1", queue, sas="sv=1&sig=abc"), {}, HEADERS)
    assert not outcome.succeeded and "is not a queue name" in outcome.message
