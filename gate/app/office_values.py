"""Plain values the office use cases (people, statuses, the daily round) trade with stores.

Like ``gate.app.views``: no behaviour, no framework; the stores in ``registry/`` fill them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from gate.app.views import PersonRef
from gate.domain.documents import DocumentType
from gate.domain.people import HealthStatus, PersonKind, Relation, Sex


@dataclass(frozen=True)
class PersonEntry:
    """A person's details as a use case has checked them, ready for the registry's writer.

    The labels are keys (``building_key`` and friends); the number is normalised.
    ``phone`` None keeps the phone on record if ``keep_phone``, else clears it.
    """

    name: str
    sex: Sex
    doc_type: DocumentType
    doc_number: str
    building: str
    unit: str
    room: str
    birth_date: date | None
    phone: str | None
    keep_phone: bool
    relation: Relation | None
    kind: PersonKind

    def __repr__(self) -> str:
        # Keep document numbers and phones out of logs and tracebacks.
        return f"PersonEntry(building={self.building!r}, unit={self.unit!r}, room={self.room!r})"


@dataclass(frozen=True)
class PersonOnFile:
    """A registered person with the document they were registered with (for editing)."""

    person: PersonRef
    doc_type: DocumentType
    doc_number: str
    birth_date: date | None

    def __repr__(self) -> str:
        return f"PersonOnFile(person={self.person.ref!r})"


@dataclass(frozen=True)
class PersonSaved:
    """What writing a ``PersonEntry`` did: whose entry, their home, what changed."""

    ref: str
    household_ref: str | None
    created: bool
    changed: tuple[str, ...]  # for an existing person: "household_id", "name", "phone", ...


@dataclass(frozen=True)
class StatusOnFile:
    """One entry of a person's status history, ``[starts_at, ends_at)``."""

    id: int
    person_ref: str
    status: HealthStatus
    starts_at: datetime
    ends_at: datetime | None


@dataclass(frozen=True)
class NeedOnFile:
    """A need of a household, as the round's use cases check it."""

    id: int
    household_ref: str
    kind: str
    status: str  # "open" or "resolved"
