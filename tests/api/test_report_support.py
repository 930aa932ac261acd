"""What the shift report and audit log tests share: a small compound, a shift of passages.

1号楼1单元101: 王小明 and 李梅; 1号楼1单元202: 张三丰, in home quarantine. Two lanes,
``east`` and ``west``. The gate's clock is the tests' own; the day shift of 2026-11-29
(08:00-20:00 Asia/Shanghai) gets the passages ``shift_of_passages`` makes. Accounts:
``guard``, ``office``, ``auditor``, ``admin``, ``head`` (a building head: no report).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from api.app import create_app
from gate.domain.documents import DocumentType
from gate.domain.model import Credential, CredentialKind, Direction, DocumentRead, Outcome
from gate.domain.people import HealthStatus, LegalBasis, Sex
from gate.domain.roles import Role
from gate.runtime.bootstrap import Services, Station
from gate.runtime.settings import Settings, load_settings
from registry.models import AuditEvent
from registry.records import PersonRecord, StatusEntry
from registry.service import RegistryWriter, add_building, get_or_create_compound
from tests.gate.app.staff_builders import add_staff
from tests.registry.builders import resident_number as number

PASSWORD = "correct horse battery"
SHIFT_START = datetime(2026, 11, 29, 0, 0, tzinfo=UTC)  # 08:00 in Asia/Shanghai
SHIFT_END = SHIFT_START + timedelta(hours=12)
SHIFT_QUERY = "start=2026-11-29T08:00&end=2026-11-29T20:00"
NEXT_SHIFT_QUERY = "start=2026-11-29T20:00&end=2026-11-30T08:00"
FORMULA = '=HYPERLINK("http://evil.example","click")'


RESIDENT_A = number("19800101", "003")
RESIDENT_B = number("19820202", "004")
QUARANTINED = number("19700303", "005")
OUTSIDER = number("19900404", "007")
ALL_NUMBERS = (RESIDENT_A, RESIDENT_B, QUARANTINED, OUTSIDER)


def two_lane_settings(data_dir: Path, database_url: str, key_file: Path) -> Settings:
    """Settings with the lanes ``east`` and ``west``."""
    return load_settings(
        data_dir=data_dir,
        database_url=database_url,
        secrets={"key_file": key_file},
        gate={"lanes": [{"id": "east"}, {"id": "west", "direction": "out"}]},
    )


class Clock:
    """A settable clock for the gate."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def at(self, hours: float) -> None:
        """Move to ``hours`` after the start of the day shift."""
        self.now = SHIFT_START + timedelta(hours=hours)


def populate(services: Services) -> None:
    """The residents, the quarantined neighbour and the staff accounts."""
    now = SHIFT_START - timedelta(days=3)
    quarantine = StatusEntry(
        HealthStatus.HOME_QUARANTINE,
        date(2026, 11, 20),
        date(2026, 12, 3),
        LegalBasis.PUBLIC_HEALTH_EMERGENCY,
    )
    with services.database.session() as session:
        compound = get_or_create_compound(session, code="ruyi", name="如意小区")
        add_building(session, compound=compound, label="1", units=["1"])
        writer = RegistryWriter(
            session, cipher=services.cipher, compound=compound, now=now, recorded_by="test"
        )
        for doc_number, name, sex, room, status in (
            (RESIDENT_A, "王小明", Sex.MALE, "101", None),
            (RESIDENT_B, "李梅", Sex.FEMALE, "101", None),
            (QUARANTINED, "张三丰", Sex.MALE, "202", quarantine),
        ):
            writer.apply(
                PersonRecord(
                    name=name,
                    sex=sex,
                    doc_type=DocumentType.RESIDENT_ID,
                    doc_number=doc_number,
                    building="1",
                    unit="1",
                    room=room,
                    status=status,
                )
            )
        writer.flush()
    for username, role in (
        ("guard", Role.GUARD),
        ("office", Role.OFFICE),
        ("auditor", Role.AUDITOR),
        ("admin", Role.ADMIN),
        ("head", Role.BUILDING_HEAD),
    ):
        add_staff(
            services,
            username,
            role,
            PASSWORD,
            name=f"{username} 名",
            buildings=["1"] if role is Role.BUILDING_HEAD else [],
            at=now,
        )


@dataclass
class Shift:
    """The sequence numbers of the passages ``shift_of_passages`` made."""

    quarantined_out: int  # denied, then admitted by the guard (medical visit)
    quarantined_admitted: int  # the guard's override row
    outsider_refused: int  # review, then refused by the guard
    outsider_refusal: int
    outsider_waiting: int  # review, never handled
    quarantined_again: int  # denied, never handled
    late_outsider: int  # review at 19:50, handled at 20:10 (next shift)
    late_handling: int


def card(station: Station, doc_number: str, direction: Direction, lane: str) -> int:
    """Swipe an ID card; the passage's sequence number."""
    credential = Credential(
        CredentialKind.ID_CARD, document=DocumentRead(DocumentType.RESIDENT_ID, doc_number)
    )
    result = station.gate.pipeline.process(credential, lane=lane, direction=direction)
    assert result.record is not None
    return result.record.seq


def decide(station: Station, seq: int, outcome: Outcome, code: str, text: str) -> int:
    """A guard's override; its sequence number."""
    result = station.gate.pipeline.override(
        seq, outcome=outcome, reason_code=code, text=text, guard="guard"
    )
    assert result.record is not None
    return result.record.seq


def shift_of_passages(station: Station, clock: Clock) -> Shift:
    """Passages before, in and after the day shift of 2026-11-29."""
    clock.at(-1)  # 07:00, the night shift before
    card(station, RESIDENT_A, Direction.OUT, "east")
    clock.at(1)
    card(station, RESIDENT_A, Direction.IN, "east")
    card(station, RESIDENT_B, Direction.OUT, "west")
    clock.at(2)
    quarantined_out = card(station, QUARANTINED, Direction.OUT, "west")
    clock.at(2.1)
    admitted = decide(station, quarantined_out, Outcome.ALLOW, "medical_visit", FORMULA)
    clock.at(3)
    refused = card(station, OUTSIDER, Direction.IN, "east")
    clock.at(3.05)
    refusal = decide(station, refused, Outcome.DENY, "refused", "no reason to visit")
    clock.at(4)
    waiting = card(station, OUTSIDER, Direction.IN, "east")
    clock.at(5)
    again = card(station, QUARANTINED, Direction.OUT, "west")
    clock.at(11 + 50 / 60)  # 19:50
    late = card(station, OUTSIDER, Direction.IN, "east")
    clock.at(12 + 10 / 60)  # 20:10, the night shift
    late_handling = decide(station, late, Outcome.ALLOW, "delivery", "parcel for 101")
    card(station, RESIDENT_B, Direction.IN, "west")
    return Shift(quarantined_out, admitted, refused, refusal, waiting, again, late, late_handling)


@contextmanager
def app_client(services: Services, station: Station, username: str) -> Iterator[TestClient]:
    """The app with ``station``, as ``gate serve`` runs it, signed in as ``username``."""
    with TestClient(create_app(services, station), follow_redirects=False) as client:
        sign_in(client, username)
        yield client


def sign_in(client: TestClient, username: str) -> None:
    """Sign in through the login form."""
    response = client.post("/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 303, response.text


def page(client: TestClient, path: str) -> Any:
    """GET a page as a browser does."""
    return client.get(path, headers={"accept": "text/html"})


def figure(html: str, name: str) -> int:
    """A summary figure of the report page by its element id."""
    found = re.search(rf'id="count-{name}">(\d+)<', html)
    assert found, name
    return int(found.group(1))


def row(html: str, element_id: str) -> str:
    """The ``<tr>`` with ``element_id``."""
    found = re.search(rf'<tr id="{element_id}"[^>]*>(.*?)</tr>', html, re.S)
    assert found, element_id
    return found.group(0)


def audits(services: Services, action: str) -> list[AuditEvent]:
    """Audit events with ``action``, oldest first."""
    with services.database.session() as session:
        found = list(
            session.scalars(
                select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
            )
        )
        session.expunge_all()
    return found
