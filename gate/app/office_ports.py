"""The office pages' read-only store; ``UnitOfWork.office_views`` hands it out.

It reads at the actor's time and writes nothing. Where it looks up one building,
household or person it raises ``NotFound`` first and ``OutOfScope`` if the scope passed
does not cover that building, before reading anything else; lists are narrowed to the
scope's buildings.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from gate.app.actor import Scope
from gate.app.office_values import (
    BuildingSummary,
    DailyRound,
    HouseholdView,
    PersonDetail,
    UnitBlock,
)
from gate.app.plan_values import HouseholdPlan


class OfficeViewStore(Protocol):
    """Buildings, households, persons and the daily round, as the office pages show them."""

    def buildings(self, scope: Scope) -> Sequence[BuildingSummary]:
        """Every building in ``scope`` with its counts, in natural order."""
        ...

    def building(self, key: str, scope: Scope) -> Sequence[UnitBlock]:
        """The units of building ``key`` (a ``building_key``), their households by room."""
        ...

    def household(self, ref: str, scope: Scope) -> HouseholdView:
        """The household ``ref`` with everyone ever registered in it and its needs."""
        ...

    def person(self, ref: str, scope: Scope) -> PersonDetail:
        """The person ``ref`` with their status history and exemptions in force."""
        ...

    def daily_round(self, scope: Scope) -> DailyRound:
        """Today's quarantined persons in ``scope`` by household, with today's checks."""
        ...

    def plan(self, key: str, scope: Scope) -> HouseholdPlan:
        """Building ``key`` as the household plan (``NotFound``, ``OutOfScope``)."""
        ...
