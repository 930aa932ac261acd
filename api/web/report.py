"""The shift report (page, print, XLSX) and, through ``report_audit``, the audit log.

Guards, the office, auditors and the administrator read the shift report; only auditors
and the administrator the audit log. Names are masked, document numbers never shown.
An XLSX export is audited; reading the page is not.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import PlainTextResponse, Response

from api.i18n import t
from api.web import report_audit, report_daily
from api.web.deps import actor, language, now, render, require, web
from api.web.report_charts import occupancy_chart, passages_chart
from api.web.report_text import LONG, ReportText, local
from api.web.report_xlsx import export_name, report_workbook, workbook_writer, xlsx_download
from gate.app.report_values import ShiftReport
from gate.app.reports import SHIFT_LENGTH, export_shift_report, shift_containing, shift_report
from gate.app.staff_values import ActiveSession
from gate.domain.errors import ActionRefused
from gate.domain.model import Outcome
from gate.domain.roles import Permission
from gate.domain.status import FIRST_DAY, LAST_DAY, LOCAL_TZ, within_calendar

router = APIRouter()
router.include_router(report_audit.router)
router.include_router(report_daily.router)

Reader = Annotated[ActiveSession, Depends(require(Permission.SHIFT_REPORT))]
INPUT_FORMAT = "%Y-%m-%dT%H:%M"
_SPACED_OFFSET = re.compile(r"(T\d\d:\d\d(?::\d\d(?:\.\d+)?)?) (\d\d:?\d\d)$")


class WindowRejected(ValueError):
    """A report window that cannot be read; ``message`` is for the screen."""

    def __init__(self, key: str, **params: object) -> None:
        self.key = key
        self.params = params
        super().__init__(key)


# The use case's refusals of a window, in the report's words.
_REFUSALS = {"date_order": "report.error.order", "report_span": "report.error.span"}


def window_error(lang: str, problem: WindowRejected | ActionRefused) -> str:
    """Why the window asked for cannot be shown."""
    if isinstance(problem, WindowRejected):
        return t(lang, problem.key, **problem.params)
    return t(lang, _REFUSALS.get(problem.code, "report.error.bad_time"), **problem.params)


def parse_moment(value: str) -> datetime:
    """A moment typed or linked (``2020-02-01T08:00``, local unless it names its offset)."""
    text = value.strip()
    # An unescaped "+08:00" in a query string arrives as " 08:00".
    text = _SPACED_OFFSET.sub(r"\1+\2", text).replace(" ", "T", 1)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise WindowRejected("report.error.bad_time") from None
    if not within_calendar(moment):
        raise WindowRejected("report.error.out_of_range", first=FIRST_DAY.year, last=LAST_DAY.year)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LOCAL_TZ)
    return moment.astimezone(UTC)


def report_window(start: str | None, end: str | None, *, at: datetime) -> tuple[datetime, datetime]:
    """The window asked for; the shift holding ``at`` when none; one shift from a lone end."""
    if not start and not end:
        return shift_containing(at)
    begin = parse_moment(start) if start else None
    finish = parse_moment(end) if end else None
    if begin is None:
        assert finish is not None
        begin = finish - SHIFT_LENGTH
    if finish is None:
        finish = begin + SHIFT_LENGTH
    return begin, finish


def _link(path: str, start: datetime, end: datetime) -> str:
    return (
        f"{path}?start={start.astimezone(LOCAL_TZ):{INPUT_FORMAT}}"
        f"&end={end.astimezone(LOCAL_TZ):{INPUT_FORMAT}}"
    )


@router.get("/report")
def report_page(
    request: Request, user: Reader, start: str | None = None, end: str | None = None
) -> Response:
    """The shift report of ``[start, end)``, by default the current shift."""
    moment = now()
    units = web(request).services.units
    try:
        begin, finish = report_window(start, end, at=moment)
        report = shift_report(begin, finish, actor=actor(request, user), units=units)
    except (WindowRejected, ActionRefused) as problem:
        current = shift_report(*shift_containing(moment), actor=actor(request, user), units=units)
        error = window_error(language(request), problem)
        return _render(request, user, current, moment, error=error, status_code=422)
    return _render(request, user, report, moment)


def _render(
    request: Request,
    user: ActiveSession,
    report: ShiftReport,
    moment: datetime,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    start, end = report.start, report.end
    current = shift_containing(moment)
    return render(
        request,
        "report.html",
        user,
        status_code=status_code,
        report=report,
        text=ReportText(language(request)),
        local=local,
        long=LONG,
        compound=web(request).services.settings.compound.name,
        generated_at=moment,
        start_value=f"{start.astimezone(LOCAL_TZ):{INPUT_FORMAT}}",
        end_value=f"{end.astimezone(LOCAL_TZ):{INPUT_FORMAT}}",
        previous_link=_link("/report", start - SHIFT_LENGTH, start),
        next_link=_link("/report", end, end + SHIFT_LENGTH),
        current_link=_link("/report", *current),
        xlsx_link=_link("/report.xlsx", start, end),
        passages_chart=passages_chart(report.timeline, ReportText(language(request)).t),
        occupancy_chart=occupancy_chart(report.timeline, ReportText(language(request)).t),
        shift_link=lambda at: _link("/report", *shift_containing(at)),
        outcome_allow=Outcome.ALLOW,
        outcome_deny=Outcome.DENY,
        error=error,
    )


@router.get("/report.xlsx")
def report_xlsx(
    request: Request, user: Reader, start: str | None = None, end: str | None = None
) -> Response:
    """The same report as an XLSX file; every export is audited."""
    lang = language(request)
    moment = now()
    context = web(request)

    workbook = workbook_writer(
        report_workbook,
        export_name,
        lang=lang,
        compound=context.services.settings.compound.name,
        generated_at=moment,
        generated_by=user.display_name,
    )

    try:
        begin, finish = report_window(start, end, at=moment)
        content, name = export_shift_report(
            begin,
            finish,
            file_format="xlsx",
            write=workbook,
            actor=actor(request, user),
            units=context.services.units,
        )
    except (WindowRejected, ActionRefused) as problem:
        return PlainTextResponse(window_error(lang, problem), status_code=422)
    return xlsx_download(content, name)
