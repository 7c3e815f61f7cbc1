"""The environment, read once into a frozen value.

Every app setting the scheduler reads is named here and nowhere else, so `infra/` can be checked against this list
(`SETTING_NAMES`). Storage connections follow the Functions convention: a connection string in
`AzureWebJobsStorage` locally, or identity-based `AzureWebJobsStorage__tableServiceUri` / `__queueServiceUri` /
`__credential` / `__clientId` in Azure (see `adapters/clients.py`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from scheduler_core.domain.targets import normalize_audience

STORAGE_CONNECTION = "AzureWebJobsStorage"
"""Name of the storage connection the triggers and the adapters share."""

EXECUTIONS_QUEUE = "scheduler-executions"
"""The queue the planner fills and the executor drains. Fixed: trigger bindings are declared at import time."""

POISON_QUEUE = f"{EXECUTIONS_QUEUE}-poison"
"""Where the host moves an execution message after `maxDequeueCount` failures (its naming rule)."""

CONCURRENT_ATTEMPTS = 256
"""Execution messages one instance works on at once: host.json's `batchSize` + `newBatchThreshold` (a unit test
keeps the two in step). function_app.py runs as many attempt threads, and the storage and HTTP connection pools keep
as many connections per host, so that a burst neither queues for a thread nor opens and drops a connection per call."""

TICK_SCHEDULE_SETTING = "SCHEDULER_TICK_SCHEDULE"
"""NCRONTAB of the planner timer, resolved by the Functions host as the binding expression `%...%`."""

MAINTENANCE_SCHEDULE_SETTING = "SCHEDULER_MAINTENANCE_SCHEDULE"
"""NCRONTAB of the daily history pruning timer."""

IDENTITY_QUEUES_SETTING = "SCHEDULER_IDENTITY_QUEUES"
"""`account/queue;account/queue`: the queues a StorageQueue action without a sasToken may post to with the app's
identity (empty: none). The app's own queues are refused here, so a job cannot forge execution messages."""

INTERNAL_QUEUES = frozenset({EXECUTIONS_QUEUE, POISON_QUEUE})
"""Queues no job may post to, whatever its authorization."""

# The longest claim lead an operator may set: a disable or delete is honoured if made at least this long before the
# due instant, whatever the setting (the promise in docs/operations.md). Execution messages become visible
# dispatch.PREPARE_LEAD_SECONDS (2 s) early, so a longer lead would not be reached anyway.
CLAIM_LEAD_MAX_SECONDS = 2.0


@dataclass(frozen=True)
class StorageConnection:
    """Where storage is and how to authenticate: a connection string, or service URIs plus an identity."""

    connection_string: str | None = None
    table_service_uri: str | None = None
    queue_service_uri: str | None = None
    credential: str | None = None  # "managedidentity" or None for DefaultAzureCredential
    client_id: str | None = None


@dataclass(frozen=True)
class TelemetrySettings:
    """Where traces, metrics and logs go (adapters/telemetry.py): Application Insights, an OTLP collector, both or
    neither (then nothing is exported and nothing is slower)."""

    connection_string: str | None = None  # APPLICATIONINSIGHTS_CONNECTION_STRING
    authentication: str | None = None  # APPLICATIONINSIGHTS_AUTHENTICATION_STRING, e.g. ClientId=<id>;Authorization=AAD
    otlp_endpoint: str | None = None  # OTEL_EXPORTER_OTLP_ENDPOINT: OTLP over HTTP/protobuf, e.g. http://host:4318


@dataclass(frozen=True)
class Settings:
    """Every knob of the scheduler, with the defaults a deployment gets when the setting is absent."""

    storage: StorageConnection
    lookahead_seconds: float = 90.0
    http_timeout_seconds: float = 60.0
    allow_loopback_targets: bool = False
    allow_link_local_targets: bool = False
    catch_up_window_seconds: float = 3600.0
    # How long an attempt's bookkeeping may wait for the calls in flight (service/hot_path.py); 0 turns it off.
    bookkeeping_wait_seconds: float = 1.0
    # How long before its due instant a scheduled occurrence is claimed (the lease; service/executor.py): a disable,
    # delete or replace made later than this does not stop that occurrence, only the ones after it. 0 to 2.
    claim_lead_seconds: float = 1.0
    min_retry_interval_seconds: float = 15.0
    history_retention_days: int = 60
    history_max_runs: int = 1000
    max_job_chars: int = 16_000
    max_request_body_chars: int = 8_192
    max_uri_chars: int = 2_048
    max_headers: int = 50
    max_header_chars: int = 4_096
    history_snippet_bytes: int = 2_048
    secret_keys: Mapping[str, bytes] = field(default_factory=dict)
    active_secret_key_id: str | None = None
    storage_queue_endpoints: Mapping[str, str] = field(default_factory=dict)
    identity_queues: frozenset[tuple[str, str]] = frozenset()
    oauth_authority_host: str = "https://login.microsoftonline.com"
    region: str = "local"
    managed_identity_audiences: frozenset[str] = frozenset()
    outbound_identity_client_id: str | None = None
    max_start_ahead_days: float | None = None
    telemetry: TelemetrySettings = field(default_factory=TelemetrySettings)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from an environment mapping (default: `os.environ`).

        Raises:
            ValueError: a setting is present but malformed; the message names it.
        """
        return cls._read(_Reader(os.environ if env is None else env))

    @classmethod
    def _read(cls, reader: _Reader) -> Settings:
        return cls(
            storage=StorageConnection(
                connection_string=reader.text(STORAGE_CONNECTION),
                table_service_uri=reader.text(f"{STORAGE_CONNECTION}__tableServiceUri"),
                queue_service_uri=reader.text(f"{STORAGE_CONNECTION}__queueServiceUri"),
                credential=reader.text(f"{STORAGE_CONNECTION}__credential"),
                client_id=reader.text(f"{STORAGE_CONNECTION}__clientId"),
            ),
            lookahead_seconds=reader.number("SCHEDULER_LOOKAHEAD_SECONDS", 90.0),
            http_timeout_seconds=reader.number("SCHEDULER_HTTP_TIMEOUT_SECONDS", 60.0),
            allow_loopback_targets=reader.flag("SCHEDULER_ALLOW_LOOPBACK_TARGETS"),
            allow_link_local_targets=reader.flag("SCHEDULER_ALLOW_LINK_LOCAL_TARGETS"),
            catch_up_window_seconds=reader.number("SCHEDULER_CATCH_UP_WINDOW_SECONDS", 3600.0),
            bookkeeping_wait_seconds=reader.number("SCHEDULER_BOOKKEEPING_WAIT_SECONDS", 1.0),
            claim_lead_seconds=reader.number("SCHEDULER_CLAIM_LEAD_SECONDS", 1.0, at_most=CLAIM_LEAD_MAX_SECONDS),
            min_retry_interval_seconds=reader.number("SCHEDULER_MIN_RETRY_INTERVAL_SECONDS", 15.0),
            history_retention_days=int(reader.number("SCHEDULER_HISTORY_RETENTION_DAYS", 60)),
            history_max_runs=int(reader.number("SCHEDULER_HISTORY_MAX_RUNS", 1000)),
            max_job_chars=int(reader.number("SCHEDULER_MAX_JOB_CHARS", 16_000)),
            max_request_body_chars=int(reader.number("SCHEDULER_MAX_REQUEST_BODY_CHARS", 8_192)),
            max_uri_chars=int(reader.number("SCHEDULER_MAX_URI_CHARS", 2_048)),
            max_headers=int(reader.number("SCHEDULER_MAX_HEADERS", 50)),
            max_header_chars=int(reader.number("SCHEDULER_MAX_HEADER_CHARS", 4_096)),
            secret_keys=reader.keys("SCHEDULER_SECRET_KEYS"),
            active_secret_key_id=reader.text("SCHEDULER_ACTIVE_SECRET_KEY_ID"),
            storage_queue_endpoints=reader.pairs("SCHEDULER_STORAGE_QUEUE_ENDPOINTS"),
            identity_queues=reader.queues(IDENTITY_QUEUES_SETTING),
            oauth_authority_host=reader.text("SCHEDULER_OAUTH_AUTHORITY_HOST") or "https://login.microsoftonline.com",
            region=reader.text("REGION_NAME") or "local",
            managed_identity_audiences=frozenset(
                normalize_audience(a) for a in reader.items("SCHEDULER_MANAGED_IDENTITY_AUDIENCES")
            ),
            outbound_identity_client_id=reader.text("SCHEDULER_OUTBOUND_IDENTITY_CLIENT_ID"),
            max_start_ahead_days=reader.optional_number("SCHEDULER_MAX_START_AHEAD_DAYS"),
            telemetry=TelemetrySettings(
                connection_string=reader.text("APPLICATIONINSIGHTS_CONNECTION_STRING"),
                authentication=reader.text("APPLICATIONINSIGHTS_AUTHENTICATION_STRING"),
                otlp_endpoint=reader.text("OTEL_EXPORTER_OTLP_ENDPOINT"),
            ),
        )


# Read at import time by the host, not by `Settings.from_env`; listed so infra can be checked against them.
_HOST_SETTINGS = (TICK_SCHEDULE_SETTING, MAINTENANCE_SCHEDULE_SETTING)


class _Reader:
    """Typed access to an environment mapping that records every name it is asked for (in `names`)."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env
        self.names: set[str] = set()

    def text(self, name: str) -> str | None:
        self.names.add(name)
        value = self._env.get(name)
        return value.strip() if value and value.strip() else None

    def number(self, name: str, default: float, *, at_most: float | None = None) -> float:
        value = self.text(name)
        if value is None:
            return default
        try:
            number = float(value)
        except ValueError as exc:
            raise ValueError(f"app setting {name} must be a number, got {value!r}") from exc
        if number < 0:
            raise ValueError(f"app setting {name} must not be negative, got {value!r}")
        if at_most is not None and number > at_most:
            raise ValueError(f"app setting {name} must be at most {at_most:g}, got {value!r}")
        return number

    def optional_number(self, name: str) -> float | None:
        return None if self.text(name) is None else self.number(name, 0.0)

    def flag(self, name: str) -> bool:
        value = (self.text(name) or "false").lower()
        if value not in {"true", "false", "1", "0", "yes", "no"}:
            raise ValueError(f"app setting {name} must be true or false, got {value!r}")
        return value in {"true", "1", "yes"}

    def items(self, name: str) -> list[str]:
        """`a;b` or `a,b` -> ["a", "b"]."""
        return [item.strip() for item in (self.text(name) or "").replace(",", ";").split(";") if item.strip()]

    def pairs(self, name: str) -> dict[str, str]:
        """`a=x;b=y` -> {"a": "x", "b": "y"}."""
        value = self.text(name)
        result: dict[str, str] = {}
        for item in (value or "").split(";"):
            if not item.strip():
                continue
            key, sep, val = item.partition("=")
            if not sep or not key.strip() or not val.strip():
                raise ValueError(f"app setting {name} must look like 'name=value;name=value'")
            result[key.strip()] = val.strip()
        return result

    def queues(self, name: str) -> frozenset[tuple[str, str]]:
        """`account/queue;account/queue` -> {(account, queue)}; the app's internal queues are refused."""
        import re

        result: set[tuple[str, str]] = set()
        for item in (self.text(name) or "").split(";"):
            if not item.strip():
                continue
            account, sep, queue = (part.strip() for part in item.partition("/"))
            queue_ok = 3 <= len(queue) <= 63 and re.fullmatch(r"[a-z0-9](?:-?[a-z0-9])+", queue)
            if not sep or not re.fullmatch(r"[a-z0-9]{3,24}", account) or not queue_ok:
                raise ValueError(f"app setting {name} must look like 'account/queue;account/queue' (lower case)")
            if queue in INTERNAL_QUEUES:
                raise ValueError(f"app setting {name}: '{queue}' is the scheduler's own queue; jobs may not post to it")
            result.add((account, queue))
        return frozenset(result)

    def keys(self, name: str) -> dict[str, bytes]:
        """`id1=<base64>;id2=<base64>` -> key ids to raw key bytes (values are never put in messages)."""
        import base64
        import binascii

        result: dict[str, bytes] = {}
        for key_id, encoded in self.pairs(name).items():
            try:
                result[key_id] = base64.b64decode(encoded, validate=True)
            except binascii.Error as exc:
                raise ValueError(f"app setting {name}: key {key_id!r} is not valid base64") from exc
        return result


def setting_names() -> frozenset[str]:
    """Every app setting name the scheduler code reads (used by the infra cross-check)."""
    reader = _Reader({})
    Settings._read(reader)
    return frozenset(reader.names) | frozenset(_HOST_SETTINGS)
