"""The office pages' reads: what each lists, scope, NotFound; reading writes nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from gate.app.daily_round import (
    ESCORT_REASON,
    NeedKind,
    RecordNeed,
    RecordTemperature,
    record_need,
    record_temperature,
)
from gate.app.office_values import BuildingSummary
from gate.app.office_views import (
    building_view,
    household_view,
    office_buildings,
    person_view,
    todays_round,
)
from gate.app.people import MoveOut, move_out
from gate.domain.errors import NotFound, OutOfScope
from gate.domain.people import FEVER_FROM, HealthStatus, Relation
from gate.domain.status import local_date
from tests.api.test_office_support import Compound
from tests.gate.app.office_support import head, office, written


def test_a_building_head_sees_only_their_buildings_with_their_counts(compound: Compound) -> None:
    units = compound.services.units
    assert office_buildings(actor=head(), units=units) == [
        BuildingSummary("1", units=2, households=2, persons=3, quarantined=1),
        BuildingSummary("2", units=2, households=0, persons=0, quarantined=0),
    ]
    every = office_buildings(actor=office(), units=units)
    assert [b.key for b in every] == ["1", "2", "3"]
    assert every[2] == BuildingSummary("3", units=2, households=1, persons=1, quarantined=1)


def test_persons_who_moved_out_are_not_counted(compound: Compound) -> None:
    units = compound.services.units
    move_out(MoveOut(compound.li), actor=office(), units=units)
    first = office_buildings(actor=office(), units=units)[0]
    assert (first.households, first.persons) == (2, 2)


def test_a_building_lists_its_units_and_rooms_with_present_persons(compound: Compound) -> None:
    units = compound.services.units
    move_out(MoveOut(compound.li), actor=office(), units=units)
    blocks = building_view("1号楼", actor=head(), units=units)
    assert [block.key for block in blocks] == ["1", "2"]
    first, second = blocks
    assert [home.room for home in first.households] == ["101", "202"]
    assert second.households == ()
    home_101 = first.households[0]
    assert home_101.ref == compound.home_101
    assert home_101.label == "1号楼1单元101"
    assert [p.name for p in home_101.persons] == ["王小明"]  # 李梅 moved out


@pytest.mark.parametrize(
    ("read", "target"),
    [
        (lambda c, **kw: building_view("3", **kw), "building:3"),
        (lambda c, **kw: household_view(c.home_301, **kw), "household:{home_301}"),
        (lambda c, **kw: person_view(c.zhao, **kw), "person:{zhao}"),
    ],
    ids=["building", "household", "person"],
)
def test_another_building_is_out_of_scope_for_a_building_head(
    compound: Compound, read: Callable[..., Any], target: str
) -> None:
    units = compound.services.units
    with pytest.raises(OutOfScope) as refused:
        read(compound, actor=head(), units=units)
    assert refused.value.target == target.format(**vars(compound))
    read(compound, actor=office(), units=units)  # the property office sees every building


@pytest.mark.parametrize(
    "read",
    [
        lambda **kw: building_view("9", **kw),
        lambda **kw: household_view("no-such-household", **kw),
        lambda **kw: person_view("no-such-person", **kw),
    ],
    ids=["building", "household", "person"],
)
@pytest.mark.parametrize("who", [head, office], ids=["head", "office"])
def test_what_does_not_exist_is_not_found_whoever_asks(
    compound: Compound, read: Callable[..., Any], who: Callable[[], Any]
) -> None:
    with pytest.raises(NotFound):
        read(actor=who(), units=compound.services.units)


def test_a_household_lists_everyone_ever_registered_and_its_needs_newest_first(
    compound: Compound,
) -> None:
    units = compound.services.units
    move_out(MoveOut(compound.wang), actor=office(), units=units)
    first = record_need(
        RecordNeed(compound.home_101, NeedKind.FOOD, "米"), actor=head(), units=units
    )
    record_need(RecordNeed(compound.home_101, NeedKind.MEDICINE, "药"), actor=head(), units=units)
    view = household_view(compound.home_101, actor=head(), units=units)
    home = view.household
    assert (home.building, home.unit, home.room) == ("1", "1", "101")
    # Present persons first, then those who moved out (the row and its history stay).
    assert [(p.name, p.moved_out_at is None) for p in home.persons] == [
        ("李梅", True),
        ("王小明", False),
    ]
    assert [p.name for p in home.present] == ["李梅"]
    assert [p.relation for p in home.persons] == [Relation.FAMILY, Relation.OWNER]
    assert all(len(p.doc_last4) == 4 for p in home.persons)
    assert [(n.kind, n.detail, n.status) for n in view.needs] == [
        ("medicine", "药", "open"),
        ("food", "米", "open"),
    ]
    assert first is None  # no escorted pass
    assert all(n.recorded_by == "head" for n in view.needs)


def test_a_person_shows_their_home_statuses_and_exemptions(compound: Compound) -> None:
    units = compound.services.units
    record_need(
        RecordNeed(compound.home_202, NeedKind.HOSPITAL, escort_ref=compound.zhang),
        actor=head(),
        units=units,
    )
    detail = person_view(compound.zhang, actor=head(), units=units)
    assert detail.line.name == "张三丰"
    assert detail.line.status is HealthStatus.HOME_QUARANTINE
    assert detail.line.status_until is not None
    assert detail.phone_last4 == "1234"
    assert detail.household is not None
    assert detail.household.ref == compound.home_202
    (status,) = detail.statuses
    assert (status.status, status.active, status.upcoming) == (
        HealthStatus.HOME_QUARANTINE,
        True,
        False,
    )
    (escorted,) = detail.exemptions
    assert escorted.reason == ESCORT_REASON


def test_the_round_lists_todays_quarantined_persons_in_scope_with_their_checks(
    compound: Compound,
) -> None:
    units = compound.services.units
    at = datetime.now(UTC)
    record_temperature(RecordTemperature(compound.zhang, FEVER_FROM), actor=head(), units=units)
    record_need(
        RecordNeed(compound.home_202, NeedKind.HOSPITAL, escort_ref=compound.zhang),
        actor=head(),
        units=units,
    )
    today = todays_round(actor=head(at), units=units)
    assert today.day == local_date(at)
    (home,) = today.households  # 赵四 of building 3 is not the head's
    assert home.household.ref == compound.home_202
    (zhang,) = home.persons
    assert (zhang.line.name, zhang.temperature, zhang.checked_by) == ("张三丰", FEVER_FROM, "head")
    assert zhang.fever  # at the threshold counts
    assert [need.kind for need in home.needs] == ["hospital"]
    assert [p.person_ref for p in home.passes] == [compound.zhang]
    assert (today.persons, today.checked, today.fevers, today.open_needs) == (1, 1, 1, 1)
    every = todays_round(actor=office(at), units=units)
    assert [h.household.ref for h in every.households] == [compound.home_202, compound.home_301]
    assert (every.persons, every.checked, every.fevers) == (2, 1, 1)


def test_reading_the_office_pages_writes_nothing(compound: Compound) -> None:
    units = compound.services.units
    before = written(compound.services)
    office_buildings(actor=head(), units=units)
    building_view("1", actor=head(), units=units)
    household_view(compound.home_101, actor=head(), units=units)
    person_view(compound.wang, actor=head(), units=units)
    todays_round(actor=head(), units=units)
    with pytest.raises(OutOfScope):
        person_view(compound.zhao, actor=head(), units=units)
    assert written(compound.services) == before
