"""``gate.app.face_ports.FaceEnroller``: enrolment photos through the quality gate.

The web app enrols in a worker process started for the call (``FacePool`` with one
worker, closed after): the office enrols a few photos a day, so no idle worker holds
memory or a core for it, and dlib never runs on the web app's threads. A one-shot command
(``gate face enroll``) passes ``in_process=True`` and keeps one engine for its images.
"""

from __future__ import annotations

import threading
from typing import Any

from gate.app.face_ports import EnrolmentFace
from recognition.faces.engine import EngineSettings, FaceEngine
from recognition.faces.pool import FacePool
from recognition.faces.quality import QualityLimits


class PhotoEnroller:
    """Photos and camera frames to enrolment templates (see the module docstring)."""

    def __init__(self, limits: QualityLimits, *, in_process: bool = False) -> None:
        self.settings = EngineSettings(quality=limits)
        self.in_process = in_process
        self._engine: FaceEngine | None = None
        self._lock = threading.Lock()

    def enrolment_face(self, photo: bytes) -> EnrolmentFace:
        """The one face of ``photo``, checked and encoded; ``FaceImageRejected``."""
        if self.in_process:
            return self._local().enrolment_face(photo)
        with FacePool(workers=1, queue_size=1, settings=self.settings) as pool:
            return pool.enrolment_face(photo)

    def enrolment_frame(self, image: Any) -> EnrolmentFace:
        """The one face of a camera frame (BGR), checked and encoded; ``FaceImageRejected``."""
        if self.in_process:
            return self._local().enrolment_frame(image)
        with FacePool(workers=1, queue_size=1, settings=self.settings) as pool:
            return pool.enrolment_frame(image)

    def _local(self) -> FaceEngine:
        with self._lock:
            if self._engine is None:
                self._engine = FaceEngine(self.settings)
            return self._engine
