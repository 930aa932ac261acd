"""Plain values of the registry as a whole: its counts, its schema, spreadsheets in and out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gate.domain.errors import ImportProblem, ImportRejected

MiB = 1 << 20


@dataclass(frozen=True)
class ImportLimits:
    """Bounds on what one import file may hold, and on the worker that parses it.

    An XLSX is a zip archive: its members may inflate to ``max_unpacked_bytes`` in all
    (a 100,000-row sheet is about 75 MB), there may be ``max_members`` of them, and a
    member past ``ratio_floor_bytes`` may not have shrunk more than ``max_ratio`` times
    (real sheets: about 11). The parse runs in a worker process that may grow by
    ``worker_memory_bytes`` and run for ``worker_seconds``.
    """

    max_bytes: int
    max_rows: int
    max_unpacked_bytes: int = 256 * MiB
    max_members: int = 1000
    max_ratio: int = 200
    ratio_floor_bytes: int = 8 * MiB
    worker_memory_bytes: int = 512 * MiB
    worker_seconds: float = 120.0

    @classmethod
    def of(cls, *, max_file_mb: float, max_rows: int) -> ImportLimits:
        """The limits as the settings state them (``imports.max_file_mb``, ``max_rows``)."""
        return cls(max_bytes=int(max_file_mb * 1_000_000), max_rows=max_rows)


@dataclass(frozen=True)
class ImportMapping:
    """The office's own reading of a sheet: which sheet, where its headings end, and
    which of its columns (by index) holds each of ours (by name)."""

    sheet: str
    header_row: int
    columns: dict[str, int]


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
