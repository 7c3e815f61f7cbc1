"""One error hierarchy for the scheduler.

Each error also inherits the builtin a caller would catch (`ValueError`, `LookupError`) and carries its data as
attributes. The HTTP layer maps them to the ARM error envelope: `InvalidInput` -> 400 BadRequest,
`NotFound` -> 404 ResourceNotFound, `Conflict` -> 409 ConflictError, `Misconfigured` -> 500 InternalError with
its message.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class SchedulerError(Exception):
    """Base of every error the scheduler raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One offending field: its JSON path (`properties.recurrence.interval`) and what is wrong with it."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class InvalidInput(SchedulerError, ValueError):
    """The input is malformed; `problems` names each offending field by its JSON path."""

    def __init__(self, problems: Sequence[Problem] | str, path: str = "") -> None:
        if isinstance(problems, str):
            problems = [Problem(path, problems)]
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__("; ".join(str(p) for p in self.problems))


class PayloadTooLarge(InvalidInput):
    """A request body larger than the API accepts (413 RequestEntityTooLarge)."""


class ScheduleNeverFires(InvalidInput):
    """A recurrence that has no occurrence within the search bound (for example day 31 of every February)."""


class NotFound(SchedulerError, LookupError):
    """A resource that does not exist. `kind` is the resource type, `name` its name."""

    def __init__(self, kind: str, name: str) -> None:
        self.kind = kind
        self.name = name
        super().__init__(f"The {kind} '{name}' could not be found.")


class JobCollectionNotFound(NotFound):
    def __init__(self, name: str) -> None:
        super().__init__("job collection", name)


class JobNotFound(NotFound):
    def __init__(self, name: str) -> None:
        super().__init__("job", name)


class Conflict(SchedulerError):
    """The request conflicts with the stored state (409 ConflictError)."""


class QuotaExceeded(Conflict):
    """A job collection quota would be exceeded. `quota` names it (`maxJobCount`, `maxRecurrence`)."""

    def __init__(self, quota: str, message: str) -> None:
        self.quota = quota
        super().__init__(message)


class StateConflict(Conflict):
    """A state change that the job lifecycle does not allow (for example enabling a `Completed` job)."""


class ConcurrencyConflict(Conflict):
    """A conditional write lost a race (stale ETag, or the row already exists)."""


class StorageUnavailable(SchedulerError, ConnectionError):
    """Storage could not be reached (503 ServiceUnavailable with Retry-After: ARM clients retry it)."""


class Misconfigured(SchedulerError):
    """The deployment's settings do not allow the operation (for example no key to encrypt secrets with).

    The message names the setting to fix and never carries a value (500 InternalError)."""
