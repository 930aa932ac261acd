"""Exemptions and rules, for the roles that may change what shapes a passage decision."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from api.web.deps import language, now, origin, web
from api.web.office_common import (
    RulesPost,
    RulesUser,
    done,
    local_time,
    not_found,
    page,
    refusal_text,
)
from gate.domain.documents import DocumentType
from gate.domain.errors import DocumentInvalid, NotFound
from gate.domain.policy import RULE_PARAMETERS, RuleMode
from gate.domain.status import end_of_local_day, local_date
from registry.accounts import ActiveSession
from registry.controls import add_exemption, list_rules
from registry.office import OfficeRefused, Scope, active_exemptions, parse_day, parse_local_time
from registry.office_rules import (
    change_rule,
    person_for_exemption,
    revoke_exemption,
)
from registry.office_views import person_view

router = APIRouter(prefix="/office")
Text = Annotated[str, Form()]
Refusals = (OfficeRefused, DocumentInvalid)


def _exemptions_page(
    request: Request,
    user: ActiveSession,
    *,
    person_ref: str = "",
    status_code: int = 200,
    error: str | None = None,
    form: dict[str, Any] | None = None,
) -> Response:
    moment = now()
    with web(request).services.database.session() as db:
        exemptions = active_exemptions(db, now=moment)
        rules = list_rules(db)
        try:
            person = (
                person_view(db, ref=person_ref, scope=Scope(), now=moment) if person_ref else None
            )
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
    moment = now()
    try:
        try:
            chosen = DocumentType(doc_type)
        except ValueError:
            raise OfficeRefused("choice", field="doc_type") from None
        if not reason.strip():
            raise OfficeRefused("required", field="reason")
        if len(reason) > 200:
            raise OfficeRefused("too_long", field="reason", limit=200)
        if not rule_ids:
            raise OfficeRefused("required", field="rule_ids")
        last = parse_day(until, field_name="until")
        if last is not None and last < local_date(moment):
            raise OfficeRefused("date_past")
        with web(request).services.database.session() as db:
            holder = person_for_exemption(
                db,
                cipher=web(request).services.cipher,
                ref=person,
                doc_type=chosen,
                number=doc_number,
            )
            known = {rule.rule_id for rule in list_rules(db)}
            if any(rule_id not in known for rule_id in rule_ids):
                raise OfficeRefused("choice", field="rule_ids")
            add_exemption(
                db,
                person=holder,
                rule_ids=rule_ids,
                reason=reason,
                expires_at=end_of_local_day(last) if last else None,
                actor=user.username,
                origin=origin(request),
                now=moment,
                single_use=bool(single_use),
            )
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
def revoke_exemption_form(request: Request, user: RulesPost, exemption_id: int) -> Response:
    """End an exemption now."""
    try:
        with web(request).services.database.session() as db:
            revoke_exemption(
                db,
                exemption_id=exemption_id,
                now=now(),
                actor=user.username,
                origin=origin(request),
            )
    except NotFound:
        return not_found(request, user)
    except OfficeRefused as problem:
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
    with web(request).services.database.session() as db:
        rules = list_rules(db)
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
            raise OfficeRefused("choice", field="mode") from None
        with web(request).services.database.session() as db:
            change_rule(
                db,
                rule_id=rule_id,
                mode=chosen,
                params_text=params,
                effective_from=parse_local_time(effective_from, field_name="effective_from"),
                effective_to=parse_local_time(effective_to, field_name="effective_to"),
                clear_to=bool(clear_to),
                now=now(),
                actor=user.username,
                origin=origin(request),
            )
    except NotFound:
        return not_found(request, user)
    except OfficeRefused as problem:
        return _rules_page(
            request,
            user,
            status_code=422,
            error=refusal_text(language(request), problem),
            error_at=rule_id[:64],
        )
    return done("/office/rules", "rule_saved", f"rule-{rule_id}")
