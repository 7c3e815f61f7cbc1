"""The app's configuration as the host reads it: host.json, local.settings.json and app-setting expressions."""

from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger("devhost")

_APP_SETTING = re.compile(r"%([^%]+)%")
_TIMESPAN = re.compile(r"^(?:(\d+)\.)?(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d+))?$")


class ConfigError(ValueError):
    """The app's configuration is invalid or refers to a missing setting."""


@dataclass(frozen=True)
class QueueOptions:
    """host.json ``extensions.queues`` with the host's defaults.

    Attributes:
        message_encoding: ``base64`` or ``none``.
        batch_size: Messages fetched per receive (at most 32).
        new_batch_threshold: A new batch is fetched once this few messages are still in flight.
        max_polling_interval: Longest wait between polls of an empty queue, in seconds.
        visibility_timeout: Seconds a failed message stays hidden before its next try.
        max_dequeue_count: Tries before a message moves to ``<queue>-poison``.
    """

    message_encoding: str = "base64"
    batch_size: int = 16
    new_batch_threshold: int = 8
    max_polling_interval: float = 60.0
    visibility_timeout: float = 0.0
    max_dequeue_count: int = 5


@dataclass(frozen=True)
class HostConfig:
    """What devhost uses from host.json.

    Attributes:
        route_prefix: ``extensions.http.routePrefix`` without surrounding slashes ("" serves routes at the root).
        queues: ``extensions.queues`` with defaults applied.
    """

    route_prefix: str = "api"
    queues: QueueOptions = QueueOptions()


def parse_timespan(value: str) -> float:
    """Parses a .NET TimeSpan such as ``00:00:00.500`` or ``1.02:00:00`` into seconds.

    Raises:
        ConfigError: The value is not a TimeSpan.
    """
    match = _TIMESPAN.match(value.strip())
    if not match:
        raise ConfigError(f"not a TimeSpan (d.hh:mm:ss[.fff]): {value!r}")
    days, hours, minutes, seconds, fraction = match.groups()
    total = int(days or 0) * 86400 + int(hours) * 3600 + int(minutes) * 60 + int(seconds)
    return total + (float(f"0.{fraction}") if fraction else 0.0)


def _read_json(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a JSON object")
    return data


def _queue_options(section: dict[str, Any]) -> QueueOptions:
    encoding = str(section.get("messageEncoding", "base64")).lower()
    if encoding not in ("base64", "none"):
        raise ConfigError(f"extensions.queues.messageEncoding must be base64 or none, not {encoding!r}")
    batch_size = int(section.get("batchSize", 16))
    if not 1 <= batch_size <= 32:
        raise ConfigError("extensions.queues.batchSize must be between 1 and 32")
    return QueueOptions(
        message_encoding=encoding,
        batch_size=batch_size,
        new_batch_threshold=int(section.get("newBatchThreshold", batch_size // 2)),
        max_polling_interval=parse_timespan(str(section.get("maxPollingInterval", "00:01:00"))),
        visibility_timeout=parse_timespan(str(section.get("visibilityTimeout", "00:00:00"))),
        max_dequeue_count=int(section.get("maxDequeueCount", 5)),
    )


def load_host_config(app_dir: Path) -> HostConfig:
    """Reads ``host.json`` from the app directory; a missing file means all defaults.

    Raises:
        ConfigError: The file is malformed or holds an invalid value.
    """
    extensions = _read_json(app_dir / "host.json").get("extensions") or {}
    prefix = (extensions.get("http") or {}).get("routePrefix", "api")
    return HostConfig(route_prefix=str(prefix).strip("/"), queues=_queue_options(extensions.get("queues") or {}))


def apply_local_settings(app_dir: Path) -> None:
    """Copies ``Values`` from local.settings.json into the environment; variables already set win.

    Raises:
        ConfigError: The file is malformed.
    """
    values = _read_json(app_dir / "local.settings.json").get("Values") or {}
    for name, value in values.items():
        os.environ.setdefault(str(name), str(value))


def resolve_app_settings(text: str) -> str:
    """Replaces each ``%NAME%`` binding expression with the app setting (environment variable) NAME.

    Raises:
        ConfigError: A referenced setting is not set, as the host refuses to start then.
    """

    def lookup(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise ConfigError(f"app setting {name!r} referenced by {text!r} is not set")
        return os.environ[name]

    return _APP_SETTING.sub(lookup, text)
