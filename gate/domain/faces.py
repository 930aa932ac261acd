"""Faces at the gate as plain values, and the ports of the face engine (``recognition.faces``).

A box is ``(top, right, bottom, left)`` in the frame's pixels (face_recognition's order).
A template is a face's 128-d encoding as bytes: 128 float32, little-endian (512 bytes), so
that numpy stays inside ``recognition/`` and a template can be stored as it is.

Errors (``gate.domain.errors``): ``FaceImageRejected`` for a photo that cannot be used
(``reason``: not_an_image, damaged, too_large, too_many_pixels, alpha_channel), its
subclass ``NoSingleFace`` for a readable photo without exactly one face (no_face,
several_faces); ``DriverNotAvailable`` when dlib or a model file is missing.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Protocol

from gate.domain.device_ports import Frame

Box = tuple[int, int, int, int]
TEMPLATE_BYTES = 512


@dataclass(frozen=True)
class FaceSeen:
    """One face in a frame: its box, its track, and its template when it was encoded now.

    A track is the same face over consecutive frames; it is encoded a few times, not on
    every frame, so most ``FaceSeen`` carry no template.
    """

    box: Box
    track: int
    template: bytes | None = None


@dataclass(frozen=True)
class FrameFaces:
    """The faces found in one frame (``sequence`` is the frame's), and the work it took."""

    sequence: int
    faces: tuple[FaceSeen, ...]
    seconds: float  # detection and encoding in the worker


@dataclass(frozen=True)
class PersonDistance:
    """A person and the distance of their nearest template."""

    person_ref: str
    distance: float


@dataclass(frozen=True)
class FaceMatch:
    """The nearest person and the next ones (other persons), for an open-set decision."""

    best: PersonDistance
    others: tuple[PersonDistance, ...] = ()

    @property
    def second(self) -> PersonDistance | None:
        """The nearest other person, if any."""
        return self.others[0] if self.others else None

    @property
    def margin(self) -> float | None:
        """How much nearer the best person is than the next; None with one person."""
        return None if self.second is None else self.second.distance - self.best.distance


class FaceFrames(Protocol):
    """Finds and encodes faces in camera frames, off the caller's thread."""

    def submit(self, frame: Frame) -> Future[FrameFaces]:
        """Queue ``frame``; returns at once. When the queue is full the oldest waiting frame
        is dropped (its future is cancelled). The future fails with ``DriverNotAvailable``
        if the engine cannot run."""
        ...

    def close(self) -> None:
        """Stop the workers; waiting frames are cancelled."""
        ...


class FacePhotos(Protocol):
    """Turns an enrolment photo into a template."""

    def template_of(self, photo: bytes) -> bytes:
        """The template of the one face in ``photo`` (an image file's bytes).

        Raises ``FaceImageRejected`` (``NoSingleFace`` for none or several faces).
        """
        ...


class FaceTemplates(Protocol):
    """Every registered template, matched exactly against a face."""

    def add(self, template_id: Hashable, person_ref: str, encoding: bytes) -> None:
        """Add or replace a template; ``ValueError`` if it is not a template."""
        ...

    def remove(self, template_id: Hashable) -> None:
        """Remove a template; ``KeyError`` if there is none."""
        ...

    def match(self, encoding: bytes, persons: int = 2) -> FaceMatch | None:
        """The nearest ``persons`` persons; None while there are no templates."""
        ...


__all__: Sequence[str] = (
    "TEMPLATE_BYTES",
    "Box",
    "FaceFrames",
    "FaceMatch",
    "FacePhotos",
    "FaceSeen",
    "FaceTemplates",
    "FrameFaces",
    "PersonDistance",
)
