"""Every published Azure Scheduler body, sent to the local host as a user of the old service would send it.

The bodies are data in `tests/e2e/published_bodies/` (README.md there says where each comes from) and in
`tests/cli/corpus/published/` (the docs' samples). Request bodies are PUT as they were recorded; GET responses are
PUT back as a user saving and restoring a job would (with `id`, `type`, `name`, `status`); the responses recorded from
the real service are compared with ours field by field. Each difference that remains is named in `EXPLAINED` and in
docs/reference.md section (i).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import isodate
import pytest

from azsched.importers.jsonfile import loads
from tests.support.api import SchedulerApi, unique
from tests.support.target import Target
from tests.support.wire import error_targets, get_job, wait_history

pytestmark = pytest.mark.e2e

BODIES = Path(__file__).parent / "published_bodies"
DOCS = Path(__file__).parents[1] / "cli" / "corpus" / "published"
NET = json.loads((BODIES / "sdk_for_net_session_records.json").read_text())
PYTHON = json.loads((BODIES / "sdk_for_python_recording.json").read_text())
HISTORY = json.loads((BODIES / "sdk_for_net_history_entry.json").read_text())
CLASSIC = json.loads((BODIES / "classic_rest_reference_ours.json").read_text())

SECRETS = ("secret", "sasToken", "sasKey", "password", "pfx")
ENUM_FIELDS = ("type", "state", "frequency", "retryType", "transportType", "actionName", "status")
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,7})?Z$")
ISO_DURATION = re.compile(r"^P(?!$)(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$")

# Where the record and this service differ on purpose (docs/reference.md section (i) says why), by JSON path.
EXPLAINED = {
    "properties.recurrence.interval": "the default interval 1 is applied, not written into the definition",
    "properties.status": "a Disabled job keeps its counters (the record shows none for a Disabled job)",
    "properties.quota": "the collection answers the quota in force, the plan's defaults included",
    "location": "there is no ARM to turn 'westus' into its display name 'West US'",
    "nextLink": "absent on the last page rather than null",
}


# ------------------------------------------------------------------------------------------------------ helpers


def _job_put(api: SchedulerApi, collection: str, job: str, body: Any, method: str = "PUT") -> Any:
    return api.call(method, api.job_path(collection, job), body)


def _timespan(value: str) -> timedelta:
    """A .NET TimeSpan `[d.]hh:mm:ss` as the old service returned durations."""
    match = re.fullmatch(r"(?:(\d+)\.)?(\d+):(\d+):(\d+)", value)
    assert match, value
    days, hours, minutes, seconds = (int(part or 0) for part in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def _without_secrets(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_secrets(v) for k, v in value.items() if k not in SECRETS}
    if isinstance(value, list):
        return [_without_secrets(v) for v in value]
    return value


def differences(ours: Any, recorded: Any, path: str = "") -> list[str]:
    """Where our answer differs from the recorded one, beyond what the wire format allows to differ: enum values
    compare in any case (ours must be the swagger's spelling), durations by value (ours ISO 8601), date-times by
    instant (ours RFC 3339 in UTC), ids and names by their shape (the names are ours)."""
    here = path.lstrip(".")
    if isinstance(recorded, dict) and isinstance(ours, dict):
        found = [f"{here}.{k}: missing" for k in recorded if k not in ours]
        found += [f"{here}.{k}: extra" for k in ours if k not in recorded]
        for key in recorded.keys() & ours.keys():
            found += differences(ours[key], recorded[key], f"{path}.{key}")
        return [f.lstrip(".") for f in found]
    if isinstance(recorded, list) and isinstance(ours, list) and len(ours) == len(recorded):
        pairs = enumerate(zip(ours, recorded, strict=True))
        return [d for i, (o, r) in pairs for d in differences(o, r, f"{path}[{i}]")]
    if isinstance(recorded, str) and isinstance(ours, str):
        key = here.rsplit(".", 1)[-1]
        if key in ("retryInterval", "timeToLive"):
            ok = ISO_DURATION.match(ours) and isodate.parse_duration(ours) == _timespan(recorded)
        elif key in ("startTime", "endTime", "expectedExecutionTime", "lastExecutionTime", "nextExecutionTime"):
            ok = RFC3339.match(ours) and datetime.fromisoformat(ours) == datetime.fromisoformat(recorded)
        elif key == "id":  # the fixed segments of the ARM id; the names between them are ours
            ok = len(ours.split("/")) == len(recorded.split("/")) and ours.split("/")[1::2] == recorded.split("/")[1::2]
        elif key == "name":
            ok = ours.count("/") == recorded.count("/")
        elif key in ENUM_FIELDS or here == "properties.sku.name":
            ok = ours.lower() == recorded.lower() and ours[0].isupper()
        else:
            ok = ours == recorded
        return [] if ok else [f"{here}: {ours!r} != {recorded!r}"]
    return [] if ours == recorded else [f"{here}: {ours!r} != {recorded!r}"]


def unexplained(found: list[str]) -> list[str]:
    """The differences EXPLAINED does not cover (an item of a list page is read as the resource it is)."""
    return [d for d in found if not re.sub(r"^value\[\d+\]\.", "", d).startswith(tuple(EXPLAINED))]


def _shift_end_time(body: dict[str, Any], recorded_at: str) -> dict[str, Any]:
    """The recorded request with its `endTime` as far from now as it was from the recording (it has passed since)."""
    shifted = json.loads(json.dumps(body))
    recurrence = shifted["properties"].get("recurrence")
    if recurrence and "endTime" in recurrence:
        ahead = datetime.fromisoformat(recurrence["endTime"]) - datetime.fromisoformat(recorded_at)
        recurrence["endTime"] = (datetime.now(UTC) + ahead).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    return shifted


def _recorded_exchanges() -> list[tuple[str, int]]:
    return [(name, i) for name, exchanges in NET["scenarios"].items() for i, e in enumerate(exchanges)
            if e["method"] != "GET"]


def _replay(api: SchedulerApi, scenario: str, upto: int, shift: bool = False) -> tuple[str, list[Any]]:
    """A collection as the scenario created it, and our answers to the scenario's writes up to `upto`."""
    collection = unique("jc")
    created = api.call("PUT", api.collection_path(collection), NET["collection"]["request"])
    assert created.status_code == NET["collection"]["status"], created.text
    answers = []
    for exchange in NET["scenarios"][scenario][: upto + 1]:
        body = exchange["request"]
        if shift and body is not None:
            body = _shift_end_time(body, exchange["recorded_at"])
        if exchange["method"] == "GET":
            path, _, query = exchange["path"].partition("?")
            url = f"{api.base_url}{api.collection_path(collection)}{path}?{query}&api-version=2016-03-01"
            answers.append(api.session.get(url, timeout=30))
        else:
            job = exchange["path"].rsplit("/", 1)[1]
            answers.append(_job_put(api, collection, job, body, exchange["method"]))
    return collection, answers


# --------------------------------------------------------------------------------------- recorded request bodies


@pytest.mark.parametrize(("scenario", "index"), _recorded_exchanges())
def test_each_recorded_request_body_is_accepted_as_is_with_the_recorded_status(
    api: SchedulerApi, scenario: str, index: int
) -> None:
    _, answers = _replay(api, scenario, index)
    recorded = NET["scenarios"][scenario][index]
    assert answers[-1].status_code == recorded["status"], answers[-1].text


@pytest.mark.parametrize(("scenario", "index"), _recorded_exchanges())
def test_recorded_responses_compare_field_by_field_with_ours(api: SchedulerApi, scenario: str, index: int) -> None:
    """The recording's `endTime` (2020) has passed: it is moved as far ahead of now as it was of the recording, so the
    job is as alive as it was then. `nextExecutionTime` depends on when the request is made and is checked apart."""
    _, answers = _replay(api, scenario, index, shift=True)
    recorded = json.loads(json.dumps(NET["scenarios"][scenario][index]["response"]))
    ours = answers[-1].json()
    moved = "endTime" in recorded["properties"].get("recurrence", {})
    for body in (recorded, ours):
        body["properties"].get("status", {}).pop("nextExecutionTime", None)
        if moved:
            assert RFC3339.match(body["properties"]["recurrence"].pop("endTime"))
    assert unexplained(differences(ours, recorded)) == []


def test_a_recorded_disabled_job_answers_no_next_execution_time(api: SchedulerApi) -> None:
    """The real service answered a Disabled job without `status` (PUT and list): it has no next execution. Ours keeps
    the counters (EXPLAINED) but must not announce a time at which the job will not run."""
    collection, answers = _replay(api, "Scenario_JobList", 2)
    disabled = answers[1].json()["properties"]
    assert disabled["state"] == "Disabled"
    assert "nextExecutionTime" not in disabled.get("status", {}), disabled
    assert "nextExecutionTime" not in get_job(api, collection, "j21028")["properties"].get("status", {})
    listed = answers[2]
    assert listed.status_code == 200, listed.text
    assert [j["name"] for j in listed.json()["value"]] == [f"{collection}/j21028"]
    recorded = NET["scenarios"]["Scenario_JobList"][2]["response"]
    assert unexplained(differences(listed.json(), recorded)) == []


def test_recorded_next_execution_times_follow_the_same_rules_today(api: SchedulerApi) -> None:
    """What the real service answered on 2016-03-30, computed again for now: a weekly job from a past Monday next runs
    on the coming Monday at its start time; the PATCH to daily from a past midnight, at the next midnight; a daily
    schedule of hours 5, 10, 15, 20 and every ten minutes, at the next of those; a one-time job started in the past,
    now."""
    now = datetime.now(UTC)
    _, weekly = _replay(api, "Scenario_JobCreatePatchDeleteStorageJob", 1, shift=True)
    monday = datetime(2015, 7, 13, tzinfo=UTC)
    coming = monday + timedelta(weeks=(now - monday) // timedelta(weeks=1) + 1)
    assert datetime.fromisoformat(weekly[0].json()["properties"]["status"]["nextExecutionTime"]) == coming
    midnight = datetime(now.year, now.month, now.day, tzinfo=UTC) + timedelta(days=1)
    assert datetime.fromisoformat(weekly[1].json()["properties"]["status"]["nextExecutionTime"]) == midnight

    _, daily = _replay(api, "Scenario_JobCreateWithScheduleForDay", 0, shift=True)
    slots = [datetime(now.year, now.month, now.day, h, m, tzinfo=UTC) + timedelta(days=d)
             for d in (0, 1) for h in (5, 10, 15, 20) for m in range(0, 60, 10)]
    expected = min(s for s in slots if s > now)
    assert datetime.fromisoformat(daily[0].json()["properties"]["status"]["nextExecutionTime"]) == expected

    _, once = _replay(api, "Scenario_JobList", 0)
    soon = datetime.fromisoformat(once[0].json()["properties"]["status"]["nextExecutionTime"])
    assert now - timedelta(seconds=5) <= soon <= datetime.now(UTC) + timedelta(seconds=30)


# --------------------------------------------------------------------------------- GET responses put back as-is


def _published_job_responses() -> dict[str, dict[str, Any]]:
    found = {f"net-{name}-{i}": e["response"] for name, exchanges in NET["scenarios"].items()
             for i, e in enumerate(exchanges) if e["method"] != "GET"}
    found["docs-basic"] = loads((DOCS / "docs_outbound_auth_basic_response.json").read_bytes())
    return found


def _put_secret(body: dict[str, Any], path: str, value: str) -> None:
    *parents, field = path.split(".")
    for key in parents:
        body = body[key]
    body[field] = value


def _put_back(api: SchedulerApi, collection: str, job: str, saved: dict[str, Any]) -> Any:
    """PUT a saved response; when the 400 names only the SAS tokens it lacks, put those back and PUT again."""
    answer = _job_put(api, collection, job, saved)
    if answer.status_code == 400:
        missing = error_targets(answer)
        assert missing and all(target.endswith(".sasToken") for target in missing), answer.text
        for target in missing:
            _put_secret(saved, target, "sv=2015-04-05&sig=restored")
        answer = _job_put(api, collection, job, saved)
    return answer


@pytest.mark.parametrize("case", sorted(_published_job_responses()))
def test_each_published_get_response_put_back_as_is_is_accepted_and_read_back_unchanged(
    api: SchedulerApi, case: str
) -> None:
    """A saved GET response, its `id`, `type`, `name` and `status` included, PUT back: the job it describes is the one
    GET answers afterwards, and a second PUT of that answer changes nothing. Responses never carry a secret, so a
    storage queue's `sasToken` must be put back (the 400 names it, and nothing else); a one-time job started in the
    past runs once right after each PUT, so its `nextExecutionTime` is that PUT's instant."""
    saved = json.loads(json.dumps(_published_job_responses()[case]))
    collection = api.new_collection()
    job = saved["name"].rsplit("/", 1)[1]
    created = _put_back(api, collection, job, saved)
    assert created.status_code == 201, created.text
    got = get_job(api, collection, job)
    assert created.json()["properties"] == got["properties"]
    found = differences(got, _without_secrets(saved))
    assert unexplained([d for d in found if not d.startswith("properties.status")]) == []

    again = _put_back(api, collection, job, json.loads(json.dumps(got)))
    assert again.status_code == 200, again.text
    after = get_job(api, collection, job)
    if "recurrence" not in saved["properties"]:
        for body in (after, got):
            body["properties"]["status"].pop("nextExecutionTime", None)
    assert after["properties"] == got["properties"]
    assert (after["id"], after["name"], after["type"]) == (got["id"], got["name"], got["type"])


def test_the_docs_client_certificate_response_put_back_as_is_is_refused_naming_the_pfx(api: SchedulerApi) -> None:
    """Responses never carry the pfx, so a saved ClientCertificate job needs it back: as-is it is refused naming it
    (with the pfx and password put back it is accepted: test_api_wire pins that)."""
    saved = loads((DOCS / "docs_outbound_auth_clientcertificate_response.json").read_bytes())
    collection = api.new_collection()
    response = _job_put(api, collection, "cert", saved)
    assert "properties.action.request.authentication.pfx" in error_targets(response)


def test_the_docs_oauth_request_is_accepted_and_answered_without_its_secret(api: SchedulerApi) -> None:
    sent = loads((DOCS / "docs_outbound_auth_oauth_request.json").read_bytes())
    collection = api.new_collection()
    created = _job_put(api, collection, "oauth", sent)
    assert created.status_code == 201, created.text
    assert sent["properties"]["action"]["request"]["authentication"]["secret"] not in created.text
    got = get_job(api, collection, "oauth")["properties"]
    assert differences(got, _without_secrets(sent["properties"]), "properties") == ["properties.status: extra"]


def test_the_2018_concepts_sample_names_its_misplaced_retry_policy(api: SchedulerApi) -> None:
    """The 2018 concepts page put `retryPolicy` under `request`; unknown fields are refused (docs/api.md), naming it.
    `azsched import` moves it where it belongs (tests/cli/test_import_published.py)."""
    sample = loads((DOCS / "docs_concepts_job_2018.json").read_bytes())
    collection = api.new_collection()
    response = _job_put(api, collection, "concepts", sample)
    assert error_targets(response) == {"properties.action.request.retryPolicy"}
    policy = sample["properties"]["action"]["request"].pop("retryPolicy")
    sample["properties"]["action"]["retryPolicy"] = policy
    moved = _job_put(api, collection, "concepts", sample)
    assert moved.status_code == 201, moved.text
    got = moved.json()["properties"]
    assert got["state"] == "Disabled" and got["recurrence"]["endTime"] == "2012-11-04T00:00:00Z"
    assert got["startTime"] == "2012-08-04T00:00:00Z" and got["action"]["retryPolicy"] == {"retryType": "None"}


# ------------------------------------------------------------------------------------------- collections


def test_the_recorded_collection_put_compares_field_by_field(api: SchedulerApi) -> None:
    collection = unique("jc")
    response = api.call("PUT", api.collection_path(collection), NET["collection"]["request"])
    assert response.status_code == NET["collection"]["status"], response.text
    assert differences(response.json(), NET["collection"]["response"]) == []
    assert response.json()["properties"]["quota"]["maxRecurrence"] == {"frequency": "Minute", "interval": 1}
    got = api.call("GET", api.collection_path(collection)).json()
    assert got == response.json()
    assert api.call("PUT", api.collection_path(collection), got).status_code == 200
    assert api.call("GET", api.collection_path(collection)).json() == got


def test_the_python_sdk_recording_of_a_free_collection(api: SchedulerApi) -> None:
    collection = unique("myjobcollection")
    path = api.collection_path(collection)
    put, get = PYTHON["exchanges"]
    created = api.call("PUT", path, put["request"])
    assert created.status_code == put["status"], created.text
    assert unexplained(differences(created.json(), put["response"])) == []
    assert sorted(differences(created.json(), put["response"])) == ["location: 'westus' != 'West US'",
                                                                    "properties.quota: extra"]
    read = api.call("GET", path)
    assert read.status_code == get["status"]
    assert read.json() == created.json()
    assert api.call("PUT", path, read.json()).status_code == 200


# ------------------------------------------------------------------------------------------------ history


def test_a_history_entry_has_the_recorded_shape(api: SchedulerApi, target: Target) -> None:
    collection = api.new_collection()
    body = {"properties": {"startTime": "2035-01-01T00:00:00Z",
                           "action": {"type": "Http", "request": {"uri": f"{target.url}/history", "method": "GET"}}}}
    assert _job_put(api, collection, "http_job", body).status_code == 201
    assert api.call("POST", api.job_path(collection, "http_job") + "/run").status_code == 200
    wait_history(api, collection, "http_job", 1)
    url = (f"{api.base_url}{api.job_path(collection, 'http_job')}/history?{HISTORY['request_query']}"
           "&api-version=2016-03-01")
    listed = api.session.get(url, timeout=30)
    assert listed.status_code == HISTORY["status"], listed.text
    (entry,) = listed.json()["value"]
    recorded = HISTORY["entry"]
    times = ("properties.startTime", "properties.endTime", "properties.expectedExecutionTime")
    found = differences(entry, recorded)
    assert [d for d in found if not d.startswith(("properties.message", "properties.repeatCount", *times))] == [
        "properties.status: extra"
    ]
    assert all(RFC3339.match(entry["properties"][t.split(".")[1]]) for t in times), entry
    assert entry["properties"]["message"].startswith("Http Action - Response from host '")
    assert entry["id"].startswith(api.job_path(collection, "http_job") + "/history/")
    assert entry["name"].startswith(f"{collection}/http_job/")


# ---------------------------------------------------------------------------------------- classic (2014) bodies


@pytest.mark.parametrize("case", ["create_http_job", "create_storage_queue_job", "get_job_response"])
def test_a_classic_body_wrapped_in_properties_is_accepted(api: SchedulerApi, case: str) -> None:
    """A 2014 (RDFE) body has its fields at the top level; a migrating user wraps them in `properties` (the name was
    in the URL, or is the classic `id`); `azsched import --collection` does the same (docs/migration.md)."""
    classic = dict(CLASSIC[case])
    job = classic.pop("id", case.replace("_", "-"))
    collection = api.new_collection()
    created = _job_put(api, collection, job, {"properties": classic})
    assert created.status_code == 201, created.text
    got = dict(created.json()["properties"])
    sent = _without_secrets(classic)
    sent.pop("status", None)
    got.pop("status")
    if "state" not in sent:
        assert got.pop("state") == "Enabled"
    assert differences(got, sent, "properties") == []
    assert get_job(api, collection, job)["properties"] == created.json()["properties"]
