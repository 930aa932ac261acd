"""Exemptions: lifting named rules for one person, from the office pages and the CLI alike.

Validated here, once: a reason of 1 to ``MAX_REASON`` characters, at least one rule that
exists, a last day that is not in the past, a present person found by ref (from their page)
or by document number. Adding and ending are audited and make running gates reload.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from gate.app.actor import Actor
from gate.app.ports import UnitOfWork, UnitOfWorkFactory
from gate.app.views import ExemptionLine, PersonRef
from gate.domain.documents import DocumentType, validate
from gate.domain.errors import ActionRefused
from gate.domain.rules import RuleKind
from gate.domain.status import end_of_local_day, local_date

MAX_REASON = 200


@dataclass(frozen=True)
class AddExemption:
    """Lift ``rule_ids`` for one person until the end of ``last_day`` (None: until revoked).

    The person is named by ``person_ref`` or, if that is empty, by document.
    """

    rule_ids: tuple[str, ...]
    reason: str
    last_day: date | None = None
    ends_at: datetime | None = None  # an exact end instead of a last day (escorted passes)
    single_use: bool = False
    person_ref: str = ""
    doc_type: DocumentType = DocumentType.RESIDENT_ID
    doc_number: str = ""


def add_exemption(command: AddExemption, *, actor: Actor, units: UnitOfWorkFactory) -> int:
    """Record the exemption; return its id. ``ActionRefused`` says what was wrong."""
    reason = command.reason.strip()
    if not reason:
        raise ActionRefused("required", field="reason")
    if len(reason) > MAX_REASON:
        raise ActionRefused("too_long", field="reason", limit=MAX_REASON)
    wanted = sorted({rule_id.strip() for rule_id in command.rule_ids if rule_id.strip()})
    if not wanted:
        raise ActionRefused("required", field="rule_ids")
    if command.last_day is not None and command.last_day < local_date(actor.at):
        raise ActionRefused("date_past")
    if command.ends_at is not None and command.ends_at <= actor.at:
        raise ActionRefused("date_past")
    with units(actor) as uow:
        known = {rule.rule_id for rule in uow.rules.all()} | {kind.value for kind in RuleKind}
        if any(rule_id not in known for rule_id in wanted):
            raise ActionRefused("choice", field="rule_ids")
        person = _person(uow, command)
        expires_at = command.ends_at or (
            end_of_local_day(command.last_day) if command.last_day else None
        )
        exemption_id = grant_exemption(
            uow,
            person=person,
            rule_ids=wanted,
            reason=reason,
            expires_at=expires_at,
            single_use=command.single_use,
        )
        uow.commit()
    return exemption_id


def grant_exemption(
    uow: UnitOfWork,
    *,
    person: PersonRef,
    rule_ids: list[str],
    reason: str,
    expires_at: datetime | None,
    single_use: bool,
) -> int:
    """Write a checked exemption and its audit row in ``uow``; gates reload at its commit.

    The one way an exemption is added: ``add_exemption`` and the daily round's escorted
    hospital pass (``gate.app.daily_round``) both come through here.
    """
    exemption_id = uow.exemptions.add(
        person=person,
        rule_ids=rule_ids,
        reason=reason,
        expires_at=expires_at,
        single_use=single_use,
    )
    uow.audit(
        "exemption.add",
        f"person:{person.ref}",
        {
            "exemption": exemption_id,
            "rules": rule_ids,
            "reason": reason,
            "expires_at": expires_at.isoformat() if expires_at else None,
            "single_use": single_use,
        },
    )
    uow.registry_changed()
    return exemption_id


def _person(uow: UnitOfWork, command: AddExemption) -> PersonRef:
    if command.person_ref:
        person = uow.persons.by_ref(command.person_ref, uow.actor.scope)
        if person.moved_out:
            raise ActionRefused("moved_out")
        return person
    info = validate(command.doc_type, command.doc_number)
    holder = uow.persons.holder_of(info.doc_type, info.number)
    if holder is None or holder.moved_out:
        raise ActionRefused("no_holder", last4=info.last4)
    return holder


def revoke_exemption(exemption_id: int, *, actor: Actor, units: UnitOfWorkFactory) -> None:
    """End an exemption now (``NotFound``; ``ActionRefused`` if it has already ended)."""
    with units(actor) as uow:
        person, rule_ids, former_end = uow.exemptions.end(exemption_id)
        if former_end is not None and former_end <= actor.at:
            raise ActionRefused("exemption_ended")
        uow.audit(
            "exemption.revoke",
            f"person:{person.ref}",
            {"exemption": exemption_id, "rules": list(rule_ids)},
        )
        uow.registry_changed()
        uow.commit()


def active_exemptions(*, actor: Actor, units: UnitOfWorkFactory) -> list[ExemptionLine]:
    """Every exemption in force at the actor's time (not expired, not used up)."""
    with units(actor) as uow:
        return list(uow.exemptions.active())
