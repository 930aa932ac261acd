"""What the office page tests share: a small compound, staff accounts, a signed-in client.

Buildings 1, 2 and 3 (units 1 and 2 each). In 1号楼1单元101 live 王小明 and 李梅; in
1号楼1单元202 张三丰 is in home quarantine; in 3号楼1单元301 赵四 is in home quarantine too.
The building head ``head`` keeps buildings 1 and 2; ``office`` is the property office.
The app runs with its station (no devices by default), as ``gate serve`` builds it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.app import create_app
from gate.domain.documents import DocumentType
from gate.domain.people import HealthStatus, LegalBasis, Relation, Sex
from gate.domain.roles import Role
from gate.domain.status import local_date
from gate.runtime.bootstrap import Services, build_station
from registry.models import AuditEvent, Document, Household, Person, RegistryRevision, Unit
from registry.records import PersonRecord, StatusEntry
from registry.service import RegistryWriter, add_building, get_or_create_compound
from tests.gate.app.staff_builders import add_staff
from tests.registry.builders import resident_number as number

PASSWORD = "correct horse battery"


RESIDENT_A = number("19800101", "003")
RESIDENT_B = number("19820202", "004")
QUARANTINED = number("19700303", "005")
OTHER_BUILDING = number("19750505", "007")
NEWCOMER = number("19900606", "009")


@dataclass
class Compound:
    """Refs of the households and persons the tests reach for."""

    services: Services
    home_101: str
    home_202: str
    home_301: str
    wang: str
    li: str
    zhang: str
    zhao: str


def populate(services: Services) -> Compound:
    """The small compound and the accounts ``head``, ``office`` and ``guard``."""
    now = datetime.now(UTC)
    today = local_date(now)
    quarantine = StatusEntry(
        HealthStatus.HOME_QUARANTINE,
        today - timedelta(days=2),
        today + timedelta(days=11),
        LegalBasis.PUBLIC_HEALTH_EMERGENCY,
    )
    people = (
        (RESIDENT_A, "王小明", Sex.MALE, "1", "101", None, Relation.OWNER),
        (RESIDENT_B, "李梅", Sex.FEMALE, "1", "101", None, Relation.FAMILY),
        (QUARANTINED, "张三丰", Sex.MALE, "1", "202", quarantine, Relation.OWNER),
        (OTHER_BUILDING, "赵四", Sex.MALE, "3", "301", quarantine, Relation.OWNER),
    )
    with services.database.session() as session:
        compound = get_or_create_compound(session, code="ruyi", name="如意小区")
        for building in ("1", "2", "3"):
            add_building(session, compound=compound, label=building, units=["1", "2"])
        writer = RegistryWriter(
            session, cipher=services.cipher, compound=compound, now=now, recorded_by="test"
        )
        for doc_number, name, sex, building, room, status, relation in people:
            writer.apply(
                PersonRecord(
                    name=name,
                    sex=sex,
                    doc_type=DocumentType.RESIDENT_ID,
                    doc_number=doc_number,
                    building=building,
                    unit="1",
                    room=room,
                    phone="13800001234",
                    relation=relation,
                    status=status,
                )
            )
        writer.flush()
    for username, role, buildings in (
        ("head", Role.BUILDING_HEAD, ["1", "2"]),
        ("office", Role.OFFICE, []),
        ("guard", Role.GUARD, []),
    ):
        add_staff(services, username, role, PASSWORD, buildings=buildings)
    with services.database.session() as session:
        refs = {p.name: p.ref for p in session.scalars(select(Person))}
        homes = {
            h.room: h.ref for h in session.scalars(select(Household).join(Unit).order_by(Unit.id))
        }
    return Compound(
        services=services,
        home_101=homes["101"],
        home_202=homes["202"],
        home_301=homes["301"],
        wang=refs["王小明"],
        li=refs["李梅"],
        zhang=refs["张三丰"],
        zhao=refs["赵四"],
    )


@contextmanager
def app_client(services: Services) -> Iterator[TestClient]:
    """The whole app with its station, as ``gate serve`` runs it."""
    station = build_station(services)
    with TestClient(create_app(services, station), follow_redirects=False) as client:
        yield client


def sign_in(client: TestClient, username: str) -> None:
    """Sign in through the login form."""
    response = client.post("/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 303, response.text


def csrf(client: TestClient, path: str = "/office") -> str:
    """The CSRF token from a page's ``<meta name="csrf-token">``."""
    page = client.get(path, headers={"accept": "text/html"})
    assert page.status_code == 200, page.text
    found = re.search(r'<meta name="csrf-token" content="([^"]+)">', page.text)
    assert found is not None
    return found.group(1)


def html(client: TestClient, path: str) -> Any:
    """GET a page as a browser would (so a refusal renders the error page)."""
    return client.get(path, headers={"accept": "text/html"})


def audits(services: Services, action: str) -> list[AuditEvent]:
    """Audit rows of one action, oldest first."""
    with services.database.session() as session:
        return list(
            session.scalars(
                select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
            )
        )


def revision(services: Services) -> int:
    """The registry revision counter."""
    with services.database.session() as session:
        return int(session.scalar(select(RegistryRevision.revision)) or 0)


def person_count(services: Services) -> int:
    """How many person rows there are."""
    with services.database.session() as session:
        return int(session.scalar(select(func.count()).select_from(Person)) or 0)


def person(services: Services, ref: str) -> Person:
    """A person row with statuses and documents loaded."""
    with services.database.session() as session:
        row = session.scalar(select(Person).where(Person.ref == ref))
        assert row is not None
        _ = row.statuses, row.documents, row.household
        return row


def person_by_number(services: Services, doc_number: str) -> Person | None:
    """The person holding a resident ID number, if any."""
    key = services.cipher.lookup_hash(DocumentType.RESIDENT_ID.value, doc_number)
    with services.database.session() as session:
        return session.scalar(select(Person).join(Document).where(Document.number_hash == key))


def today() -> date:
    """Today in Asia/Shanghai."""
    return local_date(datetime.now(UTC))
