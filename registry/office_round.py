"""The building head's daily round as the page shows it: today's quarantined persons by
household, with today's temperatures, the needs and the escorted exit passes in force.

The values are ``gate.app.office_values``'; ``registry.office_views.SqlOfficeViewStore``
serves this read. Recording temperatures and needs is ``gate.app.daily_round``'s.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from gate.app.actor import Scope
from gate.app.office_values import DailyRound, NeedLine, RoundHousehold, RoundPerson
from gate.app.views import ExemptionLine
from gate.domain.places import natural_key
from gate.domain.status import local_date, start_of_local_day
from registry.models import Building, HealthCheck, Household, HouseholdNeed, Person, Unit
from registry.office import (
    household_line,
    in_scope,
    need_line,
    person_line,
    present,
)
from registry.status_rows import quarantined_at
from registry.stores import active_exemptions


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
