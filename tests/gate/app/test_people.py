"""The people use cases: adding, editing, moving out, statuses; refusals write nothing."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gate.app.people import (
    AddPerson,
    EndStatus,
    MoveOut,
    PersonForm,
    StartStatus,
    UpdatePerson,
    add_person,
    end_status,
    move_out,
    start_status,
    update_person,
)
from gate.domain.documents import DocumentType
from gate.domain.errors import ActionRefused, DocumentInvalid, NotFound, OutOfScope
from gate.domain.people import HealthStatus, LegalBasis, PersonKind, Relation, Sex
from gate.domain.status import end_of_local_day, local_date, start_of_local_day
from tests.api.test_office_support import (
    NEWCOMER,
    OTHER_BUILDING,
    RESIDENT_A,
    Compound,
    audits,
    person,
)
from tests.gate.app.office_support import changes, head, office, written

FORM = PersonForm(
    name="孙 悟空",
    sex=None,
    phone="138-1234-5678",
    relation=Relation.TENANT,
    kind=PersonKind.RESIDENT,
    building="1号楼",
    unit="1单元",
    room="101",
)


def adding(number: str = NEWCOMER, **changed: Any) -> AddPerson:
    return AddPerson(dataclasses.replace(FORM, **changed), DocumentType.RESIDENT_ID, number)


def test_adding_a_person_writes_them_once_with_one_audit_row_and_one_bump(
    compound: Compound,
) -> None:
    services = compound.services
    before = written(services)
    ref = add_person(adding(), actor=head(), units=services.units)
    assert changes(before, written(services)) == {"Person": 1, "AuditEvent": 1, "revision": 1}
    row = person(services, ref)
    assert row.name == "孙 悟空"
    assert row.sex is Sex.MALE  # from the number
    assert row.phone_last4 == "5678"
    assert row.household is not None
    assert row.household.ref == compound.home_101
    (audited,) = audits(services, "person.add")
    assert (audited.actor, audited.target) == ("head", f"person:{ref}")
    assert audited.detail == {"household": compound.home_101, "returned": False}


@pytest.mark.parametrize(
    ("command", "code", "params"),
    [
        (adding(name="  "), "required", {"field": "name"}),
        (adding(name="长" * 51), "too_long", {"field": "name", "limit": 50}),
        (adding(room=" "), "required", {"field": "room"}),
        (adding(phone="12-34"), "phone", {}),
        (adding(sex=Sex.FEMALE), "sex_mismatch", {}),
        (adding(unit="9"), "unknown_unit", {"building": "1号楼", "unit": "9单元"}),
        (adding(building="7"), "unknown_unit", {"building": "7号楼", "unit": "1单元"}),
        (adding(RESIDENT_A), "document_taken", {}),
        (adding(OTHER_BUILDING), "document_taken", {}),  # says nothing of where they live
    ],
)
def test_an_addition_that_cannot_be_made_is_refused_with_its_code_and_writes_nothing(
    compound: Compound, command: AddPerson, code: str, params: dict[str, Any]
) -> None:
    before = written(compound.services)
    with pytest.raises(ActionRefused) as refused:
        add_person(command, actor=office(), units=compound.services.units)
    assert (refused.value.code, dict(refused.value.params)) == (code, params)
    assert written(compound.services) == before


def test_an_invalid_number_is_refused_naming_the_reason(compound: Compound) -> None:
    before = written(compound.services)
    with pytest.raises(DocumentInvalid) as refused:
        add_person(adding(NEWCOMER[:17]), actor=office(), units=compound.services.units)
    assert refused.value.reason == "length"
    assert written(compound.services) == before


def test_a_building_head_learns_nothing_of_a_number_held_outside_their_buildings(
    compound: Compound,
) -> None:
    before = written(compound.services)
    refusals = {}
    for number in (OTHER_BUILDING, RESIDENT_A):  # building 3, outside; building 1, theirs
        with pytest.raises(ActionRefused) as refused:
            add_person(adding(number), actor=head(), units=compound.services.units)
        refusals[number] = refused.value
    outside, inside = refusals[OTHER_BUILDING], refusals[RESIDENT_A]
    assert (outside.code, dict(outside.params)) == ("document_unavailable", {})
    assert inside.code == "document_taken"
    assert written(compound.services) == before


def test_a_building_head_cannot_add_a_person_to_another_building(compound: Compound) -> None:
    before = written(compound.services)
    with pytest.raises(OutOfScope) as refused:
        add_person(adding(building="3"), actor=head(), units=compound.services.units)
    assert refused.value.target == "building:3"
    assert written(compound.services) == before


def test_one_who_moved_out_comes_back_as_themselves_keeping_their_phone(
    compound: Compound,
) -> None:
    services = compound.services
    move_out(MoveOut(compound.wang), actor=office(), units=services.units)
    before = written(services)
    ref = add_person(
        adding(RESIDENT_A, name="王小明", phone=None, room="502"),
        actor=office(),
        units=services.units,
    )
    assert ref == compound.wang
    assert changes(before, written(services)) == {"AuditEvent": 1, "revision": 1}
    row = person(services, ref)
    assert row.moved_out_at is None
    assert row.phone_last4 == "1234"
    assert row.household is not None
    assert row.household.room == "502"
    assert audits(services, "person.add")[0].detail["returned"] is True


def editing(ref: str, **changed: Any) -> UpdatePerson:
    details = dataclasses.replace(
        FORM, name="李梅", sex=Sex.FEMALE, phone=None, relation=Relation.FAMILY
    )
    clear = changed.pop("clear_phone", False)
    return UpdatePerson(ref, dataclasses.replace(details, **changed), clear_phone=clear)


def test_an_edit_says_what_changed_audits_it_once_and_bumps_once(compound: Compound) -> None:
    services = compound.services
    before = written(services)
    changed = update_person(
        editing(compound.li, name="李 梅梅", phone="13912345678", room="202"),
        actor=head(),
        units=services.units,
    )
    assert changed == ["household_id", "name", "phone"]
    assert changes(before, written(services)) == {"AuditEvent": 1, "revision": 1}
    (audited,) = audits(services, "person.update")
    assert audited.detail == {"changed": changed}
    row = person(services, compound.li)
    assert (row.name, row.phone_last4) == ("李 梅梅", "5678")
    assert row.household is not None
    assert row.household.ref == compound.home_202


def test_an_edit_that_changes_nothing_writes_nothing(compound: Compound) -> None:
    before = written(compound.services)
    assert update_person(editing(compound.li), actor=head(), units=compound.services.units) == []
    assert written(compound.services) == before
    assert person(compound.services, compound.li).phone_last4 == "1234"  # kept


def test_an_edit_may_clear_the_phone(compound: Compound) -> None:
    changed = update_person(
        editing(compound.li, clear_phone=True), actor=head(), units=compound.services.units
    )
    assert changed == ["phone"]
    assert person(compound.services, compound.li).phone_last4 is None


def test_an_edit_is_checked_like_an_addition(compound: Compound) -> None:
    services = compound.services
    before = written(services)
    for command, code in (
        (editing(compound.wang, name="王小明", sex=Sex.FEMALE), "sex_mismatch"),
        (editing(compound.li, phone="x"), "phone"),
        (editing(compound.li, unit="5"), "unknown_unit"),
    ):
        with pytest.raises(ActionRefused) as refused:
            update_person(command, actor=head(), units=services.units)
        assert refused.value.code == code
    assert written(services) == before


def test_a_building_head_edits_only_within_their_buildings(compound: Compound) -> None:
    services = compound.services
    before = written(services)
    with pytest.raises(OutOfScope) as theirs:
        update_person(editing(compound.zhao, building="3"), actor=head(), units=services.units)
    assert theirs.value.target == f"person:{compound.zhao}"
    with pytest.raises(OutOfScope) as moving:
        update_person(editing(compound.li, building="3"), actor=head(), units=services.units)
    assert moving.value.target == "building:3"
    assert written(services) == before
    with pytest.raises(NotFound):
        update_person(editing("no-such-ref"), actor=head(), units=services.units)


def test_moving_out_keeps_the_row_and_happens_once(compound: Compound) -> None:
    services = compound.services
    at = datetime.now(UTC)
    before = written(services)
    move_out(MoveOut(compound.wang), actor=head(at), units=services.units)
    assert changes(before, written(services)) == {"AuditEvent": 1, "revision": 1}
    assert person(services, compound.wang).moved_out_at == at
    assert audits(services, "person.move_out")[0].detail == {"household": compound.home_101}
    after = written(services)
    with pytest.raises(ActionRefused, match="moved out"):
        move_out(MoveOut(compound.wang), actor=head(), units=services.units)
    with pytest.raises(ActionRefused, match="moved out"):
        update_person(editing(compound.wang, name="王小明"), actor=head(), units=services.units)
    with pytest.raises(OutOfScope):
        move_out(MoveOut(compound.zhao), actor=head(), units=services.units)
    assert written(services) == after


def quarantine(ref: str, first: int = 0, last: int | None = 13, **changed: Any) -> StartStatus:
    today = local_date(datetime.now(UTC))
    command = StartStatus(
        ref=ref,
        status=HealthStatus.HOME_QUARANTINE,
        first_day=today + timedelta(days=first),
        last_day=today + timedelta(days=last) if last is not None else None,
        legal_basis=LegalBasis.PUBLIC_HEALTH_EMERGENCY,
        note=" 密接 ",
    )
    return dataclasses.replace(command, **changed)


def test_a_status_runs_whole_local_days_and_is_audited_once(compound: Compound) -> None:
    services = compound.services
    command = quarantine(compound.wang)
    before = written(services)
    record_id = start_status(command, actor=head(), units=services.units)
    assert changes(before, written(services)) == {"StatusRecord": 1, "AuditEvent": 1, "revision": 1}
    (record,) = person(services, compound.wang).statuses
    assert record.id == record_id
    assert command.last_day is not None
    assert record.starts_at == start_of_local_day(command.first_day)
    assert record.ends_at == end_of_local_day(command.last_day)
    assert (record.recorded_by, record.note) == ("head", "密接")
    assert audits(services, "status.start")[0].detail == {
        "record": record_id,
        "status": "home_quarantine",
        "from": command.first_day.isoformat(),
        "to": command.last_day.isoformat(),
        "legal_basis": "public_health_emergency",
    }


@pytest.mark.parametrize(
    ("changed", "code"),
    [
        ({"status": HealthStatus.NORMAL}, "status_normal"),
        ({"first": 2, "last": 1}, "date_order"),
        ({"first": -5, "last": -1}, "status_past"),
        ({"note": "长" * 501}, "too_long"),
    ],
)
def test_a_status_that_cannot_be_recorded_is_refused_and_writes_nothing(
    compound: Compound, changed: dict[str, Any], code: str
) -> None:
    days = {key: value for key, value in changed.items() if key in ("first", "last")}
    fields = {key: value for key, value in changed.items() if key not in days}
    before = written(compound.services)
    with pytest.raises(ActionRefused) as refused:
        start_status(
            quarantine(compound.wang, **days, **fields),
            actor=head(),
            units=compound.services.units,
        )
    assert refused.value.code == code
    assert written(compound.services) == before


def test_a_status_for_another_building_or_one_who_moved_out_is_refused(
    compound: Compound,
) -> None:
    services = compound.services
    move_out(MoveOut(compound.li), actor=office(), units=services.units)
    before = written(services)
    with pytest.raises(OutOfScope):
        start_status(quarantine(compound.zhao), actor=head(), units=services.units)
    with pytest.raises(ActionRefused, match="moved out"):
        start_status(quarantine(compound.li, last=None), actor=head(), units=services.units)
    assert written(services) == before


def test_ending_a_status_early_is_audited_once_and_only_while_it_runs(
    compound: Compound,
) -> None:
    services = compound.services
    (record,) = person(services, compound.zhang).statuses
    at = datetime.now(UTC)
    before = written(services)
    ref = end_status(EndStatus(record.id), actor=head(at), units=services.units)
    assert ref == compound.zhang
    assert changes(before, written(services)) == {"AuditEvent": 1, "revision": 1}
    assert person(services, compound.zhang).statuses[0].ends_at == at
    assert audits(services, "status.end")[0].detail == {
        "record": record.id,
        "status": "home_quarantine",
        "planned_end": record.ends_at.isoformat() if record.ends_at else None,
    }
    upcoming = start_status(quarantine(compound.wang, first=3), actor=head(), units=services.units)
    after = written(services)
    for record_id, code in ((record.id, "status_ended"), (upcoming, "status_upcoming")):
        with pytest.raises(ActionRefused) as refused:
            end_status(EndStatus(record_id), actor=head(), units=services.units)
        assert refused.value.code == code
    assert written(services) == after


def test_another_buildings_status_cannot_be_ended(compound: Compound) -> None:
    services = compound.services
    (record,) = person(services, compound.zhao).statuses
    before = written(services)
    with pytest.raises(OutOfScope) as refused:
        end_status(EndStatus(record.id), actor=head(), units=services.units)
    assert refused.value.target == f"person:{compound.zhao}"
    with pytest.raises(NotFound):
        end_status(EndStatus(10_000), actor=office(), units=services.units)
    assert written(services) == before
