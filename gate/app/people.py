"""Registering persons, changing their details, moving them out, and their statuses.

Validated here, once, for the office pages and any other front end: a name of 1 to
``MAX_NAME`` characters, a room, a valid document whose sex agrees with the form, a phone
of 7 to 15 digits, a unit that exists, a number not already held by a present resident;
statuses of whole local days, the last one included, not normal, not already over. A
building head reaches only their buildings (``OutOfScope``). Every change is audited once
and makes running gates reload; a person is written through the registry's one writer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from gate.app.actor import Actor
from gate.app.faces import FaceGalleryUpdates
from gate.app.office_values import PersonEntry, StatusOnFile
from gate.app.ports import UnitOfWork, UnitOfWorkFactory
from gate.app.views import PersonRef
from gate.domain.documents import DocumentType, validate
from gate.domain.errors import ActionRefused, OutOfScope
from gate.domain.people import HealthStatus, LegalBasis, PersonKind, Relation, Sex, normalize_phone
from gate.domain.places import building_key, building_label, room_key, unit_key, unit_label
from gate.domain.status import end_of_local_day, local_date, start_of_local_day

MAX_NAME = 50
MAX_NOTE = 500


@dataclass(frozen=True)
class PersonForm:
    """What the person form says (phone ``None``: keep the one on record)."""

    name: str
    sex: Sex | None
    phone: str | None
    relation: Relation | None
    kind: PersonKind
    building: str
    unit: str
    room: str


@dataclass(frozen=True)
class AddPerson:
    """Register a person in a room (or bring back one who moved out)."""

    details: PersonForm
    doc_type: DocumentType
    doc_number: str

    def __repr__(self) -> str:
        return f"AddPerson(building={self.details.building!r}, room={self.details.room!r})"


@dataclass(frozen=True)
class UpdatePerson:
    """Change a present person's details or home; their document stays as registered."""

    ref: str
    details: PersonForm
    clear_phone: bool = False


@dataclass(frozen=True)
class MoveOut:
    """Record that a person moved out (the row stays, for the log and the district)."""

    ref: str


@dataclass(frozen=True)
class StartStatus:
    """Put a person under a status from ``first_day`` to ``last_day`` (None: until ended)."""

    ref: str
    status: HealthStatus
    first_day: date
    last_day: date | None
    legal_basis: LegalBasis
    note: str = ""


@dataclass(frozen=True)
class EndStatus:
    """End a status now, ahead of its planned end."""

    record_id: int


def _checked_scope(actor: Actor, building: str, unit: str) -> None:
    if not actor.scope.covers(building_key(building)):
        raise OutOfScope(f"building:{building_key(building)}")
    if not actor.scope.covers_home(building_key(building), unit_key(unit)):
        raise OutOfScope(f"unit:{building_key(building)}/{unit_key(unit)}")


def _phone(text: str | None) -> str | None:
    if not text:
        return None
    try:
        return normalize_phone(text)
    except ValueError:
        raise ActionRefused("phone") from None


def _checked_form(details: PersonForm) -> tuple[str, str | None]:
    """The form's checks that need no document: the name (spaces folded) and the phone."""
    name = " ".join(details.name.split())
    if not name:
        raise ActionRefused("required", field="name")
    if len(name) > MAX_NAME:
        raise ActionRefused("too_long", field="name", limit=MAX_NAME)
    if not (details.building.strip() and details.unit.strip() and details.room.strip()):
        raise ActionRefused("required", field="room")
    return name, _phone(details.phone)


def _entry(
    uow: UnitOfWork,
    details: PersonForm,
    checked: tuple[str, str | None],
    *,
    doc_type: DocumentType,
    doc_number: str,
    birth: date | None,
    keep_phone: bool,
) -> PersonEntry:
    """The checked entry: ``checked`` is what ``_checked_form`` made of the name and phone."""
    name, phone = checked
    info = validate(doc_type, doc_number, today=local_date(uow.actor.at))
    if details.sex is not None and info.sex is not None and details.sex is not info.sex:
        raise ActionRefused("sex_mismatch")
    entry = PersonEntry(
        name=name,
        sex=details.sex or info.sex or Sex.UNKNOWN,
        doc_type=info.doc_type,
        doc_number=info.number,
        building=building_key(details.building),
        unit=unit_key(details.unit),
        room=room_key(details.room),
        birth_date=info.birth_date or birth,
        phone=phone,
        keep_phone=keep_phone,
        relation=details.relation,
        kind=details.kind,
    )
    if not uow.person_records.has_unit(entry.building, entry.unit):
        raise ActionRefused(
            "unknown_unit", building=building_label(entry.building), unit=unit_label(entry.unit)
        )
    return entry


def add_person(command: AddPerson, *, actor: Actor, units: UnitOfWorkFactory) -> str:
    """Register the person; return their ref.

    ``DocumentInvalid`` names what is wrong with the number; a number already held by a
    present resident is refused without saying where they live, and to an actor whose
    scope does not cover the holder's building without saying that anyone holds it
    (``document_unavailable``: the property office can look).
    """
    _checked_scope(actor, command.details.building, command.details.unit)
    checked = _checked_form(command.details)
    with units(actor) as uow:
        entry = _entry(
            uow,
            command.details,
            checked,
            doc_type=command.doc_type,
            doc_number=command.doc_number,
            birth=None,
            keep_phone=True,  # one who comes back keeps their phone if the form has none
        )
        holder = uow.persons.holder_of(entry.doc_type, entry.doc_number)
        if holder is not None and not holder.moved_out:
            home_unit = holder.household.unit if holder.household else None
            if not actor.scope.covers_home(holder.building, home_unit):
                raise ActionRefused("document_unavailable")
            raise ActionRefused("document_taken")
        saved = uow.person_records.save(entry)
        uow.audit(
            "person.add",
            f"person:{saved.ref}",
            {"household": saved.household_ref, "returned": not saved.created},
        )
        uow.registry_changed()
        uow.commit()
    return saved.ref


def update_person(command: UpdatePerson, *, actor: Actor, units: UnitOfWorkFactory) -> list[str]:
    """Save the person's details; return the names of what changed (audited only then)."""
    checked = _checked_form(command.details)
    with units(actor) as uow:
        on_file = uow.person_records.on_file(command.ref, actor.scope)
        if on_file.person.moved_out:
            raise ActionRefused("moved_out")
        _checked_scope(actor, command.details.building, command.details.unit)
        entry = _entry(
            uow,
            command.details,
            checked,
            doc_type=on_file.doc_type,
            doc_number=on_file.doc_number,
            birth=on_file.birth_date,
            keep_phone=not command.clear_phone,
        )
        saved = uow.person_records.save(entry)
        if not saved.changed:
            return []
        uow.audit("person.update", f"person:{saved.ref}", {"changed": list(saved.changed)})
        uow.registry_changed()
        uow.commit()
    return list(saved.changed)


def move_out(
    command: MoveOut,
    *,
    actor: Actor,
    units: UnitOfWorkFactory,
    gallery: FaceGalleryUpdates | None = None,
) -> None:
    """Mark the person as moved out now (``ActionRefused`` if they already have).

    Their face consent ends with their residence: every template is deleted in the same
    transaction (and dropped from ``gallery`` at once; other processes' galleries follow
    at their next reload).
    """
    with units(actor) as uow:
        person = uow.persons.by_ref(command.ref, actor.scope)
        if person.moved_out:
            raise ActionRefused("moved_out")
        uow.person_records.move_out(person.ref)
        templates = uow.faces.withdraw(person.ref)
        detail: dict[str, object] = {
            "household": person.household.ref if person.household else None
        }
        if templates:
            detail["face_templates"] = templates
        uow.audit("person.move_out", f"person:{person.ref}", detail)
        uow.registry_changed()
        uow.commit()
    if gallery is not None:
        gallery.remove_person(person.ref)


@dataclass(frozen=True)
class StatusPeriodForm:
    """A status period checked for the status writer: whole local days, the note trimmed."""

    status: HealthStatus
    starts_at: datetime
    ends_at: datetime | None
    note: str


def checked_status(
    status: HealthStatus, first_day: date, last_day: date | None, note: str, *, at: datetime
) -> StatusPeriodForm:
    """The period of a status, checked once for every writer (``ActionRefused``)."""
    note = note.strip()
    if status is HealthStatus.NORMAL:
        raise ActionRefused("status_normal")
    if last_day is not None and last_day < first_day:
        raise ActionRefused("date_order")
    if last_day is not None and end_of_local_day(last_day) <= at:
        raise ActionRefused("status_past")
    if len(note) > MAX_NOTE:
        raise ActionRefused("too_long", field="note", limit=MAX_NOTE)
    return StatusPeriodForm(
        status=status,
        starts_at=start_of_local_day(first_day),
        ends_at=end_of_local_day(last_day) if last_day else None,
        note=note,
    )


def write_status(
    uow: UnitOfWork,
    person: PersonRef,
    period: StatusPeriodForm,
    *,
    legal_basis: LegalBasis,
    record_id: int | None = None,
) -> int:
    """Add the person's status period (or change ``record_id``); return the record's id.

    The one status writer: the office's form and the district's control lists both come
    through here (the caller audits and says ``registry_changed``).
    """
    if person.moved_out:
        raise ActionRefused("moved_out")
    if record_id is not None:
        uow.statuses.change(
            record_id,
            status=period.status,
            starts_at=period.starts_at,
            ends_at=period.ends_at,
            note=period.note,
        )
        return record_id
    return uow.statuses.add(
        person,
        status=period.status,
        starts_at=period.starts_at,
        ends_at=period.ends_at,
        legal_basis=legal_basis,
        note=period.note,
    )


def finish_status(uow: UnitOfWork, record: StatusOnFile) -> None:
    """End a status in force now (``ActionRefused`` if upcoming or already over)."""
    if record.starts_at >= uow.actor.at:
        raise ActionRefused("status_upcoming")
    if record.ends_at is not None and record.ends_at <= uow.actor.at:
        raise ActionRefused("status_ended")
    uow.statuses.end(record.id)


def start_status(command: StartStatus, *, actor: Actor, units: UnitOfWorkFactory) -> int:
    """Record the status for whole local days, the last one included; return its id."""
    period = checked_status(
        command.status, command.first_day, command.last_day, command.note, at=actor.at
    )
    with units(actor) as uow:
        person = uow.persons.by_ref(command.ref, actor.scope)
        record_id = write_status(uow, person, period, legal_basis=command.legal_basis)
        uow.audit(
            "status.start",
            f"person:{person.ref}",
            {
                "record": record_id,
                "status": command.status.value,
                "from": command.first_day.isoformat(),
                "to": command.last_day.isoformat() if command.last_day else None,
                "legal_basis": command.legal_basis.value,
            },
        )
        uow.registry_changed()
        uow.commit()
    return record_id


def end_status(command: EndStatus, *, actor: Actor, units: UnitOfWorkFactory) -> str:
    """End the status now; return the person's ref (``NotFound``, ``ActionRefused``)."""
    with units(actor) as uow:
        record = uow.statuses.get(command.record_id)
        person = uow.persons.by_ref(record.person_ref, actor.scope)
        finish_status(uow, record)
        uow.audit(
            "status.end",
            f"person:{person.ref}",
            {
                "record": record.id,
                "status": record.status.value,
                "planned_end": record.ends_at.isoformat() if record.ends_at else None,
            },
        )
        uow.registry_changed()
        uow.commit()
    return person.ref
