"""Unit heads (单元长): staff scoped to units, as building heads are to buildings.

In 2020 each unit's head kept its WeChat group; here a unit head of 1号楼1单元 sees that
unit's households, persons, round and plan, and is refused (and audited) everything of
1单元's neighbour 2单元 and of other buildings, like a building head outside theirs.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from gate.app.actor import Actor, Scope
from gate.app.staff import CreateStaff, create_staff
from gate.domain.documents import DocumentType
from gate.domain.errors import ActionRefused
from gate.domain.people import Sex
from gate.domain.roles import Role
from gate.runtime.bootstrap import Services
from registry.models import Building, Household, Person, StaffAccount, Unit
from registry.records import PersonRecord
from registry.service import RegistryWriter
from tests.api.test_office_support import (
    Compound,
    app_client,
    audits,
    html,
)
from tests.gate.app.staff_builders import add_staff
from tests.registry.builders import resident_number as number

NEIGHBOUR = number("19810909", "015")  # 1号楼2单元101


@pytest.fixture
def neighbour(compound: Compound) -> str:
    """A resident of 1号楼2单元101 and a unit head of 1号楼1单元; the neighbour's household."""
    services = compound.services
    with services.database.session() as session:
        building = session.scalar(select(Building).where(Building.key == "1"))
        assert building is not None
        writer = RegistryWriter(
            session,
            cipher=services.cipher,
            compound=building.compound,
            now=datetime.now(UTC),
            recorded_by="test",
        )
        writer.apply(
            PersonRecord(
                name="周敏",
                sex=Sex.FEMALE,
                doc_type=DocumentType.RESIDENT_ID,
                doc_number=NEIGHBOUR,
                building="1",
                unit="2",
                room="101",
            )
        )
        writer.flush()
    add_staff(services, "unithead", Role.UNIT_HEAD, "unit-password", units=["1号楼/1单元"])
    with services.database.session() as session:
        household = session.scalar(
            select(Household.ref).join(Unit).where(Unit.key == "2", Household.room == "101")
        )
    assert household is not None
    return household


@pytest.fixture
def unit_head(neighbour: str, compound: Compound) -> Iterator[TestClient]:
    with app_client(compound.services) as client:
        response = client.post("/login", data={"username": "unithead", "password": "unit-password"})
        assert response.status_code == 303, response.text
        yield client


def test_the_account_holds_its_units_and_their_buildings(
    neighbour: str, compound: Compound
) -> None:
    with compound.services.database.session() as session:
        account = session.scalar(select(StaffAccount).where(StaffAccount.username == "unithead"))
        assert account is not None
        assert (account.unit_keys, account.building_keys) == (["1/1"], ["1"])
    [created] = [e for e in audits(compound.services, "account.create") if "unithead" in e.target]
    assert created.detail["units"] == ["1/1"]


def test_a_unit_head_sees_their_unit_only(unit_head: TestClient, compound: Compound) -> None:
    household = html(unit_head, f"/office/households/{compound.home_101}")
    assert household.status_code == 200
    assert html(unit_head, f"/office/persons/{compound.zhang}").status_code == 200
    building = html(unit_head, "/office/buildings/1").text
    assert "1单元" in building
    assert "2单元" not in building
    assert "周*" not in building
    plan = html(unit_head, "/office/buildings/1/plan").text
    assert 'data-room="1-101"' in plan
    assert 'data-room="2-101"' not in plan
    round_page = html(unit_head, "/office/round")
    assert round_page.status_code == 200
    assert "张*丰" in round_page.text  # 1单元202, in quarantine


@pytest.mark.parametrize("target", ["household", "person", "building"])
def test_a_unit_head_is_refused_another_unit_and_it_is_audited(
    unit_head: TestClient, neighbour: str, compound: Compound, target: str
) -> None:
    with compound.services.database.session() as session:
        other = session.scalar(select(Person.ref).where(Person.name == "周敏"))
    path = {
        "household": f"/office/households/{neighbour}",
        "person": f"/office/persons/{other}",
        "building": "/office/buildings/3",
    }[target]
    response = html(unit_head, path)
    assert response.status_code == 403
    assert "周敏" not in response.text
    [denied] = audits(compound.services, "access.denied")
    assert denied.actor == "unithead"
    assert denied.target.startswith(target)
    assert denied.detail["path"] == path


def test_a_unit_head_may_not_register_someone_in_another_unit(
    unit_head: TestClient, compound: Compound
) -> None:
    page = html(unit_head, "/office/buildings/1")
    token = page.text.split('name="csrf-token" content="')[1].split('"')[0]
    response = unit_head.post(
        "/office/persons",
        data={
            "csrf_token": token,
            "building": "1",
            "unit": "2",
            "room": "102",
            "name": "吴新",
            "sex": "female",
            "doc_type": "resident_id",
            "doc_number": number("19920202", "017"),
        },
        headers={"accept": "text/html"},
    )
    assert response.status_code == 403
    assert audits(compound.services, "access.denied")[0].target == "unit:1/2"


@pytest.mark.parametrize(
    ("role", "units", "code"),
    [
        (Role.UNIT_HEAD, (), "required"),
        (Role.UNIT_HEAD, ("1-2",), "unit_key_format"),
        (Role.BUILDING_HEAD, ("1/2",), "unit_keys_unit_head"),
    ],
)
def test_an_account_is_scoped_to_units_only_as_a_unit_head(
    services: Services, role: Role, units: tuple[str, ...], code: str
) -> None:
    command = CreateStaff(
        "someone", role, "long-enough-password", building_keys=("1",), unit_keys=units
    )
    with pytest.raises(ActionRefused) as refused:
        create_staff(command, actor=Actor("test", "test", datetime.now(UTC)), units=services.units)
    assert refused.value.code == code


def test_the_scope_of_units() -> None:
    scope = Scope.of_units(["1/1", "3/2"])
    assert scope.buildings == frozenset({"1", "3"})
    assert scope.covers("1")
    assert not scope.covers("2")
    assert scope.covers_home("1", "1")
    assert not scope.covers_home("1", "2")
    assert not scope.covers_home(None, None)
    assert Scope().covers_home("9", "9")
    assert Scope(frozenset({"1"})).covers_home("1", "2")  # a building head: every unit
