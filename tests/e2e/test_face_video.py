"""A lane camera that sees faces: video file -> OpenCV camera -> face workers -> passages.

The camera is the real OpenCV driver reading a video built from the shared photos; the
workers are real processes running dlib. The resident was enrolled (with consent) from
one photo and walks past in another; a stranger follows. Each is one passage: the
resident's pre-fills the guard's screen as a match (auto-open is off), the stranger's is
an unknown face; both rows carry a snapshot the terminal can show.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from gate.app.actor import Actor
from gate.app.faces import (
    EnrolFace,
    FaceConsentForm,
    RecordFaceConsent,
    enrol_face,
    record_face_consent,
)
from gate.domain.documents import DocumentType, normalize
from gate.runtime.bootstrap import Services, bootstrap, build_station
from recognition.faces import FaceEngine
from registry.models import Document, Passage, Person
from tests.conftest import shared_data
from tests.e2e.conftest import RESIDENT_A, populate, same_gate
from tests.e2e.face_video import write_face_video
from tests.face_assessment import record_assessment

PHOTOS = "faces/ageitgey-face_recognition/examples"


def enrol(services: Services, number: str, photo: Path) -> str:
    digest = services.cipher.lookup_hash(DocumentType.RESIDENT_ID.value, normalize(number))
    with services.database.session() as session:
        person = session.scalars(
            select(Person).join(Document).where(Document.number_hash == digest)
        ).one()
        ref = person.ref
    office = Actor("office", "test", datetime.now(UTC))
    record_assessment(services.units)
    record_face_consent(
        RecordFaceConsent(ref, FaceConsentForm("王小明", False, "2026-01")),
        actor=office,
        units=services.units,
    )
    enrol_face(
        EnrolFace(ref, photo=photo.read_bytes()),
        actor=office,
        units=services.units,
        enroller=FaceEngine(),
        gallery=services.face_gallery,
    )
    return ref


@pytest.mark.slow
def test_a_resident_and_a_stranger_walk_past_the_lane_camera(
    services: Services, tmp_path: Path
) -> None:
    populate(services)
    photos = shared_data(PHOTOS)
    resident = enrol(services, RESIDENT_A, photos / "obama.jpg")
    video = write_face_video(
        tmp_path / "lane.avi",
        [
            (None, 1.0),
            (photos / "obama2.jpg", 3.0),
            (None, 1.5),
            (photos / "biden.jpg", 3.0),
            (None, 1.5),
        ],
    )
    settings = same_gate(
        services,
        faces={"enabled": True, "workers": 1},
        gate={
            "lanes": [
                {
                    "id": "entry",
                    "direction": "in",
                    "camera": {"type": "opencv", "source": str(video), "fps": 10},
                }
            ]
        },
    )
    lane_services = bootstrap(settings)
    station = build_station(lane_services)
    station.start()
    try:
        deadline = time.monotonic() + 60
        rows: list[Passage] = []
        while time.monotonic() < deadline and len(rows) < 2:
            time.sleep(0.2)
            with lane_services.database.session() as session:
                rows = list(session.scalars(select(Passage).order_by(Passage.seq)).all())
        time.sleep(2.0)  # the rest of the video: no third passage
        with lane_services.database.session() as session:
            rows = list(session.scalars(select(Passage).order_by(Passage.seq)).all())
        pictures = [lane_services.face_passages.image(row.snapshot_ref or "") for row in rows]
    finally:
        station.stop()
        lane_services.close()
    summary = [
        (r.credential_kind, r.identity_kind, r.person_ref, r.reasons[0]["code"]) for r in rows
    ]
    assert summary == [
        ("face", "registered", resident, "face_confirm"),
        ("face", "outsider", None, "face_unknown"),
    ]
    assert all(row.outcome == "review" and not row.opens_barrier for row in rows)
    assert rows[0].reasons[0]["params"]["distance"] < 0.45
    assert all(picture is not None and picture[:2] == b"\xff\xd8" for picture in pictures)
