"""The dlib models of the face engine, found and loaded without face_recognition.

Only three are ever loaded: dlib's HOG frontal-face detector (built into dlib), the 5-point
landmark model and the ResNet encoder (both from face_recognition_models). The 68-point
landmark model beside them is trained on iBUG 300-W, whose licence forbids commercial use;
``face_recognition`` loads it at import (and ``face_landmarks()`` uses it by default), so
nothing of the service imports ``face_recognition`` (an import-linter contract), and the CNN
detector (2.5 s a frame on this CPU) stays off the passage path too.

The files are located through the package's import spec, without running its
``__init__`` (which needs ``pkg_resources``). ``python -m recognition.faces.models`` loads
them and prints what it loaded (``scripts/setup`` runs it).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gate.domain.errors import DriverNotAvailable

MODELS_PACKAGE = "face_recognition_models"
FIVE_POINT = "shape_predictor_5_face_landmarks.dat"
ENCODER = "dlib_face_recognition_resnet_model_v1.dat"
# Never loaded; named so that a test can assert it stays that way.
SIXTY_EIGHT_POINT = "shape_predictor_68_face_landmarks.dat"


def models_dir() -> Path:
    """The folder of face_recognition_models' files; ``DriverNotAvailable`` if absent."""
    spec = importlib.util.find_spec(MODELS_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise DriverNotAvailable(f"{MODELS_PACKAGE} is not installed (scripts/setup installs it)")
    return Path(next(iter(spec.submodule_search_locations))) / "models"


def model_path(name: str) -> Path:
    """The file of the model ``name``; ``DriverNotAvailable`` if it is missing."""
    path = models_dir() / name
    if not path.is_file():
        raise DriverNotAvailable(f"face model {path} is missing")
    return path


@dataclass(frozen=True, eq=False)
class FaceModels:
    """The loaded detector, 5-point landmark predictor and encoder (dlib objects)."""

    detector: Any
    landmarks: Any
    encoder: Any
    files: tuple[Path, ...]


def load_models() -> FaceModels:
    """Load the three models (about 0.3 s); ``DriverNotAvailable`` if dlib or a file is missing."""
    try:
        import dlib  # imported where used: a worker loads it once
    except ImportError as exc:
        raise DriverNotAvailable("dlib is not installed (scripts/setup installs dlib-bin)") from exc
    five_point, encoder = model_path(FIVE_POINT), model_path(ENCODER)
    try:
        return FaceModels(
            detector=dlib.get_frontal_face_detector(),
            landmarks=dlib.shape_predictor(str(five_point)),
            encoder=dlib.face_recognition_model_v1(str(encoder)),
            files=(five_point, encoder),
        )
    except RuntimeError as exc:  # dlib's error for a damaged model file
        raise DriverNotAvailable(f"face models cannot be loaded: {exc}") from exc


def main() -> None:
    """Load the models and say which."""
    models = load_models()
    print("face models loaded: HOG detector, " + ", ".join(path.name for path in models.files))


if __name__ == "__main__":
    main()
