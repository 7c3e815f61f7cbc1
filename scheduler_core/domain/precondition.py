"""Conditional requests: `If-Match` and `If-None-Match: *` (RFC 9110 section 13) against a resource's version.

A resource's version is an opaque string the storage adapter derives (see `ports.StoredJob.version`); the API sends
it quoted as the `ETag` header. The check runs inside the ETag-guarded update of the resource, so a condition that
held when it was checked still holds when the write lands.
"""

from __future__ import annotations

from dataclasses import dataclass

from scheduler_core.domain.errors import PreconditionFailed


@dataclass(frozen=True)
class Precondition:
    """What a write requires of the current resource.

    `if_match`: the versions (unquoted) of which the current one must be one; `("*",)` means "exists"; None means no
    condition. `if_none_match`: versions the current one must not be; `("*",)` means "must not exist" (create only).
    """

    if_match: tuple[str, ...] | None = None
    if_none_match: tuple[str, ...] | None = None

    def check(self, name: str, version: str | None) -> None:
        """Pass when the resource with `version` (None: it does not exist) meets the condition.

        Raises:
            PreconditionFailed: it does not.
        """
        if self.if_none_match is not None and version is not None:
            if "*" in self.if_none_match:
                raise PreconditionFailed(f"'{name}' exists already (If-None-Match: *).")
            if version in self.if_none_match:
                raise PreconditionFailed(f"'{name}' still has an ETag named by If-None-Match.")
        if self.if_match is None:
            return
        if version is None:
            raise PreconditionFailed(f"'{name}' does not exist (If-Match).")
        if "*" not in self.if_match and version not in self.if_match:
            raise PreconditionFailed(f"'{name}' has changed: its ETag no longer matches If-Match.")


NONE = Precondition()
