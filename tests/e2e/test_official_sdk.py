"""The official Python SDK, `azure-mgmt-scheduler` 7.0.0, driving the app as an Azure Scheduler user's code would.

Every call goes through `SchedulerManagementClient` with the SDK's own models, pointed at the local host with
`base_url` and `credential_scopes` (docs/deploy.md). The host speaks plain HTTP, so each call carries azure-core's
per-operation `enforce_https=False`, without which the bearer-token policy refuses to send a token to an `http://`
URL; the LRO pollers and page iterators pass it on to their own requests.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest
from azure.core.credentials import AccessToken
from azure.core.exceptions import (
    HttpResponseError,
    ResourceExistsError,
    ResourceNotFoundError,
    ServiceRequestError,
)
from azure.mgmt.scheduler import SchedulerManagementClient
from azure.mgmt.scheduler import models as m
from cryptography.hazmat.primitives import hashes
from msrest.serialization import Model

from devhost.tests.running import wait_for
from tests.e2e.test_api_wire import CLIENT_CERTIFICATE, SECRETS
from tests.support.api import SchedulerApi, unique
from tests.support.target import Target

pytestmark = pytest.mark.e2e

T = TypeVar("T")
GROUP = "rg-sdk"
AUDIENCE = "api://scheduler-local"
PLAIN_HTTP = {"enforce_https": False}
FAR_FUTURE = datetime(2035, 1, 1, tzinfo=UTC)


class StaticToken:
    """A TokenCredential that hands out one fixed token and records the scopes it was asked for."""

    def __init__(self) -> None:
        self.scopes: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.scopes.append(scopes)
        return AccessToken("local-test-token", int(time.time()) + 3600)


@pytest.fixture
def credential() -> StaticToken:
    return StaticToken()


@pytest.fixture
def client(host: str, credential: StaticToken) -> Iterator[SchedulerManagementClient]:
    """A client of a subscription of its own, so that listing by subscription sees only this test's collections."""
    sdk = SchedulerManagementClient(
        credential=credential,
        subscription_id=unique("sub"),
        base_url=host,
        credential_scopes=[f"{AUDIENCE}/.default"],
        polling_interval=0.2,
    )
    with sdk:
        yield sdk


def _collection(client: SchedulerManagementClient, **properties: Any) -> str:
    name = unique("jc")
    body = m.JobCollectionDefinition(
        location="westus", properties=m.JobCollectionProperties(sku=m.Sku(name=m.SkuDefinition.STANDARD), **properties)
    )
    client.job_collections.create_or_update(GROUP, name, body, **PLAIN_HTTP)
    return name


def _http_action(uri: str = "https://example.invalid/hook", **request: Any) -> m.JobAction:
    request.setdefault("method", "GET")
    return m.JobAction(type=m.JobActionType.HTTP, request=m.HttpRequest(uri=uri, **request))


def _job(action: m.JobAction, **properties: Any) -> m.JobDefinition:
    properties.setdefault("start_time", FAR_FUTURE)
    return m.JobDefinition(properties=m.JobProperties(action=action, **properties))


def _put(client: SchedulerManagementClient, collection: str, job: str, definition: m.JobDefinition) -> m.JobDefinition:
    return client.jobs.create_or_update(GROUP, collection, job, definition, **PLAIN_HTTP)


def _unknown_fields(value: Any, path: str = "") -> dict[str, Any]:
    """Every field of a response that the SDK's models do not know (msrest keeps them in `additional_properties`)."""
    found: dict[str, Any] = {}
    if isinstance(value, Model):
        for key, extra in (value.additional_properties or {}).items():
            found[f"{path}.{key}"] = extra
        for attribute in value._attribute_map:
            if attribute != "additional_properties":
                found.update(_unknown_fields(getattr(value, attribute), f"{path}.{attribute}"))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found.update(_unknown_fields(item, f"{path}[{i}]"))
    return found


def _raises(call: Callable[[], Any], kind: type[HttpResponseError] = HttpResponseError) -> HttpResponseError:
    with pytest.raises(kind) as caught:
        call()
    return caught.value


def _eventually(condition: Callable[[], T], what: str) -> T:
    return wait_for(condition, what, deadline=45)


def test_over_plain_http_the_token_is_sent_only_with_enforce_https_off(client: SchedulerManagementClient) -> None:
    """What docs/deploy.md tells a local user: without `enforce_https=False` the SDK refuses to send its token."""
    with pytest.raises(ServiceRequestError, match="non-https"):
        client.job_collections.get(GROUP, "any")
    assert list(client.job_collections.list_by_resource_group(GROUP, **PLAIN_HTTP)) == []


# ----------------------------------------------------------------------------------------------- job collections


def test_a_job_collection_round_trips(client: SchedulerManagementClient, credential: StaticToken) -> None:
    name = unique("jc")
    quota = m.JobCollectionQuota(
        max_job_count=7, max_recurrence=m.JobMaxRecurrence(frequency=m.RecurrenceFrequency.HOUR, interval=2)
    )
    sent = m.JobCollectionDefinition(
        location="westus",
        tags={"team": "payments"},
        properties=m.JobCollectionProperties(sku=m.Sku(name=m.SkuDefinition.P10_PREMIUM), quota=quota),
    )
    created = client.job_collections.create_or_update(GROUP, name, sent, **PLAIN_HTTP)

    assert credential.scopes and all(s == (f"{AUDIENCE}/.default",) for s in credential.scopes)
    for got in (created, client.job_collections.get(GROUP, name, **PLAIN_HTTP)):
        assert isinstance(got, m.JobCollectionDefinition)
        assert _unknown_fields(got) == {}
        assert got.id == (
            f"/subscriptions/{client._config.subscription_id}/resourceGroups/{GROUP}"
            f"/providers/Microsoft.Scheduler/jobCollections/{name}"
        )
        assert got.name == name
        assert got.type == "Microsoft.Scheduler/jobCollections"
        assert got.location == "westus"
        assert got.tags == {"team": "payments"}
        assert got.properties.sku.name == m.SkuDefinition.P10_PREMIUM
        assert got.properties.state == m.JobCollectionState.ENABLED
        assert got.properties.quota.max_job_count == 7
        assert got.properties.quota.max_recurrence.frequency == m.RecurrenceFrequency.HOUR
        assert got.properties.quota.max_recurrence.interval == 2


def test_collections_list_by_resource_group_and_by_subscription(client: SchedulerManagementClient) -> None:
    first, second = _collection(client), _collection(client)
    other_group = unique("jc")
    client.job_collections.create_or_update(
        "rg-other", other_group, m.JobCollectionDefinition(location="westus"), **PLAIN_HTTP
    )

    in_group = [c.name for c in client.job_collections.list_by_resource_group(GROUP, **PLAIN_HTTP)]
    assert sorted(in_group) == sorted([first, second])
    in_subscription = [c.name for c in client.job_collections.list_by_subscription(**PLAIN_HTTP)]
    assert sorted(in_subscription) == sorted([first, second, other_group])
    listed = client.job_collections.list_by_subscription(**PLAIN_HTTP)
    assert all(isinstance(c, m.JobCollectionDefinition) for c in listed)


def test_patch_changes_what_it_names_and_keeps_the_rest(client: SchedulerManagementClient) -> None:
    name = unique("jc")
    client.job_collections.create_or_update(
        GROUP, name, m.JobCollectionDefinition(location="westus", tags={"a": "1"}), **PLAIN_HTTP
    )
    patch = m.JobCollectionDefinition(
        properties=m.JobCollectionProperties(quota=m.JobCollectionQuota(max_job_count=3))
    )
    patched = client.job_collections.patch(GROUP, name, patch, **PLAIN_HTTP)
    assert patched.properties.quota.max_job_count == 3
    assert patched.tags == {"a": "1"}
    assert patched.location == "westus"
    assert patched.properties.sku.name == m.SkuDefinition.STANDARD


def test_disable_and_enable_pollers_complete_and_change_every_job(client: SchedulerManagementClient) -> None:
    collection = _collection(client)
    for job in ("a", "b"):
        _put(client, collection, job, _job(_http_action(), recurrence=m.JobRecurrence(frequency="Hour")))

    poller = client.job_collections.begin_disable(GROUP, collection, **PLAIN_HTTP)
    assert poller.result(timeout=30) is None
    assert poller.done() and poller.status() == "Succeeded"
    assert client.job_collections.get(GROUP, collection, **PLAIN_HTTP).properties.state == m.JobCollectionState.DISABLED
    states = {j.name: j.properties.state for j in client.jobs.list(GROUP, collection, **PLAIN_HTTP)}
    assert states == {f"{collection}/a": m.JobState.DISABLED, f"{collection}/b": m.JobState.DISABLED}

    client.job_collections.begin_enable(GROUP, collection, **PLAIN_HTTP).result(timeout=30)
    assert client.job_collections.get(GROUP, collection, **PLAIN_HTTP).properties.state == m.JobCollectionState.ENABLED
    states = {j.name: j.properties.state for j in client.jobs.list(GROUP, collection, **PLAIN_HTTP)}
    assert set(states.values()) == {m.JobState.ENABLED}


def test_delete_poller_completes_and_the_collection_is_gone(client: SchedulerManagementClient) -> None:
    collection = _collection(client)
    _put(client, collection, "doomed", _job(_http_action()))

    poller = client.job_collections.begin_delete(GROUP, collection, **PLAIN_HTTP)
    poller.result(timeout=30)
    assert poller.status() == "Succeeded"
    missing = _raises(lambda: client.job_collections.get(GROUP, collection, **PLAIN_HTTP), ResourceNotFoundError)
    assert missing.status_code == 404
    assert missing.error.code == "ResourceNotFound"
    assert _raises(lambda: client.jobs.get(GROUP, collection, "doomed", **PLAIN_HTTP)).status_code == 404
    assert collection not in [c.name for c in client.job_collections.list_by_resource_group(GROUP, **PLAIN_HTTP)]


def test_enable_or_disable_of_a_missing_collection_raises_404(client: SchedulerManagementClient) -> None:
    for begin in (client.job_collections.begin_enable, client.job_collections.begin_disable):
        error = _raises(lambda b=begin: b(GROUP, unique("missing"), **PLAIN_HTTP).result(), ResourceNotFoundError)
        assert error.status_code == 404
        assert error.error.code == "ResourceNotFound"


# ---------------------------------------------------------------------------------------------------------- jobs


def _weekly_recurrence() -> m.JobRecurrence:
    return m.JobRecurrence(
        frequency=m.RecurrenceFrequency.WEEK,
        interval=1,
        end_time=datetime(2040, 6, 30, 23, 0, tzinfo=UTC),
        schedule=m.JobRecurrenceSchedule(
            week_days=[m.DayOfWeek.MONDAY, m.DayOfWeek.FRIDAY], hours=[9, 17], minutes=[0, 30]
        ),
    )


def _monthly_recurrence() -> m.JobRecurrence:
    return m.JobRecurrence(
        frequency=m.RecurrenceFrequency.MONTH,
        interval=2,
        count=10,
        schedule=m.JobRecurrenceSchedule(
            month_days=[1, 15],
            hours=[6],
            minutes=[45],
            monthly_occurrences=[
                m.JobRecurrenceScheduleMonthlyOccurrence(day=m.JobScheduleDay.FRIDAY, occurrence=-1),
                m.JobRecurrenceScheduleMonthlyOccurrence(day=m.JobScheduleDay.MONDAY, occurrence=1),
            ],
        ),
    )


RETRY = m.RetryPolicy(retry_type=m.RetryType.FIXED, retry_interval=timedelta(minutes=2), retry_count=3)
ERROR_ACTION = m.JobErrorAction(
    type=m.JobActionType.STORAGE_QUEUE,
    queue_message=m.StorageQueueMessage(
        storage_account="devstoreaccount1", queue_name="failures", sas_token=SECRETS["sasToken"], message="it failed"
    ),
    retry_policy=m.RetryPolicy(retry_type=m.RetryType.NONE),
)


def _actions() -> dict[str, m.JobAction]:
    brokered = m.ServiceBusBrokeredMessageProperties(
        content_type="application/json",
        label="l",
        message_id="mid-1",
        time_to_live=timedelta(minutes=5),
        scheduled_enqueue_time_utc=datetime(2035, 2, 3, 4, 5, 6, tzinfo=UTC),
    )
    return {
        "basic": _http_action(
            method="POST",
            body='{"hello": "world"}',
            headers={"Content-Type": "application/json"},
            authentication=m.BasicAuthentication(username="alice", password=SECRETS["password"]),
        ),
        "certificate": m.JobAction(
            type=m.JobActionType.HTTPS,
            request=m.HttpRequest(
                uri="https://example.invalid/hook",
                method="GET",
                authentication=m.ClientCertAuthentication(pfx=SECRETS["pfx"], password=SECRETS["password"]),
            ),
        ),
        "oauth": _http_action(
            authentication=m.OAuthAuthentication(
                tenant="contoso.onmicrosoft.com",
                audience="https://management.core.windows.net/",
                client_id="dc23e764",
                secret=SECRETS["secret"],
            )
        ),
        "storage-queue": m.JobAction(
            type=m.JobActionType.STORAGE_QUEUE,
            queue_message=m.StorageQueueMessage(
                storage_account="devstoreaccount1", queue_name="myqueue", sas_token=SECRETS["sasToken"], message="hi"
            ),
        ),
        "service-bus-queue": m.JobAction(
            type=m.JobActionType.SERVICE_BUS_QUEUE,
            service_bus_queue_message=m.ServiceBusQueueMessage(
                queue_name="q1",
                namespace="mySBNamespace",
                transport_type=m.ServiceBusTransportType.NET_MESSAGING,
                authentication=_sas("QPolicy"),
                message="Some message",
                brokered_message_properties=brokered,
                custom_message_properties={"appname": "FromScheduler"},
            ),
        ),
        "service-bus-topic": m.JobAction(
            type=m.JobActionType.SERVICE_BUS_TOPIC,
            service_bus_topic_message=m.ServiceBusTopicMessage(
                topic_path="t1",
                namespace="mySBNamespace",
                transport_type=m.ServiceBusTransportType.AMQP,
                authentication=_sas("TPolicy"),
                message="Some message",
            ),
        ),
    }


def _sas(key_name: str) -> m.ServiceBusAuthentication:
    return m.ServiceBusAuthentication(
        sas_key=SECRETS["sasKey"], sas_key_name=key_name, type=m.ServiceBusAuthenticationType.SHARED_ACCESS_KEY
    )


def _assert_no_secret(job: m.JobDefinition) -> None:
    text = str(job.serialize(keep_readonly=True))
    for name, value in SECRETS.items():
        assert value not in text, f"{name} came back"


def _assert_action(kind: str, got: m.JobAction) -> None:
    """The action as the SDK deserialized it: what was sent, minus the secrets, plus what the pfx says."""
    sent = _actions()[kind]
    assert got.type == sent.type
    if kind == "basic":
        auth = got.request.authentication
        assert isinstance(auth, m.BasicAuthentication)
        assert (auth.type, auth.username, auth.password) == ("Basic", "alice", None)
        assert (got.request.uri, got.request.method, got.request.body) == (
            sent.request.uri, "POST", sent.request.body
        )
        assert got.request.headers == {"Content-Type": "application/json"}
    elif kind == "certificate":
        auth = got.request.authentication
        assert isinstance(auth, m.ClientCertAuthentication)
        assert auth.type == "ClientCertificate"
        assert (auth.pfx, auth.password) == (None, None)
        assert auth.certificate_subject_name == "CN=Scheduler Test Client"
        assert auth.certificate_thumbprint == CLIENT_CERTIFICATE.cert.fingerprint(hashes.SHA1()).hex().upper()
        expires = CLIENT_CERTIFICATE.cert.not_valid_after_utc
        assert auth.certificate_expiration_date == expires.replace(microsecond=0)
        assert auth.certificate_expiration_date.tzinfo is not None
    elif kind == "oauth":
        auth = got.request.authentication
        assert isinstance(auth, m.OAuthAuthentication)
        assert auth.type == "ActiveDirectoryOAuth"
        assert (auth.tenant, auth.audience, auth.client_id, auth.secret) == (
            "contoso.onmicrosoft.com", "https://management.core.windows.net/", "dc23e764", None
        )
    elif kind == "storage-queue":
        assert got.queue_message.as_dict() == {
            "storage_account": "devstoreaccount1", "queue_name": "myqueue", "message": "hi"
        }
    elif kind == "service-bus-queue":
        message = got.service_bus_queue_message
        assert isinstance(message, m.ServiceBusQueueMessage)
        assert (message.queue_name, message.namespace, message.message) == ("q1", "mySBNamespace", "Some message")
        assert message.transport_type == m.ServiceBusTransportType.NET_MESSAGING
        assert message.authentication.type == m.ServiceBusAuthenticationType.SHARED_ACCESS_KEY
        assert (message.authentication.sas_key_name, message.authentication.sas_key) == ("QPolicy", None)
        assert message.custom_message_properties == {"appname": "FromScheduler"}
        properties = message.brokered_message_properties
        assert properties.time_to_live == timedelta(minutes=5)
        assert properties.scheduled_enqueue_time_utc == datetime(2035, 2, 3, 4, 5, 6, tzinfo=UTC)
        assert (properties.content_type, properties.label, properties.message_id) == ("application/json", "l", "mid-1")
    else:
        message = got.service_bus_topic_message
        assert isinstance(message, m.ServiceBusTopicMessage)
        assert (message.topic_path, message.namespace) == ("t1", "mySBNamespace")
        assert message.transport_type == m.ServiceBusTransportType.AMQP
        assert (message.authentication.sas_key_name, message.authentication.sas_key) == ("TPolicy", None)


@pytest.mark.parametrize("kind", sorted(_actions()))
def test_every_action_type_round_trips_without_its_secrets(client: SchedulerManagementClient, kind: str) -> None:
    collection = _collection(client)
    definition = _job(_actions()[kind], recurrence=_weekly_recurrence())
    definition.properties.action.retry_policy = RETRY
    definition.properties.action.error_action = ERROR_ACTION

    created = _put(client, collection, kind, definition)
    got = client.jobs.get(GROUP, collection, kind, **PLAIN_HTTP)
    listed = list(client.jobs.list(GROUP, collection, **PLAIN_HTTP))
    assert [j.name for j in listed] == [f"{collection}/{kind}"]
    for job in (created, got, listed[0]):
        assert isinstance(job, m.JobDefinition)
        assert _unknown_fields(job) == {}, "every field the app returns is one the SDK's models know"
        _assert_no_secret(job)
        _assert_action(kind, job.properties.action)
        retry = job.properties.action.retry_policy
        assert retry.retry_type == m.RetryType.FIXED
        assert (retry.retry_interval, retry.retry_count) == (timedelta(minutes=2), 3)
        error = job.properties.action.error_action
        assert error.type == m.JobActionType.STORAGE_QUEUE
        assert error.queue_message.queue_name == "failures"
        assert error.queue_message.sas_token is None
        assert error.retry_policy.retry_type == m.RetryType.NONE


def test_a_job_round_trips_with_its_schedule_times_and_status(client: SchedulerManagementClient) -> None:
    collection = _collection(client)
    start = datetime(2034, 6, 1, 8, 0, tzinfo=UTC)
    definition = _job(_http_action(), start_time=start, recurrence=_monthly_recurrence(), state=m.JobState.ENABLED)

    created = _put(client, collection, "monthly", definition)
    got = client.jobs.get(GROUP, collection, "monthly", **PLAIN_HTTP)
    for job in (created, got):
        assert job.id == f"{client.job_collections.get(GROUP, collection, **PLAIN_HTTP).id}/jobs/monthly"
        assert job.type == "Microsoft.Scheduler/jobCollections/jobs"
        assert job.name == f"{collection}/monthly"
        properties = job.properties
        assert properties.start_time == start and properties.start_time.tzinfo is not None
        assert properties.state == m.JobState.ENABLED
        recurrence = properties.recurrence
        assert (recurrence.frequency, recurrence.interval, recurrence.count) == (m.RecurrenceFrequency.MONTH, 2, 10)
        schedule = recurrence.schedule
        assert (schedule.month_days, schedule.hours, schedule.minutes) == ([1, 15], [6], [45])
        assert [(o.day, o.occurrence) for o in schedule.monthly_occurrences] == [
            (m.JobScheduleDay.FRIDAY, -1), (m.JobScheduleDay.MONDAY, 1)
        ]
        status = properties.status
        assert (status.execution_count, status.failure_count, status.faulted_count) == (0, 0, 0)
        assert status.last_execution_time is None
        assert status.next_execution_time.tzinfo is not None
        assert status.next_execution_time > start

    weekly = _put(client, collection, "weekly", _job(_http_action(), start_time=start, recurrence=_weekly_recurrence()))
    recurrence = weekly.properties.recurrence
    assert recurrence.schedule.week_days == [m.DayOfWeek.MONDAY, m.DayOfWeek.FRIDAY]
    assert (recurrence.schedule.hours, recurrence.schedule.minutes) == ([9, 17], [0, 30])
    assert recurrence.end_time == datetime(2040, 6, 30, 23, 0, tzinfo=UTC)
    # 1 June 2034 is a Thursday: the first Monday-or-Friday slot from 08:00 is Friday 2 June at 09:00.
    assert weekly.properties.status.next_execution_time == datetime(2034, 6, 2, 9, 0, tzinfo=UTC)


def test_put_again_replaces_and_patch_disables(client: SchedulerManagementClient) -> None:
    collection = _collection(client)
    hourly = m.JobRecurrence(frequency=m.RecurrenceFrequency.HOUR)
    _put(client, collection, "j", _job(_http_action(), recurrence=hourly))
    replaced = _put(client, collection, "j", _job(_http_action(uri="https://example.invalid/other")))
    assert replaced.properties.action.request.uri == "https://example.invalid/other"
    assert replaced.properties.recurrence is None

    patched = client.jobs.patch(
        GROUP, collection, "j", m.JobDefinition(properties=m.JobProperties(state=m.JobState.DISABLED)), **PLAIN_HTTP
    )
    assert patched.properties.state == m.JobState.DISABLED
    assert patched.properties.action.request.uri == "https://example.invalid/other", "PATCH keeps what it does not name"
    assert client.jobs.get(GROUP, collection, "j", **PLAIN_HTTP).properties.state == m.JobState.DISABLED


def test_list_pages_through_every_job_exactly_once_and_filters_by_state(client: SchedulerManagementClient) -> None:
    collection = _collection(client)
    names = [f"job-{i:02}" for i in range(13)]
    for i, job in enumerate(names):
        state = m.JobState.DISABLED if i % 3 == 0 else m.JobState.ENABLED
        _put(client, collection, job, _job(_http_action(), state=state))

    pages = [list(page) for page in client.jobs.list(GROUP, collection, top=5, **PLAIN_HTTP).by_page()]
    assert [len(page) for page in pages] == [5, 5, 3]
    seen = [j.name for page in pages for j in page]
    assert sorted(seen) == [f"{collection}/{n}" for n in names]
    assert len(set(seen)) == len(names)

    every = [j.name for j in client.jobs.list(GROUP, collection, top=2, **PLAIN_HTTP)]
    assert sorted(every) == sorted(seen)

    disabled = list(client.jobs.list(GROUP, collection, top=2, filter="state eq 'Disabled'", **PLAIN_HTTP))
    assert sorted(j.name for j in disabled) == [f"{collection}/{n}" for i, n in enumerate(names) if i % 3 == 0]
    assert {j.properties.state for j in disabled} == {m.JobState.DISABLED}


def test_run_writes_history_that_lists_and_filters_by_status(client: SchedulerManagementClient, target: Target) -> None:
    collection = _collection(client)
    action = _http_action(uri=f"{target.url}/ok")
    action.retry_policy = m.RetryPolicy(retry_type=m.RetryType.NONE)
    _put(client, collection, "runner", _job(action))

    assert client.jobs.run(GROUP, collection, "runner", **PLAIN_HTTP) is None
    _eventually(lambda: len(list(client.jobs.list_job_history(GROUP, collection, "runner", **PLAIN_HTTP))) == 1,
                "the first run's history")
    _eventually(lambda: target.requests_to("/ok"), "the target to be called")

    broken = _http_action(uri="http://127.0.0.1:9/refused")
    broken.retry_policy = m.RetryPolicy(retry_type=m.RetryType.NONE)
    _put(client, collection, "runner", _job(broken))
    client.jobs.run(GROUP, collection, "runner", **PLAIN_HTTP)
    def two_rows() -> list[m.JobHistoryDefinition] | None:
        # top=1: a page per row, so the iterator follows nextLink to get both
        found = list(client.jobs.list_job_history(GROUP, collection, "runner", top=1, **PLAIN_HTTP))
        return found if len(found) == 2 else None

    rows = _eventually(two_rows, "the second run's history")

    assert all(isinstance(r, m.JobHistoryDefinition) for r in rows)
    assert {r.properties.status for r in rows} == {m.JobExecutionStatus.COMPLETED, m.JobExecutionStatus.FAILED}
    for row in rows:
        assert _unknown_fields(row) == {}
        properties = row.properties
        assert properties.action_name == m.JobHistoryActionName.MAIN_ACTION
        assert properties.start_time.tzinfo is not None and properties.end_time.tzinfo is not None
        assert properties.start_time <= properties.end_time
        assert abs(properties.start_time - datetime.now(UTC)) < timedelta(minutes=5)
        assert properties.retry_count == 0
        assert properties.message
    failed = list(client.jobs.list_job_history(GROUP, collection, "runner", filter="status eq 'Failed'", **PLAIN_HTTP))
    assert [r.properties.status for r in failed] == [m.JobExecutionStatus.FAILED]
    job = client.jobs.get(GROUP, collection, "runner", **PLAIN_HTTP)
    assert job.properties.status.execution_count == 2
    assert job.properties.status.failure_count == 1
    assert job.properties.status.last_execution_time.tzinfo is not None


def test_delete_removes_the_job(client: SchedulerManagementClient) -> None:
    collection = _collection(client)
    _put(client, collection, "gone", _job(_http_action()))
    assert client.jobs.delete(GROUP, collection, "gone", **PLAIN_HTTP) is None
    error = _raises(lambda: client.jobs.get(GROUP, collection, "gone", **PLAIN_HTTP), ResourceNotFoundError)
    assert error.status_code == 404
    assert error.error.code == "ResourceNotFound"
    assert list(client.jobs.list(GROUP, collection, **PLAIN_HTTP)) == []


# -------------------------------------------------------------------------------------------------------- errors


def test_errors_raise_with_the_arm_code_message_and_status(client: SchedulerManagementClient) -> None:
    collection = _collection(client, quota=m.JobCollectionQuota(max_job_count=1))

    missing = _raises(lambda: client.jobs.get(GROUP, collection, "nope", **PLAIN_HTTP), ResourceNotFoundError)
    assert (missing.status_code, missing.error.code) == (404, "ResourceNotFound")
    assert missing.error.message
    for call in (
        lambda: client.jobs.run(GROUP, collection, "nope", **PLAIN_HTTP),
        lambda: client.jobs.patch(GROUP, collection, "nope", _job(_http_action()), **PLAIN_HTTP),
        lambda: list(client.jobs.list_job_history(GROUP, collection, "nope", **PLAIN_HTTP)),
        lambda: list(client.jobs.list(GROUP, unique("missing"), **PLAIN_HTTP)),
    ):
        assert _raises(call, ResourceNotFoundError).status_code == 404

    invalid = m.JobRecurrence(
        frequency=m.RecurrenceFrequency.WEEK, schedule=m.JobRecurrenceSchedule(hours=[25], month_days=[40])
    )
    bad = _raises(lambda: _put(client, collection, "bad", _job(_http_action(), recurrence=invalid)))
    assert (bad.status_code, bad.error.code) == (400, "BadRequest")
    targets = {d.target for d in bad.error.details}
    assert {"properties.recurrence.schedule.hours[0]", "properties.recurrence.schedule.monthDays[0]"} <= targets
    assert _raises(lambda: client.jobs.get(GROUP, collection, "bad", **PLAIN_HTTP)).status_code == 404

    _put(client, collection, "only", _job(_http_action()))
    over = _raises(lambda: _put(client, collection, "second", _job(_http_action())), ResourceExistsError)
    assert (over.status_code, over.error.code) == (409, "ConflictError")
    assert "maxJobCount" in over.error.message

    stale = _raises(lambda: client.jobs.create_or_update(
        GROUP, collection, "only", _job(_http_action()), headers={"If-Match": '"not-the-etag"'}, **PLAIN_HTTP
    ))
    assert stale.status_code == 412
    assert stale.error.code


def test_an_out_of_range_top_is_a_400(client: SchedulerManagementClient) -> None:
    """The SDK turns off its own client-side validation, so `top=101` reaches the service, which refuses it."""
    collection = _collection(client)
    error = _raises(lambda: list(client.jobs.list(GROUP, collection, top=101, **PLAIN_HTTP)))
    assert (error.status_code, error.error.code) == (400, "BadRequest")


# ------------------------------------------------------------------------------- the SDK's own tests, extensions


def test_the_sdk_own_sample_job_round_trips_its_one_day_retry_interval(client: SchedulerManagementClient) -> None:
    """azure-mgmt-scheduler's own test (skipped there: the old service answered "Malformed Job Object") passes a
    `JobProperties` where the job goes; wrapped in a `JobDefinition`, the one-day retry interval comes back."""
    collection = unique("myjobcollection")
    free = m.JobCollectionDefinition(location="westus", properties=m.JobCollectionProperties(sku=m.Sku(name="Free")))
    client.job_collections.create_or_update(GROUP, collection, free, **PLAIN_HTTP)
    assert client.job_collections.get(GROUP, collection, **PLAIN_HTTP).name == collection

    sample = {
        "action": {
            "request": {"uri": "http://example.org", "method": "GET"},
            "type": "HTTP",
            "retry_policy": {"retry_type": "fixed", "retry_interval": timedelta(days=1), "retry_count": 4},
        },
        "recurrence": {"frequency": "hour", "end_time": "2037-09-10T18:50:16.905Z", "interval": 10},
        "state": "Disabled",
    }
    bare = _raises(lambda: _put(client, collection, "myjob", m.JobProperties.from_dict(sample)))
    assert (bare.status_code, bare.error.code) == (400, "BadRequest")
    assert {d.target for d in bare.error.details} == {"action", "recurrence", "state"}
    assert "inside properties" in bare.error.message

    _put(client, collection, "myjob", m.JobDefinition(properties=m.JobProperties.from_dict(sample)))
    job = client.jobs.get(GROUP, collection, "myjob", **PLAIN_HTTP)
    assert job.properties.action.retry_policy.retry_interval == timedelta(days=1)
    assert job.properties.action.type == m.JobActionType.HTTP
    assert job.properties.recurrence.frequency == m.RecurrenceFrequency.HOUR
    assert job.properties.recurrence.end_time == datetime(2037, 9, 10, 18, 50, 16, 905000, tzinfo=UTC)
    assert job.properties.state == m.JobState.DISABLED


CRON_JOB = {
    "properties": {
        "startTime": "2035-01-01T00:00:00Z",
        "action": {"type": "Http", "request": {"uri": "https://example.invalid/hook", "method": "GET"}},
        "recurrence": {"cron": "0 9 * * 1-5", "timeZone": "Europe/Berlin"},
    }
}


@pytest.fixture
def cron_job(client: SchedulerManagementClient, api: SchedulerApi) -> tuple[str, str]:
    """A job using two of this project's extensions (docs/api.md), created over REST as the CLI would."""
    collection = _collection(client)
    path = (
        f"/subscriptions/{client._config.subscription_id}/resourceGroups/{GROUP}"
        f"/providers/Microsoft.Scheduler/jobCollections/{collection}/jobs/weekdays"
    )
    created = api.call("PUT", path, CRON_JOB)
    assert created.status_code == 201, created.text
    return collection, path


def test_extensions_show_as_additional_properties_and_survive_an_sdk_patch(
    client: SchedulerManagementClient, api: SchedulerApi, cron_job: tuple[str, str]
) -> None:
    collection, path = cron_job
    job = client.jobs.get(GROUP, collection, "weekdays", **PLAIN_HTTP)
    assert _unknown_fields(job) == {
        ".properties.recurrence.cron": "0 9 * * 1-5", ".properties.recurrence.timeZone": "Europe/Berlin"
    }
    job.properties.state = m.JobState.DISABLED
    client.jobs.patch(GROUP, collection, "weekdays", job, **PLAIN_HTTP)
    stored = api.call("GET", path).json()["properties"]
    assert stored["recurrence"] == CRON_JOB["properties"]["recurrence"]
    assert stored["state"] == "Disabled"


def test_an_sdk_put_that_drops_the_cron_it_cannot_send_is_refused_not_made_one_time(
    client: SchedulerManagementClient, api: SchedulerApi, cron_job: tuple[str, str]
) -> None:
    """The SDK's models send only the fields they know, so the cron job it read goes back as `"recurrence": {}`.
    Taken as "no recurrence", that made the job a one-time job without a word; it is a 400 naming the field."""
    collection, path = cron_job
    job = client.jobs.get(GROUP, collection, "weekdays", **PLAIN_HTTP)
    error = _raises(lambda: _put(client, collection, "weekdays", job))
    assert (error.status_code, error.error.code) == (400, "BadRequest")
    assert [d.target for d in error.error.details] == ["properties.recurrence.frequency"]
    assert "cron" in error.error.message
    assert api.call("GET", path).json()["properties"]["recurrence"] == CRON_JOB["properties"]["recurrence"]


@pytest.fixture
def sending_additional_properties() -> Iterator[None]:
    """msrest's switch that makes every SDK model send back the fields it read but does not know."""
    models = [c for c in vars(m).values() if isinstance(c, type) and issubclass(c, Model)]
    before = {c: dict(c._attribute_map) for c in models}
    for model in models:
        model.enable_additional_properties_sending()
    try:
        yield
    finally:
        for model, attribute_map in before.items():
            model._attribute_map = attribute_map


@pytest.mark.usefixtures("sending_additional_properties")
def test_with_additional_properties_sending_an_sdk_put_keeps_the_extensions(
    client: SchedulerManagementClient, api: SchedulerApi, cron_job: tuple[str, str]
) -> None:
    collection, path = cron_job
    job = client.jobs.get(GROUP, collection, "weekdays", **PLAIN_HTTP)
    job.properties.action.request.uri = "https://example.invalid/other"
    replaced = _put(client, collection, "weekdays", job)
    assert replaced.properties.action.request.uri == "https://example.invalid/other"
    assert api.call("GET", path).json()["properties"]["recurrence"] == CRON_JOB["properties"]["recurrence"]
