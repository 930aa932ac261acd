"""What the office pages' reads share: scope, list lines, and the lookups behind them.

The pages' queries live by feature in ``registry.office_views`` (buildings, households,
persons, and ``SqlOfficeViewStore``, the ``OfficeViewStore`` port over them) and
``registry.office_round`` (the building head's daily round); they fill the values of
``gate.app.office_values``. Their writes are use cases in ``gate.app`` (``people``,
``daily_round``, ``exemptions``, ``rules``). A household or person is looked up through a
``Scope`` (the buildings the signed-in account may see): outside it, ``OutOfScope`` is
raised before anything else is read.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, selectinload

from gate.app.actor import Scope
from gate.app.office_values import HouseholdLine, NeedLine, PersonLine
from gate.domain.errors import NotFound, OutOfScope
from gate.domain.people import HealthStatus
from gate.domain.status import current_period
from registry.models import Building, Household, HouseholdNeed, Person, Unit
from registry.status_rows import status_periods


def present() -> Any:
    """The condition: a person who has not moved out."""
    return Person.moved_out_at.is_(None)


def in_scope(query: Any, scope: Scope) -> Any:
    """``query`` (which joins ``Building`` and ``Unit``) narrowed to the units in ``scope``."""
    if scope.buildings is None:
        return query
    query = query.where(Building.key.in_(sorted(scope.buildings)))
    if scope.units is None:
        return query
    # A unit head's units (the query joins ``Unit`` too).
    return query.where(
        or_(*(and_(Building.key == b, Unit.key == u) for b, u in sorted(scope.units)))
    )


def person_line(person: Person, now: datetime) -> PersonLine:
    """A person as lists show them, with the status governing ``now``."""
    period = current_period(status_periods(person.statuses), now)
    return PersonLine(
        ref=person.ref,
        name=person.name,
        sex=person.sex,
        kind=person.kind,
        relation=person.relation,
        doc_last4=person.documents[0].number_last4 if person.documents else "",
        status=period.status if period else HealthStatus.NORMAL,
        status_until=period.ends_at if period else None,
        moved_out_at=person.moved_out_at,
    )


def household_line(household: Household, now: datetime, *, moved_out: bool) -> HouseholdLine:
    """A household with its present persons (and those who moved out, if asked)."""
    persons = sorted(household.persons, key=lambda p: (p.moved_out_at is not None, p.id))
    return HouseholdLine(
        ref=household.ref,
        building=household.unit.building.key,
        unit=household.unit.key,
        room=household.room,
        persons=tuple(
            person_line(person, now)
            for person in persons
            if moved_out or person.moved_out_at is None
        ),
    )


# A household page shows every person with their status and document's last four.
HOUSEHOLD_LOADS = (
    selectinload(Household.unit).selectinload(Unit.building),
    selectinload(Household.persons).selectinload(Person.statuses),
    selectinload(Household.persons).selectinload(Person.documents),
)


def load_household(session: Session, ref: str, scope: Scope) -> Household:
    """The household ``ref``; ``NotFound``, or ``OutOfScope`` outside ``scope``."""
    household = session.scalar(
        select(Household).where(Household.ref == ref).options(*HOUSEHOLD_LOADS)
    )
    if household is None:
        raise NotFound("no such household")
    if not scope.covers_home(household.unit.building.key, household.unit.key):
        raise OutOfScope(f"household:{ref}")
    return household


def load_person(session: Session, ref: str, scope: Scope) -> Person:
    """The person ``ref``; ``NotFound``, or ``OutOfScope`` outside ``scope``."""
    person = session.scalar(
        select(Person)
        .where(Person.ref == ref)
        .options(
            selectinload(Person.household).selectinload(Household.unit).selectinload(Unit.building),
            selectinload(Person.statuses),
            selectinload(Person.documents),
        )
    )
    if person is None:
        raise NotFound("no such person")
    building = person.household.unit.building.key if person.household else None
    unit = person.household.unit.key if person.household else None
    if not scope.covers_home(building, unit):
        raise OutOfScope(f"person:{ref}")
    return person


def need_line(need: HouseholdNeed) -> NeedLine:
    """A need as the pages show it."""
    return NeedLine(
        id=need.id,
        kind=need.kind,
        detail=need.detail,
        status=need.status,
        recorded_by=need.recorded_by,
        recorded_at=need.recorded_at,
        resolved_at=need.resolved_at,
        resolved_by=need.resolved_by,
    )
