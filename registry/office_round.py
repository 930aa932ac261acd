"""The building head's daily round: quarantined persons, temperatures, household needs.

A hospital need can come with a one-time escorted exit pass: a single-use exemption from
the quarantine rule that expires after a few hours.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from gate.app.actor import Actor, Scope
from gate.app.views import ExemptionLine
from gate.domain.errors import ActionRefused, NotFound
from gate.domain.places import natural_key
from gate.domain.status import local_date, start_of_local_day
from registry.models import Building, HealthCheck, Household, HouseholdNeed, Person, Unit
from registry.office import (
    FEVER_FROM,
    MAX_TEXT,
    TEMPERATURE_RANGE,
    HouseholdLine,
    NeedLine,
    PersonLine,
    household_line,
    in_scope,
    load_household,
    load_person,
    need_line,
    person_line,
    present,
)
from registry.service import audit, bump_revision
from registry.status_rows import quarantined_at
from registry.stores import SqlExemptionStore, active_exemptions, person_ref

ESCORT_REASON = "就医（陪同）"
ESCORT_HOURS = 6.0
ESCORT_HOURS_RANGE = (0.5, 24.0)


class NeedKind(StrEnum):
    """What a quarantined household asks for."""

    FOOD = "food"
    MEDICINE = "medicine"
    HOSPITAL = "hospital"
    OTHER = "other"


@dataclass(frozen=True)
class RoundPerson:
    """A quarantined person on today's round, with today's temperature if taken."""

    line: PersonLine
    temperature: float | None
    note: str
    checked_by: str | None

    @property
    def fever(self) -> bool:
        """True for a temperature the building head must act on."""
        return self.temperature is not None and self.temperature >= FEVER_FROM


@dataclass(frozen=True)
class RoundHousehold:
    """A household on the round: its quarantined persons, needs and escorted passes."""

    household: HouseholdLine
    persons: tuple[RoundPerson, ...]
    needs: tuple[NeedLine, ...]
    passes: tuple[ExemptionLine, ...]


@dataclass(frozen=True)
class DailyRound:
    """Today's round over the buildings in scope."""

    day: date
    households: tuple[RoundHousehold, ...] = field(default_factory=tuple)

    @property
    def persons(self) -> int:
        """Quarantined persons on the round."""
        return sum(len(item.persons) for item in self.households)

    @property
    def checked(self) -> int:
        """Persons whose temperature has been taken today."""
        return sum(1 for h in self.households for p in h.persons if p.temperature is not None)

    @property
    def fevers(self) -> int:
        """Persons with a temperature at or above ``FEVER_FROM`` today."""
        return sum(1 for h in self.households for p in h.persons if p.fever)

    @property
    def open_needs(self) -> int:
        """Needs still open."""
        return sum(1 for h in self.households for n in h.needs if n.status == "open")


def parse_temperature(text: str) -> float:
    """A body temperature in °C from a form field, within ``TEMPERATURE_RANGE``."""
    value = text.strip().replace(",", ".").removesuffix("℃").removesuffix("°C").strip()
    try:
        number = float(value)
    except ValueError:
        raise ActionRefused("temperature_format") from None
    return checked_temperature(number)


def checked_temperature(number: float) -> float:
    """``number`` rounded to a tenth if it is a plausible body temperature; refused otherwise."""
    low, high = TEMPERATURE_RANGE
    if not math.isfinite(number) or not low <= number <= high:
        raise ActionRefused("temperature_range", low=low, high=high)
    return round(number, 1)


def daily_round(session: Session, *, scope: Scope, now: datetime) -> DailyRound:
    """Today's list: persons in home or centralized quarantine now, by household."""
    today = local_date(now)
    query = in_scope(
        select(Person)
        .join(Household, Person.household_id == Household.id)
        .join(Unit, Household.unit_id == Unit.id)
        .join(Building, Unit.building_id == Building.id)
        .where(present(), Person.id.in_(quarantined_at(now)))
        .options(
            selectinload(Person.statuses),
            selectinload(Person.documents),
            selectinload(Person.household).selectinload(Household.unit).selectinload(Unit.building),
        ),
        scope,
    )
    persons = session.scalars(query).all()
    ids = [person.id for person in persons]
    checks = {
        check.person_id: check
        for check in session.scalars(
            select(HealthCheck).where(HealthCheck.person_id.in_(ids), HealthCheck.day == today)
        )
    }
    homes = {person.household_id for person in persons}
    needs: dict[int, list[NeedLine]] = defaultdict(list)
    for need in session.scalars(
        select(HouseholdNeed)
        .where(
            HouseholdNeed.household_id.in_(homes),
            (HouseholdNeed.status == "open")
            | (HouseholdNeed.resolved_at >= start_of_local_day(today)),
        )
        .order_by(HouseholdNeed.recorded_at)
    ):
        needs[need.household_id].append(need_line(need))
    passes: dict[str, list[ExemptionLine]] = defaultdict(list)
    for line in active_exemptions(session, now=now, person_ids=ids, single_use=True):
        passes[line.person_ref].append(line)
    grouped: dict[int, list[Person]] = defaultdict(list)
    for person in persons:
        assert person.household_id is not None
        grouped[person.household_id].append(person)
    households = []
    for members in grouped.values():
        household = members[0].household
        assert household is not None
        rows = []
        for person in sorted(members, key=lambda p: p.id):
            check = checks.get(person.id)
            rows.append(
                RoundPerson(
                    line=person_line(person, now),
                    temperature=check.temperature if check else None,
                    note=check.note if check else "",
                    checked_by=check.recorded_by if check else None,
                )
            )
        households.append(
            RoundHousehold(
                household=household_line(household, now, moved_out=False),
                persons=tuple(rows),
                needs=tuple(needs[household.id]),
                passes=tuple(p for person in members for p in passes[person.ref]),
            )
        )
    households.sort(
        key=lambda h: (
            natural_key(h.household.building),
            natural_key(h.household.unit),
            natural_key(h.household.room),
        )
    )
    return DailyRound(day=today, households=tuple(households))


def record_temperature(
    session: Session,
    *,
    scope: Scope,
    ref: str,
    temperature: float,
    note: str,
    now: datetime,
    actor: str,
    origin: str,
) -> bool:
    """Today's temperature of a person; a second one the same day replaces it (True)."""
    value = checked_temperature(temperature)
    if len(note) > MAX_TEXT:
        raise ActionRefused("too_long", field="note", limit=MAX_TEXT)
    person = load_person(session, ref, scope)
    if person.moved_out_at is not None:
        raise ActionRefused("moved_out")
    day = local_date(now)
    values = {
        "person_id": person.id,
        "day": day,
        "temperature": value,
        "note": note.strip(),
        "recorded_by": actor,
        "recorded_at": now,
    }
    existed = (
        session.scalar(
            select(HealthCheck.id).where(HealthCheck.person_id == person.id, HealthCheck.day == day)
        )
        is not None
    )
    _upsert_check(session, values)
    audit(
        session,
        actor=actor,
        origin=origin,
        action="health_check.record",
        target=f"person:{person.ref}",
        at=now,
        detail={"day": day.isoformat(), "replaced": existed, "fever": value >= FEVER_FROM},
    )
    return existed


def _upsert_check(session: Session, values: dict[str, Any]) -> None:
    # One statement, so two heads saving the same person at once cannot collide.
    changes = {key: values[key] for key in ("temperature", "note", "recorded_by", "recorded_at")}
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        session.execute(
            pg_insert(HealthCheck)
            .values(**values)
            .on_conflict_do_update(index_elements=["person_id", "day"], set_=changes)
        )
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        session.execute(
            sqlite_insert(HealthCheck)
            .values(**values)
            .on_conflict_do_update(index_elements=["person_id", "day"], set_=changes)
        )


def record_need(
    session: Session,
    *,
    scope: Scope,
    household_ref: str,
    kind: NeedKind,
    detail: str,
    escort_ref: str | None,
    escort_hours: float,
    now: datetime,
    actor: str,
    origin: str,
) -> int | None:
    """Note a household's need, a hospital one with an optional escorted exit pass (its id)."""
    household = load_household(session, household_ref, scope)
    if len(detail) > MAX_TEXT:
        raise ActionRefused("too_long", field="detail", limit=MAX_TEXT)
    escorted = None
    if escort_ref:
        if kind is not NeedKind.HOSPITAL:
            raise ActionRefused("escort_not_hospital")
        low, high = ESCORT_HOURS_RANGE
        if not (math.isfinite(escort_hours) and low <= escort_hours <= high):
            raise ActionRefused("escort_hours", low=low, high=high)
        escorted = next(
            (p for p in household.persons if p.ref == escort_ref and p.moved_out_at is None),
            None,
        )
        if escorted is None:
            raise ActionRefused("escort_person")
    need = HouseholdNeed(
        household_id=household.id,
        kind=kind.value,
        detail=detail.strip(),
        status="open",
        recorded_by=actor,
        recorded_at=now,
    )
    session.add(need)
    session.flush()
    audit(
        session,
        actor=actor,
        origin=origin,
        action="need.record",
        target=f"household:{household.ref}",
        at=now,
        detail={"need": need.id, "kind": kind.value, "escort": escorted is not None},
    )
    if escorted is None:
        return None
    who = Actor(name=actor, origin=origin, at=now)
    expires_at = now + timedelta(hours=escort_hours)
    exemption_id = SqlExemptionStore(session, who).add(
        person=person_ref(escorted),
        rule_ids=["quarantine"],
        reason=ESCORT_REASON,
        expires_at=expires_at,
        single_use=True,
    )
    audit(
        session,
        actor=actor,
        origin=origin,
        action="exemption.add",
        target=f"person:{escorted.ref}",
        at=now,
        detail={
            "exemption": exemption_id,
            "rules": ["quarantine"],
            "reason": ESCORT_REASON,
            "expires_at": expires_at.isoformat(),
            "single_use": True,
        },
    )
    bump_revision(session)
    return exemption_id


def resolve_need(
    session: Session, *, scope: Scope, need_id: int, now: datetime, actor: str, origin: str
) -> None:
    """Mark a need as taken care of."""
    need = session.get(HouseholdNeed, need_id)
    if need is None:
        raise NotFound("no such need")
    household = session.get(Household, need.household_id)
    assert household is not None
    load_household(session, household.ref, scope)
    if need.status != "open":
        raise ActionRefused("need_resolved")
    need.status, need.resolved_at, need.resolved_by = "resolved", now, actor
    audit(
        session,
        actor=actor,
        origin=origin,
        action="need.resolve",
        target=f"household:{household.ref}",
        at=now,
        detail={"need": need.id, "kind": need.kind},
    )
