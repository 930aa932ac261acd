"""Reading and writing the registry: the one place that turns records into rows.

``RegistryWriter`` loads the compound's layout and document index once, then applies
records in bulk; the importer and the demo seeder both go through it, so a person is
created or updated in exactly one way.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import distinct, event, func, insert, select, update
from sqlalchemy.orm import Session, selectinload

from gate.app.registry_values import RegistryStats as RegistryStats  # re-exported
from gate.domain.errors import DuplicateDocument, NotFound
from gate.domain.people import HealthStatus
from gate.domain.places import building_key, room_key, unit_key
from gate.domain.status import current_status, end_of_local_day, start_of_local_day
from registry.crypto import PersonalDataCipher
from registry.models import (
    AuditEvent,
    Building,
    Compound,
    Document,
    Household,
    Person,
    RegistryRevision,
    StatusRecord,
    Unit,
)
from registry.records import PersonRecord, StatusEntry
from registry.status_rows import quarantined_at, status_periods


class Change(StrEnum):
    """What applying a record did."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


def get_or_create_compound(session: Session, *, code: str, name: str) -> Compound:
    """The compound with ``code``, created on first use."""
    compound = session.scalar(select(Compound).where(Compound.code == code))
    if compound is None:
        compound = Compound(code=code, name=name)
        session.add(compound)
        session.flush()
    return compound


def add_building(session: Session, *, compound: Compound, label: str, units: list[str]) -> Building:
    """Add a building with its units (idempotent: existing ones are kept)."""
    key = building_key(label)
    building = session.scalar(
        select(Building).where(Building.compound_id == compound.id, Building.key == key)
    )
    if building is None:
        building = Building(compound=compound, key=key)
        session.add(building)
    existing = {unit.key for unit in building.units}
    for unit_label in units:
        if unit_key(unit_label) not in existing:
            building.units.append(Unit(key=unit_key(unit_label)))
            existing.add(unit_key(unit_label))
    session.flush()
    return building


def document_hash(cipher: PersonalDataCipher, record: PersonRecord) -> str:
    """The lookup hash of a record's document."""
    return cipher.lookup_hash(record.doc_type.value, record.doc_number)


def bump_revision(session: Session) -> None:
    """Tell running gates that something a decision depends on has changed."""
    session.execute(
        update(RegistryRevision)
        .where(RegistryRevision.id == 1)
        .values(revision=RegistryRevision.revision + 1)
    )


def audit(
    session: Session,
    *,
    actor: str,
    origin: str,
    action: str,
    target: str,
    at: datetime,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append an audit event in the caller's transaction."""
    session.add(
        AuditEvent(
            at=at, actor=actor, origin=origin, action=action, target=target, detail=detail or {}
        )
    )


class RegistryWriter:
    """Applies person records to one compound inside the caller's transaction.

    New persons are buffered and written in bulk by ``flush()`` (an ORM object per row
    costs more than the rest of an import together); call it before reading them back.
    Updates go through the ORM, on persons loaded in batches by ``prefetch()``. Inside a
    unit of work (``announce=False``) the use case tells running gates of the change; on a
    bare session (the demo seed, tests) the writer bumps the registry revision itself.
    """

    _BATCH = 500

    def __init__(
        self,
        session: Session,
        *,
        cipher: PersonalDataCipher,
        compound: Compound,
        now: datetime,
        recorded_by: str,
        announce: bool = True,
    ) -> None:
        self._session = session
        self._announce = announce
        self._cipher = cipher
        self._now = now
        self._recorded_by = recorded_by
        self._units: dict[tuple[str, str], Unit] = {}
        self._buildings: set[str] = set()
        for unit in session.scalars(
            select(Unit).join(Building).where(Building.compound_id == compound.id)
        ):
            self._units[(unit.building.key, unit.key)] = unit
            self._buildings.add(unit.building.key)
        self._households: dict[tuple[int, str], Household] = {
            (household.unit_id, household.room): household
            for household in session.scalars(
                select(Household).where(Household.unit_id.in_([u.id for u in self._units.values()]))
            )
        }
        # number hash -> the person holding it, or None once we know nobody does.
        self._holders: dict[str, Person | None] = {}
        self._pending: list[tuple[PersonRecord, Household | None, str]] = []
        self._pending_hashes: set[str] = set()
        self._changed = False
        # A buffered person must never be lost because a caller forgot flush().
        event.listen(session, "before_commit", self._flush_before_commit)

    def has_building(self, label: str) -> bool:
        """True if the building exists in this compound."""
        return building_key(label) in self._buildings

    def has_unit(self, building: str, unit: str) -> bool:
        """True if the unit exists in that building."""
        return (building_key(building), unit_key(unit)) in self._units

    def prefetch(self, records: list[PersonRecord]) -> None:
        """Load, in a few queries, the persons that hold the records' documents."""
        hashes = [document_hash(self._cipher, record) for record in records]
        wanted = [h for h in hashes if h not in self._holders]
        for start in range(0, len(wanted), self._BATCH):
            self._load_holders(wanted[start : start + self._BATCH])

    def _load_holders(self, hashes: list[str]) -> None:
        query = (
            select(Document)
            .where(Document.number_hash.in_(hashes))
            .options(selectinload(Document.person).selectinload(Person.statuses))
        )
        found = {document.number_hash: document.person for document in self._session.scalars(query)}
        for number_hash in hashes:
            self._holders[number_hash] = found.get(number_hash)

    def apply(self, record: PersonRecord) -> Change:
        """Create the person, or update the one holding the same document."""
        household = self._home_of(record)
        number_hash = document_hash(self._cipher, record)
        if number_hash in self._pending_hashes:
            raise DuplicateDocument("the same document was applied twice in one batch")
        if number_hash not in self._holders:
            self._load_holders([number_hash])
        person = self._holders[number_hash]
        if person is None:
            self._pending.append((record, household, number_hash))
            self._pending_hashes.add(number_hash)
            self._changed = True
            return Change.CREATED
        changed = self._update(person, record, household)
        if record.status is not None:
            changed |= self._apply_status(person, record.status)
        if changed:
            person.updated_at = self._now
            self._changed = True
            return Change.UPDATED
        return Change.UNCHANGED

    def _flush_before_commit(self, session: Session) -> None:
        self.flush()
        if self._changed and self._announce:
            bump_revision(session)
        self._changed = False

    def flush(self) -> dict[str, int]:
        """Write the buffered new persons in bulk; return their ids by document hash."""
        if not self._pending:
            return {}
        self._session.flush()  # new households get their ids
        person_rows = []
        for record, household, _hash in self._pending:
            person_rows.append(
                {
                    "ref": str(uuid.uuid4()),
                    "household_id": household.id if household else None,
                    "name": record.name,
                    "sex": record.sex,
                    "birth_date": record.birth_date,
                    "relation": record.relation,
                    "kind": record.kind,
                    "phone_cipher": self._cipher.encrypt("phone", record.phone)
                    if record.phone
                    else None,
                    "phone_last4": record.phone[-4:] if record.phone else None,
                    "created_at": self._now,
                    "updated_at": self._now,
                }
            )
        person_ids = self._session.scalars(
            insert(Person).returning(Person.id, sort_by_parameter_order=True), person_rows
        ).all()
        documents, statuses = [], []
        for person_id, (record, _household, number_hash) in zip(
            person_ids, self._pending, strict=True
        ):
            documents.append(
                {
                    "person_id": person_id,
                    "doc_type": record.doc_type,
                    "number_hash": number_hash,
                    "number_cipher": self._cipher.encrypt("document", record.doc_number),
                    "number_last4": record.doc_number[-4:],
                }
            )
            if record.status is not None:
                statuses.append({"person_id": person_id, **self._status_values(record.status)})
        self._session.execute(insert(Document), documents)
        if statuses:
            self._session.execute(insert(StatusRecord), statuses)
        for number_hash in self._pending_hashes:
            del self._holders[number_hash]  # reload from the database if applied again
        created = {
            number_hash: person_id
            for (_r, _h, number_hash), person_id in zip(self._pending, person_ids, strict=True)
        }
        self._pending.clear()
        self._pending_hashes.clear()
        return created

    def _home_of(self, record: PersonRecord) -> Household | None:
        if record.building is None:
            return None
        unit = self._units.get((building_key(record.building), unit_key(record.unit or "")))
        if unit is None:
            raise NotFound(f"unknown building/unit {record.building}/{record.unit}")
        return self._household(unit, room_key(record.room or ""))

    def _household(self, unit: Unit, room: str) -> Household:
        household = self._households.get((unit.id, room))
        if household is None:
            household = Household(unit=unit, room=room)
            self._session.add(household)
            self._households[(unit.id, room)] = household
        return household

    def _update(self, person: Person, record: PersonRecord, household: Household | None) -> bool:
        changed = False
        wanted: dict[str, object] = {
            "household": household,
            "name": record.name,
            "sex": record.sex,
            "birth_date": record.birth_date,
            "relation": record.relation,
            "kind": record.kind,
            "moved_out_at": None,
        }
        for attribute, value in wanted.items():
            if getattr(person, attribute) != value:
                setattr(person, attribute, value)
                changed = True
        if self.phone_of(person) != record.phone:
            self._set_phone(person, record.phone)
            changed = True
        return changed

    def _set_phone(self, person: Person, phone: str | None) -> None:
        person.phone_cipher = self._cipher.encrypt("phone", phone) if phone else None
        person.phone_last4 = phone[-4:] if phone else None

    def phone_of(self, person: Person) -> str | None:
        """The person's phone in the clear (for comparison and revealed export)."""
        if person.phone_cipher is None:
            return None
        return self._cipher.decrypt("phone", person.phone_cipher)

    def _status_values(self, entry: StatusEntry) -> dict[str, Any]:
        return {
            "status": entry.status,
            "starts_at": start_of_local_day(entry.first_day),
            "ends_at": end_of_local_day(entry.last_day) if entry.last_day else None,
            "recorded_by": self._recorded_by,
            "recorded_at": self._now,
            "legal_basis": entry.legal_basis,
            "note": entry.note,
        }

    def _apply_status(self, person: Person, entry: StatusEntry) -> bool:
        values = self._status_values(entry)
        for existing in person.statuses:
            if existing.status is entry.status and existing.starts_at == values["starts_at"]:
                if (existing.ends_at, existing.legal_basis, existing.note) == (
                    values["ends_at"],
                    entry.legal_basis,
                    entry.note,
                ):
                    return False
                for attribute in ("ends_at", "legal_basis", "note", "recorded_by", "recorded_at"):
                    setattr(existing, attribute, values[attribute])
                return True
        person.statuses.append(StatusRecord(**values))
        return True


def status_of(person: Person, at: datetime) -> HealthStatus:
    """A person's status at ``at``, from their history."""
    return current_status(status_periods(person.statuses), at)


def registry_stats(session: Session, *, at: datetime) -> RegistryStats:
    """Counts of the registry at ``at`` (persons who moved out are not counted)."""
    in_quarantine = quarantined_at(at)
    present = Person.moved_out_at.is_(None)
    return RegistryStats(
        buildings=session.scalar(select(func.count()).select_from(Building)) or 0,
        units=session.scalar(select(func.count()).select_from(Unit)) or 0,
        households=session.scalar(select(func.count(distinct(Person.household_id))).where(present))
        or 0,
        persons=session.scalar(select(func.count()).select_from(Person).where(present)) or 0,
        quarantined_persons=session.scalar(
            select(func.count()).select_from(Person).where(present, Person.id.in_(in_quarantine))
        )
        or 0,
        quarantined_households=session.scalar(
            select(func.count(distinct(Person.household_id))).where(
                present, Person.id.in_(in_quarantine)
            )
        )
        or 0,
    )
