"""The retention job per data class: what goes, what stays, one audit row a class, a dry
run that deletes nothing. The passage log's checkpoint and ``gate log verify`` after a
purge: tests/e2e/test_retention_log.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update

from gate.app.actor import Actor
from gate.app.face_ports import EnrolmentFace
from gate.app.retention import RetentionPolicy, run_retention
from gate.domain.people import HealthStatus
from registry.models import (
    FaceConsent,
    FaceSnapshot,
    FaceTemplate,
    HealthCheck,
    Household,
    HouseholdNeed,
    Person,
    StatusRecord,
    Visitor,
)
from tests.api.test_office_support import Compound, audits

NOW = datetime.now(UTC) + timedelta(days=1)  # the job runs a day after the compound was set up
JOB = Actor("gate-upkeep", "service", NOW)


@dataclass
class RecordingCheckpoints:
    """Records the purge checkpoints it is asked to sign."""

    signed: list[tuple[int, str]] = field(default_factory=list)

    def anchor_purge(self, now: datetime, *, purged_to: int, purged_hash: str) -> object:
        self.signed.append((purged_to, purged_hash))
        return None


def count(compound: Compound, model: Any, *where: Any) -> int:
    with compound.services.database.session() as session:
        query = select(func.count()).select_from(model)
        return int(session.scalar(query.where(*where) if where else query) or 0)


def seed(compound: Compound) -> None:
    """One thing to go and one to stay in each class."""
    services = compound.services
    with services.database.session() as session:
        for ref, keep_until, incident in (
            ("gone", NOW - timedelta(hours=1), False),  # an unknown face past its 72 h
            ("incident", None, True),  # attached to an incident: kept
            ("young", NOW + timedelta(hours=5), False),
        ):
            session.add(
                FaceSnapshot(
                    ref=ref,
                    lane="main",
                    taken_at=NOW - timedelta(hours=70),
                    band="unknown",
                    image_cipher=b"x",
                    keep_until=keep_until,
                    incident=incident,
                )
            )
        home = session.scalars(select(Household)).first()
        assert home is not None
        for name, ends, status in (
            ("过期访客", NOW - timedelta(days=31), "confirmed"),
            ("近期访客", NOW - timedelta(days=29), "confirmed"),
            ("未确认", NOW + timedelta(days=1), "pending"),  # registered 40 days ago
        ):
            session.add(
                Visitor(
                    name=name,
                    reason="探亲",
                    host_household_id=home.id,
                    starts_at=ends - timedelta(hours=2),
                    ends_at=ends,
                    registered_by="guard",
                    registered_at=NOW - timedelta(days=40),
                    status=status,
                )
            )
        wang = session.scalars(select(Person).where(Person.ref == compound.wang)).one()
        session.add(
            HealthCheck(
                person_id=wang.id,
                day=NOW.date(),
                temperature=36.6,
                recorded_by="head",
                recorded_at=NOW - timedelta(days=1),
            )
        )
        session.add(
            HouseholdNeed(
                household_id=home.id,
                kind="food",
                recorded_by="head",
                recorded_at=NOW - timedelta(days=1),
            )
        )
    # A template left under a withdrawn consent (as a restore of an old backup could).
    with services.units(JOB) as uow:
        consent = uow.faces.record_consent(
            compound.li, consented_by="李梅", guardian=False, notice_version="2026-01"
        )
        uow.faces.add_template(
            compound.li,
            consent_id=consent.id,
            face=EnrolmentFace(b"\0" * 512, b"jpeg"),
            source="upload",
        )
        uow.commit()
    with services.database.session() as session:
        session.execute(update(FaceConsent).values(withdrawn_at=NOW, withdrawn_by="test"))


def test_each_class_loses_what_its_period_allows_and_keeps_the_rest(compound: Compound) -> None:
    seed(compound)
    services = compound.services
    policy = RetentionPolicy(emergency_ended=NOW - timedelta(hours=1))
    checkpoints = RecordingCheckpoints()

    dry = run_retention(
        policy, actor=JOB, units=services.units, checkpoints=checkpoints, dry_run=True
    )
    counts = {entry.name: entry.deleted for entry in dry.classes}
    assert counts == {
        "face_snapshots": 1,
        "face_templates": 1,
        "passages": 0,  # no passage yet
        "visitors": 2,
        "epidemic": 4,  # two quarantine statuses, a temperature, a household need
    }
    assert count(compound, FaceSnapshot) == 3  # a dry run deletes nothing
    assert count(compound, Visitor) == 3
    assert audits(services, "retention.purge") == []

    done = run_retention(policy, actor=JOB, units=services.units, checkpoints=checkpoints)
    assert {entry.name: entry.deleted for entry in done.classes} == counts
    assert done.classes[-1].detail == {"statuses": 2, "temperatures": 1, "needs": 1}
    with services.database.session() as session:
        assert set(session.scalars(select(FaceSnapshot.ref))) == {"incident", "young"}
        assert set(session.scalars(select(Visitor.name))) == {"近期访客"}
    assert count(compound, FaceTemplate) == 0
    assert count(compound, StatusRecord, StatusRecord.status != HealthStatus.NORMAL) == 0
    assert count(compound, HealthCheck) == 0
    assert count(compound, HouseholdNeed) == 0
    assert checkpoints.signed == []
    audited = {row.target: row.detail for row in audits(services, "retention.purge")}
    assert set(audited) == {
        "retention:face_snapshots",
        "retention:face_templates",
        "retention:visitors",
        "retention:epidemic",
    }
    assert audited["retention:epidemic"]["deleted"] == 4
    assert audited["retention:visitors"]["deleted"] == 2

    again = run_retention(policy, actor=JOB, units=services.units, checkpoints=checkpoints)
    assert all(entry.deleted == 0 for entry in again.classes)
    assert len(audits(services, "retention.purge")) == 4  # nothing gone, nothing audited


def test_epidemic_data_stays_until_the_emergency_has_ended(compound: Compound) -> None:
    seed(compound)
    services = compound.services
    for ended in (None, NOW + timedelta(days=1)):
        report = run_retention(
            RetentionPolicy(emergency_ended=ended),
            actor=JOB,
            units=services.units,
            checkpoints=RecordingCheckpoints(),
        )
        assert report.count("epidemic") == 0
    assert count(compound, StatusRecord, StatusRecord.status != HealthStatus.NORMAL) == 2
    assert count(compound, HealthCheck) == 1
