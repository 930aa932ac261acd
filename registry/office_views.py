"""The office pages' reads: buildings, a building by unit and room, a household, a person.

``SqlOfficeViewStore`` is the ``gate.app.office_ports.OfficeViewStore`` port over them
(and over ``registry.office_round``), bound to a unit's session at the actor's time.
Names come back in full; the screen masks them where it lists people.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gate.app.actor import Actor, Scope
from gate.app.office_values import (
    BuildingSummary,
    DailyRound,
    HouseholdLine,
    HouseholdView,
    PersonDetail,
    StatusLine,
    UnitBlock,
)
from gate.app.plan_values import HouseholdPlan
from gate.domain.errors import NotFound, OutOfScope
from gate.domain.places import building_key, natural_key
from registry.household_plan import household_plan
from registry.models import Building, Household, HouseholdNeed, Person, Unit
from registry.office import (
    HOUSEHOLD_LOADS,
    household_line,
    in_scope,
    load_household,
    load_person,
    need_line,
    person_line,
    present,
)
from registry.office_round import daily_round
from registry.status_rows import quarantined_at
from registry.stores import active_exemptions


def building_summaries(session: Session, *, scope: Scope, now: datetime) -> list[BuildingSummary]:
    """Every building in scope with its counts of units, households, persons, quarantined."""
    units = dict(
        session.execute(
            in_scope(
                select(Building.key, func.count(Unit.id)).join(Unit).group_by(Building.key), scope
            )
        ).all()
    )

    def person_counts(*conditions: Any) -> dict[str, tuple[int, int]]:
        query = (
            select(
                Building.key,
                func.count(Person.id),
                func.count(func.distinct(Person.household_id)),
            )
            .join(Unit, Unit.building_id == Building.id)
            .join(Household, Household.unit_id == Unit.id)
            .join(Person, Person.household_id == Household.id)
            .where(present(), *conditions)
            .group_by(Building.key)
        )
        return {
            key: (persons, homes) for key, persons, homes in session.execute(in_scope(query, scope))
        }

    living = person_counts()
    quarantined = person_counts(Person.id.in_(quarantined_at(now)))
    return [
        BuildingSummary(
            key=key,
            units=units[key],
            households=living.get(key, (0, 0))[1],
            persons=living.get(key, (0, 0))[0],
            quarantined=quarantined.get(key, (0, 0))[0],
        )
        for key in sorted(units, key=natural_key)
    ]


def building_view(session: Session, *, key: str, scope: Scope, now: datetime) -> list[UnitBlock]:
    """The units of one building and their households with present persons."""
    wanted = building_key(key)
    if session.scalar(select(Building.id).where(Building.key == wanted)) is None:
        raise NotFound(f"no building {key!r}")
    if not scope.covers(wanted):
        raise OutOfScope(f"building:{wanted}")
    units = [
        unit
        for unit in session.scalars(
            select(Unit).join(Building).where(Building.key == wanted).order_by(Unit.key)
        )
        if scope.covers_unit(wanted, unit.key)
    ]
    households = session.scalars(
        select(Household)
        .where(Household.unit_id.in_([unit.id for unit in units]))
        .options(*HOUSEHOLD_LOADS)
    ).all()
    by_unit: dict[int, list[HouseholdLine]] = defaultdict(list)
    for household in households:
        by_unit[household.unit_id].append(household_line(household, now, moved_out=False))
    return [
        UnitBlock(
            key=unit.key,
            households=tuple(sorted(by_unit[unit.id], key=lambda h: natural_key(h.room))),
        )
        for unit in sorted(units, key=lambda u: natural_key(u.key))
    ]


def household_view(session: Session, *, ref: str, scope: Scope, now: datetime) -> HouseholdView:
    """A household with every person ever registered in it, and its needs (newest first)."""
    household = load_household(session, ref, scope)
    needs = session.scalars(
        select(HouseholdNeed)
        .where(HouseholdNeed.household_id == household.id)
        .order_by(HouseholdNeed.recorded_at.desc())
        .limit(50)
    ).all()
    return HouseholdView(
        household=household_line(household, now, moved_out=True),
        needs=tuple(need_line(need) for need in needs),
    )


def person_view(session: Session, *, ref: str, scope: Scope, now: datetime) -> PersonDetail:
    """One person with their status history and exemptions in force."""
    person = load_person(session, ref, scope)
    home = person.household
    statuses = tuple(
        StatusLine(
            id=record.id,
            status=record.status,
            starts_at=record.starts_at,
            ends_at=record.ends_at,
            legal_basis=record.legal_basis,
            note=record.note,
            recorded_by=record.recorded_by,
            active=record.starts_at <= now and (record.ends_at is None or record.ends_at > now),
            upcoming=record.starts_at > now,
        )
        for record in sorted(person.statuses, key=lambda r: r.starts_at, reverse=True)
    )
    return PersonDetail(
        line=person_line(person, now),
        birth_date=person.birth_date,
        doc_type=person.documents[0].doc_type,
        phone_last4=person.phone_last4,
        household=household_line(home, now, moved_out=False) if home else None,
        statuses=statuses,
        exemptions=tuple(active_exemptions(session, now=now, person_ids=[person.id])),
    )


class SqlOfficeViewStore:
    """``OfficeViewStore``: the reads above, at the actor's time."""

    def __init__(self, session: Session, actor: Actor) -> None:
        self._session, self._actor = session, actor

    def buildings(self, scope: Scope) -> Sequence[BuildingSummary]:
        """Buildings in scope with their counts."""
        return building_summaries(self._session, scope=scope, now=self._actor.at)

    def building(self, key: str, scope: Scope) -> Sequence[UnitBlock]:
        """One building's units and households."""
        return building_view(self._session, key=key, scope=scope, now=self._actor.at)

    def household(self, ref: str, scope: Scope) -> HouseholdView:
        """One household and its needs."""
        return household_view(self._session, ref=ref, scope=scope, now=self._actor.at)

    def person(self, ref: str, scope: Scope) -> PersonDetail:
        """One person in detail."""
        return person_view(self._session, ref=ref, scope=scope, now=self._actor.at)

    def daily_round(self, scope: Scope) -> DailyRound:
        """Today's round."""
        return daily_round(self._session, scope=scope, now=self._actor.at)

    def plan(self, key: str, scope: Scope) -> HouseholdPlan:
        """One building as the household plan."""
        return household_plan(self._session, key=key, scope=scope, now=self._actor.at)
