"""Lane-camera videos built from the shared face photos (the repository ships none).

``write_face_video(path, scenes)`` writes an MJPG AVI at 10 fps: each scene is a photo
(or None for the empty scene) shown for some seconds, scaled so the face fills about a
third of the frame as at a lane camera a metre away, on a grey background.
Also a command: ``python -m tests.e2e.face_video OUT.avi PHOTO [PHOTO...]`` writes the
video that ``scripts/run-demo --face-video`` plays (empty, each photo 4 s, empty).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

FPS = 10
SIZE = (640, 480)


def framed(photo: Path | None, size: tuple[int, int] = SIZE) -> np.ndarray:
    """One BGR frame showing ``photo`` (None: the empty lane)."""
    width, height = size
    frame = np.full((height, width, 3), 110, np.uint8)
    if photo is None:
        return frame
    image = cv2.imread(str(photo), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f"cannot read {photo}")
    scale = min(0.9 * height / image.shape[0], 0.9 * width / image.shape[1])
    small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    top, left = (height - small.shape[0]) // 2, (width - small.shape[1]) // 2
    frame[top : top + small.shape[0], left : left + small.shape[1]] = small
    return frame


def write_face_video(
    path: Path, scenes: Sequence[tuple[Path | None, float]], size: tuple[int, int] = SIZE
) -> Path:
    """Write the scenes (photo or None, seconds) as a video at ``FPS``; the path."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), FPS, size)
    if not writer.isOpened():
        raise RuntimeError(f"cannot write {path}")
    try:
        for photo, seconds in scenes:
            frame = framed(photo, size)
            for _ in range(round(seconds * FPS)):
                writer.write(frame)
    finally:
        writer.release()
    return path


def main(argv: Sequence[str]) -> None:
    """The demo's video: the lane empty, then each photo for 4 seconds with gaps."""
    if len(argv) < 2:
        raise SystemExit("usage: python -m tests.e2e.face_video OUT.avi PHOTO [PHOTO...]")
    scenes: list[tuple[Path | None, float]] = [(None, 2.0)]
    for photo in argv[1:]:
        scenes += [(Path(photo), 4.0), (None, 2.0)]
    print(write_face_video(Path(argv[0]), scenes))


if __name__ == "__main__":
    main(sys.argv[1:])
