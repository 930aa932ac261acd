"""Spreadsheets as property offices really make them, built here rather than kept as binaries.

Each builder writes one file with openpyxl (or csv) into a folder and returns its path:
other headings than the template's, a title row and merged two-row headings, several
sheets, ID numbers that Excel turned into numbers, full-width digits and stray spaces.
``python -m tests.registry.office_sheets FOLDER`` writes them all to look at in a
spreadsheet program.

The persons live in buildings 1 and 2, units 1 and 2 (the registry tests' compound).
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.worksheet import Worksheet

from gate.domain.documents import gb11643_check_character
from tests.registry.builders import resident_number

WANG = resident_number("19800101", "003")  # male
LI = resident_number("19820202", "004")  # female
ZHANG = resident_number("19900303", "005")  # male
# A number whose check character is X, the case Excel can least keep.
CHEN = next(
    number
    for seq in range(100, 999, 2)
    if (number := resident_number("19750505", f"{seq:03d}")).endswith("X")
)

# The sheet of issue 14: a new office's headings, none of them the template's.
NEW_OFFICE_HEADINGS = ("楼号", "单元号", "门牌号", "户主姓名", "性别", "身份证号", "联系电话")
NEW_OFFICE_ROWS: tuple[tuple[Any, ...], ...] = (
    ("1号楼", "1单元", "101", "王小明", "男", WANG, "13812345678"),
    ("1号楼", "1单元", "102", "李梅", "女", LI, "13900001111"),
    ("2号楼", "2单元", "301", "张三", "男", ZHANG, "13700002222"),
)


def _workbook(title: str) -> tuple[Workbook, Worksheet]:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = title
    return workbook, sheet


def _text_cells(sheet: Worksheet, column: int, first_row: int, last_row: int) -> None:
    """Mark an ID column as text, as an office that knows Excel does."""
    for row in range(first_row, last_row + 1):
        sheet.cell(row=row, column=column).number_format = "@"


def new_office(folder: Path, headings: Sequence[str] = NEW_OFFICE_HEADINGS) -> Path:
    """楼号, 单元号, 门牌号, 户主姓名, 性别, 身份证号, 联系电话: one heading row, three persons."""
    workbook, sheet = _workbook("Sheet1")
    sheet.append(list(headings))
    for row in NEW_OFFICE_ROWS:
        sheet.append(list(row))
    path = folder / "新物业住户表.xlsx"
    workbook.save(path)
    return path


def variant_headings(folder: Path, headings: Sequence[str], name: str = "variants.xlsx") -> Path:
    """The three persons under any seven headings (building, unit, room, name, sex, ID, phone)."""
    workbook, sheet = _workbook("住户")
    sheet.append(list(headings))
    for row in NEW_OFFICE_ROWS:
        sheet.append(list(row))
    path = folder / name
    workbook.save(path)
    return path


def titled_and_merged(folder: Path) -> Path:
    """A merged title row, a blank row, then two heading rows merged as offices draw them.

    Row 1: 如意小区住户信息登记表 (merged A1:H1); row 2: 填表日期; row 4: 序号, 住址 over
    栋/单元/室, 户主信息 over 姓名/性别/公民身份号码/手机 (序号 merged down over rows 4-5).
    """
    workbook, sheet = _workbook("登记表")
    sheet["A1"] = "如意小区住户信息登记表"
    sheet.merge_cells("A1:H1")
    sheet["A1"].font = Font(bold=True, size=16)
    sheet["A1"].alignment = Alignment(horizontal="center")
    sheet["A2"] = "填表日期：2026年11月"
    sheet["A4"] = "序号"
    sheet.merge_cells("A4:A5")
    sheet["B4"] = "住址"
    sheet.merge_cells("B4:D4")
    sheet["E4"] = "户主信息"
    sheet.merge_cells("E4:H4")
    for column, heading in enumerate(
        ("栋", "单元", "室", "姓名", "性别", "公民身份号码", "手机"), 2
    ):
        sheet.cell(row=5, column=column, value=heading)
    for index, row in enumerate(NEW_OFFICE_ROWS, start=1):
        sheet.append([index, *row])
    _text_cells(sheet, 7, 6, 8)
    path = folder / "登记表-标题与合并表头.xlsx"
    workbook.save(path)
    return path


def several_sheets(folder: Path, *, headings_on_two: bool = False) -> Path:
    """说明 (a note), 住户 (the headings and rows), 统计 (counts); optionally 住户2 as well."""
    workbook, notes = _workbook("说明")
    notes["A1"] = "本表由物业办公室填写，每户一行。"
    notes["A2"] = "如有疑问请联系物业：0471-1234567"
    people = workbook.create_sheet("住户")
    people.append(list(NEW_OFFICE_HEADINGS))
    for row in NEW_OFFICE_ROWS:
        people.append(list(row))
    if headings_on_two:
        more = workbook.create_sheet("住户2")
        more.append(list(NEW_OFFICE_HEADINGS))
        more.append(list(NEW_OFFICE_ROWS[0]))
    counts = workbook.create_sheet("统计")
    counts.append(["楼号", "户数"])
    counts.append(["1号楼", 2])
    counts.append(["2号楼", 1])
    path = folder / ("多个住户表.xlsx" if headings_on_two else "多工作表.xlsx")
    workbook.save(path)
    return path


def excel_float(number: str) -> float:
    """The number as Excel keeps it in a number cell: 15 significant digits."""
    return float(f"{int(number):.14e}")


def excel_numbers(folder: Path) -> Path:
    """Row 2 as an office would want it; row 3's ID is a number cell Excel rounded to
    15 digits (1.10101199001011e+17); row 4's is the same as the exact integer."""
    workbook, sheet = _workbook("Sheet1")
    sheet.append(list(NEW_OFFICE_HEADINGS))
    sheet.append(list(NEW_OFFICE_ROWS[0]))
    sheet.append(["1号楼", "1单元", "102", "李梅", "女", excel_float(LI), 13900001111])
    sheet.append(["2号楼", "2单元", "301", "张三", "男", int(ZHANG), 13700002222])
    path = folder / "身份证变成数字.xlsx"
    workbook.save(path)
    return path


def excel_csv(folder: Path) -> Path:
    """A CSV Excel saved from a sheet whose ID column was a number: 1.10101199001011E+17."""
    path = folder / "身份证科学计数法.csv"
    with path.open("w", encoding="gb18030", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(NEW_OFFICE_HEADINGS)
        writer.writerow(NEW_OFFICE_ROWS[0])
        writer.writerow(["1号楼", "1单元", "102", "李梅", "女", f"{int(LI):.14E}", "13900001111"])
    return path


def excel_rounded(number: str) -> str:
    """The text Excel writes into a CSV for the number cell: its 15 digits, then zeros."""
    mantissa, exponent = f"{int(number):.14e}".split("e")
    return mantissa.replace(".", "") + "0" * (int(exponent) + 1 - 15)


def _passes_when_rounded() -> str:
    """A real number whose rounded form (…000) happens to pass the check digit too."""
    for seq in range(1000):
        number = resident_number("19850707", f"{seq:03d}")
        if not number.isdigit():
            continue
        rounded = excel_rounded(number)
        if rounded != number and rounded[-1] == gb11643_check_character(rounded[:17]):
            return number
    raise AssertionError("no such number")


ZHAO = _passes_when_rounded()


def excel_rounded_csv(folder: Path) -> Path:
    """A CSV of a number column Excel rounded: 李梅's fails its check digit, 赵六's passes."""
    path = folder / "身份证末三位为0.csv"
    with path.open("w", encoding="gb18030", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(NEW_OFFICE_HEADINGS)
        writer.writerow(NEW_OFFICE_ROWS[0])
        writer.writerow(["1号楼", "1单元", "102", "李梅", "女", excel_rounded(LI), "13900001111"])
        writer.writerow(["2号楼", "1单元", "201", "赵六", "", excel_rounded(ZHAO), "13600003333"])
    return path


FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


def full_width_and_spaces(folder: Path) -> Path:
    """Full-width digits, ideographic and no-break spaces, a space inside a name."""
    workbook, sheet = _workbook("Sheet1")
    sheet.append(
        [" 楼号 ", "单元号\u3000", "门牌号", "户主 姓名", "性别", "身份证号码", "联系电话"]
    )
    sheet.append(
        [
            "１号楼 ",
            "\u3000１单元",
            " １０１",
            "王 小明",
            " 男",
            f"{WANG[:6]} {WANG[6:14]} {WANG[14:]}".translate(FULL_WIDTH),
            "138 1234 5678",
        ]
    )
    sheet.append(
        ["1号楼", "1单元", "102\xa0", " 陈 静 ", "女", CHEN.translate(FULL_WIDTH), "13900001111"]
    )
    _text_cells(sheet, 6, 2, 3)
    path = folder / "全角与空格.xlsx"
    workbook.save(path)
    return path


# Headings we do not know for three of the required columns (楼座 we do): the mapping step.
UNKNOWN_HEADINGS = ("楼座", "单元", "户室编号", "住户", "性别", "证件", "电话")


def unknown_headings(folder: Path) -> Path:
    """Headings we cannot read for room, name and number; the rows are clean."""
    workbook, sheet = _workbook("住户信息")
    sheet.append(list(UNKNOWN_HEADINGS))
    for row in NEW_OFFICE_ROWS:
        sheet.append(list(row))
    _text_cells(sheet, 6, 2, 4)
    path = folder / "自定义表头.xlsx"
    workbook.save(path)
    return path


BUILDERS: tuple[Callable[[Path], Path], ...] = (
    new_office,
    titled_and_merged,
    several_sheets,
    excel_numbers,
    excel_csv,
    excel_rounded_csv,
    full_width_and_spaces,
    unknown_headings,
)


def main(argv: Sequence[str]) -> None:
    """Write every sheet into the folder given (created if need be)."""
    folder = Path(argv[0] if argv else "office-sheets")
    folder.mkdir(parents=True, exist_ok=True)
    for build in BUILDERS:
        print(build(folder))
    print(several_sheets(folder, headings_on_two=True))


if __name__ == "__main__":
    main(sys.argv[1:])
