"""The face models install and load; only the 5-point landmark model and the encoder."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version

from recognition.faces.models import ENCODER, FIVE_POINT, SIXTY_EIGHT_POINT, load_models


def test_the_models_load() -> None:
    models = load_models()
    assert [path.name for path in models.files] == [FIVE_POINT, ENCODER]
    assert SIXTY_EIGHT_POINT not in {path.name for path in models.files}
    assert models.detector is not None


def test_face_recognition_really_imports() -> None:
    # face_recognition prints a message and exits with status 0 when its models' import fails
    # (pkg_resources gone with setuptools >= 81): the status alone proves nothing.
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import face_recognition; print('imported')",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.stdout.strip() == "imported", done.stdout + done.stderr
    assert version("face-recognition") == "1.3.0"  # its __version__ says 1.2.3
