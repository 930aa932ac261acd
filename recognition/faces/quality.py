"""The enrolment quality gate: one face, large enough, sharp, roughly frontal.

A blurry or turned enrolment photo poisons the gallery (every later frame of that
person is compared against it), so enrolment refuses what a passage frame would merely
match badly. All measures come from the 5-point landmarks (dlib's
``shape_predictor_5_face_landmarks``: points 0-1 one eye's outer and inner corner, 2-3 the
other's, 4 the base of the nose) and the face's box:

    face_px    distance between the two outer eye corners, in the photo's pixels (the
               temples are a little wider; the corners are what the model finds reliably)
    sharpness  variance of the Laplacian of the face crop, grey, resized to 160 px wide
               first so that the measure does not depend on the photo's resolution
    turn       the nose's offset from the eyes' midpoint along the eye line, over the
               distance between the eye centres (0 frontal, ~0.5 the nose at one eye)

The defaults are calibrated on ``../shared/data/faces`` (docstring of ``QualityLimits``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from gate.domain.errors import FaceQualityRefused
from gate.domain.faces import Box

Point = tuple[float, float]
CROP_WIDTH = 160  # the face crop's width for the sharpness measure


@dataclass(frozen=True)
class QualityLimits:
    """What an enrolment photo's face must reach (``[faces]`` min_face_px, min_sharpness,
    max_turn).

    Calibrated on ../shared/data/faces (120 photos with one face found; the measures of
    each are printed by ``python -m recognition.faces.quality DIR``):

    - ``min_face_px`` 60: dlib's encoder aligns the face into a 150 px chip in which the
      outer eye corners lie ~75 px apart (measured: 74-75), so below 60 the encoder sees
      the face upsampled by more than 1.25x. The ageitgey and deepface photos measure
      65-763 (obama-480p 65, obama_small 67); their 240p copy measures 33 and is refused.
    - ``min_sharpness`` 25: those photos measure 29.6 (alex-lacamoire.png, the softest)
      to 1,769, median 392; the same photos blurred with a Gaussian of sigma 2 px at the
      crop's 160 px scale measure at most 21.3 (sigma 1.5: median 18, at most 38).
    - ``max_turn`` 0.25: those photos measure at most 0.18; LFW's visibly turned Bill
      Gates photos (about 30 degrees) measure 0.28 and 0.32.

    LFW's 250 x 250 crops (davidsandberg-facenet) are web thumbnails: their faces measure
    50-70 px and sharpness 7-106, so most are refused as too small or blurred, as they
    should be for an enrolment photo.
    """

    min_face_px: int = 60
    min_sharpness: float = 25.0
    max_turn: float = 0.25


@dataclass(frozen=True)
class FaceQuality:
    """The three measures of one face (see the module docstring)."""

    face_px: float
    sharpness: float
    turn: float

    def as_dict(self) -> dict[str, float]:
        """The measures rounded for storage and screens."""
        return {
            "face_px": round(self.face_px, 1),
            "sharpness": round(self.sharpness, 1),
            "turn": round(self.turn, 3),
        }


def measure(rgb: npt.NDArray[np.uint8], box: Box, points: Sequence[Point]) -> FaceQuality:
    """The measures of the face in ``box`` with its five landmarks ``points``."""
    if len(points) != 5:
        raise ValueError(f"the 5-point landmarks are five points, got {len(points)}")
    (ax, ay), (bx, by), (cx, cy), (dx, dy), (nx, ny) = points
    face_px = math.hypot(cx - ax, cy - ay)
    first = ((ax + bx) / 2, (ay + by) / 2)
    second = ((cx + dx) / 2, (cy + dy) / 2)
    axis = (second[0] - first[0], second[1] - first[1])
    eyes = math.hypot(*axis) or 1.0
    middle = ((first[0] + second[0]) / 2, (first[1] + second[1]) / 2)
    along = ((nx - middle[0]) * axis[0] + (ny - middle[1]) * axis[1]) / eyes
    return FaceQuality(face_px=face_px, sharpness=sharpness(rgb, box), turn=abs(along) / eyes)


def sharpness(rgb: npt.NDArray[np.uint8], box: Box) -> float:
    """Variance of the Laplacian of the face crop, grey, at ``CROP_WIDTH`` pixels wide."""
    top, right, bottom, left = box
    height, width = rgb.shape[:2]
    crop = rgb[max(top, 0) : min(bottom, height), max(left, 0) : min(right, width)]
    if crop.size == 0:
        return 0.0
    grey = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY) if crop.ndim == 3 else crop
    scale = CROP_WIDTH / grey.shape[1]
    size = (CROP_WIDTH, max(1, round(grey.shape[0] * scale)))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    resized = cv2.resize(grey, size, interpolation=interpolation)
    return float(cv2.Laplacian(resized, cv2.CV_64F).var())


def check(quality: FaceQuality, limits: QualityLimits) -> None:
    """Refuse a face below ``limits`` (``FaceQualityRefused``): size, then turn, then blur.

    Size comes first because a tiny face also measures blurred and turned badly.
    """
    if quality.face_px < limits.min_face_px:
        raise FaceQualityRefused(
            "face_too_small",
            f"the face is {quality.face_px:.0f} px between the eyes' outer corners, "
            f"less than {limits.min_face_px}",
            face_px=round(quality.face_px),
            limit=limits.min_face_px,
        )
    if quality.turn > limits.max_turn:
        raise FaceQualityRefused(
            "not_frontal",
            f"the face is turned ({quality.turn:.2f}, at most {limits.max_turn})",
            turn=round(quality.turn, 2),
            limit=limits.max_turn,
        )
    if quality.sharpness < limits.min_sharpness:
        raise FaceQualityRefused(
            "blurred",
            f"the face is blurred (sharpness {quality.sharpness:.0f}, "
            f"at least {limits.min_sharpness:.0f})",
            sharpness=round(quality.sharpness, 1),
            limit=limits.min_sharpness,
        )


def thumbnail(rgb: npt.NDArray[np.uint8], box: Box, *, width: int = 160) -> bytes:
    """A small JPEG of the face with a margin around its box (for the office and terminal)."""
    top, right, bottom, left = box
    height, full_width = rgb.shape[:2]
    margin = round(0.3 * (right - left))
    crop: Any = rgb[
        max(top - margin, 0) : min(bottom + margin, height),
        max(left - margin, 0) : min(right + margin, full_width),
    ]
    scale = min(1.0, width / crop.shape[1])
    if scale < 1:
        size = (width, max(1, round(crop.shape[0] * scale)))
        crop = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
    ok, encoded = cv2.imencode(
        ".jpg", cv2.cvtColor(crop, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 85]
    )
    if not ok:  # pragma: no cover - OpenCV encodes any uint8 picture as JPEG
        raise ValueError("the face crop could not be encoded")
    return bytes(encoded.tobytes())


def main(argv: Sequence[str] | None = None) -> None:
    """Print the measures of every photo under the folders given (calibration)."""
    import sys
    from pathlib import Path

    from gate.domain.errors import FaceImageRejected
    from recognition.faces.engine import FaceEngine
    from recognition.faces.images import read_photo

    engine = FaceEngine()
    for folder in argv if argv is not None else sys.argv[1:]:
        for path in sorted(Path(folder).rglob("*")):
            if path.suffix.lower() not in {".jpg", ".jpeg", ".png"}:
                continue
            try:
                rgb = read_photo(path.read_bytes())
            except FaceImageRejected as exc:
                print(f"{path}\t{exc.reason}")
                continue
            boxes = engine.photo_faces(rgb)
            if len(boxes) != 1:
                print(f"{path}\t{len(boxes)} faces")
                continue
            _shape, points = engine.landmarks(rgb, boxes[0])
            quality = measure(rgb, boxes[0], points).as_dict()
            print(f"{path}\t" + "\t".join(f"{k}={v}" for k, v in quality.items()))


if __name__ == "__main__":
    main()
