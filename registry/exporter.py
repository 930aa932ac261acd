"""Export the registry to XLSX or CSV in the import layout, and write the blank template.

Document numbers and phones are masked unless ``reveal`` is asked for (the use case audits
every export, a revealing one as such). Text that a spreadsheet would run as a formula is
neutralised with a leading quote, which the importer strips again.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from gate.app.spreadsheet import neutralise
from gate.domain.documents import DOCUMENT_LABELS_ZH, masked_number
from gate.domain.people import HealthStatus, label_zh
from gate.domain.places import building_label, unit_label
from gate.domain.status import StatusPeriod, current_period, local_date
from registry.crypto import PersonalDataCipher
from registry.models import Building, Document, Household, Person, StatusRecord, Unit
from registry.status_rows import status_periods
from registry.tabular import COLUMNS

TEMPLATE_NOTE = (
    "# 填写说明：第二行为表头，请勿修改；每行一人。"
    "必填列：楼栋、单元、房号、姓名、证件类型、证件号码。"
    "证件号码、手机号请设为文本格式。日期写成 2020-02-01。以 # 开头的行不导入。"
)


def _masked_number(document: Document) -> str:
    return masked_number(document.doc_type, document.number_last4)


def export_rows(
    session: Session, *, cipher: PersonalDataCipher, now: datetime, reveal: bool
) -> Iterator[list[str]]:
    """Rows of the registry in the import layout (headings first), one per present person."""
    yield [column.heading for column in COLUMNS]
    query = (
        select(Person)
        .join(Household)
        .join(Unit)
        .join(Building)
        .where(Person.moved_out_at.is_(None))
        .options(
            selectinload(Person.documents),
            selectinload(Person.statuses),
            selectinload(Person.household).selectinload(Household.unit).selectinload(Unit.building),
        )
        .order_by(Building.key, Unit.key, Household.room, Person.id)
    )
    for person in session.scalars(query):
        yield _row(person, cipher, now, reveal)


def _row(person: Person, cipher: PersonalDataCipher, now: datetime, reveal: bool) -> list[str]:
    assert person.household is not None
    household = person.household
    document = person.documents[0]
    number = (
        cipher.decrypt("document", document.number_cipher) if reveal else _masked_number(document)
    )
    if person.phone_cipher is None:
        phone = ""
    elif reveal:
        phone = cipher.decrypt("phone", person.phone_cipher)
    else:
        phone = "*******" + (person.phone_last4 or "")
    period = current_period(status_periods(person.statuses), now)
    record = _matching_record(person.statuses, period)
    values = {
        "building": building_label(household.unit.building.key),
        "unit": unit_label(household.unit.key),
        "room": household.room,
        "name": person.name,
        "sex": label_zh(person.sex),
        "doc_type": DOCUMENT_LABELS_ZH[document.doc_type],
        "doc_number": number,
        "birth_date": person.birth_date.isoformat() if person.birth_date else "",
        "phone": phone,
        "relation": label_zh(person.relation) if person.relation else "",
        "kind": label_zh(person.kind),
        "status": label_zh(record.status if record else HealthStatus.NORMAL),
        "status_from": local_date(record.starts_at).isoformat() if record else "",
        "status_to": (
            # Stored ends are exclusive; the sheet states the last day, as it was imported.
            (local_date(record.ends_at - timedelta(seconds=1))).isoformat()
            if record and record.ends_at
            else ""
        ),
        "legal_basis": label_zh(record.legal_basis) if record else "",
        "note": record.note if record else "",
    }
    return [neutralise(values[column.name]) for column in COLUMNS]


def _matching_record(
    records: list[StatusRecord], period: StatusPeriod | None
) -> StatusRecord | None:
    if period is None:
        return None
    for record in records:
        if (record.status, record.starts_at, record.ends_at) == (
            period.status,
            period.starts_at,
            period.ends_at,
        ):
            return record
    return None


def export_file(
    session: Session, *, path: Path, cipher: PersonalDataCipher, now: datetime, reveal: bool
) -> int:
    """Write the registry to ``path`` (.xlsx, else .csv); return the number of persons written.

    The use case (``gate.app.registry_io``) checks the name and audits the export.
    """
    if reveal:
        # Only the operator may read a file with full numbers, from its first byte on.
        path.touch(mode=0o600, exist_ok=True)
        path.chmod(0o600)
    rows = export_rows(session, cipher=cipher, now=now, reveal=reveal)
    return _write_xlsx(path, rows) if path.suffix.lower() == ".xlsx" else _write_csv(path, rows)


def _write_csv(path: Path, rows: Iterator[list[str]]) -> int:
    count = -1
    # UTF-8 with BOM: Excel in China then opens it without garbling the headings.
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        for count, row in enumerate(rows):  # noqa: B007 - count is the result
            writer.writerow(row)
    return max(count, 0)


def _write_xlsx(path: Path, rows: Iterator[list[str]]) -> int:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("人员登记")
    count = -1
    for count, row in enumerate(rows):  # noqa: B007 - count is the result
        sheet.append(row)
    workbook.save(path)
    return max(count, 0)


def write_template(path: Path) -> None:
    """An empty XLSX in the import layout: a comment row, the headings, hints and pick lists."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "人员登记"
    sheet.append([TEMPLATE_NOTE])
    sheet.append([column.heading for column in COLUMNS])
    for index, column in enumerate(COLUMNS, start=1):
        cell = sheet.cell(row=2, column=index)
        cell.font = Font(bold=True)
        if column.required:
            cell.fill = PatternFill("solid", fgColor="FFF2CC")
        if column.hint:
            cell.comment = Comment(column.hint, "gate")
        letter = cell.column_letter
        sheet.column_dimensions[letter].width = max(10, len(column.heading) * 3)
        if column.name in ("doc_number", "phone", "room"):
            for row in range(3, 1003):
                sheet.cell(row=row, column=index).number_format = "@"
    pick_lists = {
        "sex": "男,女",
        "doc_type": "居民身份证,港澳台居民居住证,外国人永久居留身份证,护照,其他",
        "relation": "户主,家庭成员,租户",
        "kind": "居民,租户,工作人员",
        "status": "正常,居家隔离,集中隔离,健康监测,重点人员",
        "legal_basis": "本人同意,突发公共卫生事件,合同约定",
    }
    for index, column in enumerate(COLUMNS, start=1):
        if column.name in pick_lists:
            validation = DataValidation(type="list", formula1=f'"{pick_lists[column.name]}"')
            letter = sheet.cell(row=2, column=index).column_letter
            validation.add(f"{letter}3:{letter}1002")
            sheet.add_data_validation(validation)
    sheet.freeze_panes = "A3"
    workbook.save(path)
