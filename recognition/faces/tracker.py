"""Tracks of one face over consecutive frames, by the overlap of its boxes (IoU).

A person walking up to the gate is seen in dozens of frames; encoding every one would
spend the workers on the same face. Each track is encoded when it appears and again,
``reencode_after`` seconds later, until it has ``encodings_per_track`` templates (a face
nearer the camera gives a better one). ``plan`` names the boxes a frame need not encode;
``update`` takes a frame's detections, gives each its track and ages out the lost ones.
Frames may come back out of order (several workers): an older frame's detections are
matched to tracks but do not move them. Not thread-safe: the pool calls it under its lock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import count

from gate.domain.faces import Box, FaceSeen


def iou(a: Box, b: Box) -> float:
    """The intersection over union of two ``(top, right, bottom, left)`` boxes."""
    top, right = max(a[0], b[0]), min(a[1], b[1])
    bottom, left = min(a[2], b[2]), max(a[3], b[3])
    inter = max(0, right - left) * max(0, bottom - top)
    if inter == 0:
        return 0.0
    area_a = (a[1] - a[3]) * (a[2] - a[0])
    area_b = (b[1] - b[3]) * (b[2] - b[0])
    return inter / (area_a + area_b - inter)


@dataclass
class Track:
    """One face followed over frames."""

    id: int
    box: Box
    seen_at: float  # monotonic seconds of the newest frame it was in
    encodings: int = 0  # templates asked for (planned) so far
    encoded_at: float = float("-inf")


class IouTracker:
    """Greedy IoU association of detections to tracks (see the module docstring)."""

    def __init__(
        self,
        *,
        min_iou: float = 0.3,
        max_age: float = 1.0,
        encodings_per_track: int = 3,
        reencode_after: float = 0.5,
    ) -> None:
        self.min_iou = min_iou
        self.max_age = max_age
        self.encodings_per_track = encodings_per_track
        self.reencode_after = reencode_after
        self._tracks: dict[int, Track] = {}
        self._ids = count(1)
        self._newest = float("-inf")

    @property
    def tracks(self) -> list[Track]:
        """The live tracks."""
        return list(self._tracks.values())

    def plan(self, at: float) -> list[Box]:
        """The boxes a frame taken at ``at`` need not encode; counts the encodings it will do.

        A track due for an encoding is counted as encoded now (the frame is on its way),
        so that the frames in flight meanwhile do not encode it again.
        """
        self._expire(at)  # a face gone this long is not the one now in its place
        skip = []
        for track in self._tracks.values():
            due = track.encodings < self.encodings_per_track and (
                at - track.encoded_at >= self.reencode_after
            )
            if due:
                track.encodings += 1
                track.encoded_at = at
            else:
                skip.append(track.box)
        return skip

    def update(self, at: float, detections: Sequence[tuple[Box, bytes | None]]) -> list[FaceSeen]:
        """Assign each detection of the frame taken at ``at`` to a track (new ones opened)."""
        newest = at >= self._newest
        self._newest = max(self._newest, at)
        self._expire(self._newest)
        pairs = sorted(
            (
                (iou(track.box, box), track.id, index)
                for track in self._tracks.values()
                for index, (box, _template) in enumerate(detections)
            ),
            reverse=True,
        )
        assigned: dict[int, int] = {}  # detection index -> track id
        taken: set[int] = set()
        for overlap, track_id, index in pairs:
            if overlap < self.min_iou:
                break
            if index in assigned or track_id in taken:
                continue
            assigned[index] = track_id
            taken.add(track_id)
        seen = []
        for index, (box, template) in enumerate(detections):
            found = assigned.get(index)
            if found is None:
                track = Track(next(self._ids), box, at)
                if template is not None:
                    track.encodings, track.encoded_at = 1, at
                self._tracks[track.id] = track
            else:
                track = self._tracks[found]
                if newest:
                    track.box, track.seen_at = box, at
            seen.append(FaceSeen(box, track.id, template))
        return seen

    def _expire(self, at: float) -> None:
        """Drop the tracks not seen for ``max_age`` before ``at``.

        Before association too: a person who left and another who stepped into the same
        spot seconds later overlap, and must not share the first one's (encoded) track.
        """
        for track in list(self._tracks.values()):
            if at - track.seen_at > self.max_age:
                del self._tracks[track.id]
