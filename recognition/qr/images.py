"""Image files as frames, for the CLI and the tests; an unreadable file is one typed error.

GateError
└── CredentialInvalid             (gate.domain.errors)
    └── ImageUnreadable           the file is missing, unreadable or not a picture;
                                  ``reason`` is not_found, unreadable or not_an_image
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from gate.domain.errors import CredentialInvalid


class ImageUnreadable(CredentialInvalid):
    """An image file that cannot be read as a picture; ``path`` and ``reason`` say which and why."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        super().__init__(reason, f"{path}: {reason.replace('_', ' ')}")


def read_image(path: Path) -> npt.NDArray[np.uint8]:
    """The picture in ``path`` as 8-bit grey or BGR; transparency is laid on white."""
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise ImageUnreadable(path, "not_found") from exc
    except OSError as exc:  # a directory, no permission, an I/O error
        raise ImageUnreadable(path, "unreadable") from exc
    try:
        image: npt.NDArray[Any] | None = cv2.imdecode(
            np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED
        )
    except cv2.error as exc:
        raise ImageUnreadable(path, "not_an_image") from exc
    if image is None or image.size == 0:
        raise ImageUnreadable(path, "not_an_image")
    if image.dtype == np.uint16:
        image = (image >> 8).astype(np.uint8)
    elif image.dtype != np.uint8:
        raise ImageUnreadable(path, "not_an_image")
    if image.ndim == 3 and image.shape[2] == 4:
        alpha = image[:, :, 3:4].astype(np.float32) / 255
        image = (image[:, :, :3] * alpha + 255 * (1 - alpha)).astype(np.uint8)
    return np.ascontiguousarray(image)


def quiet_opencv_warnings() -> None:
    """Keep OpenCV's warnings about damaged files off stderr (the caller reports them)."""
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
