"""Plain values of the registry as a whole: its counts, its schema, spreadsheets in and out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gate.domain.errors import ImportProblem, ImportRejected


@dataclass(frozen=True)
class ImportLimits:
    """Bounds on what one import file may hold."""

    max_bytes: int
    max_rows: int

    @classmethod
    def of(cls, *, max_file_mb: float, max_rows: int) -> ImportLimits:
        """The limits as the settings state them (``imports.max_file_mb``, ``max_rows``)."""
        return cls(max_bytes=int(max_file_mb * 1_000_000), max_rows=max_rows)


@dataclass(frozen=True)
class CompoundName:
    """The compound an import files persons under (created on first use)."""

    code: str
    name: str


@dataclass
class ImportReport:
    """What an accepted import did."""

    file: str
    rows: int
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    ignored_columns: list[str] = field(default_factory=list)


def file_refused(reason: str, message: str, **params: Any) -> ImportRejected:
    """An import refused for its file as a whole (row 0): too large, unreadable, ..."""
    return ImportRejected([ImportProblem(0, None, reason, message, params)])


@dataclass(frozen=True)
class RegistryStats:
    """Counts the district and the building heads ask for first."""

    buildings: int
    units: int
    households: int
    persons: int
    quarantined_persons: int
    quarantined_households: int


@dataclass(frozen=True)
class SchemaState:
    """Which database answers, and the schema revision it is at (None: never migrated)."""

    database: str
    revision: str | None
