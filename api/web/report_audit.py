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
from api.web.deps import language, now, origin, render, require, web
from api.web.report_text import local
from gate.domain.roles import Permission
from gate.domain.status import LOCAL_TZ, start_of_local_day
from registry.accounts import ActiveSession
from registry.reports_audit import (
    AUDIT_PAGE_SIZE,
    AuditFilter,
    audit_actions,
    audit_events,
    audit_page,
)
from registry.service import audit
from registry.tabular import neutralise

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
        return date.fromisoformat(value.strip())
    except ValueError:
        raise FilterRejected("audit.error.bad_date") from None


def audit_filter(action: str, actor: str, start: str, end: str) -> AuditFilter:
    """The filters of the form; dates are local days, the end day included."""
    first, last = _day(start), _day(end)
    if first and last and first > last:
        raise FilterRejected("audit.error.order")
    return AuditFilter(
        action=action.strip(),
        actor=actor.strip(),
        start=start_of_local_day(first) if first else None,
        end=start_of_local_day(last + timedelta(days=1)) if last else None,
    )


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
    before: Annotated[int | None, Query(ge=1)] = None,
    after: Annotated[int | None, Query(ge=0)] = None,
) -> Response:
    """A page of the audit log, newest first, with its filters."""
    filters_form = {"action": action, "actor": actor, "start": start, "end": end}
    error = None
    try:
        filters = audit_filter(action, actor, start, end)
    except FilterRejected as rejected:
        error = t(language(request), rejected.key)
        filters = AuditFilter(action=action.strip(), actor=actor.strip())
    with web(request).services.database.session() as db:
        page = audit_page(db, filters=filters, before=before, after=after)
        actions = audit_actions(db)
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
    try:
        filters = audit_filter(action, actor, start, end)
    except FilterRejected as rejected:
        return PlainTextResponse(t(language(request), rejected.key), status_code=422)
    moment = now()
    database = web(request).services.database
    with database.session() as db:
        audit(
            db,
            actor=user.username,
            origin=origin(request),
            action="audit.export",
            target="audit_log",
            at=moment,
            detail={"format": "csv", "action": action, "actor": actor, "start": start, "end": end},
        )

    def rows() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_HEADING)
        yield "\ufeff" + _drain(buffer)
        with database.session() as db:
            for count, line in enumerate(audit_events(db, filters=filters), start=1):
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
