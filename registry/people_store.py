"""The person-record and status stores of ``gate.app.ports`` on SQLAlchemy.

A person is created or changed through ``RegistryWriter``, the one way (the importer and
the demo use it too). Like ``registry.stores``, these validate nothing and audit nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from gate.app.actor import Actor, Scope
from gate.app.office_values import PersonEntry, PersonOnFile, PersonSaved, StatusOnFile
from gate.app.views import PersonRef
from gate.domain.errors import NotFound, OutOfScope
from gate.domain.people import HealthStatus, LegalBasis
from registry.crypto import PersonalDataCipher
from registry.models import (
    Building,
    Compound,
    Document,
    Household,
    Person,
    StatusRecord,
    Unit,
)
from registry.records import PersonRecord
from registry.service import RegistryWriter
from registry.stores import person_ref

_LOADS = selectinload(Person.household).selectinload(Household.unit).selectinload(Unit.building)
# What an edit compares before and after (the phone in the clear, not its ciphertext).
_WATCHED = ("name", "sex", "relation", "kind", "household_id")


class SqlPersonRecordStore:
    """``PersonRecordStore``."""

    def __init__(self, session: Session, cipher: PersonalDataCipher, actor: Actor) -> None:
        self._session, self._cipher, self._actor = session, cipher, actor

    def _unit(self, building: str, unit: str) -> Unit | None:
        # The registry holds one compound's layout (as ``SqlHouseholdStore.find`` reads it).
        return self._session.scalar(
            select(Unit)
            .join(Building)
            .where(Building.key == building, Unit.key == unit)
            .order_by(Unit.id)
            .limit(1)
        )

    def has_unit(self, building: str, unit: str) -> bool:
        """True if the unit exists."""
        return self._unit(building, unit) is not None

    def _person(self, ref: str) -> Person:
        person = self._session.scalar(select(Person).where(Person.ref == ref).options(_LOADS))
        if person is None:
            raise NotFound("no such person")
        return person

    def on_file(self, ref: str, scope: Scope) -> PersonOnFile:
        """The person with their (first) document in the clear."""
        person = self._person(ref)
        found = person_ref(person)
        if not scope.covers_home(found.building, found.household.unit if found.household else None):
            raise OutOfScope(f"person:{ref}")
        document = person.documents[0]
        return PersonOnFile(
            person=found,
            doc_type=document.doc_type,
            doc_number=self._cipher.decrypt("document", document.number_cipher),
            birth_date=person.birth_date,
        )

    def save(self, entry: PersonEntry) -> PersonSaved:
        """Apply the entry through ``RegistryWriter``; say whose it is and what changed."""
        unit = self._unit(entry.building, entry.unit)
        if unit is None:
            raise NotFound(f"unknown building/unit {entry.building}/{entry.unit}")
        compound = self._session.get(Compound, unit.building.compound_id)
        assert compound is not None
        writer = RegistryWriter(
            self._session,
            cipher=self._cipher,
            compound=compound,
            now=self._actor.at,
            recorded_by=self._actor.name,
            announce=False,  # the use case's unit of work bumps the revision once
        )
        number_hash = self._cipher.lookup_hash(entry.doc_type.value, entry.doc_number)
        holder = self._session.scalar(
            select(Person).join(Document).where(Document.number_hash == number_hash)
        )
        phone = entry.phone
        if phone is None and entry.keep_phone and holder is not None:
            phone = writer.phone_of(holder)
        before = self._watched(writer, holder) if holder is not None else {}
        writer.apply(_record(entry, phone))
        created = writer.flush()
        self._session.flush()
        person = holder if holder is not None else self._session.get(Person, created[number_hash])
        assert person is not None
        after = self._watched(writer, person)
        changed = sorted(name for name in after if before and before[name] != after[name])
        return PersonSaved(
            ref=person.ref,
            household_ref=person.household.ref if person.household else None,
            created=holder is None,
            changed=tuple(changed),
        )

    @staticmethod
    def _watched(writer: RegistryWriter, person: Person) -> dict[str, object]:
        values: dict[str, object] = {name: getattr(person, name) for name in _WATCHED}
        values["phone"] = writer.phone_of(person)
        return values

    def move_out(self, ref: str) -> None:
        """Stamp the move-out with the actor's time."""
        person = self._person(ref)
        person.moved_out_at = self._actor.at
        person.updated_at = self._actor.at


def _record(entry: PersonEntry, phone: str | None) -> PersonRecord:
    return PersonRecord(
        name=entry.name,
        sex=entry.sex,
        doc_type=entry.doc_type,
        doc_number=entry.doc_number,
        building=entry.building,
        unit=entry.unit,
        room=entry.room,
        birth_date=entry.birth_date,
        phone=phone,
        relation=entry.relation,
        kind=entry.kind,
    )


class SqlStatusStore:
    """``StatusStore``."""

    def __init__(self, session: Session, actor: Actor) -> None:
        self._session, self._actor = session, actor

    def add(
        self,
        person: PersonRef,
        *,
        status: HealthStatus,
        starts_at: datetime,
        ends_at: datetime | None,
        legal_basis: LegalBasis,
        note: str,
    ) -> int:
        """Record a status period."""
        row = self._session.scalar(select(Person).where(Person.ref == person.ref))
        if row is None:
            raise NotFound("no such person")
        record = StatusRecord(
            status=status,
            starts_at=starts_at,
            ends_at=ends_at,
            recorded_by=self._actor.name,
            recorded_at=self._actor.at,
            legal_basis=legal_basis,
            note=note,
        )
        row.statuses.append(record)
        row.updated_at = self._actor.at
        self._session.flush()
        return record.id

    def _row(self, record_id: int) -> StatusRecord:
        record = self._session.get(StatusRecord, record_id)
        if record is None:
            raise NotFound("no such status record")
        return record

    def get(self, record_id: int) -> StatusOnFile:
        """One status record."""
        record = self._row(record_id)
        return StatusOnFile(
            id=record.id,
            person_ref=record.person.ref,
            status=record.status,
            starts_at=record.starts_at,
            ends_at=record.ends_at,
        )

    def end(self, record_id: int) -> None:
        """End the status at the actor's time."""
        record = self._row(record_id)
        record.ends_at = self._actor.at
        record.person.updated_at = self._actor.at

    def change(
        self,
        record_id: int,
        *,
        status: HealthStatus,
        starts_at: datetime,
        ends_at: datetime | None,
        note: str,
    ) -> None:
        """Change the period, restamped with the actor."""
        record = self._row(record_id)
        record.status, record.starts_at, record.ends_at = status, starts_at, ends_at
        record.note = note
        record.recorded_by, record.recorded_at = self._actor.name, self._actor.at
        record.person.updated_at = self._actor.at
        self._session.flush()

    def of_person(self, person_ref: str) -> list[StatusOnFile]:
        """The person's status history."""
        records = self._session.scalars(
            select(StatusRecord)
            .join(Person)
            .where(Person.ref == person_ref)
            .order_by(StatusRecord.starts_at, StatusRecord.id)
        )
        return [
            StatusOnFile(
                id=record.id,
                person_ref=person_ref,
                status=record.status,
                starts_at=record.starts_at,
                ends_at=record.ends_at,
            )
            for record in records
        ]
