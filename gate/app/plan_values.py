"""The building heads' household plan (楼栋单元住户平面图) as the office page draws it.

In 2020 the building heads drew every building by hand, floors as rows and units side by
side, one cell per flat, so that the numbers were clear and the situation plain (底数清、
情况明). ``HouseholdPlan`` is that drawing's content at one moment: per flat, who lives
there (names in full; the screen masks them) and what matters now. ``room_place`` says
where a flat goes: "502" is the 5th floor, door 02; a room that is not written so
(a shop "S1", a "B1-01") is listed under the grid instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from gate.domain.people import HealthStatus


def room_place(room: str) -> tuple[int, str] | None:
    """(floor, door) of a room written as floor and two-digit door ("1203" -> (12, "03"))."""
    text = room.strip()
    if len(text) < 3 or not text.isdigit() or int(text[:-2]) == 0:
        return None
    return int(text[:-2]), text[-2:]


@dataclass(frozen=True)
class PlanResident:
    """A present person of the flat and what the plan marks about them."""

    ref: str
    name: str
    status: HealthStatus
    status_until: datetime | None  # the governing status's end (exclusive); None: open
    outside: bool  # the last passage that let them through was a way out
    needs_temperature: bool  # under quarantine or health monitoring: one a day
    temperature_taken: bool  # today's temperature recorded


@dataclass(frozen=True)
class PlanFlat:
    """One flat of the plan."""

    ref: str
    unit: str
    room: str
    residents: tuple[PlanResident, ...]

    @property
    def vacant(self) -> bool:
        """Nobody lives here now (everybody moved out, or nobody was registered)."""
        return not self.residents

    @property
    def quarantined(self) -> tuple[PlanResident, ...]:
        """Residents under home or centralized quarantine now."""
        return tuple(
            r
            for r in self.residents
            if r.status in (HealthStatus.HOME_QUARANTINE, HealthStatus.CENTRALIZED_QUARANTINE)
        )

    @property
    def quarantine_until(self) -> datetime | None:
        """When the flat's last quarantine ends (None: none, or one without an end)."""
        ends = [r.status_until for r in self.quarantined]
        return None if not ends or None in ends else max(e for e in ends if e)

    @property
    def monitored(self) -> tuple[PlanResident, ...]:
        """Residents under health monitoring now."""
        return tuple(r for r in self.residents if r.status is HealthStatus.HEALTH_MONITORING)

    @property
    def outside(self) -> tuple[PlanResident, ...]:
        """Residents outside the compound now."""
        return tuple(r for r in self.residents if r.outside)

    @property
    def temperature_missing(self) -> tuple[PlanResident, ...]:
        """Residents whose temperature is due today and not yet taken."""
        return tuple(r for r in self.residents if r.needs_temperature and not r.temperature_taken)

    @property
    def marks(self) -> tuple[str, ...]:
        """What matters now, most urgent first (the cell's colour is the first)."""
        found = []
        if self.quarantined:
            found.append("quarantine")
        if self.monitored:
            found.append("monitoring")
        if self.temperature_missing:
            found.append("temperature")
        if self.outside:
            found.append("outside")
        if self.vacant:
            found.append("vacant")
        return tuple(found)


@dataclass(frozen=True)
class PlanUnit:
    """A unit's column group: its doors, left to right."""

    key: str
    doors: tuple[str, ...]


@dataclass(frozen=True)
class HouseholdPlan:
    """One building as the plan: floors top down, units side by side, a cell per door."""

    building: str
    at: datetime
    units: tuple[PlanUnit, ...]
    floors: tuple[int, ...]  # the top floor first
    cells: Mapping[tuple[str, int, str], PlanFlat]  # (unit, floor, door)
    unplaced: tuple[PlanFlat, ...]  # rooms not written as floor and door

    def cell(self, unit: str, floor: int, door: str) -> PlanFlat | None:
        """The flat at that place (None: no flat registered there)."""
        return self.cells.get((unit, floor, door))

    def count(self, mark: str) -> int:
        """Flats with ``mark``."""
        return sum(1 for flat in self.flats if mark in flat.marks)

    @property
    def flats(self) -> tuple[PlanFlat, ...]:
        """Every flat, placed or not."""
        return (*self.cells.values(), *self.unplaced)
