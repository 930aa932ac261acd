"""A lane whose camera sees a phone: video file -> OpenCV camera -> QR decoder -> decision.

The camera is the real OpenCV driver reading a video file (what a lane camera gives is
frames); the frames show a resident's pass as a phone would for a few seconds after empty
ones. The lane reads the code from the frames, the pipeline decides it like a scan, and
one showing held in front of the camera for many frames is one passage.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np
import pytest
from sqlalchemy import select

from gate.app.actor import Actor
from gate.app.qr_passes import IssuePass, issue_pass
from gate.domain.passes import PassKind
from gate.runtime.bootstrap import Services, bootstrap, build_station
from registry.models import Passage
from tests.e2e.conftest import RESIDENT_A, populate, same_gate
from tests.recognition.qr.phone_screens import qr_modules


def _video(path: Path, text: str) -> None:
    """Two seconds of an empty scene, then four of a phone showing ``text``, at 10 fps."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 10, (1280, 720))
    assert writer.isOpened()
    empty = np.full((720, 1280, 3), 90, np.uint8)
    modules = qr_modules(text, "m")
    module_px = 7
    code = np.where(np.kron(modules, np.ones((module_px, module_px), bool)), 0, 255)
    side = code.shape[0] + 8 * module_px
    screen = np.full((side, side), 255, np.uint8)
    screen[
        4 * module_px : 4 * module_px + code.shape[0], 4 * module_px : 4 * module_px + code.shape[1]
    ] = code
    shown = empty.copy()
    top, left = (720 - side) // 2, (1280 - side) // 2
    shown[top : top + side, left : left + side] = cv2.cvtColor(screen, cv2.COLOR_GRAY2BGR)
    for _ in range(20):
        writer.write(empty)
    for _ in range(40):
        writer.write(shown)
    writer.release()


@pytest.mark.slow
def test_a_pass_held_up_to_the_lane_camera_is_one_allowed_passage(
    services: Services, tmp_path: Path
) -> None:
    populate(services)
    actor = Actor(name="office", origin="test", at=datetime.now(UTC))
    issued = issue_pass(
        IssuePass(PassKind.RESIDENT, RESIDENT_A),
        actor=actor,
        units=services.units,
        signer=services.pass_signer,
    )
    video = tmp_path / "lane.avi"
    _video(video, issued.signed.text_at(datetime.now(UTC)))
    settings = same_gate(
        services,
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
        deadline = time.monotonic() + 20
        rows: list[Passage] = []
        while time.monotonic() < deadline:
            with lane_services.database.session() as session:
                rows = list(session.scalars(select(Passage)).all())
            if rows:
                break
            time.sleep(0.1)
        time.sleep(4.5)  # the rest of the video: the same code in every frame
        with lane_services.database.session() as session:
            rows = list(session.scalars(select(Passage)).all())
    finally:
        station.stop()
        lane_services.close()
    assert len(rows) == 1
    row = rows[0]
    assert (row.lane, row.credential_kind, row.outcome) == ("entry", "qr_pass", "allow")
    assert row.reasons[-1]["params"]["pass_id"] == issued.signed.claims.pass_id
