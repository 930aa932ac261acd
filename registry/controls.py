"""What shapes a passage besides the person's status: rules, exemptions and visits.

Each change bumps the registry revision, so running gates reload their snapshot.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from gate.domain.documents import DocumentType, validate
from gate.domain.errors import NotFound, RuleParamsInvalid
from gate.domain.model import ParamValue
from gate.domain.places import building_key, room_key, unit_key
from gate.domain.policy import RULE_PARAMETERS, RuleConfig, RuleKind, RuleMode, invalid_params
from registry.crypto import PersonalDataCipher
from registry.models import (
    Building,
    Document,
    Exemption,
    Household,
    Person,
    Rule,
    Unit,
    Visitor,
)
from registry.service import audit, bump_revision


def rule_config(rule: Rule) -> RuleConfig:
    """The domain form of a stored rule."""
    return RuleConfig(
        rule_id=rule.rule_id,
        kind=RuleKind(rule.kind),
        mode=RuleMode(rule.mode),
        params=dict(rule.params),  # type: ignore[arg-type]
        effective_from=rule.effective_from,
        effective_to=rule.effective_to,
    )


def list_rules(session: Session) -> list[RuleConfig]:
    """All rules, in the order they are evaluated."""
    return [rule_config(rule) for rule in session.scalars(select(Rule).order_by(Rule.rule_id))]


def set_rule(
    session: Session,
    *,
    rule_id: str,
    actor: str,
    origin: str,
    now: datetime,
    mode: RuleMode | None = None,
    params: Mapping[str, ParamValue] | None = None,
    effective_from: datetime | None = None,
    effective_to: datetime | None = None,
    clear_effective_to: bool = False,
) -> RuleConfig:
    """Change a rule's mode, parameters or effective dates; audited."""
    rule = session.get(Rule, rule_id)
    if rule is None:
        raise NotFound(f"no rule {rule_id!r}; see: gate rules list")
    before = rule_config(rule)
    if params and (bad := invalid_params(RuleKind(rule.kind), params)):
        raise RuleParamsInvalid(
            f"rule {rule_id} ({rule.kind}) cannot use parameter(s) {', '.join(bad)}; "
            f"it reads: {', '.join(RULE_PARAMETERS.get(RuleKind(rule.kind), {})) or 'none'}"
        )
    if mode is not None:
        rule.mode = mode.value
    if params:
        rule.params = {**rule.params, **params}
    if effective_from is not None:
        rule.effective_from = effective_from
    if effective_to is not None or clear_effective_to:
        rule.effective_to = effective_to
    rule.updated_at, rule.updated_by = now, actor
    after = rule_config(rule)
    audit(
        session,
        actor=actor,
        origin=origin,
        action="rule.change",
        target=rule_id,
        at=now,
        detail={"before": _describe(before), "after": _describe(after)},
    )
    bump_revision(session)
    return after


def _describe(rule: RuleConfig) -> dict[str, object]:
    return {
        "mode": rule.mode.value,
        "params": dict(rule.params),
        "effective_from": rule.effective_from.isoformat() if rule.effective_from else None,
        "effective_to": rule.effective_to.isoformat() if rule.effective_to else None,
    }


def person_by_document(
    session: Session, *, cipher: PersonalDataCipher, doc_type: DocumentType, number: str
) -> Person:
    """The registered person holding this document; ``NotFound`` otherwise."""
    info = validate(doc_type, number)
    number_hash = cipher.lookup_hash(info.doc_type.value, info.number)
    person = session.scalar(
        select(Person).join(Document).where(Document.number_hash == number_hash)
    )
    if person is None:
        raise NotFound(f"no registered person holds the document ending {info.last4}")
    return person


def add_exemption(
    session: Session,
    *,
    person: Person,
    rule_ids: Iterable[str],
    reason: str,
    expires_at: datetime | None,
    actor: str,
    origin: str,
    now: datetime,
    single_use: bool = False,
) -> Exemption:
    """Lift the named rules for ``person`` until ``expires_at``, once if ``single_use``; audited."""
    known = set(session.scalars(select(Rule.rule_id))) | {kind.value for kind in RuleKind}
    wanted = sorted(set(rule_ids))
    unknown = [rule_id for rule_id in wanted if rule_id not in known]
    if unknown or not wanted:
        raise NotFound(f"unknown rule(s) {unknown or '(none given)'}; see: gate rules list")
    if not reason.strip():
        raise ValueError("an exemption needs a reason")
    exemption = Exemption(
        person_id=person.id,
        rule_ids=wanted,
        reason=reason.strip(),
        expires_at=expires_at,
        single_use=single_use,
        recorded_by=actor,
        recorded_at=now,
    )
    session.add(exemption)
    audit(
        session,
        actor=actor,
        origin=origin,
        action="exemption.add",
        target=f"person:{person.ref}",
        at=now,
        detail={
            "rules": wanted,
            "reason": exemption.reason,
            "expires_at": _iso(expires_at),
            "single_use": single_use,
        },
    )
    bump_revision(session)
    return exemption


def find_household(session: Session, *, building: str, unit: str, room: str) -> Household:
    """A household by its labels ("3号楼", "2", "502"); ``NotFound`` otherwise."""
    household = session.scalar(
        select(Household)
        .join(Unit)
        .join(Building)
        .where(
            Building.key == building_key(building),
            Unit.key == unit_key(unit),
            Household.room == room_key(room),
        )
    )
    if household is None:
        raise NotFound(f"no household {building}/{unit}/{room}")
    return household


def register_visitor(
    session: Session,
    *,
    cipher: PersonalDataCipher,
    name: str,
    doc_type: DocumentType,
    number: str,
    host: Household | None,
    reason: str,
    starts_at: datetime,
    ends_at: datetime,
    actor: str,
    origin: str,
    now: datetime,
) -> Visitor:
    """Record a visit; the visitor's document is stored like any other; audited."""
    info = validate(doc_type, number, today=None)
    if ends_at <= starts_at:
        raise ValueError("a visit must end after it starts")
    if not name.strip() or not reason.strip():
        raise ValueError("a visit needs the visitor's name and a reason")
    visitor = Visitor(
        name=name.strip(),
        doc_type=info.doc_type,
        number_hash=cipher.lookup_hash(info.doc_type.value, info.number),
        number_cipher=cipher.encrypt("document", info.number),
        number_last4=info.last4,
        host_household=host,
        reason=reason.strip(),
        starts_at=starts_at,
        ends_at=ends_at,
        registered_by=actor,
        registered_at=now,
    )
    session.add(visitor)
    session.flush()
    audit(
        session,
        actor=actor,
        origin=origin,
        action="visitor.register",
        target=f"visitor:{visitor.ref}",
        at=now,
        detail={"host": host.ref if host else None, "until": ends_at.isoformat()},
    )
    bump_revision(session)
    return visitor


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
