"""``gate.app.face_passage_ports.FacePassageStore`` on the registry database.

A snapshot is the camera frame of a face passage, cut to the face with a margin and no
wider than ``MAX_WIDTH``, as a JPEG encrypted with the personal-data key (field
``face_snapshots.image``). Unknown faces are kept ``unknown_snapshot_hours`` (72 by
default), known ones ``snapshot_days``; a snapshot attached to an incident (the guard
refused the passage or said "not this person") is kept until someone deletes it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import cv2
import numpy as np
from sqlalchemy import delete, func, select, update

from gate.domain.errors import RegistryError
from gate.domain.faces import Box, FaceBand
from registry.crypto import PersonalDataCipher
from registry.database import Database
from registry.models import FaceCorrection, FaceSnapshot

IMAGE_FIELD = "face_snapshots.image"
MAX_WIDTH = 480  # pixels: the guard's screen shows it at about 240
JPEG_QUALITY = 85


def snapshot_jpeg(image: Any, box: Box | None) -> bytes:
    """The frame (BGR) around ``box`` (the face, with room for the shoulders) as a JPEG."""
    frame = np.asarray(image)
    if frame.ndim not in (2, 3) or frame.dtype != np.uint8 or min(frame.shape[:2]) < 1:
        raise ValueError(f"a snapshot is a uint8 image, got {frame.dtype} {frame.shape}")
    if box is not None:
        top, right, bottom, left = box
        height, width = frame.shape[:2]
        pad_x, pad_y = (right - left), (bottom - top)
        frame = frame[
            max(0, top - pad_y) : min(height, bottom + pad_y),
            max(0, left - pad_x) : min(width, right + pad_x),
        ]
    if frame.shape[1] > MAX_WIDTH:
        scale = MAX_WIDTH / frame.shape[1]
        size = (MAX_WIDTH, max(1, round(frame.shape[0] * scale)))
        frame = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
    ok, encoded = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise ValueError("the snapshot could not be encoded")
    return bytes(encoded)


class SqlFacePassageStore:
    """Snapshots and corrections in the registry database."""

    def __init__(self, database: Database, cipher: PersonalDataCipher) -> None:
        self._database = database
        self._cipher = cipher

    def keep(
        self,
        image: Any,
        box: Box | None,
        *,
        lane: str,
        band: FaceBand,
        person_ref: str | None,
        taken_at: datetime,
        keep_until: datetime,
    ) -> str:
        """Keep the frame as an encrypted JPEG; the ref goes into the passage row."""
        ref = str(uuid.uuid4())
        blob = self._cipher.encrypt_bytes(IMAGE_FIELD, snapshot_jpeg(image, box))
        with self._database.session() as session:
            session.add(
                FaceSnapshot(
                    ref=ref,
                    lane=lane,
                    taken_at=taken_at,
                    band=band.value,
                    person_ref=person_ref,
                    image_cipher=blob,
                    keep_until=keep_until,
                )
            )
        return ref

    def image(self, ref: str) -> bytes | None:
        """The JPEG, or None once retention deleted it."""
        with self._database.session() as session:
            blob = session.scalar(select(FaceSnapshot.image_cipher).where(FaceSnapshot.ref == ref))
        if blob is None:
            return None
        try:
            return self._cipher.decrypt_bytes(IMAGE_FIELD, blob)
        except RegistryError:
            return None  # a damaged picture is shown as missing, the passage row stands

    def mark_incident(self, refs: Sequence[str]) -> int:
        """Hold these snapshots past retention."""
        if not refs:
            return 0
        with self._database.session() as session:
            changed = session.execute(
                update(FaceSnapshot)
                .where(FaceSnapshot.ref.in_(list(refs)))
                .values(incident=True, keep_until=None)
            )
        return int(getattr(changed, "rowcount", 0) or 0)

    def purge_expired(self, now: datetime) -> int:
        """Delete what retention allows to go."""
        with self._database.session() as session:
            gone = session.execute(
                delete(FaceSnapshot).where(
                    FaceSnapshot.keep_until.is_not(None),
                    FaceSnapshot.keep_until < now,
                    FaceSnapshot.incident.is_(False),
                )
            )
        return int(getattr(gone, "rowcount", 0) or 0)

    def record_correction(
        self, *, passage_seq: int, person_ref: str, distance: float | None, guard: str, at: datetime
    ) -> int:
        """Store the correction; the person's count of corrections so far."""
        with self._database.session() as session:
            session.add(
                FaceCorrection(
                    passage_seq=passage_seq,
                    person_ref=person_ref,
                    distance=distance,
                    guard=guard,
                    at=at.astimezone(UTC),
                )
            )
            session.flush()
            return int(
                session.scalar(
                    select(func.count())
                    .select_from(FaceCorrection)
                    .where(FaceCorrection.person_ref == person_ref)
                )
                or 0
            )

    def corrections_of(self, person_refs: Sequence[str]) -> dict[str, int]:
        """Each person's count of corrections (absent: none)."""
        if not person_refs:
            return {}
        with self._database.session() as session:
            rows = session.execute(
                select(FaceCorrection.person_ref, func.count())
                .where(FaceCorrection.person_ref.in_(list(person_refs)))
                .group_by(FaceCorrection.person_ref)
            ).all()
        return {ref: int(count) for ref, count in rows}
