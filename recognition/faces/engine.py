"""Detection and encoding in one process: HOG on a downscaled copy, 5-point landmarks, ResNet.

Detection runs on a copy scaled down to ``detect_width`` (HOG's cost grows with the
pixels; a face at the gate is large), its boxes scaled back; landmarks and the encoding are
taken from the full-size frame, so a downscale costs no encoding detail. The CNN detector
(2.5 s a frame on this CPU) and the 68-point landmark model are never used
(``recognition.faces.models``). Encodings equal face_recognition's
``face_encodings(image, boxes, model="small")`` (the same dlib calls), as float32.

dlib holds a core for the whole call: an engine belongs in a worker process
(``recognition.faces.pool``), one per process, models loaded once.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from gate.app.face_ports import EnrolmentFace
from gate.domain.errors import NoSingleFace
from gate.domain.faces import Box
from recognition.faces.images import read_photo
from recognition.faces.models import FaceModels, load_models
from recognition.faces.quality import QualityLimits, check, measure, thumbnail
from recognition.faces.tracker import iou

Image = npt.NDArray[np.uint8]
Encoding = npt.NDArray[np.float32]


@dataclass(frozen=True)
class EngineSettings:
    """How hard to look: the detection width and HOG upsampling, for frames and photos.

    With ``upsample`` 0 the HOG detector finds faces from about 80 pixels wide in the
    downscaled copy; each step of upsampling halves that and quadruples the cost.
    """

    detect_width: int = 640
    upsample: int = 0
    photo_detect_width: int = 1280
    small_photo_width: int = 640  # a photo narrower than this is searched upsampled once
    jitters: int = 1  # 1 = no re-sampling (face_recognition's default); n costs n times
    skip_iou: float = 0.3  # a detection this close to a box not due for encoding is not encoded
    enrol_jitters: int = 5  # enrolment only: 5 re-sampled encodings averaged (~5x the cost)
    # what an enrolment photo's face must reach
    quality: QualityLimits = field(default_factory=QualityLimits)


class FaceEngine:
    """Finds and encodes faces with dlib (see the module docstring)."""

    def __init__(
        self, settings: EngineSettings | None = None, models: FaceModels | None = None
    ) -> None:
        self.settings = settings or EngineSettings()
        self._models = models or load_models()

    def detect(
        self, rgb: Image, *, width: int | None = None, upsample: int | None = None
    ) -> list[Box]:
        """The boxes of the faces in ``rgb`` (an RGB or grey uint8 array), in its pixels."""
        width = self.settings.detect_width if width is None else width
        upsample = self.settings.upsample if upsample is None else upsample
        height, full_width = rgb.shape[:2]
        scale = min(1.0, width / full_width)
        small: Any = rgb
        if scale < 1.0:
            size = (max(1, round(full_width * scale)), max(1, round(height * scale)))
            small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        boxes = []
        for rect in self._models.detector(small, upsample):
            top, right = rect.top() / scale, rect.right() / scale
            bottom, left = rect.bottom() / scale, rect.left() / scale
            boxes.append(
                (
                    max(round(top), 0),
                    min(round(right), full_width),
                    min(round(bottom), height),
                    max(round(left), 0),
                )
            )
        return boxes

    def encode(self, rgb: Image, boxes: Sequence[Box]) -> list[Encoding]:
        """The 128-d encoding of each box in ``rgb`` (RGB uint8), in the same order."""
        if not boxes:
            return []
        import dlib  # loaded with the models; the import is a lookup

        encodings = []
        for top, right, bottom, left in boxes:
            # One face a call: dlib's batched call differs by up to 0.004 (measured on
            # couple.jpg), the single call is face_recognition's to the last bit.
            shape = self._models.landmarks(rgb, dlib.rectangle(left, top, right, bottom))
            descriptor = self._models.encoder.compute_face_descriptor(
                rgb, shape, self.settings.jitters
            )
            encodings.append(np.asarray(descriptor, dtype=np.float32))
        return encodings

    def frame_faces(
        self, frame: Any, skip: Sequence[Box] = ()
    ) -> tuple[list[tuple[Box, bytes | None]], float]:
        """The faces in a camera frame (BGR or grey) with templates, and the seconds it took.

        A face whose box overlaps one in ``skip`` (a track already encoded enough) is
        detected but not encoded.
        """
        started = time.perf_counter()
        rgb = as_rgb(frame)
        boxes = self.detect(rgb)
        wanted = [
            box for box in boxes if all(iou(box, done) < self.settings.skip_iou for done in skip)
        ]
        encodings = dict(zip(wanted, self.encode(rgb, wanted), strict=True))
        faces = [
            (box, encodings[box].astype("<f4").tobytes() if box in encodings else None)
            for box in boxes
        ]
        return faces, time.perf_counter() - started

    def photo_faces(self, rgb: Image) -> list[Box]:
        """The faces of the people a photo is of: none narrower than half the widest.

        A bystander far behind (or a false detection in the background) is not a second
        face of an enrolment photo; two faces of a size are.
        """
        upsample = 1 if rgb.shape[1] < self.settings.small_photo_width else 0
        boxes = self.detect(rgb, width=self.settings.photo_detect_width, upsample=upsample)
        widest = max((right - left for _top, right, _bottom, left in boxes), default=0)
        return [box for box in boxes if 2 * (box[1] - box[3]) >= widest]

    def template_of(self, photo: bytes) -> bytes:
        """The template of the one face in an enrolment photo; ``FaceImageRejected``."""
        rgb = read_photo(photo)
        box = self._one_face(rgb)
        return self.encode(rgb, [box])[0].astype("<f4").tobytes()

    def enrolment_face(self, photo: bytes) -> EnrolmentFace:
        """The one face of an enrolment photo through the quality gate, encoded with
        ``enrol_jitters``; ``FaceImageRejected`` (``NoSingleFace``, ``FaceQualityRefused``)."""
        return self._enrolment(read_photo(photo))

    def enrolment_frame(self, frame: Any) -> EnrolmentFace:
        """``enrolment_face`` for a camera frame (BGR, BGRA or grey) instead of a file."""
        return self._enrolment(as_rgb(frame))

    def _enrolment(self, rgb: Image) -> EnrolmentFace:
        box = self._one_face(rgb)
        shape, points = self.landmarks(rgb, box)
        quality = measure(rgb, box, points)
        check(quality, self.settings.quality)
        descriptor = self._models.encoder.compute_face_descriptor(
            rgb, shape, self.settings.enrol_jitters
        )
        template = np.asarray(descriptor, dtype="<f4").tobytes()
        return EnrolmentFace(template, thumbnail(rgb, box), quality.as_dict())

    def landmarks(self, rgb: Image, box: Box) -> tuple[Any, list[tuple[float, float]]]:
        """The 5-point landmarks of the face in ``box``: dlib's shape and its points."""
        import dlib

        top, right, bottom, left = box
        shape = self._models.landmarks(rgb, dlib.rectangle(left, top, right, bottom))
        return shape, [(float(shape.part(i).x), float(shape.part(i).y)) for i in range(5)]

    def _one_face(self, rgb: Image) -> Box:
        boxes = self.photo_faces(rgb)
        if not boxes:
            raise NoSingleFace("no_face", "no face found in the photo")
        if len(boxes) > 1:
            raise NoSingleFace(
                "several_faces", f"{len(boxes)} faces in the photo; one is needed", faces=len(boxes)
            )
        return boxes[0]


def as_rgb(frame: Any) -> Image:
    """A contiguous RGB copy of a camera frame (BGR, BGRA or grey uint8)."""
    image = np.asarray(frame)
    if image.dtype != np.uint8 or image.ndim not in (2, 3) or min(image.shape[:2]) < 1:
        raise ValueError(f"a frame is a uint8 image, got {image.dtype} {image.shape}")
    if image.ndim == 2:
        code = cv2.COLOR_GRAY2RGB
    elif image.shape[2] == 4:
        code = cv2.COLOR_BGRA2RGB
    else:
        code = cv2.COLOR_BGR2RGB
    rgb: Image = cv2.cvtColor(image, code).astype(np.uint8, copy=False)
    return rgb
