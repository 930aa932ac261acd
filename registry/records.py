"""Validated registry input: what one spreadsheet row or one demo person says.

A ``PersonRecord`` has passed every check that needs no database (document number,
phone, labels); ``RegistryWriter`` checks the rest (the building exists) and applies it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from gate.domain.documents import DocumentType
from gate.domain.people import HealthStatus, LegalBasis, PersonKind, Relation, Sex


@dataclass(frozen=True)
class StatusEntry:
    """A status period as a spreadsheet states it: whole local days, end inclusive."""

    status: HealthStatus
    first_day: date
    last_day: date | None
    legal_basis: LegalBasis
    note: str = ""


@dataclass(frozen=True)
class PersonRecord:
    """One person with their home (if any) and document; the number is normalised."""

    name: str
    sex: Sex
    doc_type: DocumentType
    doc_number: str
    building: str | None = None  # None for staff who do not live in the compound
    unit: str | None = None
    room: str | None = None
    birth_date: date | None = None
    phone: str | None = None
    relation: Relation | None = None
    kind: PersonKind = PersonKind.RESIDENT
    status: StatusEntry | None = None

    def __repr__(self) -> str:
        # Keep document numbers and phones out of logs and tracebacks.
        return f"PersonRecord(building={self.building!r}, unit={self.unit!r}, room={self.room!r})"
