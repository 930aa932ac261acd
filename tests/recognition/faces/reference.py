"""face_recognition, the reference the tests compare against (never imported by the service).

Its import loads every model (the 68-point one too): fine in a test, not on a gate.
"""

from __future__ import annotations

import warnings

from PIL import ImageFile

with warnings.catch_warnings():
    # face_recognition_models imports pkg_resources, which newer setuptools (< 81) warn about.
    warnings.filterwarnings("ignore", message="pkg_resources is deprecated")
    import face_recognition

# face_recognition lets Pillow load truncated files at import (a process-wide switch); the
# service never imports it, so the tests put back what the service sees.
ImageFile.LOAD_TRUNCATED_IMAGES = False

face_distance = face_recognition.face_distance
face_encodings = face_recognition.face_encodings
face_locations = face_recognition.face_locations
load_image_file = face_recognition.load_image_file
