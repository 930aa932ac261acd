"""What the office pages share: who may do what, scope refusals, messages, page rendering.

A building head's scope is the buildings of their account; reaching for a household or
person outside it is refused with 403 and an audit row (``deny``), exactly like a missing
permission. Input the registry refuses comes back on the same page, in the user's
language, with status 422 and nothing written.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response

from api.i18n import t
from api.web.deps import language, render, require, require_csrf
from gate.app.actor import Scope
from gate.app.staff_values import ActiveSession
from gate.domain.documents import mask
from gate.domain.people import FEVER_FROM, mask_name
from gate.domain.places import natural_key
from gate.domain.roles import Permission, scoped_to_buildings, scoped_to_units
from gate.domain.status import LOCAL_TZ

OfficeUser = Annotated[ActiveSession, Depends(require(Permission.OFFICE))]
OfficePost = Annotated[ActiveSession, Depends(require_csrf(Permission.OFFICE))]
RoundUser = Annotated[ActiveSession, Depends(require(Permission.DAILY_ROUND))]
RoundPost = Annotated[ActiveSession, Depends(require_csrf(Permission.DAILY_ROUND))]
RulesUser = Annotated[ActiveSession, Depends(require(Permission.MANAGE_RULES))]
RulesPost = Annotated[ActiveSession, Depends(require_csrf(Permission.MANAGE_RULES))]
IoUser = Annotated[ActiveSession, Depends(require(Permission.REGISTRY_IO))]
IoPost = Annotated[ActiveSession, Depends(require_csrf(Permission.REGISTRY_IO))]
AssessmentUser = Annotated[ActiveSession, Depends(require(Permission.IMPACT_ASSESSMENT))]
AssessmentPost = Annotated[ActiveSession, Depends(require_csrf(Permission.IMPACT_ASSESSMENT))]

# What a redirect after a successful form may announce (``?done=``); anything else is ignored.
DONE = frozenset(
    {
        "person_added",
        "person_saved",
        "person_unchanged",
        "moved_out",
        "status_started",
        "status_ended",
        "temperature_saved",
        "temperature_replaced",
        "need_saved",
        "pass_issued",
        "need_resolved",
        "exemption_added",
        "exemption_revoked",
        "rule_saved",
        "face_consented",
        "face_enrolled",
        "face_withdrawn",
        "assessment_recorded",
    }
)


def scope_of(user: ActiveSession) -> Scope:
    """The buildings ``user`` may see."""
    if scoped_to_units(user.role):
        return Scope.of_units(user.unit_keys)
    if scoped_to_buildings(user.role):
        return Scope(frozenset(user.building_keys))
    return Scope()


def local_time(moment: datetime | None) -> str:
    """``2020-02-03 14:05`` in Asia/Shanghai; empty for None."""
    return moment.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M") if moment else ""


def last_day(moment: datetime | None) -> str:
    """An exclusive end as the day it covers (``2020-02-14`` for 02-15 00:00 local)."""
    if moment is None:
        return ""
    local = moment.astimezone(LOCAL_TZ)
    if (local.hour, local.minute, local.second, local.microsecond) == (0, 0, 0, 0):
        return (local - timedelta(days=1)).strftime("%Y-%m-%d")
    return local.strftime("%Y-%m-%d %H:%M")


def masked_document(last4: str) -> str:
    """A document number as lists show it."""
    return mask("*" * 14 + last4) if last4 else ""


def page(
    request: Request,
    template: str,
    user: ActiveSession,
    *,
    status_code: int = 200,
    **values: Any,
) -> Response:
    """An office page with its helpers, and the ``?done=`` message of a finished form."""
    lang = language(request)
    done = request.query_params.get("done")
    buildings = sorted(user.building_keys, key=natural_key)
    return render(
        request,
        template,
        user,
        status_code=status_code,
        done=t(lang, f"office.done.{done}") if done in DONE else None,
        building_names=t(lang, "office.list_separator").join(
            t(lang, "office.building_label", number=key) for key in buildings
        ),
        mask_name=mask_name,
        masked_document=masked_document,
        local_time=local_time,
        last_day=last_day,
        fever_from=FEVER_FROM,
        **values,
    )


def not_found(request: Request, user: ActiveSession) -> Response:
    """The 404 page."""
    message = t(language(request), "error.not_found")
    return render(
        request, "error.html", user, status_code=404, status_code_text=404, message=message
    )


def done(path: str, key: str, anchor: str = "") -> RedirectResponse:
    """Back to a page after a form succeeded, saying what was done."""
    # The anchor may carry a ref from the form: keep only what an element id can hold.
    fragment = re.sub(r"[^A-Za-z0-9_-]", "", anchor)[:64]
    return RedirectResponse(
        f"{path}?done={key}{'#' + fragment if fragment else ''}", status_code=303
    )
