"""The daily round's use cases: temperatures, needs, the escorted hospital exit pass."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from gate.app.daily_round import (
    ESCORT_HOURS,
    ESCORT_REASON,
    NeedKind,
    RecordNeed,
    RecordTemperature,
    ResolveNeed,
    parse_temperature,
    record_need,
    record_temperature,
    resolve_need,
)
from gate.app.exemptions import active_exemptions
from gate.app.people import MoveOut, move_out
from gate.domain.errors import ActionRefused, NotFound, OutOfScope
from gate.domain.status import local_date
from gate.runtime.bootstrap import Services
from registry.models import Exemption, HealthCheck, HouseholdNeed
from tests.api.test_office_support import Compound, audits, person
from tests.gate.app.office_support import changes, head, office, written


def checks(services: Services) -> list[HealthCheck]:
    with services.database.session() as session:
        return list(session.scalars(select(HealthCheck).order_by(HealthCheck.id)))


def needs(services: Services) -> list[HouseholdNeed]:
    with services.database.session() as session:
        return list(session.scalars(select(HouseholdNeed).order_by(HouseholdNeed.id)))


@pytest.mark.parametrize(
    ("typed", "value"), [("36.6", 36.6), (" 42,0 ", 42.0), ("37.5℃", 37.5), ("37°C", 37.0)]
)
def test_a_typed_temperature_is_read_as_a_number(typed: str, value: float) -> None:
    assert parse_temperature(typed) == value


@pytest.mark.parametrize("typed", ["", "abc", "36.6.1"])
def test_a_typed_temperature_that_is_no_number_is_refused(typed: str) -> None:
    with pytest.raises(ActionRefused) as refused:
        parse_temperature(typed)
    assert refused.value.code == "temperature_format"


def test_a_temperature_is_kept_once_a_day_and_replaced_when_taken_again(
    compound: Compound,
) -> None:
    services = compound.services
    at = datetime.now(UTC)
    before = written(services)
    first = RecordTemperature(compound.zhang, 36.64, " ")
    assert record_temperature(first, actor=head(at), units=services.units) is False
    assert changes(before, written(services)) == {"HealthCheck": 1, "AuditEvent": 1}
    again = RecordTemperature(compound.zhang, 37.5, " 咳嗽 ")
    assert record_temperature(again, actor=head(), units=services.units) is True
    (check,) = checks(services)
    assert (check.temperature, check.note, check.day) == (37.5, "咳嗽", local_date(at))
    assert check.recorded_by == "head"
    recorded = audits(services, "health_check.record")
    assert [row.target for row in recorded] == [f"person:{compound.zhang}"] * 2
    assert [(row.detail["replaced"], row.detail["fever"]) for row in recorded] == [
        (False, False),
        (True, True),
    ]
    assert checks(services)[0].temperature == 37.5
    assert written(services)["revision"] == before["revision"]  # no passage depends on it


def test_a_temperature_is_rounded_to_a_tenth(compound: Compound) -> None:
    record_temperature(
        RecordTemperature(compound.zhang, 36.64), actor=head(), units=compound.services.units
    )
    assert checks(compound.services)[0].temperature == 36.6


@pytest.mark.parametrize(
    ("temperature", "note", "code"),
    [
        (34.9, "", "temperature_range"),
        (42.1, "", "temperature_range"),
        (float("nan"), "", "temperature_range"),
        (float("inf"), "", "temperature_range"),
        (36.5, "长" * 501, "too_long"),
    ],
)
def test_a_temperature_that_cannot_be_recorded_is_refused_and_writes_nothing(
    compound: Compound, temperature: float, note: str, code: str
) -> None:
    before = written(compound.services)
    with pytest.raises(ActionRefused) as refused:
        record_temperature(
            RecordTemperature(compound.zhang, temperature, note),
            actor=head(),
            units=compound.services.units,
        )
    assert refused.value.code == code
    if code == "temperature_range":
        assert refused.value.params == {"low": 35.0, "high": 42.0}
    assert written(compound.services) == before


def test_only_present_persons_of_ones_own_buildings_are_measured(compound: Compound) -> None:
    services = compound.services
    move_out(MoveOut(compound.li), actor=office(), units=services.units)
    before = written(services)
    with pytest.raises(OutOfScope) as refused:
        record_temperature(
            RecordTemperature(compound.zhao, 36.5), actor=head(), units=services.units
        )
    assert refused.value.target == f"person:{compound.zhao}"
    with pytest.raises(ActionRefused, match="moved out"):
        record_temperature(RecordTemperature(compound.li, 36.5), actor=head(), units=services.units)
    with pytest.raises(NotFound):
        record_temperature(RecordTemperature("nobody", 36.5), actor=head(), units=services.units)
    assert written(services) == before


def test_a_hospital_need_with_an_escort_issues_a_one_time_exit_pass_in_one_go(
    compound: Compound,
) -> None:
    services = compound.services
    at = datetime.now(UTC)
    before = written(services)
    command = RecordNeed(
        compound.home_202, NeedKind.HOSPITAL, " 复诊，社区医生陪同 ", escort_ref=compound.zhang
    )
    exemption_id = record_need(command, actor=head(at), units=services.units)
    assert exemption_id is not None
    assert changes(before, written(services)) == {
        "HouseholdNeed": 1,
        "Exemption": 1,
        "AuditEvent": 2,  # need.record and exemption.add: one for each change
        "revision": 1,  # once, for the pass; the need alone decides no passage
    }
    (need,) = needs(services)
    assert (need.kind, need.status, need.detail) == ("hospital", "open", "复诊，社区医生陪同")
    with services.database.session() as session:
        exemption = session.get(Exemption, exemption_id)
        assert exemption is not None
        assert exemption.person_id == person(services, compound.zhang).id
        assert (exemption.rule_ids, exemption.single_use) == (["quarantine"], True)
        assert exemption.reason == ESCORT_REASON
        assert exemption.expires_at == at + timedelta(hours=ESCORT_HOURS)
    (need_row,) = audits(services, "need.record")
    assert need_row.target == f"household:{compound.home_202}"
    assert need_row.detail == {"need": need.id, "kind": "hospital", "escort": True}
    (pass_row,) = audits(services, "exemption.add")
    assert pass_row.target == f"person:{compound.zhang}"
    assert pass_row.detail["single_use"] is True
    # The pass is an exemption like any other: the exemptions page lists it.
    (listed,) = active_exemptions(actor=office(), units=services.units)
    assert (listed.id, listed.person_ref) == (exemption_id, compound.zhang)


def test_a_need_without_an_escort_issues_no_pass_and_can_be_resolved_once(
    compound: Compound,
) -> None:
    services = compound.services
    before = written(services)
    assert (
        record_need(
            RecordNeed(compound.home_202, NeedKind.FOOD, "大米 5 斤"),
            actor=head(),
            units=services.units,
        )
        is None
    )
    assert changes(before, written(services)) == {"HouseholdNeed": 1, "AuditEvent": 1}
    (need,) = needs(services)
    at = datetime.now(UTC)
    household = resolve_need(ResolveNeed(need.id), actor=head(at), units=services.units)
    assert household == compound.home_202
    (need,) = needs(services)
    assert (need.status, need.resolved_by, need.resolved_at) == ("resolved", "head", at)
    (resolved,) = audits(services, "need.resolve")
    assert resolved.target == f"household:{compound.home_202}"
    assert resolved.detail == {"need": need.id, "kind": "food"}
    after = written(services)
    with pytest.raises(ActionRefused, match="need resolved"):
        resolve_need(ResolveNeed(need.id), actor=head(), units=services.units)
    with pytest.raises(NotFound):
        resolve_need(ResolveNeed(need.id + 100), actor=head(), units=services.units)
    assert written(services) == after


@pytest.mark.parametrize(
    ("kind", "escort", "hours", "detail", "code"),
    [
        (NeedKind.FOOD, "zhang", ESCORT_HOURS, "", "escort_not_hospital"),
        (NeedKind.HOSPITAL, "zhang", 48.0, "", "escort_hours"),
        (NeedKind.HOSPITAL, "zhang", 0.25, "", "escort_hours"),
        (NeedKind.HOSPITAL, "zhang", float("nan"), "", "escort_hours"),
        (NeedKind.HOSPITAL, "nobody", ESCORT_HOURS, "", "escort_person"),
        (NeedKind.HOSPITAL, "wang", ESCORT_HOURS, "", "escort_person"),  # another household
        (NeedKind.HOSPITAL, "zhao", ESCORT_HOURS, "", "escort_person"),  # another building
        (NeedKind.OTHER, "", ESCORT_HOURS, "长" * 501, "too_long"),
    ],
)
def test_a_need_that_cannot_be_recorded_is_refused_and_writes_nothing(
    compound: Compound, kind: NeedKind, escort: str, hours: float, detail: str, code: str
) -> None:
    refs = {"zhang": compound.zhang, "wang": compound.wang, "zhao": compound.zhao}
    command = RecordNeed(compound.home_202, kind, detail, refs.get(escort, escort), hours)
    before = written(compound.services)
    with pytest.raises(ActionRefused) as refused:
        record_need(command, actor=head(), units=compound.services.units)
    assert refused.value.code == code
    assert written(compound.services) == before


def test_another_buildings_household_gets_no_need_and_its_needs_stay_open(
    compound: Compound,
) -> None:
    services = compound.services
    before = written(services)
    with pytest.raises(OutOfScope) as refused:
        record_need(
            RecordNeed(compound.home_301, NeedKind.FOOD), actor=head(), units=services.units
        )
    assert refused.value.target == f"household:{compound.home_301}"
    with pytest.raises(NotFound):
        record_need(RecordNeed("nowhere", NeedKind.FOOD), actor=head(), units=services.units)
    assert written(services) == before
    record_need(RecordNeed(compound.home_301, NeedKind.FOOD), actor=office(), units=services.units)
    (need,) = needs(services)
    after = written(services)
    with pytest.raises(OutOfScope):
        resolve_need(ResolveNeed(need.id), actor=head(), units=services.units)
    assert written(services) == after
