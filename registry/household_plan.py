"""The household plan of one building: five queries, whatever its size.

The building (and the scope check), its flats with their present persons and status rows
(one query each through ``selectinload``), the presence of those persons (each one's
latest barrier-opening passage, as the snapshot's presence: ``ix_passages_presence``)
and today's temperatures. The values are ``gate.app.plan_values``'.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload, with_loader_criteria

from gate.app.actor import Scope
from gate.app.plan_values import HouseholdPlan, PlanFlat, PlanResident, PlanUnit, room_place
from gate.domain.errors import NotFound, OutOfScope
from gate.domain.model import Direction
from gate.domain.people import HealthStatus
from gate.domain.places import building_key, natural_key
from gate.domain.status import current_period, local_date
from registry.models import (
    Building,
    HealthCheck,
    Household,
    Passage,
    Person,
    Unit,
    passage_opened_barrier,
)
from registry.status_rows import status_periods

_BATCH = 500
# Those the building head takes the temperature of every day.
TEMPERATURE_DAILY = frozenset(
    {
        HealthStatus.HOME_QUARANTINE,
        HealthStatus.CENTRALIZED_QUARANTINE,
        HealthStatus.HEALTH_MONITORING,
    }
)


def _outside(session: Session, refs: Sequence[str]) -> set[str]:
    """Those of ``refs`` whose latest passage that let them through was a way out."""
    found: set[str] = set()
    opened = passage_opened_barrier()
    for first in range(0, len(refs), _BATCH):
        batch = refs[first : first + _BATCH]
        latest = (
            select(func.max(Passage.seq).label("seq"))
            .where(opened, Passage.person_ref.in_(batch))
            .group_by(Passage.person_ref)
            .subquery()
        )
        found.update(
            ref
            for ref, direction in session.execute(
                select(Passage.person_ref, Passage.direction).join(
                    latest, Passage.seq == latest.c.seq
                )
            )
            if ref is not None and direction == Direction.OUT.value
        )
    return found


def household_plan(session: Session, *, key: str, scope: Scope, now: datetime) -> HouseholdPlan:
    """Building ``key`` as its household plan at ``now``."""
    wanted = building_key(key)
    if session.scalar(select(Building.id).where(Building.key == wanted)) is None:
        raise NotFound(f"no building {key!r}")
    if not scope.covers(wanted):
        raise OutOfScope(f"building:{wanted}")
    units = session.scalars(
        select(Unit)
        .join(Building)
        .where(Building.key == wanted)
        .options(
            selectinload(Unit.households)
            .selectinload(Household.persons)
            .selectinload(Person.statuses),
            with_loader_criteria(Person, Person.moved_out_at.is_(None)),
        )
    ).all()
    units = [unit for unit in units if scope.covers_unit(wanted, unit.key)]
    persons = [p for unit in units for h in unit.households for p in h.persons]
    outside = _outside(session, sorted(p.ref for p in persons))
    today = local_date(now)
    taken = set(
        session.scalars(
            select(HealthCheck.person_id).where(
                HealthCheck.day == today, HealthCheck.person_id.in_([p.id for p in persons])
            )
        )
    )
    cells: dict[tuple[str, int, str], PlanFlat] = {}
    unplaced: list[PlanFlat] = []
    doors: dict[str, set[str]] = {unit.key: set() for unit in units}
    floors: set[int] = set()
    for unit in units:
        for household in unit.households:
            residents = []
            for person in sorted(household.persons, key=lambda p: p.id):
                period = current_period(status_periods(person.statuses), now)
                status = period.status if period else HealthStatus.NORMAL
                residents.append(
                    PlanResident(
                        ref=person.ref,
                        name=person.name,
                        status=status,
                        status_until=period.ends_at if period else None,
                        outside=person.ref in outside,
                        needs_temperature=status in TEMPERATURE_DAILY,
                        temperature_taken=person.id in taken,
                    )
                )
            flat = PlanFlat(household.ref, unit.key, household.room, tuple(residents))
            place = room_place(household.room)
            if place is None:
                unplaced.append(flat)
                continue
            floor, door = place
            floors.add(floor)
            doors[unit.key].add(door)
            cells[(unit.key, floor, door)] = flat
    return HouseholdPlan(
        building=wanted,
        at=now,
        units=tuple(
            PlanUnit(unit_key, tuple(sorted(doors[unit_key])))
            for unit_key in sorted(doors, key=natural_key)
        ),
        floors=tuple(sorted(floors, reverse=True)),
        cells=cells,
        unplaced=tuple(sorted(unplaced, key=lambda f: (natural_key(f.unit), f.room))),
    )
