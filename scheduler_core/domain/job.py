"""Jobs: identity, state machine and status counters.

The job's definition (action, recurrence, retry policy) is kept as validated wire JSON by the API layer; this module
holds what the scheduler reasons about: who the job is, its lifecycle state, and its status counters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from enum import Enum

from scheduler_core.domain.errors import InvalidInput, StateConflict

# ARM resource names: letters, digits, '-', '_', '.' (and '(' ')' in resource group names, as ARM allows); they become
# Table Storage keys, which forbid / \ # ? and control characters, and '|' is our key separator. `fullmatch`: a name
# ending in a newline is not a name.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
_RESOURCE_GROUP = re.compile(r"[A-Za-z0-9_().-]{1,90}")


def check_name(kind: str, value: str, path: str) -> str:
    """Return `value` if it is a valid resource name (the message does not quote it).

    Raises:
        InvalidInput: the name has characters ARM and Table Storage keys do not allow.
    """
    if kind == "resource group":
        if not _RESOURCE_GROUP.fullmatch(value) or value.endswith("."):
            raise InvalidInput(
                "invalid resource group name: use 1-90 letters, digits, '-', '_', '.', '(' or ')', not ending in '.'",
                path,
            )
        return value
    if not _NAME.fullmatch(value):
        raise InvalidInput(f"invalid {kind} name: use 1-100 letters, digits, '-', '_' or '.', starting with a letter "
                           "or digit", path)
    return value


@dataclass(frozen=True)
class CollectionRef:
    """A job collection, identified like an ARM resource (names are case-insensitive, as in ARM)."""

    subscription: str
    resource_group: str
    name: str

    def __post_init__(self) -> None:
        check_name("subscription", self.subscription, "subscriptionId")
        check_name("resource group", self.resource_group, "resourceGroupName")
        check_name("job collection", self.name, "jobCollectionName")

    @property
    def key(self) -> str:
        """Storage key: stable under the case-insensitivity of ARM names."""
        return f"{self.subscription}|{self.resource_group}|{self.name}".lower()

    @property
    def arm_id(self) -> str:
        return (
            f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}"
            f"/providers/Microsoft.Scheduler/jobCollections/{self.name}"
        )


@dataclass(frozen=True)
class JobRef:
    """A job inside a job collection."""

    collection: CollectionRef
    name: str

    def __post_init__(self) -> None:
        check_name("job", self.name, "jobName")

    @property
    def key(self) -> str:
        return f"{self.collection.key}|{self.name.lower()}"

    @property
    def arm_id(self) -> str:
        return f"{self.collection.arm_id}/jobs/{self.name}"


class JobState(str, Enum):
    ENABLED = "Enabled"
    DISABLED = "Disabled"
    FAULTED = "Faulted"
    COMPLETED = "Completed"


class JobEvent(str, Enum):
    """What can happen to a job's state."""

    ENABLE = "enable"
    DISABLE = "disable"
    COMPLETE = "complete"  # its last occurrence ran (count or endTime reached, or a one-time job succeeded)
    FAULT = "fault"  # its last possible occurrence faulted


# The lifecycle as data. A Completed or Faulted job's state cannot be changed by a user (reference (e), Defaults:
# "if a job has Completed or Faulted state, you can't update the state"); it can only be deleted.
TRANSITIONS: dict[tuple[JobState, JobEvent], JobState] = {
    (JobState.ENABLED, JobEvent.ENABLE): JobState.ENABLED,
    (JobState.ENABLED, JobEvent.DISABLE): JobState.DISABLED,
    (JobState.ENABLED, JobEvent.COMPLETE): JobState.COMPLETED,
    (JobState.ENABLED, JobEvent.FAULT): JobState.FAULTED,
    (JobState.DISABLED, JobEvent.ENABLE): JobState.ENABLED,
    (JobState.DISABLED, JobEvent.DISABLE): JobState.DISABLED,
    # A disabled job can still be run by hand (an on-demand job); its last occurrence may complete or fault it.
    (JobState.DISABLED, JobEvent.COMPLETE): JobState.COMPLETED,
    (JobState.DISABLED, JobEvent.FAULT): JobState.FAULTED,
    (JobState.COMPLETED, JobEvent.COMPLETE): JobState.COMPLETED,
    (JobState.FAULTED, JobEvent.FAULT): JobState.FAULTED,
}


def apply_event(state: JobState, event: JobEvent) -> JobState:
    """The state after `event`.

    Raises:
        StateConflict: the lifecycle does not allow `event` in `state`.
    """
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        raise StateConflict(f"A job in state {state.value} cannot be {event.value}d; it can only be deleted.") from None


@dataclass(frozen=True)
class JobStatus:
    """The read-only counters of a job (wire `status`)."""

    execution_count: int = 0
    failure_count: int = 0
    faulted_count: int = 0
    last_execution_time: datetime | None = None
    next_execution_time: datetime | None = None
    last_result: str | None = None  # Completed | Failed: the outcome of the latest main-action attempt (extension)

    def scheduled(self, next_time: datetime | None) -> JobStatus:
        return replace(self, next_execution_time=next_time)


@dataclass(frozen=True)
class DisabledNote:
    """Who disabled a job, when, and why (an extension: Azure Scheduler kept no reason). Kept while it is disabled."""

    by: str
    at: datetime
    reason: str = ""

    def __str__(self) -> str:
        text = f"disabled by {self.by} at {self.at:%Y-%m-%d %H:%M} UTC"
        return f"{text}: {self.reason}" if self.reason else text
