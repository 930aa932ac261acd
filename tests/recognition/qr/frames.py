"""Real photos as test frames: zxing's blackbox images and their expected texts, 720p framing."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from recognition.qr import read_image


@dataclass(frozen=True)
class Photo:
    """One blackbox image, the exact text it holds, and its name (``qrcode-4/09.png``)."""

    name: str
    text: str
    image: np.ndarray


def load_blackbox(root: Path) -> list[Photo]:
    """Every ``<n>.png`` under ``root/qrcode-*`` with its ``<n>.txt``."""
    return [
        Photo(
            name=f"{path.parent.name}/{path.name}",
            text=path.with_suffix(".txt").read_bytes().decode("utf-8"),
            image=read_image(path),
        )
        for path in sorted(root.glob("qrcode-*/*.png"))
    ]


def in_720p_frame(image: np.ndarray) -> np.ndarray:
    """``image`` in grey, centred on a mid-grey 1280x720 frame (shrunk only if it is larger)."""
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    frame = np.full((720, 1280), 128, np.uint8)
    scale = min(1.0, 700 / gray.shape[0], 1260 / gray.shape[1])
    if scale < 1:
        size = (int(gray.shape[1] * scale), int(gray.shape[0] * scale))
        gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
    top, left = (720 - gray.shape[0]) // 2, (1280 - gray.shape[1]) // 2
    frame[top : top + gray.shape[0], left : left + gray.shape[1]] = gray
    return frame
