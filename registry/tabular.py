"""The spreadsheet layout a Chinese property office uses, and one row turned into a record.

Headings are Chinese (楼栋, 单元, 房号, 姓名, ...); cells may arrive as text, numbers or
dates (XLSX) or text only (CSV). ``parse_row`` returns a ``PersonRecord`` or the list of
problems of that row; it needs no database.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any, TypeVar

from gate.domain.documents import DocumentType, detect_type, normalize, validate
from gate.domain.errors import DocumentInvalid, ImportProblem
from gate.domain.people import (
    HealthStatus,
    LegalBasis,
    PersonKind,
    Relation,
    Sex,
    normalize_phone,
    parse_label,
)
from registry.records import PersonRecord, StatusEntry

E = TypeVar("E", bound=StrEnum)

MAX_NAME_LENGTH = 50
MAX_NOTE_LENGTH = 500


@dataclass(frozen=True)
class Column:
    """A spreadsheet column: internal name, Chinese heading, whether it must be present."""

    name: str
    heading: str
    required: bool = False
    hint: str = ""


COLUMNS: tuple[Column, ...] = (
    Column("building", "楼栋", True, "如 3 或 3号楼，须为已登记的楼栋"),
    Column("unit", "单元", True, "如 2 或 2单元"),
    Column("room", "房号", True, "如 502"),
    Column("name", "姓名", True),
    Column("sex", "性别", False, "男/女；可空，按证件号码推断"),
    Column(
        "doc_type",
        "证件类型",
        False,
        "居民身份证/港澳台居民居住证/外国人永久居留身份证/护照/其他；空：按号码判断身份证件",
    ),
    Column("doc_number", "证件号码", True, "请将本列设为文本格式"),
    Column("birth_date", "出生日期", False, "如 1980-05-01；身份证可空"),
    Column("phone", "手机号", False),
    Column("relation", "与户主关系", False, "户主/家庭成员/租户"),
    Column("kind", "人员类型", False, "居民/租户/工作人员，默认居民"),
    Column("status", "健康状态", False, "正常/居家隔离/集中隔离/健康监测/重点人员"),
    Column("status_from", "状态开始日期", False, "非正常状态必填"),
    Column("status_to", "状态结束日期", False, "含当天；空表示未定"),
    Column("legal_basis", "法律依据", False, "本人同意/突发公共卫生事件/合同约定"),
    Column("note", "备注", False),
)

DOC_TYPE_ALIASES: dict[str, DocumentType | None] = {
    "居民身份证": DocumentType.RESIDENT_ID,
    "身份证": DocumentType.RESIDENT_ID,
    "港澳台居民居住证": DocumentType.HMT_RESIDENCE_PERMIT,
    "居住证": DocumentType.HMT_RESIDENCE_PERMIT,
    # Both card generations share the name; the number's shape tells them apart.
    "外国人永久居留身份证": None,
    "外国人永久居留身份证(2017版)": DocumentType.FOREIGN_PERMANENT_2017,
    "外国人永久居留身份证(2023版)": DocumentType.FOREIGN_PERMANENT_2023,
    "护照": DocumentType.PASSPORT,
    "其他": DocumentType.OTHER,
    "其他证件": DocumentType.OTHER,
}
RELATION_ALIASES = {
    "本人": Relation.OWNER,
    "配偶": Relation.FAMILY,
    "子女": Relation.FAMILY,
    "父母": Relation.FAMILY,
    "其他亲属": Relation.FAMILY,
}


_INVISIBLE = re.compile("[\u200b-\u200f\u2060\ufeff]")
# Columns of codes, numbers and labels: a space inside is a typing slip ("3 号楼", "138 1234 5678").
_NO_SPACES = frozenset(
    name for name in (column.name for column in COLUMNS) if name not in ("name", "note")
)
_CJK_GAP = re.compile(r"(?<=[\u3400-\u9fff])\s+(?=[\u3400-\u9fff])")


def cell_text(value: Any) -> str:
    """A cell as stripped text, full-width folded (NFKC); undoes ``neutralise`` (a leading ')."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        value = value.date()
    text = _INVISIBLE.sub("", unicodedata.normalize("NFKC", str(value))).strip()
    if len(text) > 1 and text[0] == "'" and text[1] in "=+-@":
        text = text[1:]
    return text


class _RowProblems:
    def __init__(self, row: int) -> None:
        self.row = row
        self.items: list[ImportProblem] = []

    def add(self, column: str, reason: str, message: str, **params: Any) -> None:
        self.items.append(ImportProblem(self.row, column, reason, message, params))


def parse_row(
    row: int, cells: dict[str, Any], *, today: date
) -> PersonRecord | list[ImportProblem]:
    """Turn one row (internal column name -> raw cell) into a record, or say what is wrong."""
    problems = _RowProblems(row)
    text = {name: _tidy(name, cell_text(value)) for name, value in cells.items()}

    for column in COLUMNS:
        if column.required and not text.get(column.name):
            problems.add(column.heading, "missing", f"{column.heading}不能为空 (required)")

    name = text.get("name", "")
    if len(name) > MAX_NAME_LENGTH:
        problems.add("姓名", "too_long", f"姓名超过 {MAX_NAME_LENGTH} 个字符")

    doc_type, doc_number, birth_from_doc, sex_from_doc = _document(
        problems,
        cells.get("doc_number"),
        text.get("doc_type", ""),
        text.get("doc_number", ""),
        today,
    )
    sex = _enum(problems, "性别", Sex, text.get("sex", ""))
    if sex is not None and sex_from_doc is not None and sex is not sex_from_doc:
        problems.add("性别", "sex_mismatch", "性别与证件号码不符 (sex does not match the number)")
    birth_date = _date(problems, "出生日期", cells.get("birth_date"), text.get("birth_date", ""))
    if birth_date is not None and birth_from_doc is not None and birth_date != birth_from_doc:
        problems.add("出生日期", "birth_date_mismatch", "出生日期与证件号码不符")
    phone = None
    if "*" in text.get("phone", ""):
        problems.add("手机号", "masked", "手机号已脱敏，无法导入")
    elif text.get("phone"):
        try:
            phone = normalize_phone(text["phone"])
        except ValueError as exc:
            problems.add("手机号", "phone", f"手机号格式错误: {exc}")
    relation = _relation(problems, text.get("relation", ""))
    kind = _enum(problems, "人员类型", PersonKind, text.get("kind", "")) or PersonKind.RESIDENT
    status = _status(problems, cells, text)

    if problems.items or doc_type is None or doc_number is None:
        return problems.items
    return PersonRecord(
        building=text["building"],
        unit=text["unit"],
        room=text["room"],
        name=name,
        sex=sex or sex_from_doc or Sex.UNKNOWN,
        doc_type=doc_type,
        doc_number=doc_number,
        birth_date=birth_from_doc or birth_date,
        phone=phone,
        relation=relation,
        kind=kind,
        status=status,
    )


def _tidy(name: str, text: str) -> str:
    if name in _NO_SPACES:
        return re.sub(r"\s+", "", text)
    # "王 小明": a stray space between Chinese characters; "Anna  Li" keeps one.
    return _CJK_GAP.sub("", re.sub(r"\s+", " ", text))


# What Excel shows (and saves into a CSV) for a long number in a number cell.
_SCIENTIFIC = re.compile(r"^[0-9](\.[0-9]+)?E\+?[0-9]+$", re.IGNORECASE)
LOST_DIGITS_MESSAGE = (
    "证件号码被 Excel 存成了数字，后几位已丢失，无法确定是哪一个人；"
    "请把该列设为文本格式，按证件重新填写这一行"
)


def _document(
    problems: _RowProblems, raw_number: Any, type_text: str, number_text: str, today: date
) -> tuple[DocumentType | None, str | None, date | None, Sex | None]:
    if not number_text:
        return None, None, None, None
    if "*" in number_text:
        problems.add(
            "证件号码",
            "masked",
            "证件号码已脱敏，无法导入；请用 gate registry export --reveal 导出的文件",
        )
        return None, None, None, None
    # Excel keeps 15 significant digits: an 18-digit number in a number cell has lost its
    # last ones even when what is left happens to pass the check digit (1 time in 11).
    if isinstance(raw_number, (int, float)) and len(number_text) > 15:
        problems.add("证件号码", "numeric_cell", LOST_DIGITS_MESSAGE)
        return None, None, None, None
    if _SCIENTIFIC.match(number_text):
        problems.add("证件号码", "scientific", LOST_DIGITS_MESSAGE)
        return None, None, None, None
    if not type_text:
        return _undeclared_document(problems, number_text, today)
    if type_text in DOC_TYPE_ALIASES:
        doc_type = DOC_TYPE_ALIASES[type_text]
    elif type_text in DocumentType.__members__.values():
        doc_type = DocumentType(type_text)
    else:
        problems.add("证件类型", "unknown_value", f"未知的证件类型「{type_text[:20]}」")
        return None, None, None, None
    try:
        if doc_type is None:
            doc_type = detect_type(number_text)
            if doc_type not in (
                DocumentType.FOREIGN_PERMANENT_2017,
                DocumentType.FOREIGN_PERMANENT_2023,
            ):
                problems.add("证件号码", "type_mismatch", "号码不是外国人永久居留身份证号码")
                return None, None, None, None
        info = validate(doc_type, number_text, today=today)
    except DocumentInvalid as exc:
        _invalid_number(problems, exc, number_text)
        return None, None, None, None
    return info.doc_type, info.number, info.birth_date, info.sex


# Excel's 15 digits leave an 18-digit number ending in 000; saved to CSV it is text again.
LOST_DIGIT_REASONS = frozenset({"numeric_cell", "scientific", "lost_digits"})


def looks_rounded(number: str) -> bool:
    """True for an 18-digit number ending in 000: what a number Excel rounded looks like."""
    return len(number) == 18 and number.endswith("000")


def _invalid_number(problems: _RowProblems, exc: DocumentInvalid, number_text: str) -> None:
    if exc.reason == "check_digit" and looks_rounded(normalize(number_text)):
        problems.add("证件号码", "lost_digits", LOST_DIGITS_MESSAGE)
    else:
        problems.add("证件号码", exc.reason, f"证件号码无效: {exc}", **exc.params)


# The types a number's shape names without doubt (18 characters under GB 11643, or the
# 2017 foreigner card); a passport or other document needs its 证件类型.
_SHAPE_TYPES = (
    DocumentType.RESIDENT_ID,
    DocumentType.HMT_RESIDENCE_PERMIT,
    DocumentType.FOREIGN_PERMANENT_2023,
    DocumentType.FOREIGN_PERMANENT_2017,
)


def _undeclared_document(
    problems: _RowProblems, number_text: str, today: date
) -> tuple[DocumentType | None, str | None, date | None, Sex | None]:
    """A number without 证件类型 (a sheet of 身份证号): its type read from its shape."""
    try:
        doc_type = detect_type(number_text)
        if doc_type not in _SHAPE_TYPES:
            raise DocumentInvalid("unrecognised", "give the type")
        info = validate(doc_type, number_text, today=today)
    except DocumentInvalid as exc:
        if exc.reason == "unrecognised":
            problems.add(
                "证件类型",
                "doc_type_needed",
                "号码不是身份证件号码，请在「证件类型」列注明证件类型",
            )
        else:
            _invalid_number(problems, exc, number_text)
        return None, None, None, None
    return info.doc_type, info.number, info.birth_date, info.sex


def _enum(problems: _RowProblems, heading: str, enum: type[E], text: str) -> E | None:
    if not text:
        return None
    try:
        return parse_label(enum, text)
    except ValueError:
        problems.add(heading, "unknown_value", f"{heading}「{text[:20]}」不是可选值")
        return None


def _relation(problems: _RowProblems, text: str) -> Relation | None:
    if text in RELATION_ALIASES:
        return RELATION_ALIASES[text]
    return _enum(problems, "与户主关系", Relation, text)


_DATE_TEXT = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")


def _date(problems: _RowProblems, heading: str, raw: Any, text: str) -> date | None:
    if not text:
        return None
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    match = _DATE_TEXT.match(text)
    if match:
        try:
            return date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            pass
    problems.add(heading, "date", f"{heading}「{text[:20]}」不是有效日期，请写成 2020-02-01")
    return None


def _status(
    problems: _RowProblems, cells: dict[str, Any], text: dict[str, str]
) -> StatusEntry | None:
    status = _enum(problems, "健康状态", HealthStatus, text.get("status", ""))
    first = _date(problems, "状态开始日期", cells.get("status_from"), text.get("status_from", ""))
    last = _date(problems, "状态结束日期", cells.get("status_to"), text.get("status_to", ""))
    basis = _enum(problems, "法律依据", LegalBasis, text.get("legal_basis", ""))
    note = text.get("note", "")
    if len(note) > MAX_NOTE_LENGTH:
        problems.add("备注", "too_long", f"备注超过 {MAX_NOTE_LENGTH} 个字符")
    if status is None or status is HealthStatus.NORMAL:
        return None
    if first is None:
        problems.add("状态开始日期", "missing", "非正常健康状态须填写开始日期")
        return None
    if last is not None and last < first:
        problems.add("状态结束日期", "date_order", "结束日期早于开始日期")
        return None
    return StatusEntry(
        status=status,
        first_day=first,
        last_day=last,
        legal_basis=basis or LegalBasis.PUBLIC_HEALTH_EMERGENCY,
        note=note,
    )
