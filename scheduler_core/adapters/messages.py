"""The wire layout of execution messages (JSON in the executions queue): the one place that writes and reads it.

Layout `v` 2: `job` [subscription, resourceGroup, collection, job], `due`, `id` (execution id), `action`, `retry`,
`manual`, `at` (when to act), and for a scheduled first attempt `snapshot` (the job as stored, whose own layout the
storage adapter versions: adapters/tables.py SCHEMA_VERSION). Readers accept this and the previous layout
(unversioned reads as 1; 2 differs from 1 only in the snapshot it may carry), so messages still queued across a
deploy execute.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from scheduler_core.domain.job import CollectionRef, JobHistoryActionName, JobRef
from scheduler_core.domain.occurrence import MAIN_ACTION, Occurrence

MESSAGE_VERSION = 2
READABLE_MESSAGES = (1, 2)


def encode(occurrence: Occurrence) -> dict[str, Any]:
    """The message body of `occurrence`, in the current layout."""
    c = occurrence.job.collection
    return {
        "v": MESSAGE_VERSION,
        "job": [c.subscription, c.resource_group, c.name, occurrence.job.name],
        "due": occurrence.due.isoformat(),
        "id": occurrence.execution_id,
        "action": occurrence.action_name.value,
        "retry": occurrence.retry,
        "manual": occurrence.manual,
        "at": occurrence.act_at.isoformat(),
        **({"snapshot": occurrence.snapshot} if occurrence.snapshot else {}),
    }


def decode(message: Mapping[str, Any]) -> Occurrence:
    """The occurrence a message body carries. Raises ValueError (or KeyError, TypeError) for a body that is not an
    execution message of a layout this instance reads."""
    if message.get("v", 1) not in READABLE_MESSAGES:
        raise ValueError(f"execution message layout {message.get('v')!r}; this instance reads {READABLE_MESSAGES}")
    subscription, resource_group, collection, job = message["job"]
    return Occurrence(
        job=JobRef(CollectionRef(subscription, resource_group, collection), job),
        due=datetime.fromisoformat(message["due"]),
        execution_id=message["id"],
        action_name=JobHistoryActionName(message.get("action", MAIN_ACTION.value)),
        retry=int(message.get("retry", 0)),
        manual=bool(message.get("manual", False)),
        not_before=datetime.fromisoformat(message["at"]) if message.get("at") else None,
        snapshot=message.get("snapshot"),
    )


def decode_or_none(message: Mapping[str, Any] | None) -> Occurrence | None:
    """`decode`, or None for a body that is not an execution message this instance reads (the poison queue's)."""
    try:
        return decode(message or {})
    except (KeyError, TypeError, ValueError):
        return None
