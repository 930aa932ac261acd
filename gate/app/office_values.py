"""Plain values the office use cases (people, statuses, the daily round) trade with stores.

Like ``gate.app.views``: no behaviour, no framework; the stores in ``registry/`` fill them.
The first half is what the writes check and store; the second what the office pages show
(``gate.app.office_views``), names in full: the screen masks them where it lists people.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from gate.app.views import ExemptionLine, PersonRef
from gate.domain.documents import DocumentType
from gate.domain.people import FEVER_FROM, HealthStatus, LegalBasis, PersonKind, Relation, Sex
from gate.domain.places import home_label


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


@dataclass(frozen=True)
class PersonLine:
    """A person as lists show them, with the status governing the actor's time."""

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
        return home_label(self.building, self.unit, self.room)

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
    status: str  # "open" or "resolved"
    recorded_by: str
    recorded_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None


@dataclass(frozen=True)
class BuildingSummary:
    """Counts of one building for the start page."""

    key: str
    units: int
    households: int
    persons: int
    quarantined: int


@dataclass(frozen=True)
class UnitBlock:
    """One unit of a building and its households (with present persons), by room."""

    key: str
    households: tuple[HouseholdLine, ...]


@dataclass(frozen=True)
class HouseholdView:
    """A household with every person ever registered in it, and its latest needs."""

    household: HouseholdLine
    needs: tuple[NeedLine, ...]  # newest first


@dataclass(frozen=True)
class StatusLine:
    """One status record of a person."""

    id: int
    status: HealthStatus
    starts_at: datetime
    ends_at: datetime | None
    legal_basis: LegalBasis
    note: str
    recorded_by: str
    active: bool
    upcoming: bool


@dataclass(frozen=True)
class PersonDetail:
    """Everything the edit page of one person shows."""

    line: PersonLine
    birth_date: date | None
    doc_type: DocumentType
    phone_last4: str | None
    household: HouseholdLine | None
    statuses: tuple[StatusLine, ...]  # newest start first
    exemptions: tuple[ExemptionLine, ...]


@dataclass(frozen=True)
class RoundPerson:
    """A quarantined person on today's round, with today's temperature if taken."""

    line: PersonLine
    temperature: float | None
    note: str
    checked_by: str | None

    @property
    def fever(self) -> bool:
        """True for a temperature the building head must act on."""
        return self.temperature is not None and self.temperature >= FEVER_FROM


@dataclass(frozen=True)
class RoundHousehold:
    """A household on the round: its quarantined persons, needs and escorted passes."""

    household: HouseholdLine
    persons: tuple[RoundPerson, ...]
    needs: tuple[NeedLine, ...]
    passes: tuple[ExemptionLine, ...]


@dataclass(frozen=True)
class DailyRound:
    """Today's round over the buildings in scope."""

    day: date
    households: tuple[RoundHousehold, ...] = field(default_factory=tuple)

    @property
    def persons(self) -> int:
        """Quarantined persons on the round."""
        return sum(len(item.persons) for item in self.households)

    @property
    def checked(self) -> int:
        """Persons whose temperature has been taken today."""
        return sum(1 for h in self.households for p in h.persons if p.temperature is not None)

    @property
    def fevers(self) -> int:
        """Persons with a temperature at or above ``FEVER_FROM`` today."""
        return sum(1 for h in self.households for p in h.persons if p.fever)

    @property
    def open_needs(self) -> int:
        """Needs still open."""
        return sum(1 for h in self.households for n in h.needs if n.status == "open")
