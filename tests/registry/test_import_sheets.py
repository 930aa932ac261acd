"""The office's own spreadsheets: other headings, title rows, merged headings, several
sheets, numbers Excel mangled, full-width digits; and the office's mapping of its columns."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from sqlalchemy import func, select

from gate.app.actor import Actor
from gate.app.registry_io import ImportRegistry, import_registry
from gate.app.registry_values import CompoundName, ImportMapping, ImportReport
from gate.domain.documents import DocumentType
from gate.domain.errors import ImportNeedsMapping, ImportRejected
from gate.runtime.bootstrap import Services
from registry.headings import ALIASES, HEADING_OF, heading_key, meaning
from registry.models import AuditEvent, Document, Person
from tests.registry import office_sheets as sheets
from tests.registry.builders import LIMITS, NOW, run_import


def rejected(
    services: Services, path: Path, mapping: ImportMapping | None = None
) -> ImportRejected:
    with pytest.raises(ImportRejected) as caught:
        mapped_import(services, path, mapping)
    return caught.value


def mapped_import(services: Services, path: Path, mapping: ImportMapping | None) -> ImportReport:
    return import_registry(
        ImportRegistry(path, CompoundName("ruyi", "如意小区"), LIMITS, mapping),
        actor=Actor("tester", "test", NOW),
        units=services.units,
    )


def persons(services: Services) -> dict[str, tuple[DocumentType, str, str | None]]:
    """Name -> (document type, number, phone's last four) of everyone imported."""
    with services.database.session() as session:
        found = {}
        for document in session.scalars(select(Document)):
            person = document.person
            number = services.cipher.decrypt("document", document.number_cipher)
            found[person.name] = (document.doc_type, number, person.phone_last4)
        return found


def person_count(services: Services) -> int:
    with services.database.session() as session:
        return session.scalar(select(func.count()).select_from(Person)) or 0


# Every spelling of every column is understood, whatever its full width or decoration.
@pytest.mark.parametrize(
    ("name", "heading"),
    [(name, heading) for name, spellings in ALIASES.items() for heading in spellings],
)
def test_every_heading_variant_names_its_column(name: str, heading: str) -> None:
    assert meaning(heading) is not None
    assert meaning(heading)[0] == name  # type: ignore[index]
    assert meaning(f" {heading}（必填）")[0] == name  # type: ignore[index]
    assert meaning(f"*{heading}:")[0] == name  # type: ignore[index]


def test_a_heading_is_folded_before_it_is_read() -> None:
    assert heading_key("身份证号码\u3000") == "身份证号码"
    assert heading_key("联系电话(手机)") == "联系电话"
    assert meaning("门 牌 号") == ("room", ALIASES["room"].index("门牌号"))
    assert meaning("序号") is None
    assert HEADING_OF["doc_number"] == "证件号码"


def test_the_new_offices_sheet_of_issue_14_is_imported(registry: Services, tmp_path: Path) -> None:
    report = run_import(registry, sheets.new_office(tmp_path))
    assert (report.rows, report.created) == (3, 3)
    assert report.ignored_columns == []
    assert persons(registry) == {
        "王小明": (DocumentType.RESIDENT_ID, sheets.WANG, "5678"),
        "李梅": (DocumentType.RESIDENT_ID, sheets.LI, "1111"),
        "张三": (DocumentType.RESIDENT_ID, sheets.ZHANG, "2222"),
    }


@pytest.mark.parametrize(
    "headings",
    [
        ("楼栋号", "单元", "房间号", "姓名", "性别", "身份证号码", "手机"),
        ("栋", "单元", "室", "姓名", "性别", "公民身份号码", "手机号"),
        ("楼栋", "单元号", "房号", "居民姓名", "性别", "证件号码", "电话"),
        ("幢号", "单元", "门牌号", "住户姓名", "性别", "身份证", "联系方式"),
    ],
)
def test_sheets_under_other_common_headings_are_imported(
    registry: Services, tmp_path: Path, headings: tuple[str, ...]
) -> None:
    report = run_import(registry, sheets.variant_headings(tmp_path, headings))
    assert report.created == 3
    assert persons(registry)["李梅"] == (DocumentType.RESIDENT_ID, sheets.LI, "1111")


def test_the_canonical_heading_wins_over_a_weaker_one(registry: Services, tmp_path: Path) -> None:
    headings = ("楼号", "单元号", "门牌号", "户主姓名", "性别", "身份证号", "联系电话", "姓名")
    path = sheets.variant_headings(tmp_path, headings)
    # 姓名 (empty here) is the name column; 户主姓名 is then a column we do not read.
    error = rejected(registry, path)
    assert {(p.row, p.column, p.reason) for p in error.problems} == {
        (row, "姓名", "missing") for row in (2, 3, 4)
    }


def test_a_title_row_and_merged_two_row_headings_are_read(
    registry: Services, tmp_path: Path
) -> None:
    report = run_import(registry, sheets.titled_and_merged(tmp_path))
    assert (report.rows, report.created) == (3, 3)
    assert report.ignored_columns == ["序号"]
    assert persons(registry)["张三"] == (DocumentType.RESIDENT_ID, sheets.ZHANG, "2222")


def test_of_several_sheets_the_one_with_the_headings_is_imported(
    registry: Services, tmp_path: Path
) -> None:
    report = run_import(registry, sheets.several_sheets(tmp_path))
    assert (report.rows, report.created) == (3, 3)


def test_two_sheets_with_headings_are_a_question_not_a_guess(
    registry: Services, tmp_path: Path
) -> None:
    path = sheets.several_sheets(tmp_path, headings_on_two=True)
    error = rejected(registry, path)
    assert isinstance(error, ImportNeedsMapping)
    assert [p.reason for p in error.problems] == ["several_sheets"]
    assert [(s.name, s.complete) for s in error.sheets] == [
        ("说明", False),
        ("住户", True),
        ("住户2", True),
        ("统计", False),
    ]
    assert person_count(registry) == 0
    mapping = ImportMapping("住户2", 1, dict(error.sheets[2].columns))
    assert mapped_import(registry, path, mapping).created == 1


def test_an_id_excel_turned_into_a_number_is_refused_by_row_never_guessed(
    registry: Services, tmp_path: Path
) -> None:
    # Row 3 holds 1.5010219820202e+17 (Excel's 15 digits), row 4 the exact integer:
    # both are number cells, so neither can be trusted to be the person on the card.
    error = rejected(registry, sheets.excel_numbers(tmp_path))
    assert [(p.row, p.column, p.reason) for p in error.problems] == [
        (3, "证件号码", "numeric_cell"),
        (4, "证件号码", "numeric_cell"),
    ]
    assert "后几位已丢失" in error.problems[0].message
    assert sheets.ZHANG not in "".join(p.message for p in error.problems)
    assert person_count(registry) == 0


def test_an_id_saved_in_scientific_notation_is_refused_by_row(
    registry: Services, tmp_path: Path
) -> None:
    error = rejected(registry, sheets.excel_csv(tmp_path))
    assert [(p.row, p.column, p.reason) for p in error.problems] == [(3, "证件号码", "scientific")]
    assert person_count(registry) == 0


def test_a_rounded_number_that_passes_its_check_digit_by_chance_is_refused_too(
    registry: Services, tmp_path: Path
) -> None:
    # Text again in a CSV: 李梅's 000-ending number fails its check digit; 赵六's passes
    # (1 time in 11), but the column was rounded, so it is no more his than hers.
    error = rejected(registry, sheets.excel_rounded_csv(tmp_path))
    assert sorted((p.row, p.column, p.reason) for p in error.problems) == [
        (3, "证件号码", "lost_digits"),
        (4, "证件号码", "lost_digits"),
    ]
    assert person_count(registry) == 0


def test_full_width_digits_and_stray_spaces_are_folded(registry: Services, tmp_path: Path) -> None:
    report = run_import(registry, sheets.full_width_and_spaces(tmp_path))
    assert report.created == 2
    assert persons(registry) == {
        "王小明": (DocumentType.RESIDENT_ID, sheets.WANG, "5678"),
        "陈静": (DocumentType.RESIDENT_ID, sheets.CHEN, "1111"),
    }
    with registry.database.session() as session:
        rooms = {p.household.room for p in session.scalars(select(Person)) if p.household}
    assert rooms == {"101", "102"}


def test_unknown_headings_ask_for_a_mapping_with_guesses_and_a_masked_preview(
    registry: Services, tmp_path: Path
) -> None:
    path = sheets.unknown_headings(tmp_path)
    error = rejected(registry, path)
    assert isinstance(error, ImportNeedsMapping)
    assert [p.reason for p in error.problems] == [
        "no_header",
        "missing_column",
        "missing_column",
        "missing_column",
    ]
    (sheet,) = error.sheets
    assert (sheet.name, sheet.header_row, sheet.complete) == ("住户信息", 1, False)
    assert sheet.headings == sheets.UNKNOWN_HEADINGS
    assert dict(sheet.columns) == {"building": 0, "unit": 1, "sex": 4, "phone": 6}
    assert len(sheet.preview) == 3
    assert sheet.preview[0][5] == "**************" + sheets.WANG[-4:]
    assert sheet.preview[0][6] == "138****5678"
    assert [c.name for c in error.ours if c.required] == [
        "building",
        "unit",
        "room",
        "name",
        "doc_number",
    ]
    assert person_count(registry) == 0

    columns = {**sheet.columns, "room": 2, "name": 3, "doc_number": 5}
    report = mapped_import(registry, path, ImportMapping("住户信息", 1, columns))
    assert report.created == 3
    assert persons(registry)["张三"] == (DocumentType.RESIDENT_ID, sheets.ZHANG, "2222")
    with registry.database.session() as session:
        audit = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "registry.import")
        ).one()
    assert audit.detail["mapped"] == {"sheet": "住户信息", **columns}


def test_a_mapping_without_a_required_column_or_with_one_column_twice_is_refused(
    registry: Services, tmp_path: Path
) -> None:
    path = sheets.unknown_headings(tmp_path)
    partial = {"building": 0, "unit": 1, "room": 2, "doc_number": 5}
    error = rejected(registry, path, ImportMapping("住户信息", 1, partial))
    assert [(p.column, p.reason) for p in error.problems] == [("姓名", "missing_column")]
    twice = {**partial, "name": 3, "note": 3}
    error = rejected(registry, path, ImportMapping("住户信息", 1, twice))
    assert [(p.column, p.reason) for p in error.problems] == [("备注", "column_twice")]
    error = rejected(registry, path, dataclasses.replace(ImportMapping("无此表", 1, twice)))
    assert [p.reason for p in error.problems] == ["unknown_sheet"]
    assert person_count(registry) == 0


def test_a_number_that_is_no_id_card_needs_its_document_type(
    registry: Services, tmp_path: Path
) -> None:
    headings = ("楼号", "单元号", "门牌号", "姓名", "性别", "证件号码", "电话")
    path = sheets.variant_headings(tmp_path, headings)
    from openpyxl import load_workbook

    workbook = load_workbook(path)
    workbook.active.cell(row=3, column=6, value="E12345678")  # a passport number
    workbook.save(path)
    error = rejected(registry, path)
    assert [(p.row, p.column, p.reason) for p in error.problems] == [
        (3, "证件类型", "doc_type_needed")
    ]
