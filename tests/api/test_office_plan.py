"""The household plan (楼栋单元住户平面图): one building by floor and unit, what matters now.

The small compound of ``test_office_support``: building 1 has 王小明 and 李梅 in 1-101 and
张三丰 in quarantine in 1-202. Here 王小明 goes out through the gate, 李梅's neighbour in
1-102 is under health monitoring with today's temperature taken, and the resident of a
flat that emptied has moved out.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, select

from gate.app.actor import Actor, Scope
from gate.app.office_views import building_plan
from gate.app.people import MoveOut, move_out
from gate.app.plan_values import room_place
from gate.domain.documents import DocumentType
from gate.domain.errors import OutOfScope
from gate.domain.model import Credential, CredentialKind, Direction, DocumentRead
from gate.domain.people import HealthStatus, LegalBasis, Sex
from gate.domain.status import local_date
from gate.runtime.bootstrap import Services, build_station
from registry.models import Building, HealthCheck, Person
from registry.records import PersonRecord, StatusEntry
from registry.service import RegistryWriter
from tests.api.test_office_support import (
    RESIDENT_A,
    Compound,
    audits,
    html,
)
from tests.registry.builders import resident_number as number

MONITORED = number("19660606", "011")
LEAVER = number("19770707", "013")


def office_actor(scope: Scope | None = None) -> Actor:
    return Actor("office", "test", datetime.now(UTC), scope or Scope())


def add_residents(services: Services, *rows: tuple[str, str, str, StatusEntry | None]) -> None:
    """Residents of building 1, unit ``unit``: (number, name, unit + room, status)."""
    with services.database.session() as session:
        compound = session.scalar(select(Building)).compound  # type: ignore[union-attr]
        writer = RegistryWriter(
            session,
            cipher=services.cipher,
            compound=compound,
            now=datetime.now(UTC) - timedelta(minutes=5),
            recorded_by="test",
        )
        for doc_number, name, home, status in rows:
            unit, room = home.split("-")
            writer.apply(
                PersonRecord(
                    name=name,
                    sex=Sex.FEMALE,
                    doc_type=DocumentType.RESIDENT_ID,
                    doc_number=doc_number,
                    building="1",
                    unit=unit,
                    room=room,
                    status=status,
                )
            )
        writer.flush()


@pytest.fixture
def planned(compound: Compound) -> Compound:
    """The marks of the module's docstring put in place."""
    services = compound.services
    today = local_date(datetime.now(UTC))
    monitoring = StatusEntry(
        HealthStatus.HEALTH_MONITORING,
        today - timedelta(days=1),
        today + timedelta(days=6),
        LegalBasis.PUBLIC_HEALTH_EMERGENCY,
    )
    add_residents(
        services,
        (MONITORED, "钱芳", "1-102", monitoring),
        (LEAVER, "孙丽", "2-601", None),
    )
    with services.database.session() as session:
        monitored = session.scalar(select(Person).where(Person.name == "钱芳"))
        assert monitored is not None
        session.add(
            HealthCheck(
                person_id=monitored.id,
                day=today,
                temperature=36.5,
                recorded_by="head",
                recorded_at=datetime.now(UTC),
            )
        )
        leaver = session.scalar(select(Person.ref).where(Person.name == "孙丽"))
    assert leaver is not None
    move_out(MoveOut(leaver), actor=office_actor(), units=services.units)
    station = build_station(services)
    credential = Credential(
        CredentialKind.ID_CARD, document=DocumentRead(DocumentType.RESIDENT_ID, RESIDENT_A)
    )
    result = station.gate.pipeline.process(credential, lane="main", direction=Direction.OUT)
    assert result.record is not None
    return compound


def test_a_room_is_placed_by_its_floor_and_door() -> None:
    assert room_place("502") == (5, "02")
    assert room_place("1203") == (12, "03")
    assert room_place(" 101 ") == (1, "01")
    for odd in ("S1", "B1-01", "01", "007", ""):
        assert room_place(odd) is None


def test_the_plan_marks_what_matters_now_flat_by_flat(planned: Compound) -> None:
    plan = building_plan("1号楼", actor=office_actor(), units=planned.services.units)
    assert plan.building == "1"
    assert [u.key for u in plan.units] == ["1", "2"]
    assert plan.floors == (6, 2, 1)  # the top floor first
    assert [u.doors for u in plan.units] == [("01", "02"), ("01",)]
    home_101 = plan.cell("1", 1, "01")
    assert home_101 is not None
    assert sorted(r.name for r in home_101.residents) == ["李梅", "王小明"]
    assert home_101.marks == ("outside",)
    assert [r.name for r in home_101.outside] == ["王小明"]
    quarantined = plan.cell("1", 2, "02")
    assert quarantined is not None
    # In quarantine, and today's temperature not taken: both said, the worse first.
    assert quarantined.marks == ("quarantine", "temperature")
    assert quarantined.quarantine_until is not None
    monitored = plan.cell("1", 1, "02")
    assert monitored is not None
    assert monitored.marks == ("monitoring",)  # its temperature is taken
    vacant = plan.cell("2", 6, "01")
    assert vacant is not None
    assert vacant.marks == ("vacant",)
    assert plan.cell("1", 6, "01") is None
    assert plan.count("vacant") == 1


def count_queries(services: Services) -> Iterator[list[str]]:
    statements: list[str] = []
    engine = services.database.engine

    def record(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_the_plan_reads_the_same_few_queries_however_many_flats(planned: Compound) -> None:
    services = planned.services
    counted = contextmanager(count_queries)
    with counted(services) as before:
        building_plan("1", actor=office_actor(), units=services.units)
    add_residents(
        services,
        *(
            (number("19880808", f"{100 + i:03d}"), f"住户{i}", f"2-{floor}0{door}", None)
            for i, (floor, door) in enumerate((f, d) for f in range(1, 7) for d in (1, 2, 3))
        ),
    )
    with counted(services) as after:
        plan = building_plan("1", actor=office_actor(), units=services.units)
    assert sum(len(flat.residents) for flat in plan.flats) == 4 + 18
    assert len(after) == len(before)
    assert len(after) <= 9  # building, units with flats, persons, statuses, presence, checks


def test_a_building_head_is_refused_another_buildings_plan_and_it_is_audited(
    head: TestClient, planned: Compound
) -> None:
    response = html(head, "/office/buildings/3/plan")
    assert response.status_code == 403
    assert "赵" not in response.text
    [denied] = audits(planned.services, "access.denied")
    assert (denied.actor, denied.target) == ("head", "building:3")
    with pytest.raises(OutOfScope):
        building_plan(
            "3", actor=office_actor(Scope(frozenset({"1"}))), units=planned.services.units
        )


def test_the_page_draws_the_grid_with_links_marks_and_the_key(
    head: TestClient, planned: Compound
) -> None:
    page = html(head, "/office/buildings/1/plan")
    assert page.status_code == 200
    text = page.text
    assert "1号楼 楼栋单元住户平面图" in text
    assert f'<a href="/office/households/{planned.home_101}"' in text
    assert 'data-room="1-101" data-marks="outside"' in text
    assert 'data-room="1-202" data-marks="quarantine temperature"' in text
    assert "王*明" in text
    assert "王小明" not in text  # masked as every list is
    assert "隔离至" in text
    assert "外出1人" in text
    assert "@page { size: A4 portrait" in text  # three doors wide, three floors high
    assert (
        'id="plan-link" href="/office/buildings/1/plan"' in html(head, "/office/buildings/1").text
    )
    head.cookies.set("gate_lang", "en")
    english = html(head, "/office/buildings/1/plan").text
    assert "Building 1: household plan by unit and floor" in english
    assert "Quarantine to" in english
    assert "1 outside" in english
