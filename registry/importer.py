"""Import persons from a property office's CSV or XLSX file: all or nothing.

Every row is parsed and checked first (document numbers, labels, duplicates within the
file, buildings and units that exist); only if the whole file is clean is it applied, in
one transaction. Otherwise ``ImportRejected`` lists every problem by row and column and
nothing is written. Re-importing the same file changes nothing.
"""

from __future__ import annotations

import csv
import io
import logging
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from gate.app.registry_values import (
    CompoundName,
    ImportLimits,
    ImportMapping,
    ImportReport,
    file_refused,
)
from gate.domain.documents import mask
from gate.domain.errors import (
    ImportNeedsMapping,
    ImportProblem,
    ImportRejected,
    OurColumn,
    SheetHeadings,
)
from gate.domain.status import local_date
from registry.crypto import PersonalDataCipher
from registry.headings import (
    HEADER_SCAN_ROWS,
    HeaderGuess,
    check_mapping,
    find_header,
    preview_text,
)
from registry.import_worker import parse_in_worker
from registry.records import PersonRecord
from registry.service import Change, RegistryWriter, get_or_create_compound
from registry.tabular import (
    COLUMNS,
    LOST_DIGIT_REASONS,
    LOST_DIGITS_MESSAGE,
    cell_text,
    looks_rounded,
    parse_row,
)

logger = logging.getLogger(__name__)

PREVIEW_ROWS = 5
MAX_PROBLEMS = 1000  # the page lists 500; beyond this only their number comes back


class Table:
    """An opened import file: its sheets and their rows. A CSV is one sheet named ""."""

    def __init__(self, workbook: Any = None, content: str = "") -> None:
        self._workbook, self._content = workbook, content

    def names(self) -> list[str]:
        """The sheets in order."""
        return list(self._workbook.sheetnames) if self._workbook is not None else [""]

    def rows(
        self, sheet: str = "", *, max_row: int | None = None
    ) -> Iterator[tuple[int, list[Any]]]:
        """Yield (row number, cells) of a sheet (the first if unnamed); ``ImportRejected``
        if it cannot be read."""
        if self._workbook is None:
            return self._csv_rows(max_row)
        return self._xlsx_rows(sheet, max_row)

    def _xlsx_rows(self, sheet: str, max_row: int | None) -> Iterator[tuple[int, list[Any]]]:
        workbook = self._workbook
        if sheet and sheet not in workbook.sheetnames:
            raise file_refused("unknown_sheet", f"没有名为「{sheet[:40]}」的工作表", sheet=sheet)
        chosen = workbook[sheet] if sheet else workbook.worksheets[0]
        try:
            rows = chosen.iter_rows(values_only=True, max_row=max_row)
            for number, row in enumerate(rows, start=1):
                yield number, list(row)
        except (zipfile.BadZipFile, KeyError, OSError, ValueError, SyntaxError) as exc:
            raise file_refused(
                "malformed_file", f"XLSX 文件已损坏 ({type(exc).__name__})"
            ) from None

    def _csv_rows(self, max_row: int | None) -> Iterator[tuple[int, list[Any]]]:
        reader = csv.reader(io.StringIO(self._content, newline=""))
        try:
            for number, row in enumerate(reader, start=1):
                if max_row is not None and number > max_row:
                    return
                yield number, list(row)
        except csv.Error as exc:
            raise file_refused("malformed_file", f"CSV 格式错误: {exc}") from None


@contextmanager
def open_table(path: Path) -> Iterator[Table]:
    """Open a CSV or XLSX the import use case has checked, once for every pass over it.

    ``ImportRejected`` if it cannot be read. (openpyxl reads every sheet's extent when it
    loads a workbook, a pass over the whole sheet: loading it once matters.)
    """
    if path.suffix.lower() == ".xlsx":
        with _workbook(path) as workbook:
            yield Table(workbook=workbook)
    else:
        yield Table(content=_csv_content(path))


@contextmanager
def _workbook(path: Path) -> Iterator[Any]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (
        zipfile.BadZipFile,
        InvalidFileException,
        KeyError,
        OSError,
        ValueError,
        SyntaxError,  # xml.etree's ParseError: a part that is not XML
    ) as exc:
        raise file_refused(
            "malformed_file", f"不是有效的 XLSX 文件 ({type(exc).__name__})"
        ) from None
    try:
        yield workbook
    finally:
        workbook.close()


def _csv_content(path: Path) -> str:
    raw = path.read_bytes()
    # Excel in China saves CSV as GB18030/GBK unless told otherwise; UTF-8 (with BOM) first.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            content = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise file_refused("encoding", "无法识别的文本编码，请另存为 UTF-8 CSV")
    if "\x00" in content:
        raise file_refused("malformed_file", "不是有效的 CSV 文件 (binary content)")
    return content


def _skipped(texts: list[str]) -> bool:
    return not any(texts) or texts[0].startswith("#")


def inspect_sheet(table: Table, sheet: str) -> tuple[HeaderGuess | None, SheetHeadings]:
    """The heading guess of one sheet and how the mapping step shows it."""
    scanned = [
        (number, [cell_text(cell) for cell in cells])
        for number, cells in table.rows(sheet, max_row=HEADER_SCAN_ROWS + PREVIEW_ROWS)
    ]
    rows = [(number, texts) for number, texts in scanned if not _skipped(texts)]
    guess = find_header([row for row in rows if row[0] <= HEADER_SCAN_ROWS])
    if guess is None:
        return None, SheetHeadings(sheet, 0, (), {}, False, ())
    preview = tuple(
        tuple(preview_text(text) for text in texts)
        for number, texts in rows
        if number > guess.last_row
    )[:PREVIEW_ROWS]
    shown = SheetHeadings(
        sheet, guess.last_row, guess.headings, dict(guess.columns), guess.complete, preview
    )
    return guess, shown


OUR_COLUMNS = tuple(OurColumn(c.name, c.heading, c.required) for c in COLUMNS)


def _choose_sheet(table: Table) -> tuple[str, int, tuple[str, ...], dict[str, int]]:
    """The one sheet whose headings name every required column, or ``ImportNeedsMapping``."""
    inspected = [inspect_sheet(table, name) for name in table.names()]
    complete = [(guess, shown) for guess, shown in inspected if guess and guess.complete]
    if len(complete) == 1:
        ((guess, shown),) = complete
        return shown.name, guess.last_row, guess.headings, dict(guess.columns)
    sheets = [shown for _guess, shown in inspected]
    if complete:
        names = "、".join(shown.name for _guess, shown in complete)
        problems = [
            ImportProblem(
                0,
                None,
                "several_sheets",
                f"多个工作表都有表头（{names}），请选择要导入的一个",
                {"sheets": names},
            )
        ]
        chosen = complete[0][1].name
    else:
        guesses = [(guess, shown) for guess, shown in inspected if guess is not None]
        if not guesses:
            raise ImportRejected([ImportProblem(0, None, "no_rows", "文件中没有数据行")])
        best, shown = max(guesses, key=lambda pair: pair[0].found)
        chosen = shown.name
        problems = [
            ImportProblem(
                0, None, "no_header", "找不到表头行（须含“证件号码”等列）；请对应各列或使用模板"
            ),
            *best.problems,
        ]
    raise ImportNeedsMapping(problems, sheets=sheets, ours=OUR_COLUMNS, chosen=chosen)


def parse_file(
    path: Path, *, max_rows: int, today: Any, mapping: ImportMapping | None = None
) -> tuple[list[tuple[int, PersonRecord]], list[str], list[ImportProblem]]:
    """Parse every row: records with their row numbers, ignored headings, problems.

    Without ``mapping`` the headings are found (``registry.headings``); if they cannot be,
    ``ImportNeedsMapping`` says what was seen so that the office can map the columns.
    """
    with open_table(path) as table:
        return _parse_table(table, max_rows=max_rows, today=today, mapping=mapping)


def _parse_table(
    table: Table, *, max_rows: int, today: Any, mapping: ImportMapping | None
) -> tuple[list[tuple[int, PersonRecord]], list[str], list[ImportProblem]]:
    if mapping is None:
        sheet, header_row, headings, columns = _choose_sheet(table)
    else:
        sheet, header_row, columns = mapping.sheet, mapping.header_row, dict(mapping.columns)
        headings = ()
    records: list[tuple[int, PersonRecord]] = []
    problems: list[ImportProblem] = []
    data_rows = 0
    for number, cells in table.rows(sheet):
        if number <= header_row:
            if number == header_row and mapping is not None:
                headings = tuple(cell_text(cell) for cell in cells)
                mapping_problems = check_mapping(number, headings, columns)
                if mapping_problems:
                    return [], [], mapping_problems
            continue
        if _skipped([cell_text(cell) for cell in cells]):
            continue
        data_rows += 1
        if data_rows > max_rows:
            return (
                [],
                [],
                [ImportProblem(0, None, "too_many_rows", f"超过 {max_rows} 行的上限")],
            )
        values = {
            name: cells[index] if index < len(cells) else None for name, index in columns.items()
        }
        parsed = parse_row(number, values, today=today)
        if isinstance(parsed, PersonRecord):
            records.append((number, parsed))
        else:
            problems.extend(parsed)
    problems.extend(_rounded_alike(records, problems))
    used = set(columns.values())
    ignored = [heading for index, heading in enumerate(headings) if heading and index not in used]
    if mapping is not None and not headings:
        return [], [], [ImportProblem(header_row, None, "bad_mapping", "列的对应关系无效")]
    if data_rows == 0:
        return [], ignored, [ImportProblem(0, None, "no_rows", "文件中没有数据行")]
    if len(problems) > MAX_PROBLEMS:
        more = len(problems) - MAX_PROBLEMS
        problems = [
            *problems[:MAX_PROBLEMS],
            ImportProblem(0, None, "more_problems", f"另有 {more} 个问题未列出", {"count": more}),
        ]
    return records, ignored, problems


def _rounded_alike(
    records: list[tuple[int, PersonRecord]], problems: list[ImportProblem]
) -> list[ImportProblem]:
    """Once Excel has rounded some numbers of the column, a 000-ending one that happens to
    pass the check digit (1 in 11) is as lost as the others: refused, never a wrong person."""
    if not any(problem.reason in LOST_DIGIT_REASONS for problem in problems):
        return []
    return [
        ImportProblem(number, "证件号码", "lost_digits", LOST_DIGITS_MESSAGE)
        for number, record in records
        if looks_rounded(record.doc_number)
    ]


def import_file(
    session: Session,
    *,
    path: Path,
    cipher: PersonalDataCipher,
    compound: CompoundName,
    limits: ImportLimits,
    now: datetime,
    recorded_by: str,
    mapping: ImportMapping | None = None,
) -> ImportReport:
    """Validate the whole file, then apply it in the caller's transaction, or raise.

    The file is parsed in a worker process under ``limits`` (``registry.import_worker``);
    its size and format are checked, and the import audited, by the use case
    (``gate.app.registry_io``), which also tells running gates when rows changed.
    """
    records, ignored, problems = parse_in_worker(
        path, limits=limits, today=local_date(now), mapping=mapping
    )
    compound_row = get_or_create_compound(session, code=compound.code, name=compound.name)
    writer = RegistryWriter(
        session,
        cipher=cipher,
        compound=compound_row,
        now=now,
        recorded_by=recorded_by,
        announce=False,  # the use case says registry_changed() when rows changed
    )
    problems.extend(_check_against_registry(records, writer, cipher))
    if problems:
        problems.sort(key=lambda problem: problem.row)
        raise ImportRejected(problems)
    report = ImportReport(file=path.name, rows=len(records), ignored_columns=ignored)
    writer.prefetch([record for _number, record in records])
    for _number, record in records:
        change = writer.apply(record)
        if change is Change.CREATED:
            report.created += 1
        elif change is Change.UPDATED:
            report.updated += 1
        else:
            report.unchanged += 1
    writer.flush()
    logger.info(
        "imported %s: %d rows, %d created, %d updated",
        path.name,
        report.rows,
        report.created,
        report.updated,
    )
    return report


def _check_against_registry(
    records: list[tuple[int, PersonRecord]], writer: RegistryWriter, cipher: PersonalDataCipher
) -> list[ImportProblem]:
    problems: list[ImportProblem] = []
    first_row_of: dict[str, int] = {}
    for number, record in records:
        key = cipher.lookup_hash(record.doc_type.value, record.doc_number)
        if key in first_row_of:
            problems.append(
                ImportProblem(
                    number,
                    "证件号码",
                    "duplicate_number",
                    f"证件号码 {mask(record.doc_number)} 与第 {first_row_of[key]} 行重复",
                    {"first_row": first_row_of[key]},
                )
            )
        else:
            first_row_of[key] = number
        assert record.building is not None
        assert record.unit is not None
        if not writer.has_building(record.building):
            problems.append(
                ImportProblem(
                    number,
                    "楼栋",
                    "unknown_building",
                    f"楼栋「{record.building}」不存在",
                    {"building": record.building},
                )
            )
        elif not writer.has_unit(record.building, record.unit):
            problems.append(
                ImportProblem(
                    number,
                    "单元",
                    "unknown_unit",
                    f"{record.building} 没有单元「{record.unit}」",
                    {"unit": record.unit},
                )
            )
    return problems
