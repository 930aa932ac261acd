"""Faces: the dlib models, detection and encoding in worker processes, exact 1:N matching.

    models    the 5-point landmark model and the encoder, found and loaded without
              face_recognition (whose import loads the non-commercial 68-point model)
    images    enrolment photos checked (size, pixels, transparency) before decoding
    engine    HOG detection on a downscaled copy, encodings from the full frame
    tracker   IoU tracks, so that one face is encoded a few times, not every frame
    pool      worker processes behind a bounded queue that drops the oldest frame
    matcher   every template in one float32 matrix; exact distances, best persons

Importing loads nothing: the models are loaded by ``FaceEngine()`` (once per worker).
The ports these implement are in ``gate.domain.faces``.
"""

from __future__ import annotations

from recognition.faces.engine import EngineSettings, FaceEngine
from recognition.faces.images import read_photo
from recognition.faces.matcher import TemplateMatrix, to_template
from recognition.faces.models import load_models
from recognition.faces.pool import FacePool, PoolStats
from recognition.faces.tracker import IouTracker

__all__ = [
    "EngineSettings",
    "FaceEngine",
    "FacePool",
    "IouTracker",
    "PoolStats",
    "TemplateMatrix",
    "load_models",
    "read_photo",
    "to_template",
]
