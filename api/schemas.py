"""Response models of the public API, one family per resource."""

from __future__ import annotations

from datetime import datetime

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


class DevicePublic(BaseModel):
    """A device and its health."""

    lane: str
    kind: str
    name: str
    state: str
    detail: str
    last_seen: datetime | None
    silent_for: float | None
