"""Import is all or nothing, idempotent, and never stores a document number in the clear."""

from __future__ import annotations

import dataclasses
import zipfile
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from gate.app.actor import Actor
from gate.app.registry_io import ImportRegistry, import_registry
from gate.app.registry_values import CompoundName
from gate.domain.errors import ImportRejected
from gate.domain.people import HealthStatus
from gate.runtime.bootstrap import Services
from registry.models import AuditEvent, Document, Person, StatusRecord
from registry.service import registry_stats, status_of
from tests.registry import zip_bombs
from tests.registry.builders import (
    HEADINGS,
    LIMITS,
    NOW,
    person_row,
    resident_number,
    run_import,
    write_csv,
    write_xlsx,
)
from tests.registry.memory_probe import MiB, peak_since_reset, reset_peak


def rejected(services: Services, path: Path) -> ImportRejected:
    with pytest.raises(ImportRejected) as caught:
        run_import(services, path)
    return caught.value


def count(services: Services, model: type) -> int:
    with services.database.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def household_rows() -> list[dict[str, object]]:
    return [
        person_row(证件号码=resident_number("19800101", "003")),
        person_row(
            姓名="李梅", 性别="女", 证件号码=resident_number("19820202", "004"), 与户主关系="配偶"
        ),
        person_row(房号="502", 单元="2", 姓名="张三", 证件号码=resident_number("19900303", "005")),
    ]


def test_a_clean_file_is_applied_and_reimporting_it_changes_nothing(
    registry: Services, tmp_path: Path
) -> None:
    path = write_xlsx(tmp_path / "persons.xlsx", household_rows())
    first = run_import(registry, path)
    assert (first.created, first.updated, first.unchanged) == (3, 0, 0)
    second = run_import(registry, path)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 3)
    assert count(registry, Person) == 3
    assert count(registry, Document) == 3
    with registry.database.session() as session:
        stats = registry_stats(session, at=NOW)
    assert (stats.households, stats.persons) == (2, 3)


def test_a_changed_row_updates_the_person_matched_on_the_document(
    registry: Services, tmp_path: Path
) -> None:
    rows = household_rows()
    run_import(registry, write_xlsx(tmp_path / "a.xlsx", rows))
    with registry.database.session() as session:
        before = session.scalars(select(Person.id).order_by(Person.id)).all()
    rows[2] = {**rows[2], "房号": "601", "手机号": "13900001111", "姓名": "张叁"}
    report = run_import(registry, write_xlsx(tmp_path / "b.xlsx", rows))
    assert (report.created, report.updated, report.unchanged) == (0, 1, 2)
    with registry.database.session() as session:
        assert session.scalars(select(Person.id).order_by(Person.id)).all() == before
        moved = session.scalars(select(Person).where(Person.name == "张叁")).one()
        assert moved.household is not None
        assert moved.household.room == "601"
        assert moved.phone_last4 == "1111"


def test_no_column_holds_a_plain_document_number_or_phone(
    registry: Services, tmp_path: Path
) -> None:
    number = resident_number("19800101", "003")
    run_import(registry, write_csv(tmp_path / "p.csv", [person_row(证件号码=number)]))
    with registry.database.session() as session:
        document = session.scalars(select(Document)).one()
        assert document.number_last4 == number[-4:]
        assert registry.cipher.decrypt("document", document.number_cipher) == number
        dump = _dump_all_tables(session)
    assert number not in dump
    assert number[:14] not in dump
    assert "13812345678" not in dump


def _dump_all_tables(session: Session) -> str:
    parts: list[str] = []
    for table in ("persons", "documents", "status_records", "audit_events", "households"):
        for row in session.execute(text(f"SELECT * FROM {table}")):  # noqa: S608 - fixed names
            parts.extend(repr(value) for value in row)
    return "\n".join(parts)


def test_a_bad_row_refuses_the_whole_file_and_writes_nothing(
    registry: Services, tmp_path: Path
) -> None:
    bad_number = resident_number()[:-1] + ("0" if resident_number()[-1] != "0" else "1")
    rows = [*household_rows(), person_row(姓名="坏行", 证件号码=bad_number)]
    error = rejected(registry, write_xlsx(tmp_path / "p.xlsx", rows))
    assert [(p.row, p.column, p.reason) for p in error.problems] == [(5, "证件号码", "check_digit")]
    assert bad_number not in str(error) + "".join(p.message for p in error.problems)
    assert count(registry, Person) == 0
    assert count(registry, AuditEvent) == 0


def test_unknown_building_and_unit_are_named(registry: Services, tmp_path: Path) -> None:
    rows = [
        person_row(楼栋="9号楼", 证件号码=resident_number("19800101", "003")),
        person_row(单元="7", 证件号码=resident_number("19800101", "005")),
    ]
    error = rejected(registry, write_csv(tmp_path / "p.csv", rows))
    assert [(p.row, p.column, p.reason) for p in error.problems] == [
        (2, "楼栋", "unknown_building"),
        (3, "单元", "unknown_unit"),
    ]
    assert count(registry, Person) == 0


def test_a_number_twice_in_the_file_names_both_rows(registry: Services, tmp_path: Path) -> None:
    number = resident_number()
    rows = [person_row(证件号码=number), person_row(房号="102", 证件号码=number)]
    error = rejected(registry, write_xlsx(tmp_path / "p.xlsx", rows))
    (problem,) = error.problems
    assert (problem.row, problem.reason, problem.params["first_row"]) == (3, "duplicate_number", 2)
    assert number not in problem.message


@pytest.mark.parametrize(
    ("content", "name", "reason"),
    [
        (b"", "empty.xlsx", "empty_file"),
        (b"PK\x03\x04 this is not really a zip archive", "broken.xlsx", "malformed_file"),
        (b"\x00\x01\x02binary", "binary.csv", "malformed_file"),
        (b"name,age\n", "persons.txt", "unsupported_format"),
        ("楼栋,单元\n1,1\n".encode(), "noheader.csv", "no_header"),
    ],
)
def test_unreadable_files_are_refused_with_a_reason(
    registry: Services, tmp_path: Path, content: bytes, name: str, reason: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    error = rejected(registry, path)
    reasons = [problem.reason for problem in error.problems]
    assert reasons[0] == reason
    assert set(reasons[1:]) <= {"missing_column"}  # no heading row: what it would need
    assert count(registry, Person) == 0


def test_a_heading_only_file_has_no_rows(registry: Services, tmp_path: Path) -> None:
    error = rejected(registry, write_xlsx(tmp_path / "p.xlsx", []))
    assert [problem.reason for problem in error.problems] == ["no_rows"]


def test_a_50_mb_file_is_refused_before_it_is_parsed(registry: Services, tmp_path: Path) -> None:
    path = tmp_path / "huge.csv"
    with path.open("wb") as handle:
        handle.write("楼栋,单元,房号,姓名,证件类型,证件号码\n".encode())
        handle.truncate(50 * 1024 * 1024)
    error = rejected(registry, path)
    (problem,) = error.problems
    assert problem.reason == "file_too_large"
    assert problem.params["size"] == 50 * 1024 * 1024


def test_a_number_typed_as_a_numeric_cell_is_refused(registry: Services, tmp_path: Path) -> None:
    rows = [person_row(证件号码=int(resident_number("19800101", "003")))]
    error = rejected(registry, write_xlsx(tmp_path / "p.xlsx", rows))
    assert [problem.reason for problem in error.problems] == ["numeric_cell"]


def test_sex_that_contradicts_the_number_is_refused(registry: Services, tmp_path: Path) -> None:
    rows = [person_row(性别="女", 证件号码=resident_number("19800101", "003"))]  # 3: male
    error = rejected(registry, write_csv(tmp_path / "p.csv", rows))
    assert [problem.reason for problem in error.problems] == ["sex_mismatch"]


def test_gb18030_csv_from_excel_is_read(registry: Services, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "p.csv", household_rows(), encoding="gb18030")
    assert run_import(registry, path).created == 3


def test_status_columns_record_history_and_a_later_end_date_updates_it(
    registry: Services, tmp_path: Path
) -> None:
    row = person_row(健康状态="居家隔离", 状态开始日期="2026-11-20", 状态结束日期="2026-12-03")
    run_import(registry, write_xlsx(tmp_path / "a.xlsx", [row]))
    with registry.database.session() as session:
        person = session.scalars(select(Person)).one()
        assert status_of(person, NOW) is HealthStatus.HOME_QUARANTINE
        assert registry_stats(session, at=NOW).quarantined_persons == 1
    ended = {**row, "状态结束日期": "2026-11-28"}  # ended early: over on the 29th
    report = run_import(registry, write_xlsx(tmp_path / "b.xlsx", [ended]))
    assert report.updated == 1
    with registry.database.session() as session:
        person = session.scalars(select(Person)).one()
        assert status_of(person, NOW) is HealthStatus.NORMAL
        assert count(registry, StatusRecord) == 1
        assert registry_stats(session, at=NOW).quarantined_persons == 0


def test_a_status_without_start_date_is_refused(registry: Services, tmp_path: Path) -> None:
    error = rejected(registry, write_csv(tmp_path / "p.csv", [person_row(健康状态="集中隔离")]))
    assert [(p.column, p.reason) for p in error.problems] == [("状态开始日期", "missing")]


def test_every_problem_of_a_file_is_reported_in_row_order(
    registry: Services, tmp_path: Path
) -> None:
    rows = [
        person_row(证件号码="12345"),
        person_row(姓名="", 证件号码=resident_number("19800101", "005")),
        person_row(证件类型="驾驶证", 证件号码=resident_number("19800101", "007")),
        person_row(手机号="call me", 证件号码=resident_number("19800101", "009")),
        person_row(健康状态="发烧", 证件号码=resident_number("19800101", "011")),
    ]
    error = rejected(registry, write_csv(tmp_path / "p.csv", rows))
    assert [(p.row, p.column, p.reason) for p in error.problems] == [
        (2, "证件号码", "length"),
        (3, "姓名", "missing"),
        (4, "证件类型", "unknown_value"),
        (5, "手机号", "phone"),
        (6, "健康状态", "unknown_value"),
    ]


def test_birth_dates_in_the_future_are_refused(registry: Services, tmp_path: Path) -> None:
    future = resident_number(date(2027, 1, 1).strftime("%Y%m%d"), "003")
    error = rejected(registry, write_csv(tmp_path / "p.csv", [person_row(证件号码=future)]))
    assert [problem.reason for problem in error.problems] == ["birth_date_future"]


# Hostile archives: refused by what they would inflate to, parsed (if at all) in a worker.
# The margin is what the caller may grow by: the refusal, not the file.
CALLER_MARGIN = 40 * MiB


def refused_in_flat_memory(services: Services, path: Path) -> ImportRejected:
    before = reset_peak()
    error = rejected(services, path)
    grown = peak_since_reset() - before
    assert grown < CALLER_MARGIN, f"the caller grew by {grown / MiB:.0f} MiB"
    return error


@pytest.mark.parametrize(
    ("build", "reason"),
    [
        (zip_bombs.huge_cell, "archive_too_large"),  # 400 MiB of A in one cell, 410 KB
        (zip_bombs.lying_size, "archive_inconsistent"),  # the directory says 4 KB
        (zip_bombs.many_members, "archive_too_many_members"),  # 60,005 parts
        (zip_bombs.many_medium_members, "archive_too_large"),  # 40 x 10 MiB, none read
    ],
)
def test_a_zip_bomb_is_refused_by_its_code_and_the_caller_stays_flat(
    registry: Services, tmp_path: Path, build: Callable[[Path], Path], reason: str
) -> None:
    error = refused_in_flat_memory(registry, build(tmp_path / "bomb.xlsx"))
    assert [problem.reason for problem in error.problems] == [reason]
    assert count(registry, Person) == 0


def test_a_big_part_that_shrank_like_no_sheet_does_is_refused_by_its_ratio(
    registry: Services, tmp_path: Path
) -> None:
    error = refused_in_flat_memory(registry, zip_bombs.huge_cell(tmp_path / "b.xlsx", mib=100))
    ((reason, params),) = [(problem.reason, problem.params) for problem in error.problems]
    assert reason == "archive_ratio"
    assert params["ratio"] > params["limit"] == 200


def test_a_parse_that_outgrows_the_workers_memory_is_refused_not_fatal(
    registry: Services, tmp_path: Path
) -> None:
    path = zip_bombs.huge_cell(tmp_path / "cell.xlsx", mib=100)
    limits = dataclasses.replace(LIMITS, max_ratio=10_000, worker_memory_bytes=64 * MiB)
    before = reset_peak()
    with pytest.raises(ImportRejected) as caught:
        import_registry(
            ImportRegistry(path, CompoundName("ruyi", "如意小区"), limits),
            actor=Actor("tester", "test", NOW),
            units=registry.units,
        )
    assert peak_since_reset() - before < CALLER_MARGIN
    assert [problem.reason for problem in caught.value.problems] == ["import_memory"]
    assert run_import(registry, write_csv(tmp_path / "ok.csv", [person_row()])).created == 1


def test_a_csv_with_a_huge_field_is_refused_and_the_caller_stays_flat(
    registry: Services, tmp_path: Path
) -> None:
    path = tmp_path / "field.csv"
    with path.open("w", encoding="utf-8") as handle:
        handle.write(",".join(HEADINGS) + "\n")
        handle.write("1号楼,1,101," + "A" * 15_000_000 + "\n")
    error = refused_in_flat_memory(registry, path)
    assert [problem.reason for problem in error.problems] == ["malformed_file"]


def test_a_part_that_is_not_xml_is_refused_as_malformed(registry: Services, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "p.xlsx", [person_row()])
    with zipfile.ZipFile(path) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    parts["xl/worksheets/sheet1.xml"] = b"<worksheet><sheetData><row>"
    with zipfile.ZipFile(path, "w") as target:
        for name, data in parts.items():
            target.writestr(name, data)
    error = rejected(registry, path)
    assert [problem.reason for problem in error.problems] == ["malformed_file"]


def test_thousands_of_bad_rows_come_back_as_a_thousand_and_a_count(
    registry: Services, tmp_path: Path
) -> None:
    rows = [person_row(姓名="", 证件号码="12345") for _ in range(1500)]
    error = rejected(registry, write_csv(tmp_path / "bad.csv", rows))
    assert len(error.problems) == 1001
    more = error.problems[0]
    assert (more.row, more.reason, more.params["count"]) == (0, "more_problems", 2000)


FORMULAS = ['=cmd|"/c calc"!A1', '=HYPERLINK("http://x","y")', "+1+1", "@SUM(1)", "=1+1"]


def _name_cell(path: Path, value: str, *, as_text: bool) -> Path:
    workbook = load_workbook(path)
    sheet = workbook.active
    assert sheet is not None
    cell = sheet.cell(row=2, column=HEADINGS.index("姓名") + 1, value=value)
    if as_text:
        cell.data_type = "s"  # typed as text (what Excel keeps for '=... or a text column)
    workbook.save(path)
    return path


@pytest.mark.parametrize("formula", FORMULAS)
def test_text_that_looks_like_a_formula_is_imported_as_that_text(
    registry: Services, tmp_path: Path, formula: str
) -> None:
    path = _name_cell(write_xlsx(tmp_path / "f.xlsx", [person_row()]), formula, as_text=True)
    run_import(registry, path)
    with registry.database.session() as session:
        assert session.scalars(select(Person.name)).one() == formula


@pytest.mark.parametrize("formula", ['=cmd|"/c calc"!A1', "=1+1", '=WEBSERVICE("http://x")'])
def test_a_formula_cell_is_never_evaluated_only_its_saved_value_is_read(
    registry: Services, tmp_path: Path, formula: str
) -> None:
    # openpyxl saves no cached value, as a hostile file would not: the cell reads empty
    # (data_only), so the row is refused for its missing name; nothing computes "2".
    path = _name_cell(write_xlsx(tmp_path / "f.xlsx", [person_row()]), formula, as_text=False)
    error = rejected(registry, path)
    assert [(p.column, p.reason) for p in error.problems] == [("姓名", "missing")]
