"""The daily report: its page and XLSX for staff, ``GET /api/v1/reports/daily`` for machines.

Staff who may read the shift report read the daily report (``/report/daily?date=``, the
day so far when no date is given); its XLSX export is audited, reading the page is not.
Machines call ``/api/v1/reports/daily?date=YYYY-MM-DD`` with a key holding
``reports:read`` (or a staff session with the shift-report permission) and get JSON:
counts, masked names and flats, never a document number. A malformed or future day is
refused in the use case's words (422).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import PlainTextResponse, Response

from api.i18n import refusal_text
from api.web.deps import actor, language, now, render, require, web
from api.web.hub import hub_reach, not_this_compound, refused_compound
from api.web.machine_auth import CompoundCaller, caller_with_compounds
from api.web.report_charts import occupancy_chart, passages_chart
from api.web.report_text import LONG, ReportText, local
from api.web.report_xlsx import (
    daily_export_name,
    daily_workbook,
    workbook_writer,
    xlsx_download,
)
from gate.app.hub import HubCompoundRefused, readable
from gate.app.hub_reports import CompoundDay, HubDailyReport, hub_daily_report
from gate.app.report_values import (
    CrowdCounts,
    DailyReport,
    GuardDecision,
    HourCounts,
    OutcomeCounts,
    Who,
)
from gate.app.reports import daily_report, export_daily_report, today
from gate.app.staff_values import ActiveSession
from gate.domain.api_scopes import ApiScope
from gate.domain.errors import ActionRefused
from gate.domain.model import Outcome
from gate.domain.places import building_label
from gate.domain.roles import Permission

router = APIRouter()
Reader = Annotated[ActiveSession, Depends(require(Permission.SHIFT_REPORT))]
ReportCaller = Annotated[CompoundCaller, Depends(caller_with_compounds(ApiScope.REPORTS_READ))]
DayQuery = Annotated[
    str | None, Query(max_length=40, description="A local day, YYYY-MM-DD; none: today")
]


def _day_link(path: str, day: date) -> str:
    return f"{path}?date={day.isoformat()}"


def _day_navigation(day: date, moment: datetime) -> dict[str, str | None]:
    """The day picker's value and the previous / today / next links of a daily page."""
    return {
        "day_value": day.isoformat(),
        "previous_link": _day_link("/report/daily", day - timedelta(days=1)),
        "today_link": _day_link("/report/daily", today(moment)),
        "next_link": (
            _day_link("/report/daily", day + timedelta(days=1)) if day < today(moment) else None
        ),
    }


@router.get("/report/daily")
def daily_page(request: Request, user: Reader, date: DayQuery = None) -> Response:
    """The daily report of ``date`` (today when none), as a page to read or print."""
    moment = now()
    caller = actor(request, user)
    units = web(request).services.units
    if hub_reach(request, None) is not None:  # a hub's staff read every compound's day
        return _hub_daily_page(request, user, date, moment)
    error = None
    try:
        report = daily_report(date or today(moment), actor=caller, units=units)
    except ActionRefused as refused:
        error = refusal_text(language(request), refused)
        report = daily_report(today(moment), actor=caller, units=units)
    return render(
        request,
        "report_daily.html",
        user,
        status_code=422 if error else 200,
        report=report,
        text=ReportText(language(request)),
        local=local,
        long=LONG,
        building_label=building_label,
        compound=web(request).services.settings.compound.name,
        generated_at=moment,
        **_day_navigation(report.day, moment),
        xlsx_link=_day_link("/report/daily.xlsx", report.day),
        passages_chart=passages_chart(report.timeline, ReportText(language(request)).t),
        occupancy_chart=occupancy_chart(report.timeline, ReportText(language(request)).t),
        outcome_allow=Outcome.ALLOW,
        outcome_deny=Outcome.DENY,
        error=error,
    )


def _hub_daily_page(
    request: Request, user: ActiveSession, date: str | None, moment: datetime
) -> Response:
    """The hub's daily report: each compound's day as its gates pushed it, and all together."""
    caller = actor(request, user)
    units = web(request).services.units
    error = None
    try:
        report = hub_daily_report(date or today(moment), compounds=None, actor=caller, units=units)
    except ActionRefused as refused:
        error = refusal_text(language(request), refused)
        report = hub_daily_report(today(moment), compounds=None, actor=caller, units=units)
    return render(
        request,
        "report_hub_daily.html",
        user,
        status_code=422 if error else 200,
        report=report,
        text=ReportText(language(request)),
        local=local,
        long=LONG,
        generated_at=moment,
        **_day_navigation(report.day, moment),
        error=error,
    )


@router.get("/report/daily.xlsx")
def daily_xlsx(request: Request, user: Reader, date: DayQuery = None) -> Response:
    """The same report as an XLSX file; every export is audited."""
    lang = language(request)
    moment = now()
    context = web(request)

    workbook = workbook_writer(
        daily_workbook,
        daily_export_name,
        lang=lang,
        compound=context.services.settings.compound.name,
        generated_at=moment,
        generated_by=user.display_name,
    )

    try:
        content, name = export_daily_report(
            date or today(moment),
            file_format="xlsx",
            write=workbook,
            actor=actor(request, user),
            units=context.services.units,
        )
    except ActionRefused as refused:
        return PlainTextResponse(refusal_text(lang, refused), status_code=422)
    return xlsx_download(content, name)


@router.get(
    "/api/v1/reports/daily",
    responses={
        200: {
            "description": "The daily report of the local day (Asia/Shanghai, 00:00-24:00)",
            "content": {"application/json": {}},
        },
        401: {"description": "No key, or a revoked or unknown one"},
        403: {"description": "The key lacks reports:read, or may not read the compound"},
        422: {"description": "A malformed day, or one that has not begun"},
        429: {"description": "Over the key's rate; see Retry-After"},
    },
)
def daily_api(
    request: Request,
    caller: ReportCaller,
    date: Annotated[
        str | None, Query(max_length=40, examples=["2026-11-29"], description="YYYY-MM-DD")
    ] = None,
    compound: Annotated[
        str | None,
        Query(
            max_length=32,
            pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$",
            description="Hub mode: only this compound (one the key is bound to)",
        ),
    ] = None,
) -> Response:
    """The daily report as JSON: by hour, by outcome, visitors, quarantine, occupancy.

    On a hub, for a key bound to compounds (a staff session: all), the report of the
    passages those compounds pushed, per compound (``hub_daily_json``).
    """
    units = web(request).services.units
    day = date or today(caller.actor.at)
    reach = hub_reach(request, caller.compounds)
    try:
        if reach is not None:
            compounds = readable(compound, reach.compounds)
            hub_report = hub_daily_report(day, compounds=compounds, actor=caller.actor, units=units)
            body = hub_daily_json(hub_report)
        else:
            other = not_this_compound(request, compound)
            if other is not None:
                return other
            body = daily_json(daily_report(day, actor=caller.actor, units=units))
    except HubCompoundRefused as refused:
        return refused_compound(request, refused)
    except ActionRefused as refused:
        detail = {"detail": refusal_text(language(request), refused), "code": refused.code}
        return Response(orjson.dumps(detail), status_code=422, media_type="application/json")
    return Response(
        orjson.dumps(body), media_type="application/json", headers={"Cache-Control": "no-store"}
    )


def _time(moment: datetime | None) -> str | None:
    return local(moment, "%Y-%m-%dT%H:%M:%S+08:00") if moment else None


def _who(who: Who) -> dict[str, Any]:
    return {"identity_kind": who.identity_kind, "name": who.name, "home": who.home}


def _decision(decision: GuardDecision | None) -> dict[str, Any] | None:
    if decision is None:
        return None
    return {
        "seq": decision.seq,
        "at": _time(decision.at),
        "guard": decision.guard,
        "outcome": decision.outcome,
        "code": decision.code,
        "text": decision.text,
    }


def _counts(
    totals: OutcomeCounts,
    hours: Iterable[HourCounts],
    outcomes: Iterable[OutcomeCounts],
    guard: tuple[int, int],
) -> dict[str, Any]:
    """The counts a gate's and the hub's daily reports share."""
    return {
        "passages": {"in": totals.inbound, "out": totals.outbound, "total": totals.total},
        "by_hour": [
            {"hour": row.hour, "in": row.inbound, "out": row.outbound, "total": row.total}
            for row in hours
        ],
        "by_outcome": {
            row.outcome: {"in": row.inbound, "out": row.outbound, "total": row.total}
            for row in outcomes
        },
        "guard_decisions": {"allow": guard[0], "deny": guard[1]},
    }


def _crowd(crowd: CrowdCounts, persons: int | None) -> dict[str, Any]:
    return {"in": crowd.inbound, "out": crowd.outbound, "persons": persons}


def daily_json(report: DailyReport) -> dict[str, Any]:
    """The report as plain JSON values; times local with ``+08:00``, names masked."""
    occupancy = report.occupancy
    guard = (report.guard_decisions(Outcome.ALLOW), report.guard_decisions(Outcome.DENY))
    return {
        "date": report.day.isoformat(),
        "start": _time(report.start),
        "end": _time(report.end),
        **_counts(report.totals, report.hours, report.outcomes, guard),
        "outsiders": _crowd(report.outsiders, report.outsiders.persons),
        "visitors": {
            **_crowd(report.visitors, report.visitors.persons),
            "by_host": [
                {
                    "home": host.home,
                    "visitors": host.visitors,
                    "in": host.inbound,
                    "out": host.outbound,
                }
                for host in report.visitors_by_host
            ],
        },
        "quarantined": [
            {
                **_who(person.who),
                "status": person.status.value,
                "since": _time(person.since),
                "until": _time(person.until),
                "let_out": person.let_out,
                "attempts": [
                    {
                        "seq": attempt.seq,
                        "at": _time(attempt.at),
                        "lane": attempt.lane,
                        "direction": attempt.direction,
                        "outcome": attempt.outcome,
                        "reasons": [reason.code for reason in attempt.reasons],
                        "guard_decision": _decision(attempt.handling),
                        "final": attempt.final,
                    }
                    for attempt in person.attempts
                ],
            }
            for person in report.quarantined
        ],
        "overrides": [
            {
                **(_decision(line.decision) or {}),
                "lane": line.lane,
                "direction": line.direction,
                "who": _who(line.who),
                "original_seq": line.original_seq,
                "original_at": _time(line.original_at),
                "original_outcome": line.original_outcome,
            }
            for line in report.overrides
        ],
        "occupancy": {
            "inside": occupancy.inside,
            "outside": occupancy.outside,
            "unknown": occupancy.unknown,
            "quarantined_outside": occupancy.quarantined_outside,
            "by_building": [
                {
                    "building": row.building,
                    "inside": row.inside,
                    "outside": row.outside,
                    "unknown": row.unknown,
                }
                for row in occupancy.buildings
            ],
        },
    }


def _compound_day(day: CompoundDay) -> dict[str, Any]:
    return {
        **({"compound_id": day.compound_id} if day.compound_id is not None else {}),
        **_counts(day.totals, day.hours, day.outcomes, (day.guard_allow, day.guard_deny)),
        "replayed": day.replayed,
        "by_credential_kind": {
            kind: {"in": inbound, "out": outbound, "total": inbound + outbound}
            for kind, inbound, outbound in day.credentials
        },
        "refusals_by_reason": dict(day.refusals),
        "outsiders": _crowd(day.outsiders, None),  # the hub cannot tell outsiders apart
        "visitors": _crowd(day.visitors, day.visitors.persons),
    }


def hub_daily_json(report: HubDailyReport) -> dict[str, Any]:
    """The hub's report as plain JSON values: each compound's day, then all together."""
    return {
        "date": report.day.isoformat(),
        "start": _time(report.start),
        "end": _time(report.end),
        "compounds": [_compound_day(day) for day in report.compounds],
        "all": _compound_day(report.together),
    }
