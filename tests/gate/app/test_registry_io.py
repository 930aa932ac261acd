"""The registry-wide use cases, called directly: counts and schema, import, export, reports.

Each import and export writes one audit row; a refused file or window writes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from gate.app.actor import Actor
from gate.app.registry_io import (
    AddBuilding,
    ExportRegistry,
    ImportRegistry,
    add_building,
    export_registry,
    import_registry,
    registry_schema,
    registry_stats,
    write_import_template,
)
from gate.app.registry_values import CompoundName, ImportLimits
from gate.app.report_values import AuditFilter
from gate.app.reports import (
    MAX_REPORT_SPAN,
    export_audit_log,
    export_shift_report,
    shift_containing,
    shift_report,
)
from gate.domain.errors import ActionRefused, ImportRejected
from gate.runtime.bootstrap import Services
from registry.models import AuditEvent, RegistryRevision
from registry.service import add_building as add_building_row
from registry.service import get_or_create_compound
from tests.registry.builders import NOW, person_row, write_xlsx

OFFICE = Actor("office", "test", NOW)
COMPOUND = CompoundName("ruyi", "如意小区")
LIMITS = ImportLimits.of(max_file_mb=1, max_rows=10)


def actions(services: Services) -> list[str]:
    with services.database.session() as session:
        return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


@pytest.fixture
def registry(services: Services) -> Services:
    """A compound with building 1 (one unit) and nobody in it."""
    with services.database.session() as session:
        compound = get_or_create_compound(session, code="ruyi", name="如意小区")
        add_building_row(session, compound=compound, label="1号楼", units=["1"])
    return services


def test_an_import_is_applied_counted_and_audited_once(registry: Services, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "in.xlsx", [person_row()])
    report = import_registry(
        ImportRegistry(path, COMPOUND, LIMITS), actor=OFFICE, units=registry.units
    )
    assert (report.rows, report.created) == (1, 1)
    assert actions(registry) == ["registry.import"]
    stats = registry_stats(actor=OFFICE, units=registry.units)
    assert (stats.buildings, stats.units, stats.persons) == (1, 1, 1)


def revision(services: Services) -> int:
    with services.database.session() as session:
        return int(session.scalar(select(RegistryRevision.revision)) or 0)


def test_an_import_bumps_the_registry_revision_once_and_an_unchanged_one_not_at_all(
    registry: Services, tmp_path: Path
) -> None:
    path = write_xlsx(tmp_path / "in.xlsx", [person_row()])
    before = revision(registry)
    import_registry(ImportRegistry(path, COMPOUND, LIMITS), actor=OFFICE, units=registry.units)
    assert revision(registry) == before + 1  # running gates reload once
    again = import_registry(
        ImportRegistry(path, COMPOUND, LIMITS), actor=OFFICE, units=registry.units
    )
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)
    assert revision(registry) == before + 1


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("big.xlsx", b"x" * 1_000_001, "file_too_large"),
        ("empty.csv", b"", "empty_file"),
        ("persons.txt", b"a,b\n", "unsupported_format"),
    ],
)
def test_a_file_outside_the_limits_is_refused_before_it_is_read(
    registry: Services, tmp_path: Path, name: str, content: bytes, reason: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ImportRejected) as rejected:
        import_registry(ImportRegistry(path, COMPOUND, LIMITS), actor=OFFICE, units=registry.units)
    assert [problem.reason for problem in rejected.value.problems] == [reason]
    assert actions(registry) == []


def test_an_export_is_audited_and_a_wrong_name_refused(registry: Services, tmp_path: Path) -> None:
    count = export_registry(
        ExportRegistry(tmp_path / "out.csv"), actor=OFFICE, units=registry.units
    )
    assert count == 0
    with pytest.raises(ActionRefused) as refused:
        export_registry(
            ExportRegistry(tmp_path / "out.txt", reveal=True), actor=OFFICE, units=registry.units
        )
    assert refused.value.code == "export_format"
    assert actions(registry) == ["registry.export"]


def test_the_template_is_an_xlsx_written_by_the_writer_it_is_given(tmp_path: Path) -> None:
    written: list[Path] = []
    write_import_template(tmp_path / "t.xlsx", write=written.append)
    assert written == [tmp_path / "t.xlsx"]
    with pytest.raises(ActionRefused):
        write_import_template(tmp_path / "t.csv", write=written.append)


def test_the_schema_is_the_one_this_software_ships(services: Services) -> None:
    schema = registry_schema(actor=OFFICE, units=services.units)
    assert schema.revision == services.database.head_revision()
    assert schema.database == services.database.dialect


def test_a_report_export_is_audited_once_after_it_is_written(services: Services) -> None:
    start, end = shift_containing(NOW)
    assert shift_report(start, end, actor=OFFICE, units=services.units).alerts == ()
    assert actions(services) == []
    content = export_shift_report(
        start,
        end,
        file_format="xlsx",
        write=lambda report: f"{len(report.alerts)} alerts",
        actor=OFFICE,
        units=services.units,
    )
    assert content == "0 alerts"
    assert actions(services) == ["report.export"]
    with pytest.raises(ActionRefused) as refused:
        shift_report(end, start, actor=OFFICE, units=services.units)
    assert refused.value.code == "date_order"
    with pytest.raises(ActionRefused) as long:
        shift_report(
            start, start + MAX_REPORT_SPAN + timedelta(hours=1), actor=OFFICE, units=services.units
        )
    assert long.value.code == "report_span"


def test_an_audit_export_is_audited_before_the_events_are_read(services: Services) -> None:
    lines = export_audit_log(AuditFilter(), file_format="csv", actor=OFFICE, units=services.units)
    assert [line.action for line in lines] == ["audit.export"]
    later = datetime.now(UTC)
    with pytest.raises(ActionRefused):
        export_audit_log(
            AuditFilter(start=later, end=later),
            file_format="csv",
            actor=OFFICE,
            units=services.units,
        )
    assert actions(services) == ["audit.export"]


def test_a_building_is_added_once_and_audited_each_time(services: Services) -> None:
    key, unit_count = add_building(
        AddBuilding(COMPOUND, "3号楼", units=4), actor=OFFICE, units=services.units
    )
    assert (key, unit_count) == ("3", 4)
    again = add_building(AddBuilding(COMPOUND, "3", units=5), actor=OFFICE, units=services.units)
    assert again == ("3", 5)  # the existing four are kept, the fifth is added
    stats = registry_stats(actor=OFFICE, units=services.units)
    assert (stats.buildings, stats.units) == (1, 5)
    assert actions(services) == ["building.add", "building.add"]
    for bad, code in (
        (AddBuilding(COMPOUND, "  "), "required"),
        (AddBuilding(COMPOUND, "4", 0), "unit_count"),
    ):
        with pytest.raises(ActionRefused) as refused:
            add_building(bad, actor=OFFICE, units=services.units)
        assert refused.value.code == code
    assert actions(services) == ["building.add", "building.add"]
