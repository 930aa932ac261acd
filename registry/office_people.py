"""Adding, editing and moving out persons, and their status records.

Persons are written through ``RegistryWriter``, the one way a person is created or changed
(the importer and the demo use it too); statuses are whole local days, the last included,
as the importer reads them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from gate.app.actor import Scope
from gate.domain.documents import DocumentType, validate
from gate.domain.errors import ActionRefused, NotFound, OutOfScope
from gate.domain.people import HealthStatus, LegalBasis, PersonKind, Relation, Sex
from gate.domain.places import building_key, building_label, room_key, unit_key, unit_label
from gate.domain.status import end_of_local_day, local_date, start_of_local_day
from registry.crypto import PersonalDataCipher
from registry.models import Document, Person, StatusRecord
from registry.office import MAX_NAME, MAX_TEXT, load_person
from registry.records import PersonRecord, normalize_phone
from registry.service import (
    RegistryWriter,
    audit,
    bump_revision,
    document_hash,
    get_or_create_compound,
)


@dataclass(frozen=True)
class PersonInput:
    """What the person form says (phone ``None``: keep the one on record)."""

    name: str
    sex: Sex | None
    phone: str | None
    relation: Relation | None
    kind: PersonKind
    building: str
    unit: str
    room: str


def _record(
    data: PersonInput, doc_type: DocumentType, number: str, today: date, birth: date | None
) -> PersonRecord:
    name = " ".join(data.name.split())
    if not name:
        raise ActionRefused("required", field="name")
    if len(name) > MAX_NAME:
        raise ActionRefused("too_long", field="name", limit=MAX_NAME)
    if not (data.building.strip() and data.unit.strip() and data.room.strip()):
        raise ActionRefused("required", field="room")
    info = validate(doc_type, number, today=today)
    if data.sex is not None and info.sex is not None and data.sex is not info.sex:
        raise ActionRefused("sex_mismatch")
    phone = None
    if data.phone:
        try:
            phone = normalize_phone(data.phone)
        except ValueError:
            raise ActionRefused("phone") from None
    return PersonRecord(
        name=name,
        sex=data.sex or info.sex or Sex.UNKNOWN,
        doc_type=info.doc_type,
        doc_number=info.number,
        building=building_key(data.building),
        unit=unit_key(data.unit),
        room=room_key(data.room),
        birth_date=info.birth_date or birth,
        phone=phone,
        relation=data.relation,
        kind=data.kind,
    )


def _writer(
    session: Session,
    *,
    cipher: PersonalDataCipher,
    compound: tuple[str, str],
    now: datetime,
    actor: str,
    record: PersonRecord,
) -> RegistryWriter:
    code, name = compound
    writer = RegistryWriter(
        session,
        cipher=cipher,
        compound=get_or_create_compound(session, code=code, name=name),
        now=now,
        recorded_by=actor,
    )
    assert record.building is not None
    assert record.unit is not None
    if not writer.has_unit(record.building, record.unit):
        raise ActionRefused(
            "unknown_unit",
            building=building_label(record.building),
            unit=unit_label(record.unit),
        )
    return writer


def add_person(
    session: Session,
    *,
    cipher: PersonalDataCipher,
    compound: tuple[str, str],
    scope: Scope,
    data: PersonInput,
    doc_type: DocumentType,
    doc_number: str,
    now: datetime,
    actor: str,
    origin: str,
) -> str:
    """Register a person (or bring back one who moved out); return their ref.

    ``DocumentInvalid`` names what is wrong with the number; a number already held by a
    present resident is refused without saying where they live.
    """
    if not scope.covers(building_key(data.building)):
        raise OutOfScope(f"building:{building_key(data.building)}")
    record = _record(data, doc_type, doc_number, local_date(now), None)
    writer = _writer(session, cipher=cipher, compound=compound, now=now, actor=actor, record=record)
    number_hash = document_hash(cipher, record)
    holder = session.scalar(
        select(Person).join(Document).where(Document.number_hash == number_hash)
    )
    if holder is not None and holder.moved_out_at is None:
        raise ActionRefused("document_taken")
    if record.phone is None and holder is not None:
        record = replace(record, phone=writer.phone_of(holder))
    writer.apply(record)
    created = writer.flush()
    person_id = created[number_hash] if holder is None else holder.id
    person = session.get(Person, person_id)
    assert person is not None
    audit(
        session,
        actor=actor,
        origin=origin,
        action="person.add",
        target=f"person:{person.ref}",
        at=now,
        detail={"household": _home_ref(person), "returned": holder is not None},
    )
    return person.ref


def _home_ref(person: Person) -> str | None:
    return person.household.ref if person.household else None


def update_person(
    session: Session,
    *,
    cipher: PersonalDataCipher,
    compound: tuple[str, str],
    scope: Scope,
    ref: str,
    data: PersonInput,
    clear_phone: bool,
    now: datetime,
    actor: str,
    origin: str,
) -> list[str]:
    """Change a present person's details or home; return the names of what changed."""
    person = load_person(session, ref, scope)
    if person.moved_out_at is not None:
        raise ActionRefused("moved_out")
    if not scope.covers(building_key(data.building)):
        raise OutOfScope(f"building:{building_key(data.building)}")
    document = person.documents[0]
    number = cipher.decrypt("document", document.number_cipher)
    record = _record(data, document.doc_type, number, local_date(now), person.birth_date)
    writer = _writer(session, cipher=cipher, compound=compound, now=now, actor=actor, record=record)
    if record.phone is None and not clear_phone:
        record = replace(record, phone=writer.phone_of(person))
    watched = ("name", "sex", "relation", "kind", "household_id", "phone_cipher")
    before = {name: getattr(person, name) for name in watched}
    before["phone"] = writer.phone_of(person)
    writer.apply(record)
    session.flush()
    after = {name: getattr(person, name) for name in watched}
    after["phone"] = writer.phone_of(person)
    changed = sorted(
        name
        for name in (*watched, "phone")
        if name != "phone_cipher" and before[name] != after[name]
    )
    if changed:
        audit(
            session,
            actor=actor,
            origin=origin,
            action="person.update",
            target=f"person:{person.ref}",
            at=now,
            detail={"changed": changed},
        )
    return changed


def move_out(
    session: Session, *, scope: Scope, ref: str, now: datetime, actor: str, origin: str
) -> None:
    """Record that a person moved out (the row stays, for the log and the district)."""
    person = load_person(session, ref, scope)
    if person.moved_out_at is not None:
        raise ActionRefused("moved_out")
    person.moved_out_at = now
    person.updated_at = now
    audit(
        session,
        actor=actor,
        origin=origin,
        action="person.move_out",
        target=f"person:{person.ref}",
        at=now,
        detail={"household": _home_ref(person)},
    )
    bump_revision(session)


def start_status(
    session: Session,
    *,
    scope: Scope,
    ref: str,
    status: HealthStatus,
    first_day: date,
    last_day: date | None,
    legal_basis: LegalBasis,
    note: str,
    now: datetime,
    actor: str,
    origin: str,
) -> int:
    """Put a person under a status for whole local days, the last one included."""
    person = load_person(session, ref, scope)
    if person.moved_out_at is not None:
        raise ActionRefused("moved_out")
    if status is HealthStatus.NORMAL:
        raise ActionRefused("status_normal")
    if last_day is not None and last_day < first_day:
        raise ActionRefused("date_order")
    if last_day is not None and end_of_local_day(last_day) <= now:
        raise ActionRefused("status_past")
    if len(note) > MAX_TEXT:
        raise ActionRefused("too_long", field="note", limit=MAX_TEXT)
    record = StatusRecord(
        status=status,
        starts_at=start_of_local_day(first_day),
        ends_at=end_of_local_day(last_day) if last_day else None,
        recorded_by=actor,
        recorded_at=now,
        legal_basis=legal_basis,
        note=note.strip(),
    )
    person.statuses.append(record)
    person.updated_at = now
    session.flush()
    audit(
        session,
        actor=actor,
        origin=origin,
        action="status.start",
        target=f"person:{person.ref}",
        at=now,
        detail={
            "record": record.id,
            "status": status.value,
            "from": first_day.isoformat(),
            "to": last_day.isoformat() if last_day else None,
            "legal_basis": legal_basis.value,
        },
    )
    bump_revision(session)
    return record.id


def end_status(
    session: Session, *, scope: Scope, record_id: int, now: datetime, actor: str, origin: str
) -> str:
    """End a status now, ahead of its planned end; return the person's ref."""
    record = session.get(StatusRecord, record_id)
    if record is None:
        raise NotFound("no such status record")
    person = load_person(session, record.person.ref, scope)
    if record.starts_at >= now:
        raise ActionRefused("status_upcoming")
    if record.ends_at is not None and record.ends_at <= now:
        raise ActionRefused("status_ended")
    planned = record.ends_at
    record.ends_at = now
    person.updated_at = now
    audit(
        session,
        actor=actor,
        origin=origin,
        action="status.end",
        target=f"person:{person.ref}",
        at=now,
        detail={
            "record": record.id,
            "status": record.status.value,
            "planned_end": planned.isoformat() if planned else None,
        },
    )
    bump_revision(session)
    return person.ref
