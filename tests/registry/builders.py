"""Builders of registry test input: valid document numbers and spreadsheet files."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from gate.app.actor import Actor
from gate.app.registry_io import ImportRegistry, import_registry
from gate.app.registry_values import CompoundName, ImportLimits, ImportReport
from gate.domain.documents import gb11643_check_character
from gate.runtime.bootstrap import Services
from registry.tabular import COLUMNS

HEADINGS = [column.heading for column in COLUMNS]
NOW = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)
LIMITS = ImportLimits(max_bytes=20_000_000, max_rows=100_000)


def resident_number(birth: str = "19800101", seq: str = "003", region: str = "150102") -> str:
    """A valid 18-character resident ID number."""
    first17 = region + birth + seq
    return first17 + gb11643_check_character(first17)


def person_row(**values: Any) -> dict[str, Any]:
    """A valid row (by heading) with sensible defaults, overridden by ``values``."""
    row: dict[str, Any] = {
        "楼栋": "1号楼",
        "单元": "1",
        "房号": "101",
        "姓名": "王小明",
        "性别": "男",
        "证件类型": "居民身份证",
        "证件号码": resident_number(),
        "手机号": "13812345678",
        "与户主关系": "户主",
        "人员类型": "居民",
    }
    row.update(values)
    return row


def write_xlsx(
    path: Path, rows: Sequence[dict[str, Any]], headings: Sequence[str] = HEADINGS
) -> Path:
    """An XLSX with a heading row and ``rows``; cells keep their Python types."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(list(headings))
    for row in rows:
        sheet.append([row.get(heading) for heading in headings])
    workbook.save(path)
    return path


def write_csv(
    path: Path,
    rows: Sequence[dict[str, Any]],
    headings: Sequence[str] = HEADINGS,
    encoding: str = "utf-8-sig",
) -> Path:
    """A CSV with a heading row and ``rows``."""
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(headings)
        for row in rows:
            writer.writerow(["" if row.get(h) is None else row.get(h) for h in headings])
    return path


def run_import(services: Services, path: Path, *, now: datetime = NOW) -> ImportReport:
    """Import ``path`` as the office's upload page and ``gate registry import`` do."""
    return import_registry(
        ImportRegistry(path, CompoundName("ruyi", "如意小区"), LIMITS),
        actor=Actor("tester", "test", now),
        units=services.units,
    )
