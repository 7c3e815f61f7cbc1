"""host.json and local.settings.json as the host reads them, and timer schedules."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from devhost.config import ConfigError, apply_local_settings, load_host_config, parse_timespan, resolve_app_settings
from devhost.timers import Schedule


def test_host_defaults_when_host_json_is_absent(tmp_path: Path) -> None:
    config = load_host_config(tmp_path)

    assert config.route_prefix == "api"
    assert (config.queues.message_encoding, config.queues.batch_size, config.queues.new_batch_threshold) == (
        "base64",
        16,
        8,
    )
    assert (config.queues.max_polling_interval, config.queues.visibility_timeout) == (60.0, 0.0)
    assert config.queues.max_dequeue_count == 5


def test_host_json_values_are_read(tmp_path: Path) -> None:
    queues = {"batchSize": 4, "messageEncoding": "None", "maxPollingInterval": "00:00:02.5", "maxDequeueCount": 2}
    host = {"extensions": {"http": {"routePrefix": ""}, "queues": queues}}
    (tmp_path / "host.json").write_text(json.dumps(host))

    config = load_host_config(tmp_path)

    assert config.route_prefix == ""
    assert config.queues.new_batch_threshold == 2
    assert (config.queues.message_encoding, config.queues.max_polling_interval) == ("none", 2.5)
    assert config.queues.max_dequeue_count == 2


def test_invalid_encoding_is_refused(tmp_path: Path) -> None:
    (tmp_path / "host.json").write_text(json.dumps({"extensions": {"queues": {"messageEncoding": "utf8"}}}))

    with pytest.raises(ConfigError):
        load_host_config(tmp_path)


def test_environment_wins_over_local_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    values = {"DEVHOST_TEST_A": "from-file", "DEVHOST_TEST_B": "from-file"}
    (tmp_path / "local.settings.json").write_text(json.dumps({"Values": values}))
    monkeypatch.setenv("DEVHOST_TEST_A", "from-env")
    monkeypatch.delenv("DEVHOST_TEST_B", raising=False)

    apply_local_settings(tmp_path)

    assert (os.environ["DEVHOST_TEST_A"], os.environ["DEVHOST_TEST_B"]) == ("from-env", "from-file")
    monkeypatch.delenv("DEVHOST_TEST_B")


def test_app_setting_expressions_resolve_or_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEVHOST_TEST_QUEUE", "jobs")
    monkeypatch.delenv("DEVHOST_TEST_MISSING", raising=False)

    assert resolve_app_settings("%DEVHOST_TEST_QUEUE%-in") == "jobs-in"
    with pytest.raises(ConfigError, match="DEVHOST_TEST_MISSING"):
        resolve_app_settings("%DEVHOST_TEST_MISSING%")


def test_timespans() -> None:
    assert parse_timespan("00:00:00.500") == 0.5
    assert parse_timespan("1.00:01:00") == 86460.0
    with pytest.raises(ConfigError):
        parse_timespan("500ms")


def test_ncrontab_has_seconds_first_and_timespan_schedules_are_intervals() -> None:
    start = datetime(2026, 3, 1, 12, 0, 7, tzinfo=UTC)

    assert Schedule("*/10 * * * * *").next_after(start) == datetime(2026, 3, 1, 12, 0, 10, tzinfo=UTC)
    assert Schedule("0 30 9 * * Mon-Fri").next_after(start) == datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    assert Schedule("00:05:00").next_after(start) == datetime(2026, 3, 1, 12, 5, 7, tzinfo=UTC)
    with pytest.raises(ConfigError):
        Schedule("every minute")
