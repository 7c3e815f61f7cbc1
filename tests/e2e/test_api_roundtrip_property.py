"""Issue 3, property: any valid job JSON survives PUT then GET unchanged, except for the read-only fields and the
secrets, after canonicalisation (enum case, ISO 8601 durations, UTC datetimes, `Occurrence`).

The strategies build each value twice: as a client may send it (any case, a TimeSpan, an offset) and as it must come
back. Durations and instants come back as markers compared by value, so the test does not pin one ISO spelling.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import isodate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.api import SchedulerApi, unique
from tests.support.certs import issue, make_ca

Pair = tuple[Any, Any]  # (as sent, as expected back)
SECRET_FIELDS = {"password", "pfx", "secret", "sasToken", "sasKey"}
# Filled in by the service from the pfx (reference (g)); not part of what the client sent.
CERTIFICATE_DETAILS = {"certificateThumbprint", "certificateSubjectName", "certificateExpirationDate"}
PFX_PASSWORD = "pfx-password-5"
PFX = issue(make_ca(), "Roundtrip Client", server=False).pfx(PFX_PASSWORD)


@dataclass(frozen=True)
class Duration:
    seconds: int


@dataclass(frozen=True)
class Instant:
    value: datetime


class Secret:
    """A field that must not come back."""


SECRET = Secret()

# ---- leaves -----------------------------------------------------------------------------------------------------

words = st.text(alphabet=string.ascii_letters + string.digits + "-_ .", min_size=1, max_size=16)
names = st.text(alphabet=string.ascii_lowercase + string.digits, min_size=1, max_size=12)


def enum(*values: str) -> st.SearchStrategy[Pair]:
    return st.sampled_from(values).flatmap(
        lambda v: st.sampled_from([v, v.lower(), v.upper(), v[:1].lower() + v[1:]]).map(lambda sent: (sent, v))
    )


def same(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Pair]:
    return strategy.map(lambda v: (v, v))


def secret() -> st.SearchStrategy[Pair]:
    return words.map(lambda v: ("s3cr3t-" + v, SECRET))


def _timespan(seconds: int) -> str:
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    clock = f"{hours:02d}:{minutes:02d}:{secs:02d}"
    return f"{days}.{clock}" if days else clock


def duration(low: int, high: int) -> st.SearchStrategy[Pair]:
    return st.integers(low, high).flatmap(
        lambda s: st.sampled_from([isodate.duration_isoformat(timedelta(seconds=s)), _timespan(s)]).map(
            lambda sent: (sent, Duration(s))
        )
    )


offsets = st.integers(-12 * 4, 14 * 4).map(lambda q: timezone(timedelta(minutes=15 * q)))


def instant(low: datetime, high: datetime) -> st.SearchStrategy[Pair]:
    return st.tuples(st.datetimes(low, high), offsets).map(
        lambda t: (
            t[0].replace(microsecond=0, tzinfo=t[1]).isoformat(),
            Instant(t[0].replace(microsecond=0, tzinfo=t[1]).astimezone(UTC)),
        )
    )


@st.composite
def fields(draw: st.DrawFn, required: dict[str, st.SearchStrategy[Pair]], optional: dict[str, Any]) -> Pair:
    """An object with every `required` field and a subset of the `optional` ones."""
    sent: dict[str, Any] = {}
    expected: dict[str, Any] = {}
    chosen = dict(required)
    for key, strategy in optional.items():
        if draw(st.booleans()):
            chosen[key] = strategy
    for key, strategy in chosen.items():
        s, e = draw(strategy)
        sent[key] = s
        if e is not SECRET:
            expected[key] = e
    return sent, expected


def small_dict() -> st.SearchStrategy[Pair]:
    return same(st.dictionaries(names, words, max_size=3))


# ---- actions ----------------------------------------------------------------------------------------------------

authentications = st.one_of(
    fields({"type": enum("Basic"), "username": same(words), "password": secret()}, {}),
    fields(
        {"type": enum("ActiveDirectoryOAuth"), "secret": secret()},
        {"tenant": same(words), "audience": same(words), "clientId": same(words)},
    ),
    fields({"type": enum("ClientCertificate"), "pfx": st.just((PFX, SECRET)),
            "password": st.just((PFX_PASSWORD, SECRET))}, {}),
)


def http_request(scheme: str) -> st.SearchStrategy[Pair]:
    return fields(
        {"uri": same(names.map(lambda p: f"{scheme}://example.invalid/{p}"))},
        {
            "method": same(st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"])),
            "body": same(words),
            "headers": small_dict(),
            "authentication": authentications,
        },
    )


retry_policies = st.one_of(
    fields({"retryType": enum("None")}, {}),
    fields(
        {"retryType": enum("Fixed")},
        {"retryInterval": duration(15, 3 * 86400), "retryCount": same(st.integers(0, 20))},
    ),
)

service_bus_common = {
    "namespace": same(names),
    "message": same(words),
}
service_bus_optional = {
    "transportType": enum("NotSpecified", "NetMessaging", "AMQP"),
    "authentication": fields({"sasKeyName": same(words), "sasKey": secret()}, {"type": enum("SharedAccessKey")}),
    "brokeredMessageProperties": fields(
        {},
        {
            "label": same(words),
            "contentType": same(st.just("application/json")),
            "forcePersistence": same(st.booleans()),
            "timeToLive": duration(1, 86400),
            "scheduledEnqueueTimeUtc": instant(datetime(2031, 1, 1), datetime(2034, 1, 1)),
            "sessionId": same(words),
        },
    ),
    "customMessageProperties": small_dict(),
}


def payload(kind: str) -> st.SearchStrategy[Pair]:
    if kind in ("Http", "Https"):
        return st.tuples(st.just("request"), http_request("https"))
    if kind == "StorageQueue":
        message = fields(
            {"storageAccount": same(names), "queueName": same(names), "sasToken": secret(), "message": same(words)}, {}
        )
        return st.tuples(st.just("queueMessage"), message)
    if kind == "ServiceBusQueue":
        message = fields({**service_bus_common, "queueName": same(names)}, service_bus_optional)
        return st.tuples(st.just("serviceBusQueueMessage"), message)
    message = fields({**service_bus_common, "topicPath": same(names)}, service_bus_optional)
    return st.tuples(st.just("serviceBusTopicMessage"), message)


@st.composite
def actions(draw: st.DrawFn, nested: bool = True) -> Pair:
    sent_type, kind = draw(enum("Http", "Https", "StorageQueue", "ServiceBusQueue", "ServiceBusTopic"))
    key, (sent_payload, expected_payload) = draw(payload(kind))
    sent = {"type": sent_type, key: sent_payload}
    expected = {"type": kind, key: expected_payload}
    if draw(st.booleans()):
        sent["retryPolicy"], expected["retryPolicy"] = draw(retry_policies)
    if nested and draw(st.booleans()):
        sent["errorAction"], expected["errorAction"] = draw(actions(nested=False))
    return sent, expected


# ---- recurrences ------------------------------------------------------------------------------------------------

DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def subset(values: range | tuple, max_size: int) -> st.SearchStrategy[Pair]:
    return same(st.lists(st.sampled_from(list(values)), min_size=1, max_size=max_size, unique=True))


@st.composite
def week_days(draw: st.DrawFn) -> Pair:
    chosen = draw(st.lists(enum(*DAYS), min_size=1, max_size=3, unique_by=lambda p: p[1]))
    return [s for s, _ in chosen], [e for _, e in chosen]


@st.composite
def monthly_occurrences(draw: st.DrawFn) -> Pair:
    sent, expected = [], []
    for _ in range(draw(st.integers(1, 2))):
        day_sent, day = draw(enum(*DAYS))
        occurrence = draw(st.sampled_from([1, 2, 3, 4, -1]))
        key = draw(st.sampled_from(["Occurrence", "occurrence"]))
        sent.append({"day": day_sent, key: occurrence})
        expected.append({"day": day, "Occurrence": occurrence})
    return sent, expected


@st.composite
def recurrences(draw: st.DrawFn, start: datetime) -> Pair:
    frequency_sent, frequency = draw(enum("Minute", "Hour", "Day", "Week", "Month"))
    schedule_fields: dict[str, st.SearchStrategy[Pair]] = {}
    if frequency in ("Day", "Week"):
        schedule_fields = {"hours": subset(range(24), 3), "minutes": subset(range(0, 60, 5), 2)}
    required_schedule: dict[str, st.SearchStrategy[Pair]] = {}
    if frequency == "Week":
        required_schedule = {"weekDays": week_days()}
    elif frequency == "Month":
        required_schedule = draw(
            st.sampled_from([{"monthDays": subset(range(1, 29), 3)}, {"monthlyOccurrences": monthly_occurrences()}])
        )
    optional: dict[str, Any] = {
        "interval": same(st.integers(1, 12)),
        "count": same(st.integers(1, 50)),
        # Far enough after the start that every generated schedule still fires before it.
        "endTime": instant(start + timedelta(days=400), start + timedelta(days=800)),
    }
    if required_schedule or schedule_fields:
        optional["schedule"] = fields(required_schedule, schedule_fields)
    sent, expected = draw(fields({"frequency": st.just((frequency_sent, frequency))}, optional))
    if frequency in ("Week", "Month") and "schedule" not in sent and draw(st.booleans()):
        sent["schedule"], expected["schedule"] = draw(fields(required_schedule, {}))
    return sent, expected


@st.composite
def jobs(draw: st.DrawFn) -> Pair:
    start_sent, start = draw(instant(datetime(2031, 1, 1), datetime(2034, 1, 1)))
    sent: dict[str, Any] = {"startTime": start_sent}
    expected: dict[str, Any] = {"startTime": start, "state": "Enabled"}
    sent["action"], expected["action"] = draw(actions())
    if draw(st.booleans()):
        sent["recurrence"], expected["recurrence"] = draw(recurrences(start.value))
    if draw(st.booleans()):
        sent["state"], expected["state"] = draw(enum("Enabled", "Disabled"))
    return {"properties": sent}, expected


# ---- comparison -------------------------------------------------------------------------------------------------


def _matches(expected: Any, got: Any, path: str) -> None:
    if isinstance(expected, Duration):
        assert isinstance(got, str) and got.startswith("P"), f"{path}: {got!r} is not ISO 8601"
        assert isodate.parse_duration(got) == timedelta(seconds=expected.seconds), path
    elif isinstance(expected, Instant):
        assert isinstance(got, str) and got.endswith("Z"), f"{path}: {got!r} is not UTC"
        assert datetime.fromisoformat(got.replace("Z", "+00:00")) == expected.value, path
    elif isinstance(expected, dict):
        assert isinstance(got, dict), f"{path}: {got!r}"
        extra = set(got) - set(expected)
        if path.endswith(".authentication"):
            extra -= CERTIFICATE_DETAILS
        assert not extra, f"{path}: unexpected {sorted(extra)}"
        assert set(expected) <= set(got), f"{path}: missing {sorted(set(expected) - set(got))}"
        for key, value in expected.items():
            _matches(value, got[key], f"{path}.{key}")
    elif isinstance(expected, list):
        assert isinstance(got, list) and len(got) == len(expected), f"{path}: {got!r}"
        for i, (e, g) in enumerate(zip(expected, got, strict=True)):
            _matches(e, g, f"{path}[{i}]")
    else:
        assert got == expected, f"{path}: {got!r} != {expected!r}"


def _secret_values(sent: Any) -> list[str]:
    if isinstance(sent, dict):
        return [v for k, v in sent.items() if k in SECRET_FIELDS and isinstance(v, str)] + [
            s for v in sent.values() for s in _secret_values(v)
        ]
    if isinstance(sent, list):
        return [s for v in sent for s in _secret_values(v)]
    return []


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(job=jobs())
def test_any_valid_job_survives_put_then_get(api: SchedulerApi, job: Pair) -> None:
    sent, expected = job
    collection = _collection(api)
    path = api.job_path(collection, unique("rt"))
    put = api.call("PUT", path, sent)
    assert put.status_code == 201, put.text
    try:
        got = api.call("GET", path)
        assert got.status_code == 200, got.text
        body = got.json()
        assert body["id"] == path and body["type"] == "Microsoft.Scheduler/jobCollections/jobs"
        properties = dict(body["properties"])
        assert set(properties.pop("status")) >= {"executionCount", "failureCount", "faultedCount"}
        _matches(expected, properties, "properties")
        for value in _secret_values(sent):
            assert value not in got.text and value not in put.text
    finally:
        api.call("DELETE", path)


_COLLECTIONS: dict[str, str] = {}


def _collection(api: SchedulerApi) -> str:
    """One roomy collection for every example (P20Premium: 1,000 jobs, once a minute)."""
    if api.base_url not in _COLLECTIONS:
        _COLLECTIONS[api.base_url] = api.new_collection()
        response = api.call(
            "PATCH", api.collection_path(_COLLECTIONS[api.base_url]), {"properties": {"sku": {"name": "P20Premium"}}}
        )
        assert response.status_code == 200, response.text
    return _COLLECTIONS[api.base_url]
