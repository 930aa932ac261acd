"""A lane's camera as a face credential: frames -> workers -> tracks -> vote -> passage.

The camera's newest frame goes to the face workers (``FaceFrames``: detection and
encoding in other processes; at most ``in_flight`` frames out, so the lane never builds
a backlog). Each face the workers return belongs to a track (the same face over frames,
encoded a few times, not every frame); each encoding is matched against the gallery and
banded (``gate.domain.faces``). A track becomes **one** face credential, when:

- its first encoding is a clear ``match`` and auto-open is off: the guard confirms it
  anyway, so the screen is pre-filled at once (the frame-to-decision path);
- two encodings name the same person as a ``match`` (enough to open, with auto-open on);
- it has ``encodings`` verdicts, or has been in view ``decide_after`` seconds, or left the
  picture: the verdicts vote (``vote``), disagreeing frames make it ``uncertain``.

The best frame of the track (the largest face) is kept as the passage's snapshot, for 72
hours if the face is not a confirmed match, longer if it is (``FaceRetention``). A face
seen again after its track ended is a new passage, as a card swiped again is.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import CancelledError, Future
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from gate.app.face_gallery import FaceGallery
from gate.app.face_passage_ports import FacePassageStore
from gate.domain.device_ports import Camera, Frame
from gate.domain.errors import GateError
from gate.domain.faces import Box, FaceBand, FaceFrames, FaceVerdict, FrameFaces, vote
from gate.domain.model import Credential, CredentialKind

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FaceRetention:
    """How long a face passage's snapshot is kept (an incident keeps it until deleted)."""

    unknown: timedelta = timedelta(hours=72)
    known: timedelta = timedelta(days=30)

    def keep_until(self, band: FaceBand, taken_at: datetime) -> datetime:
        """When the snapshot of a face of this band may be deleted."""
        return taken_at + (self.known if band is FaceBand.MATCH else self.unknown)


@dataclass
class _Track:
    first_at: float
    seen_at: float
    verdicts: list[FaceVerdict] = field(default_factory=list)
    best_area: int = -1
    best_image: Any = None
    best_box: Box | None = None
    best_taken: datetime | None = None
    first_frame_at: float = 0.0  # monotonic capture time of the track's first frame
    done: bool = False


@dataclass(frozen=True)
class FacePresented:
    """A track turned into a credential, and how long after its first frame."""

    credential: Credential
    first_frame_at: float  # monotonic, at capture


class FaceCamera:
    """One lane's face path (see the module docstring). Not thread-safe: one thread runs it."""

    FRAME_WAIT = 0.02
    FORGET_AFTER = 3.0  # seconds unseen before a finished track is forgotten

    def __init__(
        self,
        lane: str,
        *,
        frames: FaceFrames,
        gallery: FaceGallery,
        store: FacePassageStore | None,
        clock: Callable[[], datetime],
        retention: FaceRetention | None = None,
        auto_open: bool = False,
        encodings: int = 3,
        decide_after: float = 1.5,
        left_after: float = 0.5,
        in_flight: int = 1,
    ) -> None:
        self.lane = lane
        self.frames = frames  # the owner closes it
        self._gallery = gallery
        self._store = store
        self._clock = clock
        self._retention = retention or FaceRetention()
        self._auto_open = auto_open
        self._encodings = encodings
        self._decide_after = decide_after
        self._left_after = left_after
        self._in_flight = in_flight
        self._tracks: dict[int, _Track] = {}

    def run(
        self, camera: Camera, stop: threading.Event, present: Callable[[FacePresented], None]
    ) -> None:
        """Feed the camera's frames to the workers until ``stop``; present each track once."""
        pending: deque[tuple[Frame, Future[FrameFaces]]] = deque()
        last_sequence: int | None = None
        while not stop.is_set():
            while pending and pending[0][1].done():
                frame, job = pending.popleft()
                for presented in self._finished(frame, job):
                    present(presented)
            frame_now = camera.latest_frame()
            if (
                frame_now is None
                or frame_now.sequence == last_sequence
                or len(pending) >= self._in_flight
            ):
                stop.wait(self.FRAME_WAIT)
                continue
            last_sequence = frame_now.sequence
            pending.append((frame_now, self.frames.submit(frame_now)))
        for _frame, job in pending:
            job.cancel()

    def _finished(self, frame: Frame, job: Future[FrameFaces]) -> list[FacePresented]:
        try:
            faces = job.result()
        except CancelledError:
            return []  # dropped for a newer frame
        except GateError as exc:
            logger.warning("lane %s face workers: %s", self.lane, exc)
            return []
        except Exception:
            logger.exception("lane %s: a frame failed in the face workers", self.lane)
            return []
        return self.on_faces(frame, faces)

    def on_faces(self, frame: Frame, faces: FrameFaces) -> list[FacePresented]:
        """Take one frame's faces; the credentials of the tracks that are ready."""
        at = frame.monotonic
        for face in faces.faces:
            track = self._tracks.get(face.track)
            if track is None:
                track = self._tracks[face.track] = _Track(at, at, first_frame_at=at)
            track.seen_at = max(track.seen_at, at)
            top, right, bottom, left = face.box
            area = max(0, right - left) * max(0, bottom - top)
            if area > track.best_area and not track.done:
                track.best_area, track.best_image, track.best_box = area, frame.image, face.box
                track.best_taken = frame.captured_at
            if face.template is not None and not track.done:
                track.verdicts.append(self._gallery.identify(face.template))
        ready = []
        for track_id, track in list(self._tracks.items()):
            if not track.done and track.verdicts and self._ready(track, at):
                track.done = True
                ready.append(self._present(track))
            if at - track.seen_at > self.FORGET_AFTER:
                del self._tracks[track_id]
        return ready

    def _ready(self, track: _Track, at: float) -> bool:
        verdicts = track.verdicts
        first = verdicts[0]
        if len(verdicts) == 1 and first.band is FaceBand.MATCH and not self._auto_open:
            return True
        matches = [v.person_ref for v in verdicts if v.band is FaceBand.MATCH]
        if matches and matches.count(matches[0]) >= 2 and len(set(matches)) == 1:
            return True
        return (
            len(verdicts) >= self._encodings
            or at - track.first_at >= self._decide_after
            or at - track.seen_at >= self._left_after
        )

    def _present(self, track: _Track) -> FacePresented:
        verdict = vote(track.verdicts)
        taken_at = track.best_taken or self._clock()
        snapshot_ref = None
        if self._store is not None and track.best_image is not None:
            try:
                snapshot_ref = self._store.keep(
                    track.best_image,
                    track.best_box,
                    lane=self.lane,
                    band=verdict.band,
                    person_ref=verdict.person_ref,
                    taken_at=taken_at,
                    keep_until=self._retention.keep_until(verdict.band, taken_at),
                )
            except Exception:  # the passage goes on without its picture
                logger.exception("lane %s: the face snapshot was not kept", self.lane)
        credential = Credential(
            CredentialKind.FACE,
            person_ref=verdict.person_ref,
            face_distance=verdict.distance,
            face_band=verdict.band,
            face_margin=verdict.margin,
            snapshot_ref=snapshot_ref,
        )
        track.best_image = None  # the picture is kept in the store now, not in memory
        return FacePresented(credential, track.first_frame_at)
