"""The audit log for auditors and the administrator: filter, page, export as CSV.

The log is append-only, so there is no route that edits or deletes an event. Reading
it leaves no trace (it would drown the log in its own reads); exporting it is audited.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping
from datetime import date, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import PlainTextResponse, Response, StreamingResponse

from api.i18n import t
from api.web.deps import MAX_ROW_ID, language, now, render, require, web
from api.web.deps import actor as who
from api.web.report_text import local
from gate.app.report_values import AuditFilter
from gate.app.reports import AUDIT_PAGE_SIZE, audit_actions, audit_page, export_audit_log
from gate.app.spreadsheet import neutralise
from gate.app.staff_values import ActiveSession
from gate.domain.errors import ActionRefused
from gate.domain.roles import Permission
from gate.domain.status import LOCAL_TZ, start_of_local_day, within_calendar

router = APIRouter()
Auditor = Annotated[ActiveSession, Depends(require(Permission.AUDIT))]
MAX_FIELD = 64
CSV_HEADING = ("id", "time", "actor", "origin", "action", "target", "detail")


class FilterRejected(ValueError):
    """Filters that cannot be read; ``key`` names the message."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(key)


def compact(detail: Mapping[str, Any]) -> str:
    """An event's detail as one short line of JSON."""
    return json.dumps(
        detail, ensure_ascii=False, separators=(",", ":"), sort_keys=True, default=str
    )


def _day(value: str) -> date | None:
    if not value.strip():
        return None
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise FilterRejected("audit.error.bad_date") from None
    if not within_calendar(day):
        raise FilterRejected("audit.error.out_of_range")
    return day


def audit_filter(action: str, actor: str, start: str, end: str) -> AuditFilter:
    """The filters of the form; dates are local days, the end day included."""
    first, last = _day(start), _day(end)
    return AuditFilter(
        action=action.strip(),
        actor=actor.strip(),
        start=start_of_local_day(first) if first else None,
        end=start_of_local_day(last + timedelta(days=1)) if last else None,
    )


def _error_key(problem: FilterRejected | ActionRefused) -> str:
    """The message of filters that cannot be read (``date_order``: the end before the start)."""
    return problem.key if isinstance(problem, FilterRejected) else "audit.error.order"


def _query(**values: str | int | None) -> str:
    kept = {key: value for key, value in values.items() if value not in (None, "")}
    return urlencode(kept)


FilterText = Annotated[str, Query(max_length=MAX_FIELD)]


@router.get("/audit")
def audit_log(
    request: Request,
    user: Auditor,
    action: FilterText = "",
    actor: FilterText = "",
    start: FilterText = "",
    end: FilterText = "",
    before: Annotated[int | None, Query(ge=1, le=MAX_ROW_ID)] = None,
    after: Annotated[int | None, Query(ge=0, le=MAX_ROW_ID)] = None,
) -> Response:
    """A page of the audit log, newest first, with its filters."""
    filters_form = {"action": action, "actor": actor, "start": start, "end": end}
    reader, units = who(request, user), web(request).services.units
    error = None
    try:
        filters = audit_filter(action, actor, start, end)
        page = audit_page(filters, before=before, after=after, actor=reader, units=units)
    except (FilterRejected, ActionRefused) as problem:
        error = t(language(request), _error_key(problem))
        filters = AuditFilter(action=action.strip(), actor=actor.strip())
        page = audit_page(filters, before=before, after=after, actor=reader, units=units)
    actions = audit_actions(actor=reader, units=units)
    paged = before is not None or after is not None
    return render(
        request,
        "audit.html",
        user,
        status_code=422 if error else 200,
        page=page,
        actions=actions,
        form=filters_form,
        error=error,
        local=local,
        compact=compact,
        size=AUDIT_PAGE_SIZE,
        newest_link=f"/audit?{_query(**filters_form)}" if paged else None,
        newer_link=f"/audit?{_query(**filters_form, after=page.newer_than)}"
        if page.newer_than
        else None,
        older_link=f"/audit?{_query(**filters_form, before=page.older_than)}"
        if page.older_than
        else None,
        csv_link=f"/audit.csv?{_query(**filters_form)}",
    )


@router.get("/audit.csv")
def audit_csv(
    request: Request,
    user: Auditor,
    action: FilterText = "",
    actor: FilterText = "",
    start: FilterText = "",
    end: FilterText = "",
) -> Response:
    """The filtered audit log as CSV (UTF-8 with BOM for spreadsheets); audited."""
    moment = now()
    try:
        filters = audit_filter(action, actor, start, end)
        lines = export_audit_log(
            filters, file_format="csv", actor=who(request, user), units=web(request).services.units
        )
    except (FilterRejected, ActionRefused) as problem:
        return PlainTextResponse(t(language(request), _error_key(problem)), status_code=422)

    def rows() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_HEADING)
        yield "\ufeff" + _drain(buffer)
        for count, line in enumerate(lines, start=1):
            writer.writerow(
                [
                    line.id,
                    line.at.astimezone(LOCAL_TZ).isoformat(timespec="seconds"),
                    *(
                        neutralise(value)
                        for value in (
                            line.actor,
                            line.origin,
                            line.action,
                            line.target,
                            compact(line.detail),
                        )
                    ),
                ]
            )
            if count % 500 == 0:
                yield _drain(buffer)
        yield _drain(buffer)

    name = f"audit-{moment.astimezone(LOCAL_TZ):%Y%m%d-%H%M}.csv"
    return StreamingResponse(
        rows(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
