"""The building head's daily round: today's quarantined persons, temperatures, needs.

One small form per person (temperature and note) and one per household (a need, and for
a hospital visit an optional one-time escorted exit pass), so a phone on the stairs
needs nothing but plain HTML.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from api.i18n import refusal_text
from api.web.deps import RowId, actor, language, web
from api.web.office_common import (
    RoundPost,
    RoundUser,
    done,
    page,
    scope_of,
)
from gate.app.daily_round import (
    ESCORT_HOURS,
    NeedKind,
    RecordNeed,
    RecordTemperature,
    ResolveNeed,
    parse_temperature,
    record_need,
    record_temperature,
    resolve_need,
)
from gate.app.office_views import todays_round
from gate.app.staff_values import ActiveSession
from gate.domain.errors import ActionRefused

router = APIRouter(prefix="/office/round")
Text = Annotated[str, Form()]


def _round_page(
    request: Request,
    user: ActiveSession,
    *,
    status_code: int = 200,
    error: str | None = None,
    error_at: str | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    today = todays_round(
        actor=actor(request, user, scope_of(user)), units=web(request).services.units
    )
    return page(
        request,
        "office_round.html",
        user,
        status_code=status_code,
        section="round",
        round=today,
        buildings=bool(user.building_keys),
        need_kinds=[kind.value for kind in NeedKind],
        escort_hours=ESCORT_HOURS,
        error=error,
        error_at=error_at,
        form=form or {},
    )


@router.get("")
def round_page(request: Request, user: RoundUser) -> Response:
    """Today's list of quarantined persons in the account's buildings, by household."""
    return _round_page(request, user)


@router.post("/temperature")
def temperature_form(
    request: Request,
    user: RoundPost,
    person: Text = "",
    temperature: Text = "",
    note: Text = "",
) -> Response:
    """Today's temperature of one person; entering it again today replaces it."""
    try:
        command = RecordTemperature(person, parse_temperature(temperature), note)
        replaced = record_temperature(
            command, actor=actor(request, user, scope_of(user)), units=web(request).services.units
        )
    except ActionRefused as problem:
        return _round_page(
            request,
            user,
            status_code=422,
            error=refusal_text(language(request), problem),
            error_at=f"p-{person}",
            form={"temperature": temperature[:10], "note": note[:200]},
        )
    return done(
        "/office/round", "temperature_replaced" if replaced else "temperature_saved", f"p-{person}"
    )


@router.post("/needs")
def need_form(
    request: Request,
    user: RoundPost,
    household: Text = "",
    kind: Text = "",
    detail: Text = "",
    escort: Text = "",
    escort_person: Text = "",
    escort_hours: Text = "",
) -> Response:
    """Note what a household needs; a hospital visit may get a one-time escorted exit pass."""
    try:
        try:
            chosen = NeedKind(kind)
        except ValueError:
            raise ActionRefused("choice", field="need_kind") from None
        try:
            hours = float(escort_hours) if escort_hours.strip() else ESCORT_HOURS
        except ValueError:
            raise ActionRefused("escort_hours_format") from None
        command = RecordNeed(
            household_ref=household,
            kind=chosen,
            detail=detail,
            escort_ref=escort_person if escort else "",
            escort_hours=hours,
        )
        issued = record_need(
            command, actor=actor(request, user, scope_of(user)), units=web(request).services.units
        )
    except ActionRefused as problem:
        return _round_page(
            request,
            user,
            status_code=422,
            error=refusal_text(language(request), problem),
            error_at=f"h-{household}",
            form={"detail": detail[:200]},
        )
    saved = "need_saved" if issued is None else "pass_issued"
    return done("/office/round", saved, f"h-{household}")


@router.post("/needs/{need_id}/resolve")
def resolve_form(request: Request, user: RoundPost, need_id: RowId) -> Response:
    """Mark a need as taken care of (back at its household)."""
    try:
        household = resolve_need(
            ResolveNeed(need_id),
            actor=actor(request, user, scope_of(user)),
            units=web(request).services.units,
        )
    except ActionRefused as problem:
        return _round_page(
            request, user, status_code=422, error=refusal_text(language(request), problem)
        )
    return done("/office/round", "need_resolved", f"h-{household}")
