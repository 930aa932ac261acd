"""Who asks for a use case: a name, where from, when, and which buildings they may see.

Every front end (terminal, office pages, CLI, the district API) builds an ``Actor`` and
hands it to the use case with the command; the use case audits in its name.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Scope:
    """The buildings an actor may see (``None``: all); a unit head's units within them.

    ``units`` holds ``(building, unit)`` keys; ``None``: every unit of the buildings. A
    unit head's ``buildings`` are those of their units, so ``covers(building)`` answers
    whether any of the building is theirs and ``covers_home`` whether a household is.
    """

    buildings: frozenset[str] | None = None
    units: frozenset[tuple[str, str]] | None = None

    @classmethod
    def of_units(cls, keys: Iterable[str]) -> Scope:
        """The scope of unit keys written ``"building/unit"`` (``"1/2"``)."""
        units = frozenset(unit_pair(key) for key in keys)
        return cls(frozenset(building for building, _unit in units), units)

    def covers(self, building: str | None) -> bool:
        """True if (some household of) ``building`` (None: no home) is visible."""
        if self.buildings is None:
            return True
        return building is not None and building in self.buildings

    def covers_home(self, building: str | None, unit: str | None) -> bool:
        """True if a household of ``unit`` in ``building`` is visible."""
        if not self.covers(building):
            return False
        return self.units is None or (building, unit) in self.units

    def covers_unit(self, building: str, unit: str) -> bool:
        """True if the unit is shown (a building page lists only the units in scope)."""
        return self.covers_home(building, unit)


def unit_pair(key: str) -> tuple[str, str]:
    """``"1/2"`` as ``("1", "2")``; ``ValueError`` for text without one ``/``."""
    building, slash, unit = key.partition("/")
    if not slash or not building.strip() or not unit.strip() or "/" in unit:
        raise ValueError(f"not a unit key: {key!r}")
    return building.strip(), unit.strip()


@dataclass(frozen=True)
class Actor:
    """The account, operator or machine key a use case runs for."""

    name: str  # account user name, the operator of a CLI command, an API key's name
    origin: str  # "web@10.0.0.5", "cli@gatebox": where the audit log says it came from
    at: datetime  # aware UTC: the moment the use case takes as "now"
    scope: Scope = field(default_factory=Scope)
