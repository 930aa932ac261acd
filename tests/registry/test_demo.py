"""The demo compound: reproducible, valid numbers, exact Ruyi counts on both engines."""

from __future__ import annotations

import functools
import json
import stat
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from gate.domain.documents import DocumentType, validate
from gate.domain.errors import GateError, RegistryNotEmpty
from gate.domain.people import HealthStatus, LegalBasis, StaffRole
from gate.domain.status import LOCAL_TZ
from gate.runtime.bootstrap import Services
from gate.runtime.cli import app
from registry.crypto import PersonalDataCipher
from registry.database import Database
from registry.demo import DemoCompound, generate_demo
from registry.demo_facts import CARD_KEYS
from registry.demo_seed import cards_json, seed_demo
from registry.models import AuditEvent, Document, Person, StaffAssignment, StatusRecord
from registry.service import (
    RegistryStats,
    add_building,
    document_hash,
    get_or_create_compound,
    registry_stats,
)
from tests.conftest import TEST_KEY

TODAY = date(2020, 2, 10)
NOON = datetime.combine(TODAY, time(12), tzinfo=LOCAL_TZ)
CARD_DOCUMENTS = {
    "resident": DocumentType.RESIDENT_ID,
    "hk_mo_tw": DocumentType.HMT_RESIDENCE_PERMIT,
    "foreign_2017": DocumentType.FOREIGN_PERMANENT_2017,
    "foreign_2023": DocumentType.FOREIGN_PERMANENT_2023,
}


@functools.cache
def demo(seed: int = 2020) -> DemoCompound:
    return generate_demo(seed=seed, today=TODAY)


def seed(services: Services, compound: DemoCompound) -> RegistryStats:
    with services.database.session() as session:
        return seed_demo(
            session,
            cipher=services.cipher,
            demo=compound,
            compound_code=services.settings.compound.code,
            compound_name=services.settings.compound.name,
            now=NOON,
            actor="test",
            origin="pytest",
        )


def card_hash(cipher: PersonalDataCipher, card: Mapping[str, object]) -> str:
    return cipher.lookup_hash(CARD_DOCUMENTS[str(card["card_type"])].value, str(card["id_number"]))


def row_counts(services: Services) -> dict[str, int]:
    with services.database.session() as session:
        counts = {
            model.__name__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Person, Document, StatusRecord, StaffAssignment, AuditEvent)
        }
        counts.update(vars(registry_stats(session, at=NOON)))
        return counts


# --- generation (no database) ----------------------------------------------------------


def test_same_seed_gives_the_same_compound_and_another_seed_does_not(cipher) -> None:
    again = generate_demo(seed=2020, today=TODAY)
    other = generate_demo(seed=2021, today=TODAY)
    assert cards_json(again.cards).encode() == cards_json(demo().cards).encode()
    hashes = [document_hash(cipher, record) for record in demo().persons]
    assert [document_hash(cipher, record) for record in again.persons] == hashes
    assert cards_json(other.cards) != cards_json(demo().cards)
    assert not {document_hash(cipher, record) for record in other.persons} >= set(hashes)


def test_every_generated_number_validates_and_is_unique() -> None:
    compound = demo()
    numbers = [record.doc_number for record in compound.persons]
    for record in compound.persons:
        info = validate(record.doc_type, record.doc_number, today=TODAY)
        assert info.birth_date == record.birth_date
        if record.doc_type is not DocumentType.FOREIGN_PERMANENT_2017:
            assert info.sex is record.sex
    for card in compound.cards:
        validate(CARD_DOCUMENTS[str(card["card_type"])], str(card["id_number"]), today=TODAY)
        if card["previous_number"] is not None:
            validate(DocumentType.FOREIGN_PERMANENT_2017, str(card["previous_number"]))
            numbers.append(str(card["previous_number"]))
    outsiders = [str(c["id_number"]) for c in compound.cards if c["expected"] == "outsider"]
    numbers += outsiders
    assert len(numbers) == len(set(numbers))
    assert sum(n.startswith("150102") for n in numbers) > 0.7 * len(numbers)
    assert {record.doc_type for record in compound.persons} == {
        DocumentType.RESIDENT_ID,
        DocumentType.HMT_RESIDENCE_PERMIT,
        DocumentType.FOREIGN_PERMANENT_2017,
        DocumentType.FOREIGN_PERMANENT_2023,
    }


def test_cards_cover_every_case_with_the_reader_fields() -> None:
    cards = demo().cards
    assert 18 <= len(cards) <= 25
    assert all(tuple(card) == CARD_KEYS for card in cards)
    assert {card["expected"] for card in cards} == {
        "resident",
        "quarantined",
        "outsider",
        "foreigner",
        "expired_card",
    }
    assert {card["card_type"] for card in cards} == set(CARD_DOCUMENTS)
    for card in cards:
        assert card["photo_wlt_b64"] is None
        assert card["sex"] in ("male", "female")
        valid_to = card["valid_to"]
        if card["expected"] == "expired_card":
            assert valid_to is not None
            assert date.fromisoformat(str(valid_to)) < TODAY
        else:
            assert valid_to is None or date.fromisoformat(str(valid_to)) >= TODAY
        assert date.fromisoformat(str(card["valid_from"])) <= TODAY
        assert date.fromisoformat(str(card["birth_date"])) < date.fromisoformat(
            str(card["valid_from"])
        )


def test_quarantine_is_268_persons_in_244_households_active_on_the_day() -> None:
    quarantined = [record for record in demo().persons if record.status is not None]
    households = {(r.building, r.unit, r.room) for r in quarantined}
    assert (len(quarantined), len(households)) == (268, 244)
    for record in quarantined:
        assert record.status is not None
        assert record.status.status is HealthStatus.HOME_QUARANTINE
        assert record.status.legal_basis is LegalBasis.PUBLIC_HEALTH_EMERGENCY
        assert TODAY - timedelta(days=13) < record.status.first_day <= TODAY
        assert record.status.last_day == record.status.first_day + timedelta(days=13)


# --- seeding (both engines) -------------------------------------------------------------


def test_seeding_gives_the_ruyi_counts(services: Services) -> None:
    compound = demo()
    expected = RegistryStats(
        buildings=37,
        units=161,
        households=1838,
        persons=len(compound.persons),
        quarantined_persons=268,
        quarantined_households=244,
    )
    assert seed(services, compound) == expected
    assert 4400 <= expected.persons <= 4800
    with services.database.session() as session:
        assert registry_stats(session, at=NOON) == expected
        heads = session.execute(
            select(StaffAssignment.building_id, func.count(StaffAssignment.person_id))
            .where(StaffAssignment.role == StaffRole.BUILDING_HEAD)
            .group_by(StaffAssignment.building_id)
        ).all()
        assert len(heads) == 37
        assert all(count == 2 for _building, count in heads)
        guards = session.scalars(
            select(Person).join(StaffAssignment).where(StaffAssignment.role == StaffRole.GUARD)
        ).all()
        assert guards
        assert all(person.household_id is None for person in guards)
        statuses = session.scalars(select(StatusRecord)).all()
        assert {(s.recorded_by, s.legal_basis) for s in statuses} == {
            ("demo", LegalBasis.PUBLIC_HEALTH_EMERGENCY)
        }
        assert all(s.ends_at and s.ends_at - s.starts_at == timedelta(days=14) for s in statuses)


def test_registry_holds_the_generated_documents_and_the_cards_match(services: Services) -> None:
    compound = demo()
    seed(services, compound)
    with services.database.session() as session:
        stored = set(session.scalars(select(Document.number_hash)))
        quarantined = {
            number_hash
            for number_hash, status in session.execute(
                select(Document.number_hash, StatusRecord.status).join(
                    StatusRecord, StatusRecord.person_id == Document.person_id
                )
            )
            if status is HealthStatus.HOME_QUARANTINE
        }
    assert stored == {document_hash(services.cipher, record) for record in compound.persons}
    for card in compound.cards:
        number_hash = card_hash(services.cipher, card)
        assert (number_hash in stored) is (card["expected"] != "outsider"), card["expected"]
        assert (number_hash in quarantined) is (card["expected"] == "quarantined")


def test_seeding_twice_is_refused_and_changes_nothing(services: Services) -> None:
    seed(services, demo())
    before = row_counts(services)
    with pytest.raises(RegistryNotEmpty, match="fresh"):
        seed(services, generate_demo(seed=7, today=TODAY))
    assert row_counts(services) == before


def test_a_registry_with_a_building_is_refused(services: Services) -> None:
    with services.database.session() as session:
        compound = get_or_create_compound(session, code="ruyi", name="如意小区")
        add_building(session, compound=compound, label="99", units=["1"])
    with pytest.raises(GateError, match="1 buildings"):
        seed(services, demo())
    assert row_counts(services)["buildings"] == 1


# --- the command ------------------------------------------------------------------------


def test_cli_seeds_writes_private_cards_and_stats_match(tmp_path: Path, key_file: Path) -> None:
    data_dir = tmp_path / "var"
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    env = {
        "GATE_DATA_DIR": str(data_dir),
        "GATE_DATABASE_URL": url,
        "GATE_SECRETS__KEY_FILE": str(key_file),
    }
    runner = CliRunner(env=env)
    today = datetime.now(LOCAL_TZ).date()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0

    result = runner.invoke(app, ["demo", "seed", "--seed", "7", "--today", today.isoformat()])
    assert result.exit_code == 0, result.output
    assert "268 in home quarantine in 244 households" in result.stdout

    stats = runner.invoke(app, ["registry", "stats", "--json"])
    counts = json.loads(stats.stdout.strip().splitlines()[-1])
    assert {key: counts[key] for key in counts if key != "persons"} == {
        "buildings": 37,
        "units": 161,
        "households": 1838,
        "quarantined_persons": 268,
        "quarantined_households": 244,
    }

    cards_file = data_dir / "demo" / "cards.json"
    assert stat.S_IMODE(cards_file.stat().st_mode) == 0o600
    expected = generate_demo(seed=7, today=today, compound_name="如意小区")
    assert cards_file.read_bytes() == cards_json(expected.cards).encode()
    cipher = PersonalDataCipher(TEST_KEY)
    database = Database(url)
    try:
        with database.session() as session:
            stored = set(session.scalars(select(Document.number_hash)))
    finally:
        database.dispose()
    for card in json.loads(cards_file.read_text(encoding="utf-8")):
        assert (card_hash(cipher, card) in stored) is (card["expected"] != "outsider")

    again = runner.invoke(app, ["demo", "seed"])
    assert again.exit_code == 1
    assert isinstance(again.exception, RegistryNotEmpty)
    assert "fresh" in str(again.exception)


def test_cli_rejects_a_bad_date(tmp_path: Path, key_file: Path) -> None:
    runner = CliRunner(
        env={"GATE_DATA_DIR": str(tmp_path), "GATE_SECRETS__KEY_FILE": str(key_file)}
    )
    result = runner.invoke(app, ["demo", "seed", "--today", "2020-13-01"])
    assert result.exit_code == 2
    assert "YYYY-MM-DD" in result.output
