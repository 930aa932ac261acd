"""Passages through the whole pipeline on SQLite and PostgreSQL: decide, log, open, tell."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from gate.app.actor import Actor
from gate.app.exemptions import AddExemption, add_exemption
from gate.app.rules import ChangeRule, change_rule
from gate.domain.documents import DocumentType
from gate.domain.errors import OverrideRefused
from gate.domain.events import EventType
from gate.domain.model import (
    AlertLevel,
    Credential,
    CredentialKind,
    Direction,
    DocumentRead,
    IdentityKind,
    Outcome,
)
from gate.domain.people import HealthStatus, LegalBasis, PersonKind, Sex
from gate.domain.ports import BarrierAction
from gate.domain.rules import RuleMode
from registry.chain_check import verify_chain
from registry.database import Database
from registry.models import Exemption, Passage
from registry.passages import SqlPassageLog
from registry.records import PersonRecord, StatusEntry
from registry.service import RegistryWriter, get_or_create_compound
from tests.e2e.conftest import (
    OUTSIDER,
    QUARANTINED,
    RESIDENT_A,
    RESIDENT_B,
    GateUnderTest,
)

pytestmark = pytest.mark.usefixtures("gate_under_test")


def rows(gut: GateUnderTest) -> list[Passage]:
    with gut.services.database.session() as session:
        return list(session.scalars(select(Passage).order_by(Passage.seq)))


def test_a_resident_passes_and_everything_is_recorded_in_order(
    gate_under_test: GateUnderTest,
) -> None:
    result = gate_under_test.card(RESIDENT_A, Direction.OUT)
    assert result.decision.outcome is Outcome.ALLOW
    assert result.decision.reason_codes == ("registered",)
    assert result.record is not None
    assert result.record.seq == 1
    assert result.barrier_opened
    assert [(c.lane, c.direction) for c in gate_under_test.barrier.opened] == [
        ("main", Direction.OUT)
    ]
    (event,) = gate_under_test.events
    assert event.type is EventType.ACCESS_GRANTED
    assert event.person is not None
    assert event.person.home == "1号楼1单元101"
    (row,) = rows(gate_under_test)
    assert (row.outcome, row.direction, row.identity_kind) == ("allow", "out", "registered")
    assert row.document_hash is None  # residents are logged by ref only
    assert row.local_time.endswith("+08:00")
    assert verify_chain(
        gate_under_test.services.database, chain_key=gate_under_test.services.chain_key.material
    ).intact


def test_the_barrier_opens_only_after_the_row_is_committed(
    gate_under_test: GateUnderTest, database_url: str
) -> None:
    observer = Database(database_url)
    seen_at_open: list[int] = []

    class CheckingBarrier:
        def open(self, lane: str, direction: Direction) -> BarrierAction:
            with observer.engine.connect() as connection:  # another connection: sees commits only
                seen_at_open.append(
                    connection.scalar(select(func.count()).select_from(Passage)) or 0
                )
            return BarrierAction.OPENED

    gate_under_test.gate.pipeline._barrier = CheckingBarrier()
    gate_under_test.card(RESIDENT_A, Direction.OUT)
    gate_under_test.card(RESIDENT_B, Direction.OUT)
    observer.dispose()
    assert seen_at_open == [1, 2]


def test_a_quarantined_person_may_not_leave_but_may_come_back(
    gate_under_test: GateUnderTest,
) -> None:
    leaving = gate_under_test.card(QUARANTINED, Direction.OUT)
    assert leaving.decision.outcome is Outcome.DENY
    assert leaving.decision.reason_codes == ("quarantine_no_exit",)
    assert leaving.decision.alert is AlertLevel.ALARM
    assert not leaving.barrier_opened
    assert gate_under_test.barrier.opened == []
    assert gate_under_test.events[-1].type is EventType.ACCESS_DENIED
    entering = gate_under_test.card(QUARANTINED, Direction.IN)
    assert entering.decision.outcome is Outcome.ALLOW
    assert "quarantine_returning" in entering.decision.reason_codes


def test_an_outsider_goes_to_the_guard_with_the_card_in_memory_only(
    gate_under_test: GateUnderTest,
) -> None:
    result = gate_under_test.card(OUTSIDER, Direction.IN, name="赵六")
    assert result.decision.outcome is Outcome.REVIEW
    assert "outsider" in result.decision.reason_codes
    assert not result.barrier_opened
    event = gate_under_test.events[-1]
    assert event.type is EventType.ACCESS_REVIEW
    assert event.card is not None
    assert event.card.number == OUTSIDER
    (row,) = rows(gate_under_test)
    assert row.identity_kind == IdentityKind.OUTSIDER.value
    assert row.document_hash is not None
    assert OUTSIDER not in repr([getattr(row, column.key) for column in Passage.__table__.columns])


def test_an_unknown_lane_is_refused_and_logged(gate_under_test: GateUnderTest) -> None:
    result = gate_under_test.card(RESIDENT_A, Direction.IN, lane="back-door")
    assert result.decision.outcome is Outcome.DENY
    assert result.decision.reason_codes == ("unknown_lane",)
    assert result.record is not None
    assert gate_under_test.barrier.opened == []


def test_a_malformed_number_is_refused_with_a_reason(gate_under_test: GateUnderTest) -> None:
    broken = RESIDENT_A[:-1] + ("0" if RESIDENT_A[-1] != "0" else "1")
    result = gate_under_test.card(broken, Direction.IN)
    assert result.decision.outcome is Outcome.DENY
    assert result.decision.reason_codes == ("malformed_credential",)
    assert broken not in str(result.decision.reasons)
    assert gate_under_test.barrier.opened == []


def test_a_registry_change_is_seen_by_the_next_passage_without_a_restart(
    gate_under_test: GateUnderTest,
) -> None:
    assert gate_under_test.card(RESIDENT_A, Direction.OUT).decision.outcome is Outcome.ALLOW
    services = gate_under_test.services
    with services.database.session() as session:  # another process would do the same
        compound = get_or_create_compound(session, code="ruyi", name="如意小区")
        writer = RegistryWriter(
            session,
            cipher=services.cipher,
            compound=compound,
            now=gate_under_test.clock.now,
            recorded_by="building head",
        )
        writer.apply(
            PersonRecord(
                name="王小明",
                sex=Sex.MALE,
                doc_type=DocumentType.RESIDENT_ID,
                doc_number=RESIDENT_A,
                building="1",
                unit="1",
                room="101",
                kind=PersonKind.RESIDENT,
                status=StatusEntry(
                    HealthStatus.HOME_QUARANTINE,
                    date(2026, 11, 29),
                    None,
                    LegalBasis.PUBLIC_HEALTH_EMERGENCY,
                ),
            )
        )
    gate_under_test.card(RESIDENT_A, Direction.IN)
    again = gate_under_test.card(RESIDENT_A, Direction.OUT)
    assert again.decision.reason_codes == ("quarantine_no_exit",)


def test_a_log_that_refuses_the_write_keeps_the_barrier_shut_and_the_gate_running(
    gate_under_test: GateUnderTest, database_url: str
) -> None:
    gate_under_test.gate.pipeline._log = SqlPassageLog(
        gate_under_test.services.database,
        chain_key=gate_under_test.services.chain_key.material,
        lock_timeout_ms=200,
    )
    blocker = Database(database_url)
    connection = blocker.engine.connect()
    transaction = connection.begin()
    # Another writer holds the chain head (SQLite: the write lock; PostgreSQL: the row).
    connection.execute(text("UPDATE passage_chain SET last_seq = last_seq WHERE id = 1"))
    try:
        refused = gate_under_test.card(RESIDENT_A, Direction.OUT)
    finally:
        transaction.rollback()
        connection.close()
        blocker.dispose()
    assert refused.decision.outcome is Outcome.DENY
    assert refused.decision.reason_codes[0] == "log_unavailable"
    assert refused.record is None
    assert not refused.barrier_opened
    assert gate_under_test.barrier.opened == []
    assert gate_under_test.events[-1].type is EventType.ACCESS_DENIED
    assert rows(gate_under_test) == []
    after = gate_under_test.card(RESIDENT_A, Direction.OUT)
    assert after.decision.outcome is Outcome.ALLOW
    assert after.record is not None
    assert after.record.seq == 1


def test_a_guard_override_is_its_own_row_linked_to_the_original(
    gate_under_test: GateUnderTest,
) -> None:
    review = gate_under_test.card(OUTSIDER, Direction.IN)
    assert review.record is not None
    pipeline = gate_under_test.gate.pipeline
    for bad in (
        {"outcome": Outcome.REVIEW, "reason_code": "other", "text": "x"},
        {"outcome": Outcome.ALLOW, "reason_code": "because", "text": "x"},
        {"outcome": Outcome.ALLOW, "reason_code": "other", "text": "   "},
    ):
        with pytest.raises(OverrideRefused):
            pipeline.override(review.record.seq, guard="王师傅", **bad)  # type: ignore[arg-type]
    admitted = pipeline.override(
        review.record.seq,
        outcome=Outcome.ALLOW,
        reason_code="identity_confirmed",
        text="送快递，业主电话确认",
        guard="王师傅",
    )
    assert admitted.barrier_opened
    assert admitted.record is not None
    assert admitted.record.entry.overrides_seq == review.record.seq
    assert admitted.record.entry.decided_by == "guard:王师傅"
    assert gate_under_test.events[-1].type is EventType.OVERRIDE
    with pytest.raises(OverrideRefused) as handled:
        pipeline.override(
            review.record.seq, outcome=Outcome.DENY, reason_code="refused", text="x", guard="李"
        )
    assert handled.value.code == "override_handled"
    allowed = gate_under_test.card(RESIDENT_A, Direction.OUT)
    assert allowed.record is not None
    with pytest.raises(OverrideRefused) as already:
        pipeline.override(
            allowed.record.seq, outcome=Outcome.DENY, reason_code="refused", text="x", guard="李"
        )
    assert already.value.code == "override_allowed"
    assert (
        verify_chain(
            gate_under_test.services.database, chain_key=gate_under_test.services.chain_key.material
        ).checked
        == 3
    )


def test_household_quota_lets_one_out_per_period_and_exemptions_lift_it(
    gate_under_test: GateUnderTest,
) -> None:
    services, clock = gate_under_test.services, gate_under_test.clock
    change_rule(
        ChangeRule("household-quota", effective_from=clock.now - timedelta(hours=1)),
        actor=Actor("office", "test", clock.now),
        units=services.units,
    )
    assert gate_under_test.card(RESIDENT_A, Direction.OUT).decision.outcome is Outcome.ALLOW
    second = gate_under_test.card(RESIDENT_B, Direction.OUT)
    assert second.decision.outcome is Outcome.DENY
    assert second.decision.reason_codes == ("household_quota",)
    params = second.decision.reasons[0].params
    assert (params["used"], params["allowed"]) == (1, 1)
    assert params["next_at"] == (clock.now + timedelta(hours=48)).isoformat()
    add_exemption(
        AddExemption(
            ("household-quota",),
            "复工证明",
            ends_at=clock.now + timedelta(days=7),
            doc_number=RESIDENT_B,
        ),
        actor=Actor("office", "test", clock.now),
        units=services.units,
    )
    exempted = gate_under_test.card(RESIDENT_B, Direction.OUT)
    assert exempted.decision.outcome is Outcome.ALLOW
    assert "exempted" in exempted.decision.reason_codes
    gate_under_test.card(RESIDENT_A, Direction.IN)
    clock.advance(hours=47)
    assert gate_under_test.card(RESIDENT_A, Direction.OUT).decision.outcome is Outcome.DENY
    clock.advance(hours=2)
    assert gate_under_test.card(RESIDENT_A, Direction.OUT).decision.outcome is Outcome.ALLOW


def test_anti_passback_is_soft_by_default(gate_under_test: GateUnderTest) -> None:
    gate_under_test.card(RESIDENT_A, Direction.OUT)
    twice = gate_under_test.card(RESIDENT_A, Direction.OUT)
    assert twice.decision.outcome is Outcome.ALLOW
    assert twice.decision.reasons[0].code == "passback"
    assert twice.decision.reasons[0].params["soft"] is True
    change_rule(
        ChangeRule("anti-passback", mode=RuleMode.HARD),
        actor=Actor("office", "test", gate_under_test.clock.now),
        units=gate_under_test.services.units,
    )
    hard = gate_under_test.card(RESIDENT_A, Direction.OUT)
    assert hard.decision.outcome is Outcome.DENY


def test_an_expired_card_and_a_fever_go_to_review(gate_under_test: GateUnderTest) -> None:
    expired = gate_under_test.card(RESIDENT_A, Direction.IN, valid_to=date(2026, 1, 1))
    assert expired.decision.outcome is Outcome.REVIEW
    assert expired.decision.reason_codes == ("card_expired",)
    credential_result = gate_under_test.gate.pipeline.process(
        Credential(
            CredentialKind.ID_CARD, document=DocumentRead(DocumentType.RESIDENT_ID, RESIDENT_B)
        ),
        lane="main",
        direction=Direction.IN,
        temperature=38.2,
    )
    assert credential_result.decision.outcome is Outcome.REVIEW
    assert credential_result.decision.reasons[0].params == {
        "temperature": 38.2,
        "threshold": 37.3,
        "recheck": True,
    }
    assert credential_result.record is not None
    assert credential_result.record.entry.temperature == 38.2


def test_editing_or_deleting_a_row_breaks_the_chain_at_that_row(
    gate_under_test: GateUnderTest,
) -> None:
    for doc in (RESIDENT_A, RESIDENT_B, QUARANTINED, OUTSIDER):
        gate_under_test.card(doc, Direction.OUT)
    database = gate_under_test.services.database
    key = gate_under_test.services.chain_key.material
    assert verify_chain(database, chain_key=key).checked == 4
    with database.engine.begin() as connection:
        connection.execute(text("UPDATE passages SET outcome = 'allow' WHERE seq = 3"))
    report = verify_chain(database, chain_key=key)
    assert (report.first_broken_seq, report.problem) == (3, "content does not match its keyed hash")
    with database.engine.begin() as connection:
        connection.execute(text("UPDATE passages SET outcome = 'deny' WHERE seq = 3"))
    assert verify_chain(database, chain_key=key).intact
    with database.engine.begin() as connection:
        connection.execute(text("DELETE FROM passages WHERE seq = 2"))
    assert verify_chain(database, chain_key=key).first_broken_seq == 2
    with database.engine.begin() as connection:
        connection.execute(text("DELETE FROM passages WHERE seq >= 2"))
    tail_cut = verify_chain(database, chain_key=key)
    assert not tail_cut.intact
    assert tail_cut.first_broken_seq == 2


def test_presence_follows_allowed_passages_only(gate_under_test: GateUnderTest) -> None:
    from gate.domain.presence import occupancy

    gate_under_test.card(RESIDENT_A, Direction.IN)
    gate_under_test.card(QUARANTINED, Direction.OUT)  # denied: still inside as far as we know
    snapshot = gate_under_test.gate.snapshots.current()
    counts = occupancy(snapshot, now=datetime.now(UTC))
    assert (counts.inside, counts.outside, counts.unknown) == (1, 0, 2)
    reloaded = gate_under_test.gate.snapshots.reload()
    assert reloaded.presence == snapshot.presence


def test_a_one_time_hospital_pass_lets_a_quarantined_person_out_once(
    gate_under_test: GateUnderTest,
) -> None:
    services, clock = gate_under_test.services, gate_under_test.clock
    add_exemption(
        AddExemption(
            ("quarantine",),
            "就医（陪同）",
            ends_at=clock.now + timedelta(hours=6),
            single_use=True,
            doc_number=QUARANTINED,
        ),
        actor=Actor("building head", "test", clock.now),
        units=services.units,
    )
    out = gate_under_test.card(QUARANTINED, Direction.OUT)
    assert out.decision.outcome is Outcome.ALLOW
    assert out.decision.alert is AlertLevel.NOTICE  # the guard still sees who leaves
    (exempted,) = [r for r in out.decision.reasons if r.code == "exempted"]
    assert exempted.params["single_use"] is True
    with services.database.session() as session:
        used_at = session.scalar(select(Exemption.used_at))
    assert used_at == clock.now
    clock.advance(hours=2)
    gate_under_test.card(QUARANTINED, Direction.IN)
    again = gate_under_test.card(QUARANTINED, Direction.OUT)
    assert again.decision.reason_codes == ("quarantine_no_exit",)
