"""Exemptions and rules as the property office changes them from its pages.

Rule parameters are checked against what each kind of rule reads before they are stored:
a curfew starting at "25:00" would otherwise only fail later, inside every decision.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from gate.domain.documents import DocumentType, validate
from gate.domain.errors import NotFound
from gate.domain.model import ParamValue
from gate.domain.policy import RULE_PARAMETERS, RuleKind, RuleMode
from registry.controls import set_rule
from registry.crypto import PersonalDataCipher
from registry.models import Document, Exemption, Person, Rule
from registry.office import OfficeRefused, Scope, load_person
from registry.service import audit, bump_revision


def person_for_exemption(
    session: Session, *, cipher: PersonalDataCipher, ref: str, doc_type: DocumentType, number: str
) -> Person:
    """The person an exemption is for: by ref (from their page) or by document number."""
    if ref:
        person = load_person(session, ref, Scope())
        if person.moved_out_at is not None:
            raise OfficeRefused("moved_out")
        return person
    info = validate(doc_type, number)
    holder = session.scalar(
        select(Person)
        .join(Document)
        .where(Document.number_hash == cipher.lookup_hash(info.doc_type.value, info.number))
    )
    if holder is None or holder.moved_out_at is not None:
        raise OfficeRefused("no_holder", last4=info.last4)
    return holder


def revoke_exemption(
    session: Session, *, exemption_id: int, now: datetime, actor: str, origin: str
) -> None:
    """End an exemption now."""
    exemption = session.get(Exemption, exemption_id)
    if exemption is None:
        raise NotFound("no such exemption")
    if exemption.expires_at is not None and exemption.expires_at <= now:
        raise OfficeRefused("exemption_ended")
    person = session.get(Person, exemption.person_id)
    assert person is not None
    exemption.expires_at = now
    audit(
        session,
        actor=actor,
        origin=origin,
        action="exemption.revoke",
        target=f"person:{person.ref}",
        at=now,
        detail={"exemption": exemption.id, "rules": list(exemption.rule_ids)},
    )
    bump_revision(session)


def parse_params(kind: RuleKind, text: str) -> dict[str, ParamValue]:
    """``key=value`` lines (or ``;``-separated) checked against what the rule kind reads."""
    known = RULE_PARAMETERS.get(kind, {})
    params: dict[str, ParamValue] = {}
    for item in text.replace(";", "\n").splitlines():
        line = item.strip()
        if not line:
            continue
        key, sep, raw = line.partition("=")
        key, raw = key.strip(), raw.strip()
        if not sep or not key:
            raise OfficeRefused("param_format", line=line[:40])
        if key not in known:
            raise OfficeRefused("param_unknown", name=key[:40], known=", ".join(known) or "—")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        if not known[key](value):
            raise OfficeRefused("param_value", name=key)
        params[key] = value
    return params


def change_rule(
    session: Session,
    *,
    rule_id: str,
    mode: RuleMode,
    params_text: str,
    effective_from: datetime | None,
    effective_to: datetime | None,
    clear_to: bool,
    now: datetime,
    actor: str,
    origin: str,
) -> None:
    """Change a rule from the rules page (checked first, then ``set_rule``, audited)."""
    rule = session.get(Rule, rule_id)
    if rule is None:
        raise NotFound(f"no rule {rule_id!r}")
    params = parse_params(RuleKind(rule.kind), params_text)
    start = effective_from or rule.effective_from
    end = None if clear_to else (effective_to or rule.effective_to)
    if start is not None and end is not None and end <= start:
        raise OfficeRefused("date_order")
    set_rule(
        session,
        rule_id=rule_id,
        actor=actor,
        origin=origin,
        now=now,
        mode=mode,
        params=params,
        effective_from=effective_from,
        effective_to=effective_to,
        clear_effective_to=clear_to,
    )
