"""Which rows of a sheet hold the headings, and which of its columns is which of ours.

Offices write the same column many ways (楼号, 楼栋号 or 栋 for 楼栋; 身份证号 or 公民身份号码
for 证件号码), put a title row above the headings, or split them over two merged rows
(住址 over 楼号/单元/房号). ``find_header`` looks at the first rows of a sheet and returns
the best guess: the heading rows, each column's heading, and our column -> their column.
A guess is ``complete`` when every required column was found once; otherwise the office
maps the columns by hand (the import page's mapping step) and the mapping is checked by
``check_mapping``. This is the one place that decides what a heading means.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from gate.domain.documents import mask
from gate.domain.errors import ImportProblem
from registry.tabular import COLUMNS

HEADER_SCAN_ROWS = 20  # title rows, notes and two heading rows fit well within this

# Our column -> the headings that mean it, best first. A heading found under a later
# (weaker) spelling gives way to a stronger one: a sheet with 姓名 and 户主姓名 is read by 姓名.
ALIASES: dict[str, tuple[str, ...]] = {
    "building": (
        "楼栋",
        "楼号",
        "楼栋号",
        "栋",
        "栋号",
        "幢",
        "幢号",
        "楼",
        "楼宇",
        "楼座",
        "楼栋名称",
    ),
    "unit": ("单元", "单元号", "单元名称"),
    "room": ("房号", "门牌号", "房间号", "室", "房间", "室号", "户号", "房屋号", "门牌"),
    "name": ("姓名", "人员姓名", "居民姓名", "住户姓名", "名字", "户主姓名"),
    "sex": ("性别",),
    "doc_type": ("证件类型", "证件种类", "证件名称"),
    "doc_number": (
        "证件号码",
        "证件号",
        "身份证号",
        "身份证号码",
        "公民身份号码",
        "公民身份证号码",
        "身份证件号码",
        "证件编号",
        "身份证",
    ),
    "birth_date": ("出生日期", "出生年月日", "出生年月", "生日"),
    "phone": ("手机号", "手机", "手机号码", "联系电话", "电话", "电话号码", "联系方式", "联系手机"),
    "relation": ("与户主关系", "户主关系", "关系"),
    "kind": ("人员类型", "人员类别", "居住类型"),
    "status": ("健康状态",),
    "status_from": ("状态开始日期", "开始日期"),
    "status_to": ("状态结束日期", "结束日期"),
    "legal_basis": ("法律依据",),
    "note": ("备注", "说明"),
}
REQUIRED = tuple(column.name for column in COLUMNS if column.required)
HEADING_OF = {column.name: column.heading for column in COLUMNS}

# "证件号码（必填）", "* 姓名", "联系电话:" all mean the heading inside.
_DECORATION = re.compile(r"[（(【\[][^）)】\]]*[）)】\]]|[*＊:：#]")


def heading_key(text: str) -> str:
    """A heading reduced to what it says: full-width folded, spaces, marks and notes dropped."""
    folded = unicodedata.normalize("NFKC", text)
    return re.sub(r"\s+", "", _DECORATION.sub("", folded))


_MEANING = {
    heading_key(heading): (name, rank)
    for name, headings in ALIASES.items()
    for rank, heading in enumerate(headings)
}


def meaning(text: str) -> tuple[str, int] | None:
    """Our column a heading names and how strongly (0 is the canonical heading), or None."""
    return _MEANING.get(heading_key(text))


@dataclass(frozen=True)
class HeaderGuess:
    """The heading rows of a sheet and which of its columns is which of ours."""

    first_row: int  # the first heading row (a merged upper row)
    last_row: int  # data begin after this row
    headings: tuple[str, ...]  # their heading of each column, by index
    columns: Mapping[str, int]  # our column name -> their column index
    problems: tuple[ImportProblem, ...]  # missing or twice-named columns

    @property
    def complete(self) -> bool:
        """True when every required column was found, once."""
        return not self.problems

    @property
    def found(self) -> int:
        """How many of our columns the headings name."""
        return len(self.columns)


def _guess(first_row: int, last_row: int, headings: Sequence[str]) -> HeaderGuess:
    best: dict[str, tuple[int, int]] = {}  # ours -> (rank, their index)
    twice: list[ImportProblem] = []
    for index, heading in enumerate(headings):
        found = meaning(heading) if heading else None
        if found is None:
            continue
        name, rank = found
        if name in best and best[name][0] == rank:
            twice.append(
                ImportProblem(
                    last_row,
                    heading,
                    "duplicate_column",
                    f"表头「{heading}」重复",
                    {"heading": heading},
                )
            )
        elif name not in best or rank < best[name][0]:
            best[name] = (rank, index)
    columns = {name: index for name, (_rank, index) in best.items()}
    missing = [_missing(last_row, name) for name in REQUIRED if name not in columns]
    return HeaderGuess(first_row, last_row, tuple(headings), columns, tuple(twice + missing))


def _merged(upper: Sequence[str], lower: Sequence[str]) -> list[str]:
    """Two heading rows read as one: the lower heading, or the upper one merged down."""
    width = max(len(upper), len(lower))
    merged: list[str] = []
    for index in range(width):
        top = upper[index] if index < len(upper) else ""
        bottom = lower[index] if index < len(lower) else ""
        if bottom and (meaning(bottom) or not meaning(top)):
            merged.append(bottom)
        elif top:
            merged.append(top)
        else:
            merged.append(bottom)
    return merged


def find_header(rows: Sequence[tuple[int, Sequence[str]]]) -> HeaderGuess | None:
    """The best heading guess among the first rows (number, texts) of a sheet, or None.

    A row whose headings name more of our columns wins; a row and the row below read
    together win over the row alone when that names more (merged two-row headings).
    Without any heading we know, the first of the widest rows is offered for mapping.
    """
    best: HeaderGuess | None = None
    for position, (number, texts) in enumerate(rows):
        candidates = [_guess(number, number, texts)]
        if position + 1 < len(rows):
            below_number, below = rows[position + 1]
            candidates.append(_guess(number, below_number, _merged(texts, below)))
        for candidate in candidates:
            if best is None or _better(candidate, best):
                best = candidate
    if best is not None and best.found == 0:
        widest = max(rows, key=lambda row: sum(1 for text in row[1] if text))
        return _guess(widest[0], widest[0], widest[1])
    return best


def _better(candidate: HeaderGuess, best: HeaderGuess) -> bool:
    if candidate.complete != best.complete:
        return candidate.complete
    return candidate.found > best.found


def check_mapping(
    row: int, headings: Sequence[str], columns: Mapping[str, int]
) -> list[ImportProblem]:
    """What is wrong with an office's own mapping (ours -> their index), or nothing."""
    problems: list[ImportProblem] = []
    used: dict[int, str] = {}
    for name, index in columns.items():
        if name not in HEADING_OF or not 0 <= index < len(headings):
            problems.append(
                ImportProblem(row, HEADING_OF.get(name), "bad_mapping", "列的对应关系无效")
            )
        elif index in used:
            problems.append(
                ImportProblem(
                    row,
                    HEADING_OF[name],
                    "column_twice",
                    f"「{headings[index]}」不能同时对应「{HEADING_OF[used[index]]}」和「{HEADING_OF[name]}」",
                    {"heading": headings[index], "name": name, "other": used[index]},
                )
            )
        else:
            used[index] = name
    for name in REQUIRED:
        if name not in columns:
            problems.append(_missing(row, name))
    return problems


def _missing(row: int, name: str) -> ImportProblem:
    heading = HEADING_OF[name]
    return ImportProblem(row, heading, "missing_column", f"缺少必填列「{heading}」", {"name": name})


_LONG_NUMBER = re.compile(r"^[0-9]{14,17}[0-9Xx]$|^[A-Z]{3}[0-9]{12}$")
_MOBILE = re.compile(r"^(\+?86)?1[3-9][0-9]{9}$")


def preview_text(text: str) -> str:
    """A cell as the mapping step's preview shows it: document numbers and phones masked."""
    compact = re.sub(r"[\s\-]", "", text)
    if _LONG_NUMBER.match(compact):
        return mask(compact)
    if _MOBILE.match(compact):
        return compact[:-8] + "****" + compact[-4:]
    return text[:40]
