"""What the office pages share: scope, refusals, list lines, and the lookups behind them.

The pages' queries and writes live by feature in ``registry.office_views`` (buildings,
households, persons), ``registry.office_people`` (adding, editing, moving out, statuses),
``registry.office_round`` (the building head's daily round) and ``registry.office_rules``
(exemptions and rules). Every function takes the caller's session and keyword arguments.
A household or person is looked up through a ``Scope`` (the buildings the signed-in
account may see): outside it, ``OutOfScope`` is raised before anything is read or changed.
Input that cannot be accepted raises ``OfficeRefused`` with a code and parameters, turned
into words only at the screen. Every change is audited; changes a passage decision
depends on (persons, statuses, exemptions, rules) also bump the registry revision.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from gate.domain.errors import GateError, NotFound
from gate.domain.people import HealthStatus, PersonKind, Relation, Sex
from gate.domain.places import building_label, unit_label
from gate.domain.status import LOCAL_TZ, StatusPeriod, current_period, start_of_local_day
from registry.models import (
    Building,
    Exemption,
    Household,
    HouseholdNeed,
    Person,
    StatusRecord,
    Unit,
)
from registry.service import QUARANTINE

MAX_NAME = 50
MAX_TEXT = 500
TEMPERATURE_RANGE = (35.0, 42.0)
FEVER_FROM = 37.3


class OutOfScope(GateError):
    """The household or person lies outside the buildings this account may see."""

    def __init__(self, target: str) -> None:
        self.target = target
        super().__init__(f"{target} is outside the account's buildings")


class OfficeRefused(GateError, ValueError):
    """Input the office pages cannot accept; ``code`` + ``params`` say why."""

    def __init__(self, code: str, **params: Any) -> None:
        self.code = code
        self.params = params
        super().__init__(f"{code} {params}" if params else code)


@dataclass(frozen=True)
class Scope:
    """The buildings an account may see; ``None``: all of them."""

    buildings: frozenset[str] | None = None

    def covers(self, building: str | None) -> bool:
        """True if a household of ``building`` (None: no home) is visible."""
        if self.buildings is None:
            return True
        return building is not None and building in self.buildings


@dataclass(frozen=True)
class PersonLine:
    """A person as lists show them (the screen masks the name)."""

    ref: str
    name: str
    sex: Sex
    kind: PersonKind
    relation: Relation | None
    doc_last4: str
    status: HealthStatus
    status_until: datetime | None
    moved_out_at: datetime | None


@dataclass(frozen=True)
class HouseholdLine:
    """A flat and the persons registered in it."""

    ref: str
    building: str
    unit: str
    room: str
    persons: tuple[PersonLine, ...] = ()

    @property
    def label(self) -> str:
        """ "1号楼2单元302"."""
        return f"{building_label(self.building)}{unit_label(self.unit)}{self.room}"

    @property
    def present(self) -> tuple[PersonLine, ...]:
        """The persons who have not moved out."""
        return tuple(person for person in self.persons if person.moved_out_at is None)


@dataclass(frozen=True)
class NeedLine:
    """A need of a household."""

    id: int
    kind: str
    detail: str
    status: str
    recorded_by: str
    recorded_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None


@dataclass(frozen=True)
class ExemptionLine:
    """An exemption as the office lists it."""

    id: int
    person_ref: str
    person_name: str
    home: str | None
    rule_ids: tuple[str, ...]
    reason: str
    expires_at: datetime | None
    single_use: bool
    recorded_by: str
    recorded_at: datetime


def parse_day(text: str, *, field_name: str, required: bool = False) -> date | None:
    """A ``YYYY-MM-DD`` day; None when empty and not required."""
    value = text.strip()
    if not value:
        if required:
            raise OfficeRefused("required", field=field_name)
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise OfficeRefused("date_format", field=field_name) from None


def parse_local_time(text: str, *, field_name: str) -> datetime | None:
    """A local ``YYYY-MM-DDTHH:MM`` (a datetime-local field) or a day (its midnight)."""
    value = text.strip()
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value) if len(value) > 10 else None
        day = date.fromisoformat(value) if len(value) == 10 else None
    except ValueError:
        raise OfficeRefused("date_format", field=field_name) from None
    if day is not None:
        return start_of_local_day(day)
    if moment is None:
        raise OfficeRefused("date_format", field=field_name)
    return moment if moment.tzinfo else moment.replace(tzinfo=LOCAL_TZ)


def natural_key(key: str) -> tuple[int, str]:
    """Sort "2" before "10"."""
    return (int(key), "") if key.isdigit() else (1 << 30, key)


def present() -> Any:
    """The condition: a person who has not moved out."""
    return Person.moved_out_at.is_(None)


def quarantined_at(now: datetime) -> Any:
    """Ids of persons under home or centralized quarantine at ``now`` (a subquery)."""
    return (
        select(StatusRecord.person_id)
        .where(
            StatusRecord.status.in_(QUARANTINE),
            StatusRecord.starts_at <= now,
            (StatusRecord.ends_at.is_(None)) | (StatusRecord.ends_at > now),
        )
        .scalar_subquery()
    )


def in_scope(query: Any, scope: Scope) -> Any:
    """``query`` (which joins ``Building``) narrowed to the buildings in ``scope``."""
    if scope.buildings is None:
        return query
    return query.where(Building.key.in_(sorted(scope.buildings)))


def person_line(person: Person, now: datetime) -> PersonLine:
    """A person as lists show them, with the status governing ``now``."""
    period = current_period(
        (StatusPeriod(s.status, s.starts_at, s.ends_at) for s in person.statuses), now
    )
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
    if not scope.covers(household.unit.building.key):
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
    if not scope.covers(building):
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


def active_exemptions(
    session: Session,
    *,
    now: datetime,
    person_ids: Iterable[int] | None = None,
    single_use: bool | None = None,
) -> list[ExemptionLine]:
    """Exemptions not expired and not used up, soonest expiry first."""
    query = (
        select(Exemption, Person)
        .join(Person, Exemption.person_id == Person.id)
        .where(
            (Exemption.expires_at.is_(None)) | (Exemption.expires_at > now),
            Exemption.used_at.is_(None),
        )
        .options(
            selectinload(Person.household).selectinload(Household.unit).selectinload(Unit.building)
        )
        .order_by(Exemption.expires_at.is_(None), Exemption.expires_at, Exemption.id)
    )
    if person_ids is not None:
        query = query.where(Exemption.person_id.in_(list(person_ids)))
    if single_use is not None:
        query = query.where(Exemption.single_use.is_(single_use))
    lines = []
    for exemption, person in session.execute(query).all():
        home = person.household
        lines.append(
            ExemptionLine(
                id=exemption.id,
                person_ref=person.ref,
                person_name=person.name,
                home=(
                    f"{building_label(home.unit.building.key)}{unit_label(home.unit.key)}{home.room}"
                    if home
                    else None
                ),
                rule_ids=tuple(exemption.rule_ids),
                reason=exemption.reason,
                expires_at=exemption.expires_at,
                single_use=exemption.single_use,
                recorded_by=exemption.recorded_by,
                recorded_at=exemption.recorded_at,
            )
        )
    return lines
