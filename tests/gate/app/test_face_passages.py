"""Face passages through the real pipeline and log: what each band decides, the snapshot
kept with the row and its retention, and the guard's "not this person".

The credentials are what the camera path (``gate.app.face_camera``) hands the pipeline;
the camera path itself is tested in ``test_face_camera`` and end to end on a video in
``tests/e2e/test_face_video``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import select

from devices.memory_barrier import RecordingBarrier
from gate.app.actor import Actor
from gate.app.passages import OverridePassage, override_passage
from gate.domain.documents import DocumentType, normalize
from gate.domain.errors import OverrideRefused
from gate.domain.faces import FaceBand
from gate.domain.model import (
    Credential,
    CredentialKind,
    Direction,
    DocumentRead,
    IdentityKind,
    Outcome,
)
from gate.runtime.bootstrap import Gate, Services, build_gate
from registry.models import AuditEvent, FaceCorrection, FaceSnapshot
from tests.e2e.conftest import QUARANTINED, RESIDENT_A, populate

GUARD = Actor("guard1", "test", datetime.now(UTC))


@pytest.fixture
def gate(services: Services) -> Gate:
    populate(services)
    return build_gate(services, barrier=RecordingBarrier())


def person_ref(services: Services, gate: Gate, number: str) -> str:
    digest = services.cipher.lookup_hash(DocumentType.RESIDENT_ID.value, normalize(number))
    ref = gate.snapshots.current().person_by_document[digest]
    assert ref is not None
    return ref


def picture() -> np.ndarray:
    image = np.zeros((480, 640, 3), dtype=np.uint8)
    image[100:300, 200:400] = (40, 120, 200)
    return image


def face(
    services: Services,
    band: FaceBand,
    person: str | None,
    distance: float | None = 0.31,
    *,
    keep_for: timedelta = timedelta(hours=72),
) -> Credential:
    taken = datetime.now(UTC)
    ref = services.face_passages.keep(
        picture(),
        (100, 400, 300, 200),
        lane="main",
        band=band,
        person_ref=person,
        taken_at=taken,
        keep_until=taken + keep_for,
    )
    return Credential(
        CredentialKind.FACE,
        person_ref=person,
        face_distance=distance,
        face_band=band,
        face_margin=0.2,
        snapshot_ref=ref,
    )


def test_a_face_match_goes_to_the_guard_with_the_candidate_and_its_snapshot(
    services: Services, gate: Gate
) -> None:
    resident = person_ref(services, gate, RESIDENT_A)
    result = gate.pipeline.process(
        face(services, FaceBand.MATCH, resident), lane="main", direction=Direction.IN
    )
    assert result.record is not None
    entry = result.record.entry
    # Auto-open is off by default: a face names a candidate, the guard opens.
    assert result.decision.outcome is Outcome.REVIEW
    assert not result.barrier_opened
    assert result.decision.reasons[0].code == "face_confirm"
    assert result.decision.reasons[0].params["distance"] == pytest.approx(0.31)
    assert entry.credential_kind is CredentialKind.FACE
    assert entry.person_ref == resident
    assert entry.snapshot_ref is not None
    jpeg = services.face_passages.image(entry.snapshot_ref)
    assert jpeg is not None
    assert jpeg[:2] == b"\xff\xd8"
    with services.database.session() as session:
        stored = session.scalar(select(FaceSnapshot.image_cipher))
    assert stored is not None
    assert b"\xff\xd8\xff" not in stored[:40]


def test_an_unknown_face_is_an_outsider_for_the_guard(services: Services, gate: Gate) -> None:
    result = gate.pipeline.process(
        face(services, FaceBand.UNKNOWN, None, None), lane="main", direction=Direction.IN
    )
    assert result.record is not None
    assert result.record.entry.identity_kind is IdentityKind.OUTSIDER
    assert result.record.entry.person_ref is None
    assert result.decision.outcome is Outcome.REVIEW
    assert result.decision.reason_codes[:2] == ("face_unknown", "outsider")


def test_a_face_never_loosens_a_refusal(services: Services, gate: Gate) -> None:
    quarantined = person_ref(services, gate, QUARANTINED)
    result = gate.pipeline.process(
        face(services, FaceBand.MATCH, quarantined), lane="main", direction=Direction.OUT
    )
    assert result.decision.outcome is Outcome.DENY
    assert "face_confirm" in result.decision.reason_codes
    assert not result.barrier_opened


def test_an_uncertain_face_admitted_by_the_guard_is_the_candidate(
    services: Services, gate: Gate
) -> None:
    resident = person_ref(services, gate, RESIDENT_A)
    result = gate.pipeline.process(
        face(services, FaceBand.UNCERTAIN, resident, 0.51), lane="main", direction=Direction.IN
    )
    assert result.record is not None
    assert result.decision.reason_codes[0] == "face_uncertain"
    admitted = override_passage(
        OverridePassage(result.record.seq, Outcome.ALLOW, "identity_confirmed", "看过证件"),
        actor=GUARD,
        units=services.units,
        pipeline=gate.pipeline,
        faces=services.face_passages,
    )
    assert admitted.barrier_opened
    assert admitted.record is not None
    assert admitted.record.entry.person_ref == resident


def test_not_this_person_is_stored_counted_and_keeps_the_snapshot(
    services: Services, gate: Gate
) -> None:
    resident = person_ref(services, gate, RESIDENT_A)
    seqs = []
    for _ in range(2):
        result = gate.pipeline.process(
            face(services, FaceBand.MATCH, resident, keep_for=timedelta(seconds=-1)),
            lane="main",
            direction=Direction.IN,
        )
        assert result.record is not None
        seqs.append(result.record.seq)
    for seq in seqs:
        corrected = override_passage(
            OverridePassage(seq, Outcome.DENY, "not_this_person", "不是此人"),
            actor=GUARD,
            units=services.units,
            pipeline=gate.pipeline,
            faces=services.face_passages,
        )
        assert corrected.record is not None
        # The guard's row names nobody: tracing never counts the wrong candidate.
        assert corrected.record.entry.person_ref is None
        assert corrected.record.entry.identity_kind is IdentityKind.OUTSIDER
        assert not corrected.barrier_opened
    assert services.face_passages.corrections_of([resident]) == {resident: 2}
    with services.database.session() as session:
        corrections = session.scalars(select(FaceCorrection)).all()
        audits = [
            a.detail for a in session.scalars(select(AuditEvent)) if a.action == "passage.override"
        ]
    assert [c.passage_seq for c in corrections] == seqs
    assert all(c.distance == pytest.approx(0.31) and c.guard == "guard1" for c in corrections)
    assert [a["corrections"] for a in audits] == [1, 2]
    # Both snapshots were already past retention; the incident keeps them.
    assert services.face_passages.purge_expired(datetime.now(UTC)) == 0


def test_not_this_person_is_only_for_a_face_and_only_a_refusal(
    services: Services, gate: Gate
) -> None:
    card = gate.pipeline.process(
        Credential(
            CredentialKind.ID_CARD, document=DocumentRead(DocumentType.RESIDENT_ID, QUARANTINED)
        ),
        lane="main",
        direction=Direction.OUT,
    )
    resident = person_ref(services, gate, RESIDENT_A)
    seen = gate.pipeline.process(
        face(services, FaceBand.MATCH, resident), lane="main", direction=Direction.IN
    )
    assert card.record is not None
    assert seen.record is not None
    for seq, outcome in ((card.record.seq, Outcome.DENY), (seen.record.seq, Outcome.ALLOW)):
        with pytest.raises(OverrideRefused) as refused:
            override_passage(
                OverridePassage(seq, outcome, "not_this_person", "x"),
                actor=GUARD,
                units=services.units,
                pipeline=gate.pipeline,
                faces=services.face_passages,
            )
        assert refused.value.code == "override_not_face"
    assert services.face_passages.corrections_of([resident]) == {}


def test_retention_deletes_expired_snapshots_only(services: Services, gate: Gate) -> None:
    old = face(services, FaceBand.UNKNOWN, None, keep_for=timedelta(seconds=-1))
    fresh = face(services, FaceBand.UNKNOWN, None)
    assert old.snapshot_ref is not None
    assert fresh.snapshot_ref is not None
    assert services.face_passages.purge_expired(datetime.now(UTC)) == 1
    assert services.face_passages.image(old.snapshot_ref) is None
    assert services.face_passages.image(fresh.snapshot_ref) is not None
