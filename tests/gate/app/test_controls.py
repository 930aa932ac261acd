"""The exemption, visitor and override use cases, called directly as every front end calls them.

Each refusal names its code and writes nothing but its ``action.refused`` audit row; each
change writes one audit row and bumps the registry revision once.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from devices.memory_barrier import RecordingBarrier
from gate.app.actor import Actor
from gate.app.exemptions import AddExemption, active_exemptions, add_exemption, revoke_exemption
from gate.app.passages import OverridePassage, override_passage
from gate.app.visitors import RegisterVisitor, register_visitor
from gate.domain.documents import DocumentType
from gate.domain.errors import ActionRefused, DocumentInvalid, NotFound, OverrideRefused
from gate.domain.model import Credential, CredentialKind, Direction, DocumentRead, Outcome
from gate.runtime.bootstrap import Services, build_gate
from registry.models import AuditEvent, Exemption, RegistryRevision, Visitor
from tests.e2e.conftest import OUTSIDER, RESIDENT_A, populate

NOW = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)
OFFICE = Actor("office1", "test", NOW)


def audit_rows(services: Services) -> list[tuple[str, str]]:
    with services.database.session() as session:
        return [
            (e.action, e.target)
            for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))
        ]


def revision(services: Services) -> int:
    with services.database.session() as session:
        return int(session.scalar(select(RegistryRevision.revision)) or 0)


def count(services: Services, model: type) -> int:
    with services.database.session() as session:
        return len(session.scalars(select(model)).all())


@pytest.fixture
def compound(services: Services) -> Services:
    populate(services)
    return services


@pytest.mark.parametrize(
    ("command", "code"),
    [
        (AddExemption(("household-quota",), "   ", doc_number=RESIDENT_A), "required"),
        (AddExemption(("household-quota",), "x" * 201, doc_number=RESIDENT_A), "too_long"),
        (AddExemption((), "复工证明", doc_number=RESIDENT_A), "required"),
        (AddExemption(("no-such-rule",), "复工证明", doc_number=RESIDENT_A), "choice"),
        (
            AddExemption(
                ("household-quota",), "复工证明", date(2026, 11, 28), doc_number=RESIDENT_A
            ),
            "date_past",
        ),
        (AddExemption(("household-quota",), "复工证明", doc_number=OUTSIDER), "no_holder"),
    ],
)
def test_an_exemption_that_cannot_be_accepted_is_refused_with_its_code(
    compound: Services, command: AddExemption, code: str
) -> None:
    before = revision(compound)
    with pytest.raises(ActionRefused) as refused:
        add_exemption(command, actor=OFFICE, units=compound.units)
    assert refused.value.code == code
    assert count(compound, Exemption) == 0
    assert revision(compound) == before
    assert audit_rows(compound) == []


def test_an_exemption_is_added_and_revoked_with_one_audit_row_and_one_revision_each(
    compound: Services,
) -> None:
    before = revision(compound)
    command = AddExemption(
        ("household-quota",), " 复工证明 ", date(2026, 12, 6), doc_number=RESIDENT_A
    )
    exemption_id = add_exemption(command, actor=OFFICE, units=compound.units)
    assert revision(compound) == before + 1
    (line,) = active_exemptions(actor=OFFICE, units=compound.units)
    assert (line.id, line.reason, line.rule_ids, line.recorded_by) == (
        exemption_id,
        "复工证明",
        ("household-quota",),
        "office1",
    )
    later = Actor("office2", "test", NOW + timedelta(hours=1))
    revoke_exemption(exemption_id, actor=later, units=compound.units)
    assert revision(compound) == before + 2
    assert active_exemptions(actor=later, units=compound.units) == []
    with pytest.raises(ActionRefused) as again:
        revoke_exemption(exemption_id, actor=later, units=compound.units)
    assert again.value.code == "exemption_ended"
    with pytest.raises(NotFound):
        revoke_exemption(999, actor=later, units=compound.units)
    assert [action for action, _ in audit_rows(compound)] == ["exemption.add", "exemption.revoke"]


def test_a_visitor_is_refused_and_audited_or_registered_and_admitted(compound: Services) -> None:
    barrier = RecordingBarrier()
    gate = build_gate(compound, barrier=barrier)
    swipe = gate.pipeline.process(
        Credential(
            CredentialKind.ID_CARD, document=DocumentRead(DocumentType.RESIDENT_ID, OUTSIDER)
        ),
        lane="main",
        direction=Direction.IN,
    )
    assert swipe.record is not None
    assert swipe.decision.outcome is Outcome.REVIEW
    guard = Actor("guard1", "test", datetime.now(UTC))
    good = RegisterVisitor("赵六", DocumentType.RESIDENT_ID, OUTSIDER, "1-1-101", "探望父母")
    for bad, expected in (
        (RegisterVisitor("赵六", DocumentType.RESIDENT_ID, OUTSIDER, "1-1", "探望"), "host_format"),
        (RegisterVisitor("  ", DocumentType.RESIDENT_ID, OUTSIDER, "1-1-101", "探望"), "required"),
        (
            RegisterVisitor(
                "赵六", DocumentType.RESIDENT_ID, OUTSIDER, "1-1-101", "探望", hours=200
            ),
            "visit_hours",
        ),
    ):
        with pytest.raises(ActionRefused) as refused:
            register_visitor(bad, actor=guard, units=compound.units, pipeline=gate.pipeline)
        assert refused.value.code == expected
    with pytest.raises(NotFound):
        register_visitor(
            RegisterVisitor("赵六", DocumentType.RESIDENT_ID, OUTSIDER, "9-9-909", "探望"),
            actor=guard,
            units=compound.units,
        )
    with pytest.raises(DocumentInvalid):
        register_visitor(
            RegisterVisitor("赵六", DocumentType.RESIDENT_ID, "123", "1-1-101", "探望"),
            actor=guard,
            units=compound.units,
        )
    assert count(compound, Visitor) == 0
    assert [action for action, _ in audit_rows(compound)] == ["action.refused"] * 5
    registered = register_visitor(
        RegisterVisitor(**{**good.__dict__, "admit_seq": swipe.record.seq}),
        actor=guard,
        units=compound.units,
        pipeline=gate.pipeline,
    )
    assert registered.admitted_seq == swipe.record.seq + 1
    assert len(barrier.opened) == 1
    assert [action for action, _ in audit_rows(compound)][-2:] == [
        "visitor.register",
        "passage.override",
    ]
    # The next swipe of the same card is a known visitor, decided from the reloaded snapshot.
    again = gate.pipeline.process(
        Credential(
            CredentialKind.ID_CARD, document=DocumentRead(DocumentType.RESIDENT_ID, OUTSIDER)
        ),
        lane="main",
        direction=Direction.IN,
    )
    assert again.decision.outcome is Outcome.ALLOW


def test_an_override_refusal_is_audited_with_its_code(compound: Services) -> None:
    gate = build_gate(compound, barrier=RecordingBarrier())
    allowed = gate.pipeline.process(
        Credential(
            CredentialKind.ID_CARD, document=DocumentRead(DocumentType.RESIDENT_ID, RESIDENT_A)
        ),
        lane="main",
        direction=Direction.OUT,
    )
    assert allowed.record is not None
    guard = Actor("guard1", "test", datetime.now(UTC))
    with pytest.raises(OverrideRefused) as refused:
        override_passage(
            OverridePassage(allowed.record.seq, Outcome.DENY, "refused", "x"),
            actor=guard,
            units=compound.units,
            pipeline=gate.pipeline,
        )
    assert refused.value.code == "override_allowed"
    assert audit_rows(compound) == [("action.refused", f"passage:{allowed.record.seq}")]
