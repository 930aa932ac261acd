"""The registry as a whole: its counts and schema, and spreadsheets in and out.

The office's upload page and ``gate registry import`` call the same import: the file is
checked here, once, against the limits (present, not empty, not too large, .xlsx or
.csv), then every row by the registry, all applied or none; an accepted import is
audited. Every export is audited, a revealing one (full numbers and phones) as such.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gate.app.actor import Actor
from gate.app.admin_ports import TemplateWriter
from gate.app.ports import UnitOfWorkFactory
from gate.app.registry_values import (
    CompoundName,
    ImportLimits,
    ImportMapping,
    ImportReport,
    RegistryStats,
    SchemaState,
    file_refused,
)
from gate.domain.errors import ActionRefused

FORMATS = (".xlsx", ".csv")


def registry_stats(*, actor: Actor, units: UnitOfWorkFactory) -> RegistryStats:
    """Counts of buildings, units, households, persons and quarantine at the actor's time."""
    with units(actor) as uow:
        return uow.registry.counts()


def registry_schema(*, actor: Actor, units: UnitOfWorkFactory) -> SchemaState:
    """Which database answers and its schema revision (``RegistryUnavailable`` if none)."""
    with units(actor) as uow:
        return uow.registry.schema()


@dataclass(frozen=True)
class ImportRegistry:
    """Import the persons of a CSV or XLSX file: the template's layout, headings we
    recognise, or the office's own ``mapping`` of its columns to ours."""

    path: Path
    compound: CompoundName
    limits: ImportLimits
    mapping: ImportMapping | None = None


def import_registry(
    command: ImportRegistry, *, actor: Actor, units: UnitOfWorkFactory
) -> ImportReport:
    """Apply the whole file or nothing; ``ImportRejected`` lists every problem by row.

    ``ImportNeedsMapping`` (an ``ImportRejected``) when no sheet's headings could be read
    and no mapping was given: it carries what the sheets hold, for a mapping step.
    """
    _check_file(command.path, command.limits)
    with units(actor) as uow:
        report = uow.registry.import_file(
            command.path,
            compound=command.compound,
            limits=command.limits,
            mapping=command.mapping,
        )
        detail: dict[str, object] = {
            "rows": report.rows,
            "created": report.created,
            "updated": report.updated,
        }
        if command.mapping is not None:
            detail["mapped"] = {"sheet": command.mapping.sheet, **command.mapping.columns}
        uow.audit("registry.import", command.path.name, detail)
        if report.created or report.updated:
            uow.registry_changed()
        uow.commit()
    return report


def _check_file(path: Path, limits: ImportLimits) -> None:
    if not path.is_file():
        raise file_refused("not_found", f"文件不存在: {path.name}")
    size = path.stat().st_size
    if size == 0:
        raise file_refused("empty_file", "文件为空 (the file is empty)")
    if size > limits.max_bytes:
        raise file_refused(
            "file_too_large",
            f"文件大小 {size / 1e6:.1f} MB 超过上限 {limits.max_bytes / 1e6:.1f} MB",
            size=size,
            limit=limits.max_bytes,
        )
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise file_refused(
            "unsupported_format", f"只支持 .xlsx 和 .csv 文件，收到 {suffix or '无扩展名'}"
        )


@dataclass(frozen=True)
class AddBuilding:
    """Add building ``label`` with units 1..``units`` (those it has already are kept)."""

    compound: CompoundName
    label: str
    units: int = 1


MAX_UNITS = 99


def add_building(
    command: AddBuilding, *, actor: Actor, units: UnitOfWorkFactory
) -> tuple[str, int]:
    """Add the building to the compound's layout; its key and unit count. Audited."""
    label = command.label.strip()
    if not label:
        raise ActionRefused("required", field="building")
    if not 1 <= command.units <= MAX_UNITS:
        raise ActionRefused("unit_count", limit=MAX_UNITS)
    with units(actor) as uow:
        key, unit_count = uow.registry.add_building(
            compound=command.compound,
            label=label,
            units=[str(number) for number in range(1, command.units + 1)],
        )
        uow.audit("building.add", f"building:{key}", {"units": unit_count})
        uow.commit()
    return key, unit_count


@dataclass(frozen=True)
class ExportRegistry:
    """Write the registry to ``path`` (.xlsx or .csv); ``reveal``: full numbers and phones."""

    path: Path
    reveal: bool = False


def export_registry(command: ExportRegistry, *, actor: Actor, units: UnitOfWorkFactory) -> int:
    """Write the file; return the number of persons in it. Audited."""
    suffix = command.path.suffix.lower()
    if suffix not in FORMATS:
        raise ActionRefused("export_format", suffix=suffix or "-")
    with units(actor) as uow:
        count = uow.registry.export_file(command.path, reveal=command.reveal)
        uow.audit(
            "registry.export.reveal" if command.reveal else "registry.export",
            command.path.name,
            {"persons": count, "revealed": command.reveal},
        )
        uow.commit()
    return count


def write_import_template(path: Path, *, write: TemplateWriter) -> None:
    """The empty .xlsx import template with headings, hints and pick lists (not audited)."""
    if path.suffix.lower() != ".xlsx":
        raise ActionRefused("template_format")
    write(path)
