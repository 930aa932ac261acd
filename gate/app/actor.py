"""Who asks for a use case: a name, where from, when, and which buildings they may see.

Every front end (terminal, office pages, CLI, the district API) builds an ``Actor`` and
hands it to the use case with the command; the use case audits in its name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Scope:
    """The buildings an actor may see; ``None``: all of them."""

    buildings: frozenset[str] | None = None

    def covers(self, building: str | None) -> bool:
        """True if a household of ``building`` (None: no home) is visible."""
        if self.buildings is None:
            return True
        return building is not None and building in self.buildings


@dataclass(frozen=True)
class Actor:
    """The account, operator or machine key a use case runs for."""

    name: str  # account user name, the operator of a CLI command, an API key's name
    origin: str  # "web@10.0.0.5", "cli@gatebox": where the audit log says it came from
    at: datetime  # aware UTC: the moment the use case takes as "now"
    scope: Scope = field(default_factory=Scope)
