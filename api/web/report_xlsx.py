"""The shift report as an XLSX workbook: summary, guard decisions, alerts, quarantine exits.

Times are Asia/Shanghai wall-clock times (a spreadsheet cell has no zone; the summary
says which). Every text cell goes through ``neutralise``: a guard's note that starts with
``=`` must stay text, not become a formula in the office's spreadsheet.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from io import BytesIO
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from api.web.report_text import ReportText
from gate.app.report_values import ShiftReport
from gate.app.spreadsheet import neutralise
from gate.domain.model import Outcome
from gate.domain.status import LOCAL_TZ

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TIME_FORMAT = "yyyy-mm-dd hh:mm:ss"


def _cell(value: object) -> object:
    if isinstance(value, datetime):
        # openpyxl refuses aware datetimes; the sheet says the zone once.
        return value.astimezone(LOCAL_TZ).replace(tzinfo=None, microsecond=0)
    if isinstance(value, str):
        return neutralise(value) if value else None
    return value


def _sheet(
    workbook: Any, title: str, heading: Sequence[str], rows: Sequence[Sequence[object]]
) -> None:
    sheet = workbook.create_sheet(title)
    sheet.append([_cell(value) for value in heading])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([_cell(value) for value in row])
    for column in sheet.columns:
        for cell in column:
            if isinstance(cell.value, datetime):
                cell.number_format = TIME_FORMAT
        width = max(len(str(cell.value or "")) for cell in column)
        sheet.column_dimensions[column[0].column_letter].width = min(max(width + 2, 8), 60)
    sheet.freeze_panes = "A2"


def report_workbook(
    report: ShiftReport, *, lang: str, compound: str, generated_at: datetime, generated_by: str
) -> bytes:
    """The workbook's bytes."""
    text = ReportText(lang)
    workbook = Workbook()
    summary = workbook.active
    summary.title = text.t("report.sheet.summary")
    totals = report.totals
    for label, value in (
        (text.t("report.title"), compound),
        (text.t("report.from"), report.start),
        (text.t("report.to"), report.end),
        (text.t("report.generated_at"), generated_at),
        (text.t("report.generated_by"), generated_by),
        (text.t("report.times_note"), "Asia/Shanghai"),
        ("", ""),
    ):
        summary.append([_cell(label), _cell(value)])
    summary.append(
        [
            _cell(heading)
            for heading in (
                text.t("report.lane"),
                text.t("report.direction"),
                text.outcome("allow"),
                text.outcome("review"),
                text.outcome("deny"),
                text.t("report.total"),
            )
        ]
    )
    for lane in report.lanes:
        summary.append(
            [
                _cell(lane.lane),
                _cell(text.direction(lane.direction)),
                lane.allow,
                lane.review,
                lane.deny,
                lane.total,
            ]
        )
    summary.append(
        [
            _cell(text.t("report.all_lanes")),
            "",
            totals.allow,
            totals.review,
            totals.deny,
            totals.total,
        ]
    )
    summary.append([])
    for label, count in (
        (text.t("report.guard_allowed"), report.guard_decisions(Outcome.ALLOW)),
        (text.t("report.guard_denied"), report.guard_decisions(Outcome.DENY)),
        (text.t("report.alerts_total"), len(report.alerts)),
        (text.t("report.unhandled"), report.unhandled),
        (text.t("report.quarantine_exits"), len(report.quarantine_exits)),
    ):
        summary.append([_cell(label), count])
    for row in summary.iter_rows():
        for cell in row:
            if isinstance(cell.value, datetime):
                cell.number_format = TIME_FORMAT
    summary.column_dimensions["A"].width = 24
    summary.column_dimensions["B"].width = 22

    _sheet(
        workbook,
        text.t("report.sheet.overrides"),
        [
            text.t("report.seq"),
            text.t("report.time"),
            text.t("report.lane"),
            text.t("report.direction"),
            text.t("report.person"),
            text.t("report.home"),
            text.t("report.original"),
            text.t("report.original_outcome"),
            text.t("report.original_reasons"),
            text.t("report.guard"),
            text.t("report.decision"),
            text.t("report.reason_code"),
            text.t("report.text"),
        ],
        [
            [
                line.decision.seq,
                line.decision.at,
                line.lane,
                text.direction(line.direction),
                text.name(line.who),
                line.who.home or "",
                line.original_seq,
                text.outcome(line.original_outcome),
                text.reasons(line.original_reasons),
                line.decision.guard,
                text.outcome(line.decision.outcome),
                text.code(line.decision.code),
                line.decision.text,
            ]
            for line in report.overrides
        ],
    )
    _sheet(
        workbook,
        text.t("report.sheet.alerts"),
        [
            text.t("report.seq"),
            text.t("report.time"),
            text.t("report.lane"),
            text.t("report.direction"),
            text.t("report.person"),
            text.t("report.home"),
            text.t("report.outcome"),
            text.t("report.reasons"),
            text.t("report.handled"),
            text.t("report.guard"),
            text.t("report.handled_at"),
            text.t("report.decision"),
            text.t("report.reason_code"),
            text.t("report.text"),
        ],
        [
            [
                alert.seq,
                alert.at,
                alert.lane,
                text.direction(alert.direction),
                text.name(alert.who),
                alert.who.home or "",
                text.outcome(alert.outcome),
                text.reasons(alert.reasons),
                text.t("report.yes") if alert.handling else text.t("report.unhandled"),
                alert.handling.guard if alert.handling else "",
                alert.handling.at if alert.handling else "",
                text.outcome(alert.handling.outcome) if alert.handling else "",
                text.code(alert.handling.code) if alert.handling else "",
                alert.handling.text if alert.handling else "",
            ]
            for alert in report.alerts
        ],
    )
    _sheet(
        workbook,
        text.t("report.sheet.quarantine"),
        [
            text.t("report.seq"),
            text.t("report.time"),
            text.t("report.lane"),
            text.t("report.person"),
            text.t("report.home"),
            text.t("report.status"),
            text.t("report.how"),
            text.t("report.guard"),
            text.t("report.reason_code"),
            text.t("report.text"),
            text.t("report.original"),
        ],
        [
            [
                line.seq,
                line.at,
                line.lane,
                text.name(line.who),
                line.who.home or "",
                text.t(f"status.{line.status.value}"),
                text.t(f"report.how.{line.how}"),
                line.guard or "",
                text.code(line.code),
                line.text or "",
                line.original_seq,
            ]
            for line in report.quarantine_exits
        ],
    )
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def export_name(report: ShiftReport) -> str:
    """The file name: the shift's local start and end."""
    start = report.start.astimezone(LOCAL_TZ)
    end = report.end.astimezone(LOCAL_TZ)
    return f"shift-report-{start:%Y%m%d-%H%M}-{end:%Y%m%d-%H%M}.xlsx"
