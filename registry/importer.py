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
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from gate.app.registry_values import CompoundName, ImportLimits, ImportReport, file_refused
from gate.domain.documents import mask
from gate.domain.errors import ImportProblem, ImportRejected
from gate.domain.status import local_date
from registry.crypto import PersonalDataCipher
from registry.import_worker import parse_in_worker
from registry.records import PersonRecord
from registry.service import Change, RegistryWriter, get_or_create_compound
from registry.tabular import COLUMNS, COLUMNS_BY_HEADING, cell_text, parse_row

logger = logging.getLogger(__name__)

HEADER_SCAN_ROWS = 10
MAX_PROBLEMS = 1000  # the page lists 500; beyond this only their number comes back


def read_table(path: Path) -> Iterator[tuple[int, list[Any]]]:
    """Yield (row number, cells) of a CSV or XLSX file the import use case has checked.

    ``ImportRejected`` if it cannot be read.
    """
    if path.suffix.lower() == ".xlsx":
        return _read_xlsx(path)
    return _read_csv(path)


def _read_xlsx(path: Path) -> Iterator[tuple[int, list[Any]]]:
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
        sheet = workbook.worksheets[0]
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, list(row)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, SyntaxError) as exc:
        raise file_refused("malformed_file", f"XLSX 文件已损坏 ({type(exc).__name__})") from None
    finally:
        workbook.close()


def _read_csv(path: Path) -> Iterator[tuple[int, list[Any]]]:
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
    reader = csv.reader(io.StringIO(content, newline=""))
    try:
        for number, row in enumerate(reader, start=1):
            yield number, list(row)
    except csv.Error as exc:
        raise file_refused("malformed_file", f"CSV 格式错误: {exc}") from None


def parse_file(
    path: Path, *, max_rows: int, today: Any
) -> tuple[list[tuple[int, PersonRecord]], list[str], list[ImportProblem]]:
    """Parse every row: records with their row numbers, ignored headings, problems."""
    rows = read_table(path)
    header: dict[int, str] | None = None
    ignored: list[str] = []
    records: list[tuple[int, PersonRecord]] = []
    problems: list[ImportProblem] = []
    data_rows = 0
    for number, cells in rows:
        texts = [cell_text(cell) for cell in cells]
        if not any(texts) or texts[0].startswith("#"):
            continue
        if header is None:
            if number > HEADER_SCAN_ROWS:
                break
            if "证件号码" in texts:
                header, ignored, header_problems = _read_header(number, texts)
                if header_problems:
                    return [], ignored, header_problems
            continue
        data_rows += 1
        if data_rows > max_rows:
            return (
                [],
                ignored,
                [ImportProblem(0, None, "too_many_rows", f"超过 {max_rows} 行的上限")],
            )
        values = {
            name: cells[index] if index < len(cells) else None for index, name in header.items()
        }
        parsed = parse_row(number, values, today=today)
        if isinstance(parsed, PersonRecord):
            records.append((number, parsed))
        else:
            problems.extend(parsed)
    if header is None:
        return (
            [],
            ignored,
            [ImportProblem(0, None, "no_header", "找不到表头行（须含“证件号码”等列）；请使用模板")],
        )
    if data_rows == 0:
        return [], ignored, [ImportProblem(0, None, "no_rows", "文件中没有数据行")]
    if len(problems) > MAX_PROBLEMS:
        more = len(problems) - MAX_PROBLEMS
        problems = [
            *problems[:MAX_PROBLEMS],
            ImportProblem(0, None, "more_problems", f"另有 {more} 个问题未列出", {"count": more}),
        ]
    return records, ignored, problems


def _read_header(
    number: int, texts: list[str]
) -> tuple[dict[int, str], list[str], list[ImportProblem]]:
    header: dict[int, str] = {}
    ignored: list[str] = []
    problems: list[ImportProblem] = []
    seen: set[str] = set()
    for index, heading in enumerate(texts):
        column = COLUMNS_BY_HEADING.get(heading)
        if column is None:
            if heading:
                ignored.append(heading)
            continue
        if column.name in seen:
            problems.append(
                ImportProblem(number, heading, "duplicate_column", f"表头「{heading}」重复")
            )
        seen.add(column.name)
        header[index] = column.name
    for column in COLUMNS:
        if column.required and column.name not in seen:
            problems.append(
                ImportProblem(
                    number, column.heading, "missing_column", f"缺少必填列「{column.heading}」"
                )
            )
    return header, ignored, problems


def import_file(
    session: Session,
    *,
    path: Path,
    cipher: PersonalDataCipher,
    compound: CompoundName,
    limits: ImportLimits,
    now: datetime,
    recorded_by: str,
) -> ImportReport:
    """Validate the whole file, then apply it in the caller's transaction, or raise.

    The file is parsed in a worker process under ``limits`` (``registry.import_worker``);
    its size and format are checked, and the import audited, by the use case
    (``gate.app.registry_io``), which also tells running gates when rows changed.
    """
    records, ignored, problems = parse_in_worker(path, limits=limits, today=local_date(now))
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
