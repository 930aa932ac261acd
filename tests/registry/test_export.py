"""Export masks personal numbers unless revealed (audited) and neutralises formulas."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from gate.app.actor import Actor
from gate.app.registry_io import ExportRegistry, export_registry
from gate.domain.errors import ImportRejected
from gate.runtime.bootstrap import Services
from registry.exporter import TEMPLATE_NOTE, write_template
from registry.models import AuditEvent
from registry.tabular import COLUMNS
from tests.registry.builders import (
    NOW,
    person_row,
    resident_number,
    run_import,
    write_csv,
    write_xlsx,
)
from tests.registry.test_import import household_rows


def export(services: Services, path: Path, *, reveal: bool) -> int:
    return export_registry(
        ExportRegistry(path, reveal=reveal),
        actor=Actor("tester", "test", NOW),
        units=services.units,
    )


def read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def test_export_masks_numbers_and_phones(registry: Services, tmp_path: Path) -> None:
    rows = household_rows()
    run_import(registry, write_xlsx(tmp_path / "in.xlsx", rows))
    assert export(registry, tmp_path / "out.csv", reveal=False) == 3
    table = read_csv(tmp_path / "out.csv")
    assert table[0] == [column.heading for column in COLUMNS]
    content = (tmp_path / "out.csv").read_text(encoding="utf-8-sig")
    for row in rows:
        assert str(row["证件号码"]) not in content
        assert str(row["证件号码"])[-4:] in content
    assert "13812345678" not in content
    assert "*******5678" in content
    assert registry_audit(registry) == [("registry.export", False)]


def test_revealed_export_round_trips_through_import_and_is_audited(
    registry: Services, tmp_path: Path
) -> None:
    rows = household_rows()
    run_import(registry, write_xlsx(tmp_path / "in.xlsx", rows))
    out = tmp_path / "full.xlsx"
    export(registry, out, reveal=True)
    assert out.stat().st_mode & 0o077 == 0
    workbook = load_workbook(out, read_only=True)
    numbers = {row[6] for row in workbook.worksheets[0].iter_rows(min_row=2, values_only=True)}
    workbook.close()
    assert numbers == {row["证件号码"] for row in rows}
    assert registry_audit(registry) == [("registry.export.reveal", True)]
    report = run_import(registry, out)
    assert (report.created, report.updated, report.unchanged) == (0, 0, 3)


def test_a_masked_export_cannot_be_imported_back(registry: Services, tmp_path: Path) -> None:
    run_import(registry, write_xlsx(tmp_path / "in.xlsx", household_rows()))
    out = tmp_path / "masked.csv"
    export(registry, out, reveal=False)
    with pytest.raises(ImportRejected) as caught:
        run_import(registry, out)
    assert {problem.reason for problem in caught.value.problems} == {"masked"}


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_formula_like_text_is_neutralised(registry: Services, tmp_path: Path, suffix: str) -> None:
    hostile = '=HYPERLINK("http://evil","x")'
    row = person_row(姓名=hostile, 证件号码=resident_number("19800101", "003"))
    # CSV input: openpyxl would store a leading "=" in an XLSX as a real formula.
    run_import(registry, write_csv(tmp_path / "in.csv", [row]))
    out = tmp_path / f"out{suffix}"
    export(registry, out, reveal=True)
    if suffix == ".csv":
        name = read_csv(out)[1][3]
    else:
        sheet = load_workbook(out).worksheets[0]
        name = sheet.cell(row=2, column=4).value
        assert sheet.cell(row=2, column=4).data_type == "s"
    assert name == "'" + hostile
    # The importer strips the quote again, so the round trip keeps the name.
    assert run_import(registry, out).unchanged == 1


def test_template_has_a_comment_row_headings_and_imports_as_empty(
    registry: Services, tmp_path: Path
) -> None:
    path = tmp_path / "template.xlsx"
    write_template(path)
    sheet = load_workbook(path).worksheets[0]
    assert sheet.cell(row=1, column=1).value == TEMPLATE_NOTE
    assert [cell.value for cell in sheet[2]] == [column.heading for column in COLUMNS]
    with pytest.raises(ImportRejected) as caught:
        run_import(registry, path)
    assert [problem.reason for problem in caught.value.problems] == ["no_rows"]


def registry_audit(services: Services) -> list[tuple[str, bool]]:
    with services.database.session() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.action.like("%export%")))
        return [(event.action, bool(event.detail["revealed"])) for event in events]
