"""The building head's daily round: temperatures of quarantined persons, household needs.

Validated here, once: a temperature within ``TEMPERATURE_RANGE`` (kept to a tenth), notes
of at most ``MAX_NOTE`` characters, and for an escorted hospital exit a hospital need, a
present person of that household and ``ESCORT_HOURS_RANGE`` hours. The pass is a
single-use exemption from the quarantine rule, added the one way exemptions are added
(``gate.app.exemptions.grant_exemption``) in the transaction of the need. A building head
reaches only their buildings (``OutOfScope``). Every change is audited once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from gate.app.actor import Actor
from gate.app.exemptions import grant_exemption
from gate.app.ports import UnitOfWorkFactory
from gate.domain.errors import ActionRefused
from gate.domain.people import FEVER_FROM
from gate.domain.rules import RuleKind
from gate.domain.status import local_date

TEMPERATURE_RANGE = (35.0, 42.0)
MAX_NOTE = 500
ESCORT_REASON = "就医（陪同）"
ESCORT_HOURS = 6.0
ESCORT_HOURS_RANGE = (0.5, 24.0)


class NeedKind(StrEnum):
    """What a quarantined household asks for."""

    FOOD = "food"
    MEDICINE = "medicine"
    HOSPITAL = "hospital"
    OTHER = "other"


def parse_temperature(text: str) -> float:
    """A temperature as typed ("36.6", "42,0", "37.5℃"); whether it is plausible is for
    ``record_temperature`` to say."""
    value = text.strip().replace(",", ".").removesuffix("℃").removesuffix("°C").strip()
    try:
        return float(value)
    except ValueError:
        raise ActionRefused("temperature_format") from None


def _note(text: str, field_name: str) -> str:
    note = text.strip()
    if len(note) > MAX_NOTE:
        raise ActionRefused("too_long", field=field_name, limit=MAX_NOTE)
    return note


@dataclass(frozen=True)
class RecordTemperature:
    """Today's temperature of one person (°C); a second one the same day replaces it."""

    person_ref: str
    temperature: float
    note: str = ""


def record_temperature(
    command: RecordTemperature, *, actor: Actor, units: UnitOfWorkFactory
) -> bool:
    """Store the temperature of the actor's local day; True if it replaced one (audited)."""
    low, high = TEMPERATURE_RANGE
    if not math.isfinite(command.temperature) or not low <= command.temperature <= high:
        raise ActionRefused("temperature_range", low=low, high=high)
    value = round(command.temperature, 1)
    note = _note(command.note, "note")
    with units(actor) as uow:
        person = uow.persons.by_ref(command.person_ref, actor.scope)
        if person.moved_out:
            raise ActionRefused("moved_out")
        day = local_date(actor.at)
        replaced = uow.daily_round.record_check(person, day=day, temperature=value, note=note)
        uow.audit(
            "health_check.record",
            f"person:{person.ref}",
            {"day": day.isoformat(), "replaced": replaced, "fever": value >= FEVER_FROM},
        )
        uow.commit()
    return replaced


@dataclass(frozen=True)
class RecordNeed:
    """A household's need; for a hospital visit, ``escort_ref`` (one of the household)
    gets a one-time exit pass for ``escort_hours``."""

    household_ref: str
    kind: NeedKind
    detail: str = ""
    escort_ref: str = ""
    escort_hours: float = ESCORT_HOURS


def record_need(command: RecordNeed, *, actor: Actor, units: UnitOfWorkFactory) -> int | None:
    """Record the need (audited); return the escorted pass's exemption id, if one was issued."""
    detail = _note(command.detail, "detail")
    if command.escort_ref:
        if command.kind is not NeedKind.HOSPITAL:
            raise ActionRefused("escort_not_hospital")
        low, high = ESCORT_HOURS_RANGE
        if not (math.isfinite(command.escort_hours) and low <= command.escort_hours <= high):
            raise ActionRefused("escort_hours", low=low, high=high)
    with units(actor) as uow:
        household = uow.daily_round.household(command.household_ref, actor.scope)
        escorted = None
        if command.escort_ref:
            members = uow.daily_round.members(household.ref)
            escorted = next((p for p in members if p.ref == command.escort_ref), None)
            if escorted is None:
                raise ActionRefused("escort_person")
        need_id = uow.daily_round.add_need(household.ref, kind=command.kind.value, detail=detail)
        uow.audit(
            "need.record",
            f"household:{household.ref}",
            {"need": need_id, "kind": command.kind.value, "escort": escorted is not None},
        )
        exemption_id = None
        if escorted is not None:
            exemption_id = grant_exemption(
                uow,
                person=escorted,
                rule_ids=[RuleKind.QUARANTINE.value],
                reason=ESCORT_REASON,
                expires_at=actor.at + timedelta(hours=command.escort_hours),
                single_use=True,
            )
        uow.commit()
    return exemption_id


@dataclass(frozen=True)
class ResolveNeed:
    """Mark a need as taken care of."""

    need_id: int


def resolve_need(command: ResolveNeed, *, actor: Actor, units: UnitOfWorkFactory) -> str:
    """Resolve the need now; return its household's ref (``NotFound``, ``ActionRefused``)."""
    with units(actor) as uow:
        need = uow.daily_round.need(command.need_id)
        household = uow.daily_round.household(need.household_ref, actor.scope)
        if need.status != "open":
            raise ActionRefused("need_resolved")
        uow.daily_round.resolve_need(need.id)
        uow.audit(
            "need.resolve", f"household:{household.ref}", {"need": need.id, "kind": need.kind}
        )
        uow.commit()
    return household.ref
