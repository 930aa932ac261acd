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

from collections import Counter
from collections.abc import Hashable, Iterable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # device_ports -> cards -> model imports this module's FaceBand
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


class FaceBand(StrEnum):
    """What a face match is worth: the open-set answer, never just "the nearest resident"."""

    MATCH = "match"  # near one person and clearly nearer than anyone else
    UNCERTAIN = "uncertain"  # near enough to show the guard a candidate, not to name them
    UNKNOWN = "unknown"  # an outsider, as far as the gallery knows


@dataclass(frozen=True)
class FaceThresholds:
    """The bands' limits (dlib distances: 0 is the same image, ~0.6 is face_recognition's
    default tolerance). ``strict`` and ``margin`` make a ``match``; up to ``loose`` is
    ``uncertain``. The chosen values and the measurements behind them: docs/faces.md."""

    strict: float = 0.54
    loose: float = 0.60
    margin: float = 0.08

    def __post_init__(self) -> None:
        if not 0 < self.strict <= self.loose < 2:
            raise ValueError("face thresholds need 0 < strict <= loose < 2")
        if self.margin < 0:
            raise ValueError("the face margin cannot be negative")


@dataclass(frozen=True)
class FaceVerdict:
    """A face's band and, unless unknown, the candidate person and their distance."""

    band: FaceBand
    person_ref: str | None
    distance: float | None
    margin: float | None = None


def band_of(match: FaceMatch | None, thresholds: FaceThresholds) -> FaceVerdict:
    """The open-set band of one face's match (None: an empty gallery)."""
    if match is None or match.best.distance > thresholds.loose:
        distance = None if match is None else match.best.distance
        return FaceVerdict(
            FaceBand.UNKNOWN, None, distance, None if match is None else match.margin
        )
    best, margin = match.best, match.margin
    clear = margin is None or margin >= thresholds.margin
    band = FaceBand.MATCH if best.distance <= thresholds.strict and clear else FaceBand.UNCERTAIN
    return FaceVerdict(band, best.person_ref, best.distance, margin)


def vote(verdicts: Iterable[FaceVerdict]) -> FaceVerdict:
    """One answer for a track from the verdicts of its frames.

    A ``match`` needs a majority of the frames to name the same person and no frame to
    name anyone else; frames that disagree make it ``uncertain`` (the nearest candidate
    shown); a track where no frame came near anyone is ``unknown``.
    """
    verdicts = list(verdicts)
    if not verdicts:
        raise ValueError("a vote needs at least one verdict")
    named = [v for v in verdicts if v.person_ref is not None]
    if not named:
        return min(verdicts, key=lambda v: v.distance if v.distance is not None else 9.0)
    nearest = min(named, key=lambda v: v.distance or 0.0)
    people = Counter(v.person_ref for v in named)
    matches = [v for v in named if v.band is FaceBand.MATCH]
    unanimous = len(people) == 1
    if unanimous and 2 * len(matches) > len(verdicts):
        return min(matches, key=lambda v: v.distance or 0.0)
    return FaceVerdict(FaceBand.UNCERTAIN, nearest.person_ref, nearest.distance, nearest.margin)


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

    def remove_person(self, person_ref: str) -> int:
        """Remove every template of a person; how many there were."""
        ...

    def clear(self) -> None:
        """Remove every template."""
        ...

    def __len__(self) -> int:
        """How many templates."""
        ...

    def match(self, encoding: bytes, persons: int = 2) -> FaceMatch | None:
        """The nearest ``persons`` persons; None while there are no templates."""
        ...


__all__: Sequence[str] = (
    "TEMPLATE_BYTES",
    "Box",
    "FaceBand",
    "FaceFrames",
    "FaceMatch",
    "FacePhotos",
    "FaceSeen",
    "FaceTemplates",
    "FaceThresholds",
    "FaceVerdict",
    "FrameFaces",
    "PersonDistance",
    "band_of",
    "vote",
)
