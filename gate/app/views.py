"""What the stores hand the use cases and the use cases hand the screens: plain values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from gate.domain.people import HealthStatus
from gate.domain.places import home_label


@dataclass(frozen=True)
class HouseholdRef:
    """A flat, by its ref and its labels."""

    ref: str
    building: str
    unit: str
    room: str

    @property
    def label(self) -> str:
        """ "1号楼2单元302"."""
        return home_label(self.building, self.unit, self.room)


@dataclass(frozen=True)
class PersonRef:
    """A registered person as a use case needs them."""

    ref: str
    name: str
    household: HouseholdRef | None
    moved_out: bool

    @property
    def building(self) -> str | None:
        """The building they live in, if any (what scopes are made of)."""
        return self.household.building if self.household else None


@dataclass(frozen=True)
class VisitorRef:
    """A registered visit."""

    ref: str
    name: str
    ends_at: datetime


@dataclass(frozen=True)
class VisitOnFile:
    """A registered visit with its window and host, as pass issuing needs it."""

    ref: str
    name: str
    starts_at: datetime
    ends_at: datetime
    host_ref: str | None
    host_label: str | None


@dataclass(frozen=True)
class VisitRequest:
    """A visit a visitor registered on their phone, as the guard and the host see it."""

    ref: str
    name: str
    doc_last4: str | None
    phone_last4: str | None
    host_ref: str | None
    host_label: str | None
    reason: str
    stay_minutes: int
    status: str  # pending, confirmed, declined
    registered_at: datetime
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class ExemptionLine:
    """An exemption in force, as lists show it."""

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


@dataclass(frozen=True)
class PersonMatch:
    """A person found by the guard's search, with the status that governs now."""

    person: PersonRef
    status: HealthStatus
