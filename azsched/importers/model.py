"""What every reader produces: jobs as the API's JobDefinition properties, with where each came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ImportedJob:
    """One job read from a file.

    Attributes:
        source: the file and the place in it (`azuredeploy.json resources[0].resources[1]`).
        collection: the job collection (None when the file does not say and --collection was not given).
        name: the job's name.
        properties: the job's `properties` as the API takes them.
        warnings: what was changed or could not be carried over.
        problems: why the job cannot be imported (empty when it can).
        missing_secrets: secret fields the job needs and nobody gave (it is imported Disabled).
        unresolved: ARM expressions that could not be evaluated, as (path in properties, expression, reason); each
            becomes a problem unless --set gives that path a value.
    """

    source: str
    collection: str | None
    name: str
    properties: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    missing_secrets: list[str] = field(default_factory=list)
    unresolved: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.collection}/{self.name}" if self.collection else self.name


@dataclass
class ImportedCollection:
    """A job collection a file defines (an ARM resource or a REST list of collections)."""

    source: str
    name: str
    definition: dict[str, Any]


class ReadError(Exception):
    """A file that cannot be read at all (not JSON, or of no kind the importer knows)."""
