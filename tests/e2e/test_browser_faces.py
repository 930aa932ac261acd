"""A face passage on the guard terminal, in the real headless Chromium.

The resident was enrolled with consent from one photo; another photo of them, framed as
the lane camera sees it, goes through the real face path (worker process, tracker,
gallery, pipeline). The alert shows the camera's picture beside the enrolment photo; the
guard presses N ("not this person") on one of two such passages, and the correction is
stored and counted on the next one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from gate.app.actor import Actor
from gate.app.face_camera import FaceCamera
from gate.app.faces import (
    EnrolFace,
    FaceConsentForm,
    RecordFaceConsent,
    enrol_face,
    record_face_consent,
)
from gate.domain.device_ports import Frame
from gate.domain.documents import DocumentType, normalize
from gate.domain.model import Direction
from recognition.faces import FaceEngine, FacePool
from registry.models import FaceCorrection, Passage
from tests.conftest import shared_data
from tests.e2e.conftest import CHROMIUM, RESIDENT_A
from tests.e2e.face_video import framed
from tests.e2e.test_browser import SCREENSHOTS, LiveGate, live_gate, signed_in_page
from tests.face_assessment import record_assessment

__all__ = ["live_gate"]  # the fixture, shared with the terminal's other browser tests
pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed"),
]
PHOTOS = "faces/ageitgey-face_recognition/examples"


def resident_ref(live: LiveGate) -> str:
    digest = live.services.cipher.lookup_hash(DocumentType.RESIDENT_ID.value, normalize(RESIDENT_A))
    ref = live.station.gate.snapshots.current().person_by_document[digest]
    assert ref is not None
    return ref


def face_passages(live: LiveGate, photo: Path, count: int) -> list[int]:
    """``count`` separate appearances of ``photo`` at the lane camera, each a passage."""
    image = framed(photo)
    seqs = []
    with FacePool(workers=1, queue_size=1) as pool:
        camera = FaceCamera(
            "main",
            frames=pool,
            gallery=live.services.face_gallery,
            store=live.services.face_passages,
            clock=lambda: datetime.now(UTC),
        )
        for n in range(count):
            frame = Frame(image, datetime.now(UTC), n, 10.0 * n)  # apart: a new track each
            for seen in camera.on_faces(frame, pool.submit(frame).result()):
                result = live.station.gate.pipeline.process(
                    seen.credential, lane="main", direction=Direction.IN
                )
                assert result.record is not None
                seqs.append(result.record.seq)
    return seqs


def test_a_face_passage_shows_both_pictures_and_not_this_person_is_counted(
    browser: object, live_gate: LiveGate
) -> None:
    photos = shared_data(PHOTOS)
    resident = resident_ref(live_gate)
    office = Actor("office", "test", datetime.now(UTC))
    record_assessment(live_gate.services.units)
    record_face_consent(
        RecordFaceConsent(resident, FaceConsentForm("王小明", False, "2026-01")),
        actor=office,
        units=live_gate.services.units,
    )
    enrol_face(
        EnrolFace(resident, photo=(photos / "obama.jpg").read_bytes()),
        actor=office,
        units=live_gate.services.units,
        enroller=FaceEngine(),
        gallery=live_gate.services.face_gallery,
    )
    page = signed_in_page(browser, live_gate)
    first, second = face_passages(live_gate, photos / "obama2.jpg", 2)
    alert = f'#alerts li[data-seq="{first}"]'
    page.wait_for_selector(f"{alert} .face img", timeout=5_000)  # type: ignore[attr-defined]
    page.wait_for_function(  # type: ignore[attr-defined]  # both pictures: snapshot, enrolment photo
        f"[...document.querySelectorAll('{alert} .face img')]"
        ".filter((img) => img.complete && img.naturalWidth > 0).length === 2",
        timeout=5_000,
    )
    text = page.inner_text(alert)  # type: ignore[attr-defined]
    assert "王*明" in text
    assert "人脸识别为此人" in text
    assert "现场抓拍" in text
    assert "登记照片" in text
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "terminal-face.png"))  # type: ignore[attr-defined]
    # N on the first: "not this person", the note pre-filled, Enter.
    page.click(f"{alert} .line")  # type: ignore[attr-defined]
    page.keyboard.press("n")  # type: ignore[attr-defined]
    assert page.is_hidden("#override-reasons")  # type: ignore[attr-defined]
    page.keyboard.press("Enter")  # type: ignore[attr-defined]
    page.wait_for_selector(alert, state="detached")  # type: ignore[attr-defined]
    with live_gate.services.database.session() as session:
        corrections = session.scalars(select(FaceCorrection)).all()
        override = session.scalars(select(Passage).where(Passage.overrides_seq == first)).one()
    assert [(c.passage_seq, c.person_ref, c.guard) for c in corrections] == [
        (first, resident, "guard1")
    ]
    assert override.outcome == "deny"
    assert override.reasons[0]["params"]["code"] == "not_this_person"
    assert override.person_ref is None
    # The second passage of the same candidate now says a guard corrected it once.
    page.reload()  # type: ignore[attr-defined]
    page.wait_for_selector(f'#alerts li[data-seq="{second}"] .face-corrections', timeout=5_000)  # type: ignore[attr-defined]
    assert "1 次" in page.inner_text(f'#alerts li[data-seq="{second}"]')  # type: ignore[attr-defined]
    page.close()  # type: ignore[attr-defined]
