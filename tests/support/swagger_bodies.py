"""Request bodies written from the definitions of the published swagger (Microsoft.Scheduler 2016-03-01), which has no
`examples/`: together they use every writable property and every enum value a client may send
(tests/unit/test_swagger_support.py checks that they do)."""

from __future__ import annotations

import copy
from typing import Any

from tests.support.certs import issue, make_ca
from tests.support.wire import FAR_FUTURE

PASSWORD = "pw-swagger-2016"
CERTIFICATE = issue(make_ca(), "Swagger Conformance Client", server=False)
# Setting a job's state to Faulted or Completed is refused (400): reference (e), "if a job has Completed or Faulted
# state, you can't update the state"; those two values of JobState are only ever answered, never sent.
UNSENDABLE = {"JobState": {"Faulted", "Completed"}}


def collection_bodies() -> list[dict[str, Any]]:
    """JobCollectionDefinitions using every writable property and every enum value of the swagger."""
    skus = ["Standard", "Free", "P10Premium", "P20Premium", "Standard"]
    states = ["Enabled", "Disabled", "Suspended", "Deleted", "Enabled"]
    frequencies = ["Minute", "Hour", "Day", "Week", "Month"]
    return [
        {
            "name": "ignored-by-put",
            "location": "West US",
            "tags": {"team": "payments", "env": str(index)},
            "properties": {
                "sku": {"name": sku},
                "state": state,
                "quota": {
                    "maxJobCount": 5, "maxJobOccurrence": 10, "maxRecurrence": {"frequency": freq, "interval": 2}
                },
            },
        }
        for index, (sku, state, freq) in enumerate(zip(skus, states, frequencies, strict=True))
    ]


def _brokered() -> dict[str, Any]:
    return {
        "contentType": "application/json", "correlationId": "corr-1", "forcePersistence": True, "label": "lbl",
        "messageId": "msg-1", "partitionKey": "pk", "replyTo": "reply", "replyToSessionId": "rs",
        "scheduledEnqueueTimeUtc": "2035-01-02T03:04:05Z", "sessionId": "s1", "timeToLive": "PT1H", "to": "to",
        "viaPartitionKey": "vpk",
    }


def _service_bus(kind: str, transport: str, auth_type: str) -> dict[str, Any]:
    message: dict[str, Any] = {
        "authentication": {"sasKey": "sb-key-swagger", "sasKeyName": "RootManageSharedAccessKey", "type": auth_type},
        "brokeredMessageProperties": _brokered(),
        "customMessageProperties": {"appname": "FromScheduler"},
        "message": "Some message",
        "namespace": "mySBNamespace",
        "transportType": transport,
    }
    message["queueName" if kind == "ServiceBusQueue" else "topicPath"] = "q1" if kind == "ServiceBusQueue" else "t1"
    key = "serviceBusQueueMessage" if kind == "ServiceBusQueue" else "serviceBusTopicMessage"
    return {"type": kind, key: message}


def _storage_queue() -> dict[str, Any]:
    return {
        "type": "StorageQueue",
        "queueMessage": {
            "storageAccount": "devstoreaccount1", "queueName": "swagger", "sasToken": "sv=2015&sig=swagger",
            "message": "My message body",
        },
    }


def _http(kind: str, authentication: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": kind,
        "request": {
            "authentication": authentication, "uri": "https://example.invalid/hook", "method": "POST",
            "body": '{"hello": "world"}', "headers": {"Content-Type": "application/json"},
        },
    }


AUTHENTICATIONS: dict[str, dict[str, Any]] = {
    "Basic": {"type": "Basic", "username": "alice", "password": PASSWORD},
    "ClientCertificate": {
        "type": "ClientCertificate", "pfx": CERTIFICATE.pfx(PASSWORD), "password": PASSWORD,
        # Not read-only in the swagger ("Gets or sets"), so a client may send them; the pfx decides them.
        "certificateThumbprint": "88105CG9DF9ADE75B835711D899296CB217D7055",
        "certificateExpirationDate": "2021-01-01T07:00:00Z", "certificateSubjectName": "CN=Scheduler Mgmt",
    },
    "ActiveDirectoryOAuth": {
        "type": "ActiveDirectoryOAuth", "secret": "oauth-secret-swagger", "tenant": "contoso.onmicrosoft.com",
        "audience": "https://management.core.windows.net/", "clientId": "dc23e764-swagger",
    },
    "NotSpecified": {"type": "NotSpecified"},
}

RECURRENCES: list[dict[str, Any]] = [
    {"frequency": "Minute", "interval": 5, "count": 10, "endTime": "2036-01-01T00:00:00Z"},
    {"frequency": "Hour", "interval": 2, "schedule": {"minutes": [0, 30]}},
    {"frequency": "Day", "interval": 1, "schedule": {"hours": [9, 17], "minutes": [15]}},
    {
        "frequency": "Week", "interval": 1,
        "schedule": {
            "weekDays": ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"],
            "hours": [6], "minutes": [0],
        },
    },
    {
        "frequency": "Month", "interval": 1, "endTime": "2037-01-01T00:00:00Z",
        "schedule": {
            "monthDays": [1, 15],
            "monthlyOccurrences": [
                {"day": day, "Occurrence": occurrence}
                for day, occurrence in zip(
                    ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
                    [1, 2, 3, 4, -1, -2, 5],
                    strict=True,
                )
            ],
            "hours": [8], "minutes": [0],
        },
    },
]


def job_bodies() -> list[dict[str, Any]]:
    """JobDefinitions using, together, every writable property and every sendable enum value of the swagger."""
    pairs = [  # (action, errorAction)
        (_http("Http", AUTHENTICATIONS["Basic"]), _http("Https", AUTHENTICATIONS["ClientCertificate"])),
        (_http("Https", AUTHENTICATIONS["ClientCertificate"]), _http("Http", AUTHENTICATIONS["ActiveDirectoryOAuth"])),
        (_http("Http", AUTHENTICATIONS["ActiveDirectoryOAuth"]), _http("Http", AUTHENTICATIONS["NotSpecified"])),
        (_http("Http", AUTHENTICATIONS["NotSpecified"]), _http("Http", AUTHENTICATIONS["Basic"])),
        (_storage_queue(), _service_bus("ServiceBusQueue", "NetMessaging", "SharedAccessKey")),
        (
            _service_bus("ServiceBusQueue", "AMQP", "NotSpecified"),
            _service_bus("ServiceBusTopic", "AMQP", "NotSpecified"),
        ),
        (_service_bus("ServiceBusTopic", "NotSpecified", "SharedAccessKey"), _storage_queue()),
    ]
    retry = [
        {"retryType": "Fixed", "retryInterval": "PT30S", "retryCount": 2},
        {"retryType": "None"},
    ]
    bodies = []
    for index, (action, error_action) in enumerate(pairs):
        action = {**copy.deepcopy(action), "retryPolicy": retry[index % 2]}
        action["errorAction"] = {**copy.deepcopy(error_action), "retryPolicy": retry[(index + 1) % 2]}
        bodies.append(
            {
                "properties": {
                    "startTime": FAR_FUTURE,
                    "action": action,
                    "recurrence": copy.deepcopy(RECURRENCES[index % len(RECURRENCES)]),
                    "state": "Enabled" if index % 2 == 0 else "Disabled",
                }
            }
        )
    return bodies
