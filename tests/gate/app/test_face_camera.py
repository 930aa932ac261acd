"""The camera path's tracks: one credential a track, when it is ready, and its snapshot.

The faces come as the workers return them (``FrameFaces``); the templates are unit
vectors placed at known dlib distances from the enrolled ones, and the gallery is the real
one over the real ``TemplateMatrix``, so the bands are the ones a real face would get;
the snapshots go to the real store, encrypted in the test database.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import cv2
import numpy as np
import pytest
from sqlalchemy import select

from gate.app.face_camera import FaceCamera, FaceRetention
from gate.app.face_gallery import FaceGallery
from gate.domain.device_ports import Frame
from gate.domain.faces import Box, FaceBand, FaceSeen, FaceThresholds, FrameFaces
from gate.runtime.bootstrap import Services
from recognition.faces import TemplateMatrix
from registry.models import FaceSnapshot

BOX: Box = (100, 300, 300, 100)
NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
RESIDENT = np.eye(128, dtype=np.float32)[0]
OTHER = np.eye(128, dtype=np.float32)[1]


def at_distance(base: np.ndarray, distance: float) -> bytes:
    """A unit vector ``distance`` away from ``base`` (both unit length)."""
    angle = 2 * math.asin(distance / 2)
    vector = np.cos(angle) * base + np.sin(angle) * np.eye(128, dtype=np.float32)[5]
    return bytes(vector.astype("<f4").tobytes())


class Enrolled:
    """The templates a store would hand the gallery."""

    def __init__(self) -> None:
        self.rows = [(1, "resident", RESIDENT.tobytes()), (2, "other", OTHER.tobytes())]

    def active_templates(self) -> Iterator[tuple[int, str, bytes]]:
        return iter(self.rows)

    def gallery_revision(self) -> tuple[int, int]:
        return (len(self.rows), 2)


def camera(services: Services, *, auto_open: bool = False) -> FaceCamera:
    """The camera path over the real gallery and the real snapshot store (the database)."""
    gallery = FaceGallery(TemplateMatrix(), Enrolled(), FaceThresholds(0.45, 0.55, 0.06))
    gallery.load()
    return FaceCamera(
        "main",
        frames=None,  # type: ignore[arg-type]  # on_faces never submits
        gallery=gallery,
        store=services.face_passages,
        clock=lambda: NOW,
        auto_open=auto_open,
        retention=FaceRetention(unknown=timedelta(hours=72), known=timedelta(days=30)),
    )


def kept(services: Services) -> list[FaceSnapshot]:
    """The snapshots the store holds, oldest first."""
    with services.database.session() as session:
        return list(session.scalars(select(FaceSnapshot).order_by(FaceSnapshot.id)))


def width_of(services: Services, ref: str) -> int:
    """The width of a kept snapshot's (decrypted) JPEG."""
    jpeg = services.face_passages.image(ref)
    assert jpeg is not None
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    return int(image.shape[1])


def frame(at: float, sequence: int) -> Frame:
    return Frame(np.zeros((480, 640, 3), np.uint8), NOW + timedelta(seconds=at), sequence, at)


def faces(sequence: int, *seen: FaceSeen) -> FrameFaces:
    return FrameFaces(sequence, seen, 0.05)


def test_a_clear_match_is_presented_at_once_and_only_once(services: Services) -> None:
    path = camera(services)
    first = path.on_faces(frame(0.0, 1), faces(1, FaceSeen(BOX, 7, at_distance(RESIDENT, 0.3))))
    assert len(first) == 1
    credential = first[0].credential
    assert credential.face_band is FaceBand.MATCH
    assert credential.person_ref == "resident"
    assert credential.face_distance == pytest.approx(0.3, abs=1e-4)
    (snapshot,) = kept(services)
    assert credential.snapshot_ref == snapshot.ref
    assert (snapshot.band, snapshot.person_ref) == ("match", "resident")
    assert snapshot.keep_until == NOW + timedelta(days=30)
    later = [
        path.on_faces(frame(t, i), faces(i, FaceSeen(BOX, 7, at_distance(RESIDENT, 0.3))))
        for i, t in ((2, 0.6), (3, 1.2))
    ]
    assert later == [[], []]  # the same track: no second passage


def test_with_auto_open_a_match_needs_two_frames(services: Services) -> None:
    path = camera(services, auto_open=True)
    assert (
        path.on_faces(frame(0.0, 1), faces(1, FaceSeen(BOX, 3, at_distance(RESIDENT, 0.3)))) == []
    )
    assert path.on_faces(frame(0.1, 2), faces(2, FaceSeen(BOX, 3))) == []  # not encoded
    ready = path.on_faces(frame(0.6, 3), faces(3, FaceSeen(BOX, 3, at_distance(RESIDENT, 0.35))))
    assert [p.credential.face_band for p in ready] == [FaceBand.MATCH]
    assert ready[0].first_frame_at == 0.0


def test_a_stranger_is_unknown_after_three_frames_and_kept_72_hours(services: Services) -> None:
    path = camera(services)
    ready = []
    for i, t in enumerate((0.0, 0.5, 1.0), start=1):
        ready += path.on_faces(frame(t, i), faces(i, FaceSeen(BOX, 9, at_distance(RESIDENT, 0.8))))
    assert len(ready) == 1
    assert ready[0].credential.face_band is FaceBand.UNKNOWN
    assert ready[0].credential.person_ref is None
    (snapshot,) = kept(services)
    assert snapshot.keep_until == NOW + timedelta(hours=72)  # from the first view


def test_frames_that_disagree_make_the_track_uncertain(services: Services) -> None:
    path = camera(services, auto_open=True)
    ready = []
    for i, (t, who) in enumerate(((0.0, RESIDENT), (0.5, OTHER), (1.0, RESIDENT)), start=1):
        ready += path.on_faces(frame(t, i), faces(i, FaceSeen(BOX, 4, at_distance(who, 0.3))))
    assert [p.credential.face_band for p in ready] == [FaceBand.UNCERTAIN]


def test_a_face_that_leaves_is_decided_with_what_was_seen(services: Services) -> None:
    path = camera(services)
    assert (
        path.on_faces(frame(0.0, 1), faces(1, FaceSeen(BOX, 5, at_distance(RESIDENT, 0.5)))) == []
    )
    ready = path.on_faces(frame(0.7, 2), faces(2))  # nobody in the picture any more
    assert [(p.credential.face_band, p.credential.person_ref) for p in ready] == [
        (FaceBand.UNCERTAIN, "resident")
    ]


def test_two_faces_at_once_are_two_passages(services: Services) -> None:
    path = camera(services)
    other_box: Box = (100, 600, 300, 400)
    ready = path.on_faces(
        frame(0.0, 1),
        faces(
            1,
            FaceSeen(BOX, 1, at_distance(RESIDENT, 0.3)),
            FaceSeen(other_box, 2, at_distance(OTHER, 0.3)),
        ),
    )
    assert sorted(p.credential.person_ref or "" for p in ready) == ["other", "resident"]


def test_the_largest_view_of_the_face_is_the_snapshot(services: Services) -> None:
    path = camera(services)
    small: Box = (100, 200, 200, 100)
    path.on_faces(frame(0.0, 1), faces(1, FaceSeen(small, 6, at_distance(RESIDENT, 0.5))))
    path.on_faces(frame(0.5, 2), faces(2, FaceSeen(BOX, 6, at_distance(RESIDENT, 0.5))))
    path.on_faces(frame(1.0, 3), faces(3, FaceSeen(small, 6, at_distance(RESIDENT, 0.5))))
    (snapshot,) = kept(services)
    # The crop is the face with a face's width around it: 300 px wide for the small box,
    # 500 (then scaled to 480) for the large one.
    assert width_of(services, snapshot.ref) == 480
