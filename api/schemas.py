"""Response models of the public API, one family per resource."""

from __future__ import annotations

from pydantic import BaseModel


class RegistryStatsPublic(BaseModel):
    """Registry counts at the moment of the request."""

    buildings: int
    units: int
    households: int
    persons: int
    quarantined_persons: int
    quarantined_households: int


class Health(BaseModel):
    """Liveness and the one dependency that matters at start: the database."""

    status: str
    database: str
    schema_revision: str | None
