"""What the office pages read: buildings, one building, a household, a person, the round.

Each read runs in one unit of work of its actor at the actor's time and writes nothing
(reading a page leaves no audit row). The actor's scope limits a building head to their
buildings: lists are narrowed to them, and reaching for a building, household or person
outside them raises ``OutOfScope`` (the front end refuses and audits it); one that does
not exist raises ``NotFound``, whoever asks.
"""

from __future__ import annotations

from gate.app.actor import Actor
from gate.app.office_values import (
    BuildingSummary,
    DailyRound,
    HouseholdView,
    PersonDetail,
    UnitBlock,
)
from gate.app.plan_values import HouseholdPlan
from gate.app.ports import UnitOfWorkFactory
from gate.domain.places import building_key


def office_buildings(*, actor: Actor, units: UnitOfWorkFactory) -> list[BuildingSummary]:
    """The buildings the actor may see, with their counts of units, homes and persons."""
    with units(actor) as uow:
        return list(uow.office_views.buildings(actor.scope))


def building_view(key: str, *, actor: Actor, units: UnitOfWorkFactory) -> list[UnitBlock]:
    """The units of one building ("3" or "3号楼") and who lives there, by room."""
    with units(actor) as uow:
        return list(uow.office_views.building(building_key(key), actor.scope))


def household_view(ref: str, *, actor: Actor, units: UnitOfWorkFactory) -> HouseholdView:
    """A household with everyone ever registered in it (moved out last) and its needs."""
    with units(actor) as uow:
        return uow.office_views.household(ref, actor.scope)


def person_view(ref: str, *, actor: Actor, units: UnitOfWorkFactory) -> PersonDetail:
    """One person with their home, status history and exemptions in force."""
    with units(actor) as uow:
        return uow.office_views.person(ref, actor.scope)


def todays_round(*, actor: Actor, units: UnitOfWorkFactory) -> DailyRound:
    """The building head's round of the actor's local day over the buildings in scope."""
    with units(actor) as uow:
        return uow.office_views.daily_round(actor.scope)


def building_plan(key: str, *, actor: Actor, units: UnitOfWorkFactory) -> HouseholdPlan:
    """One building ("3" or "3号楼") as the building heads' household plan, at the actor's time."""
    with units(actor) as uow:
        return uow.office_views.plan(building_key(key), actor.scope)
