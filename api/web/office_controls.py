"""Exemptions and rules, for the roles that may change what shapes a passage decision."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from api.i18n import refusal_text
from api.web.deps import RowId, actor, language, now, web
from api.web.office_common import (
    RulesPost,
    RulesUser,
    done,
    local_time,
    not_found,
    page,
)
from gate.app.exemptions import AddExemption, active_exemptions, add_exemption, revoke_exemption
from gate.app.forms import parse_day, parse_local_time
from gate.app.office_views import person_view
from gate.app.rules import ChangeRule, change_rule, list_rules
from gate.app.staff_values import ActiveSession
from gate.domain.documents import DocumentType
from gate.domain.errors import ActionRefused, DocumentInvalid, NotFound
from gate.domain.rules import RULE_PARAMETERS, RuleMode

router = APIRouter(prefix="/office")
Text = Annotated[str, Form()]
Refusals = (ActionRefused, DocumentInvalid)


def _exemptions_page(
    request: Request,
    user: ActiveSession,
    *,
    person_ref: str = "",
    status_code: int = 200,
    error: str | None = None,
    form: dict[str, Any] | None = None,
) -> Response:
    who = actor(request, user)
    units = web(request).services.units
    exemptions = active_exemptions(actor=who, units=units)
    rules = list_rules(actor=who, units=units)
    try:
        person = person_view(person_ref, actor=who, units=units) if person_ref else None
    except NotFound:
        person = None
    return page(
        request,
        "office_exemptions.html",
        user,
        status_code=status_code,
        section="exemptions",
        exemptions=exemptions,
        rule_ids=[rule.rule_id for rule in rules],
        doc_types=[d.value for d in DocumentType],
        person=person,
        error=error,
        form=form or {},
    )


@router.get("/exemptions")
def exemptions_page(request: Request, user: RulesUser, person: str = "") -> Response:
    """Exemptions in force; add one (for a person by ref or by document number)."""
    return _exemptions_page(request, user, person_ref=person[:36])


@router.post("/exemptions")
def add_exemption_form(
    request: Request,
    user: RulesPost,
    rule_ids: Annotated[list[str] | None, Form()] = None,
    person: Text = "",
    doc_type: Text = DocumentType.RESIDENT_ID.value,
    doc_number: Text = "",
    reason: Text = "",
    until: Text = "",
    single_use: Text = "",
) -> Response:
    """Lift named rules for one person until the end of a day (or until revoked)."""
    try:
        try:
            chosen = DocumentType(doc_type)
        except ValueError:
            raise ActionRefused("choice", field="doc_type") from None
        command = AddExemption(
            rule_ids=tuple(rule_ids or ()),
            reason=reason,
            last_day=parse_day(until, field_name="until"),
            single_use=bool(single_use),
            person_ref=person,
            doc_type=chosen,
            doc_number=doc_number,
        )
        add_exemption(command, actor=actor(request, user), units=web(request).services.units)
    except NotFound:
        return not_found(request, user)
    except Refusals as problem:
        form = {
            "rule_ids": rule_ids or [],
            "doc_type": doc_type,
            "reason": reason[:200],
            "until": until[:10],
            "single_use": bool(single_use),
        }
        return _exemptions_page(
            request,
            user,
            person_ref=person[:36],
            status_code=422,
            error=refusal_text(language(request), problem),
            form=form,
        )
    return done("/office/exemptions", "exemption_added")


@router.post("/exemptions/{exemption_id}/revoke")
def revoke_exemption_form(request: Request, user: RulesPost, exemption_id: RowId) -> Response:
    """End an exemption now."""
    try:
        revoke_exemption(
            exemption_id, actor=actor(request, user), units=web(request).services.units
        )
    except NotFound:
        return not_found(request, user)
    except ActionRefused as problem:
        return _exemptions_page(
            request, user, status_code=422, error=refusal_text(language(request), problem)
        )
    return done("/office/exemptions", "exemption_revoked")


def _params_text(params: Any) -> str:
    return "\n".join(
        f"{key}={value if isinstance(value, str) else json.dumps(value)}"
        for key, value in params.items()
    )


def _field_time(moment: datetime | None) -> str:
    return local_time(moment).replace(" ", "T")


def _rules_page(
    request: Request,
    user: ActiveSession,
    *,
    status_code: int = 200,
    error: str | None = None,
    error_at: str | None = None,
) -> Response:
    moment = now()
    rules = list_rules(actor=actor(request, user), units=web(request).services.units)
    rows = [
        {
            "rule": rule,
            "in_force": rule.in_force(moment),
            "params": _params_text(rule.params),
            "known": ", ".join(RULE_PARAMETERS.get(rule.kind, {})),
            "from_field": _field_time(rule.effective_from),
            "to_field": _field_time(rule.effective_to),
        }
        for rule in rules
    ]
    return page(
        request,
        "office_rules.html",
        user,
        status_code=status_code,
        section="rules",
        rows=rows,
        modes=[mode.value for mode in RuleMode],
        error=error,
        error_at=error_at,
    )


@router.get("/rules")
def rules_page(request: Request, user: RulesUser) -> Response:
    """Every rule with its mode, parameters, effective dates and whether it is in force now."""
    return _rules_page(request, user)


@router.post("/rules/{rule_id}")
def rule_form(
    request: Request,
    user: RulesPost,
    rule_id: str,
    mode: Text = "",
    params: Text = "",
    effective_from: Text = "",
    effective_to: Text = "",
    clear_to: Text = "",
) -> Response:
    """Change one rule's mode, parameters or effective dates (audited)."""
    try:
        try:
            chosen = RuleMode(mode)
        except ValueError:
            raise ActionRefused("choice", field="mode") from None
        command = ChangeRule(
            rule_id=rule_id,
            mode=chosen,
            params=params,
            effective_from=parse_local_time(effective_from, field_name="effective_from"),
            effective_to=parse_local_time(effective_to, field_name="effective_to"),
            clear_effective_to=bool(clear_to),
        )
        change_rule(command, actor=actor(request, user), units=web(request).services.units)
    except NotFound:
        return not_found(request, user)
    except ActionRefused as problem:
        return _rules_page(
            request,
            user,
            status_code=422,
            error=refusal_text(language(request), problem),
            error_at=rule_id[:64],
        )
    return done("/office/rules", "rule_saved", f"rule-{rule_id}")
