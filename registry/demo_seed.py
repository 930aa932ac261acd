"""Writing the demo compound into an empty registry, and its ID cards to ``cards.json``."""

from __future__ import annotations

import json
import os
import tempfile
from datetime import datetime, time
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gate.domain.errors import RegistryError, RegistryNotEmpty
from gate.domain.status import LOCAL_TZ
from registry.crypto import PersonalDataCipher
from registry.demo import DemoCompound
from registry.demo_facts import RECORDED_BY, Card
from registry.models import Building, ImpactAssessment, Person, StaffAssignment
from registry.service import (
    Change,
    RegistryStats,
    RegistryWriter,
    add_building,
    audit,
    document_hash,
    get_or_create_compound,
    registry_stats,
)


def seed_demo(
    session: Session,
    *,
    cipher: PersonalDataCipher,
    demo: DemoCompound,
    compound_code: str,
    compound_name: str,
    now: datetime,
    actor: str,
    origin: str,
) -> RegistryStats:
    """Write ``demo`` into an empty registry in the caller's transaction; return its counts."""
    persons = session.scalar(select(func.count()).select_from(Person)) or 0
    buildings = session.scalar(select(func.count()).select_from(Building)) or 0
    if persons or buildings:
        raise RegistryNotEmpty(
            f"the database already holds a registry ({persons} persons, {buildings} buildings); "
            "the demo is seeded only into a fresh one: point GATE_DATA_DIR or GATE_DATABASE_URL "
            "at a new database and run: gate db upgrade"
        )
    compound = get_or_create_compound(session, code=compound_code, name=compound_name)
    rows = {
        label: add_building(session, compound=compound, label=label, units=list(units))
        for label, units in demo.buildings
    }
    writer = RegistryWriter(
        session, cipher=cipher, compound=compound, now=now, recorded_by=RECORDED_BY
    )
    writer.prefetch(list(demo.persons))
    for record in demo.persons:
        if writer.apply(record) is not Change.CREATED:
            raise RegistryError("the demo generator produced a duplicate document")
    person_ids = writer.flush()
    assigned = 0
    for duty in demo.duties:
        person_id = person_ids[document_hash(cipher, duty.person)]
        building = rows[duty.building] if duty.building else None
        session.add(StaffAssignment(person_id=person_id, role=duty.role, building=building))
        assigned += 1
    # The demo enrols faces (scripts/run-demo --face-photo): enrolment waits for an impact
    # assessment, so the demo records one, marked as the demo's own.
    session.add(
        ImpactAssessment(
            assessed_on=demo.today,
            assessed_by=RECORDED_BY,
            reference="演示数据：不是真实的影响评估 (demo data, not a real assessment)",
            scope="演示小区的入口通道摄像头 (the demo compound's entry lane camera)",
            recorded_by=RECORDED_BY,
            recorded_at=now,
        )
    )
    detail = {"seed": demo.seed, "today": demo.today.isoformat(), "persons": len(demo.persons)}
    target = f"compound:{compound_code}"
    audit(
        session,
        actor=actor,
        origin=origin,
        action="demo.seed",
        target=target,
        at=now,
        detail=detail,
    )
    stats = registry_stats(session, at=datetime.combine(demo.today, time(12), tzinfo=LOCAL_TZ))
    # The writer buffers; a person or duty lost on the way must fail here, not in the demo.
    if stats.persons != len(demo.persons) or assigned != len(demo.duties):
        raise RegistryError(
            f"wrote {stats.persons}/{len(demo.persons)} persons and "
            f"{assigned}/{len(demo.duties)} staff duties; rolled back"
        )
    return stats


def cards_json(cards: tuple[Card, ...]) -> str:
    """The cards as the JSON text of ``cards.json`` (stable for a given demo)."""
    return json.dumps(list(cards), ensure_ascii=False, indent=2) + "\n"


def write_cards(path: Path, cards: tuple[Card, ...]) -> None:
    """Write ``cards.json`` atomically with mode 0600: it holds (demo) document numbers."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".cards-", suffix=".json")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(cards_json(cards))
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
