"""The face engine, and the photos of ../shared/data/faces (each set's SOURCE.txt says whence)."""

from __future__ import annotations

from pathlib import Path

import pytest

from recognition.faces.engine import FaceEngine
from tests.conftest import shared_data

AGEITGEY = "faces/ageitgey-face_recognition"
FACENET = "faces/davidsandberg-facenet"
DEEPFACE = "faces/serengil-deepface"


def photo(relative: str) -> Path:
    """A photo of the shared face sets, or a skip saying it is absent."""
    return shared_data(relative)


@pytest.fixture(scope="session")
def face_engine() -> FaceEngine:
    """An in-process engine (the workers build the same); models loaded once per session."""
    return FaceEngine()
