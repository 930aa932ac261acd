"""The shift and daily reports as XLSX workbooks, one writer for both.

The shift report: summary, guard decisions, alerts, quarantine exits. The daily report:
summary, then the sheets an office would otherwise type by hand (按小时, 按结果, 访客,
隔离人员, 人工处理, 在内人数), each with its headings in the first row.

Times are Asia/Shanghai wall-clock times (a spreadsheet cell has no zone; the summary
says which). Every text cell goes through ``neutralise``: a guard's note that starts with
``=`` must stay text, not become a formula in the office's spreadsheet.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from io import BytesIO
from typing import Any, Protocol, TypeVar

from fastapi.responses import Response
from openpyxl import Workbook
from openpyxl.styles import Font

from api.web.report_text import ReportText
from api.web.report_xlsx_charts import charts_sheet
from gate.app.report_values import DailyReport, OverrideLine, ShiftReport
from gate.app.spreadsheet import neutralise
from gate.domain.model import Outcome
from gate.domain.places import building_label
from gate.domain.status import LOCAL_TZ

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ReportT = TypeVar("ReportT", contravariant=True)
AnyReport = TypeVar("AnyReport")


class WorkbookOf(Protocol[ReportT]):
    """``report_workbook`` or ``daily_workbook``."""

    def __call__(
        self,
        report: ReportT,
        *,
        lang: str,
        compound: str,
        generated_at: datetime,
        generated_by: str,
    ) -> bytes: ...


def workbook_writer(
    build: WorkbookOf[AnyReport],
    name_of: Callable[[AnyReport], str],
    *,
    lang: str,
    compound: str,
    generated_at: datetime,
    generated_by: str,
) -> Callable[[AnyReport], tuple[bytes, str]]:
    """What an export use case calls once it has the report: the file's bytes and name."""

    def write(report: AnyReport) -> tuple[bytes, str]:
        content = build(
            report,
            lang=lang,
            compound=compound,
            generated_at=generated_at,
            generated_by=generated_by,
        )
        return content, name_of(report)

    return write


def xlsx_download(content: bytes, name: str) -> Response:
    """A workbook as a download that no cache keeps."""
    return Response(
        content,
        media_type=XLSX_TYPE,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


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


def _pairs(sheet: Any, rows: Sequence[tuple[str, object]]) -> None:
    """Label and value rows, as a summary sheet lists them."""
    for label, value in rows:
        sheet.append([_cell(label), _cell(value)])


def _finish_summary(summary: Any) -> None:
    for row in summary.iter_rows():
        for cell in row:
            if isinstance(cell.value, datetime):
                cell.number_format = TIME_FORMAT
    summary.column_dimensions["A"].width = 24
    summary.column_dimensions["B"].width = 22


def _overrides_sheet(
    workbook: Any, text: ReportText, title: str, overrides: Sequence[OverrideLine]
) -> None:
    """Every guard decision with the passage it overrides (both reports)."""
    _sheet(
        workbook,
        title,
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
            for line in overrides
        ],
    )


def report_workbook(
    report: ShiftReport, *, lang: str, compound: str, generated_at: datetime, generated_by: str
) -> bytes:
    """The workbook's bytes."""
    text = ReportText(lang)
    workbook = Workbook()
    summary = workbook.active
    summary.title = text.t("report.sheet.summary")
    totals = report.totals
    _pairs(
        summary,
        (
            (text.t("report.title"), compound),
            (text.t("report.from"), report.start),
            (text.t("report.to"), report.end),
            (text.t("report.generated_at"), generated_at),
            (text.t("report.generated_by"), generated_by),
            (text.t("report.times_note"), "Asia/Shanghai"),
            ("", ""),
        ),
    )
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
    _pairs(
        summary,
        (
            (text.t("report.guard_allowed"), report.guard_decisions(Outcome.ALLOW)),
            (text.t("report.guard_denied"), report.guard_decisions(Outcome.DENY)),
            (text.t("report.alerts_total"), len(report.alerts)),
            (text.t("report.unhandled"), report.unhandled),
            (text.t("report.quarantine_exits"), len(report.quarantine_exits)),
        ),
    )
    _finish_summary(summary)
    _overrides_sheet(workbook, text, text.t("report.sheet.overrides"), report.overrides)
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
    charts_sheet(workbook, text, report.timeline)
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def export_name(report: ShiftReport) -> str:
    """The file name: the shift's local start and end."""
    start = report.start.astimezone(LOCAL_TZ)
    end = report.end.astimezone(LOCAL_TZ)
    return f"shift-report-{start:%Y%m%d-%H%M}-{end:%Y%m%d-%H%M}.xlsx"


def _first_day(moment: datetime) -> str:
    return f"{moment.astimezone(LOCAL_TZ):%Y-%m-%d}"


def _last_day(end: datetime | None) -> str:
    """The last day a status covers: its exclusive end, a local midnight, is the day after."""
    if end is None:
        return ""
    return f"{end.astimezone(LOCAL_TZ) - timedelta(microseconds=1):%Y-%m-%d}"


def daily_workbook(
    report: DailyReport, *, lang: str, compound: str, generated_at: datetime, generated_by: str
) -> bytes:
    """The daily report's workbook: a summary, then one sheet per form."""
    text = ReportText(lang)
    workbook = Workbook()
    summary = workbook.active
    summary.title = text.t("report.sheet.summary")
    totals = report.totals
    occupancy = report.occupancy
    _pairs(
        summary,
        (
            (text.t("daily.title"), compound),
            (text.t("daily.day"), report.day.isoformat()),
            (text.t("report.from"), report.start),
            (text.t("report.to"), report.end),
            (text.t("report.generated_at"), generated_at),
            (text.t("report.generated_by"), generated_by),
            (text.t("report.times_note"), "Asia/Shanghai"),
            ("", ""),
            (text.t("daily.in"), totals.inbound),
            (text.t("daily.out"), totals.outbound),
            (text.t("report.total"), totals.total),
            (text.t("report.guard_allowed"), report.guard_decisions(Outcome.ALLOW)),
            (text.t("report.guard_denied"), report.guard_decisions(Outcome.DENY)),
            (text.t("daily.outsiders"), report.outsiders.persons),
            (text.t("daily.visitors"), report.visitors.persons),
            (text.t("daily.quarantined_count"), len(report.quarantined)),
            (text.t("daily.let_out"), sum(q.let_out for q in report.quarantined)),
            (text.t("daily.inside"), occupancy.inside),
            (text.t("daily.outside"), occupancy.outside),
            (text.t("daily.unknown"), occupancy.unknown),
            (text.t("daily.quarantined_outside"), occupancy.quarantined_outside),
        ),
    )
    _finish_summary(summary)
    _sheet(
        workbook,
        text.t("daily.sheet.hours"),
        [text.t("daily.hour"), text.t("daily.in"), text.t("daily.out"), text.t("report.total")],
        [
            *(
                [f"{row.hour:02d}:00-{row.hour + 1:02d}:00", row.inbound, row.outbound, row.total]
                for row in report.hours
            ),
            [text.t("report.total"), totals.inbound, totals.outbound, totals.total],
        ],
    )
    _sheet(
        workbook,
        text.t("daily.sheet.outcomes"),
        [text.t("report.outcome"), text.t("daily.in"), text.t("daily.out"), text.t("report.total")],
        [
            *(
                [text.outcome(row.outcome), row.inbound, row.outbound, row.total]
                for row in report.outcomes
            ),
            [text.t("report.total"), totals.inbound, totals.outbound, totals.total],
            [],
            [text.t("report.guard_allowed"), "", "", report.guard_decisions(Outcome.ALLOW)],
            [text.t("report.guard_denied"), "", "", report.guard_decisions(Outcome.DENY)],
        ],
    )
    outsiders, visitors = report.outsiders, report.visitors
    _sheet(
        workbook,
        text.t("daily.sheet.visitors"),
        [
            text.t("daily.host"),
            text.t("daily.visitor_count"),
            text.t("daily.in"),
            text.t("daily.out"),
            text.t("report.total"),
        ],
        [
            *(
                [
                    host.home or text.t("daily.no_host"),
                    host.visitors,
                    host.inbound,
                    host.outbound,
                    host.inbound + host.outbound,
                ]
                for host in report.visitors_by_host
            ),
            [
                text.t("daily.visitors"),
                visitors.persons,
                visitors.inbound,
                visitors.outbound,
                visitors.total,
            ],
            [
                text.t("daily.outsiders"),
                outsiders.persons,
                outsiders.inbound,
                outsiders.outbound,
                outsiders.total,
            ],
        ],
    )
    quarantine_rows: list[list[object]] = []
    for person in report.quarantined:
        first = [
            text.name(person.who),
            person.who.home or "",
            text.t(f"status.{person.status.value}"),
            _first_day(person.since),
            _last_day(person.until) or text.t("daily.open_ended"),
        ]
        if not person.attempts:
            quarantine_rows.append([*first, "", "", "", "", "", text.t("daily.no_attempt"), ""])
        for attempt in person.attempts:
            quarantine_rows.append(
                [
                    *first,
                    attempt.seq,
                    attempt.at,
                    attempt.lane,
                    text.direction(attempt.direction),
                    text.outcome(attempt.outcome),
                    text.handling(attempt.handling) if attempt.handling else "",
                    text.outcome(attempt.final),
                ]
            )
    _sheet(
        workbook,
        text.t("daily.sheet.quarantine"),
        [
            text.t("report.person"),
            text.t("report.home"),
            text.t("report.status"),
            text.t("daily.since"),
            text.t("daily.until"),
            text.t("report.seq"),
            text.t("report.time"),
            text.t("report.lane"),
            text.t("report.direction"),
            text.t("report.outcome"),
            text.t("report.handling"),
            text.t("daily.final"),
        ],
        quarantine_rows,
    )
    _overrides_sheet(workbook, text, text.t("daily.sheet.overrides"), report.overrides)
    _sheet(
        workbook,
        text.t("daily.sheet.occupancy"),
        [
            text.t("daily.building"),
            text.t("daily.inside"),
            text.t("daily.outside"),
            text.t("daily.unknown"),
            text.t("report.total"),
        ],
        [
            *(
                [building_label(row.building), row.inside, row.outside, row.unknown, row.total]
                for row in occupancy.buildings
            ),
            [
                text.t("daily.all_buildings"),
                occupancy.inside,
                occupancy.outside,
                occupancy.unknown,
                occupancy.total,
            ],
            [text.t("daily.quarantined_outside"), occupancy.quarantined_outside],
        ],
    )
    charts_sheet(workbook, text, report.timeline)
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def daily_export_name(report: DailyReport) -> str:
    """The daily report's file name: its day."""
    return f"daily-report-{report.day:%Y%m%d}.xlsx"
