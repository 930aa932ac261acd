"""``gate.domain.device_ports.Camera`` for anything ``cv2.VideoCapture`` opens.

One background thread owns the capture (a capture must not be used from two threads): it
runs the base class's read loop (``ReadingDriver._read_forever``), one grab per
``_read_internal``, and keeps only the newest frame, so a slow consumer gets a recent
picture, never a queue of old ones:

- A live source (USB index, ``/dev/video*``, stream URL) is grabbed as fast as it
  delivers, so neither its driver's nor OpenCV's buffers fill up with old pictures; only
  the grabs that fall due under the fps cap are decoded (``retrieve``) and kept.
- A video file is paced at its own frame rate (it would otherwise play as fast as it
  decodes) and kept at most at the cap, so it plays in real time. At its end it rewinds
  when ``loop`` is set; otherwise it counts as lost, like a stream that stopped.
- A source that does not open or stops delivering makes the camera offline and is
  reopened with the base class's backoff; ``latest_frame()`` is None meanwhile. An open
  source that delivers nothing for a while makes it degraded.
- ``cv2.error`` becomes ``DeviceIOError`` in one place (``_cv``), inside the thread, and
  from there the health state: nothing from cv2 reaches the caller.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

import cv2

from devices.base import ReadingDriver
from devices.camera.config import OpenCvCameraConfig
from gate.domain.device_ports import DeviceHealth, DeviceState, Frame
from gate.domain.errors import DeviceIOError
from gate.domain.redaction import mask_url

logger = logging.getLogger(__name__)


class SourceKind(StrEnum):
    """What a source is, which decides pacing, buffering and looping."""

    DEVICE = "device"  # a local camera: an index or a /dev/video* path
    STREAM = "stream"  # a network stream: rtsp://, http://, ...
    FILE = "file"  # a video file: finite, may loop


def classify(source: str | int) -> tuple[str | int, SourceKind]:
    """The value to hand ``cv2.VideoCapture`` and what kind of source it is."""
    if isinstance(source, int):
        return source, SourceKind.DEVICE
    text = source.strip()
    if text.isdigit():  # "0" from an environment variable means the index, not a file
        return int(text), SourceKind.DEVICE
    if text.startswith("/dev/video"):
        return text, SourceKind.DEVICE
    if "://" in text and not text.lower().startswith("file://"):
        return text, SourceKind.STREAM
    return text.removeprefix("file://"), SourceKind.FILE


def describe(source: str | int) -> str:
    """The source as logs and health may show it: a URL's credentials masked."""
    return mask_url(str(source))


class OpenCvCamera(ReadingDriver[Frame]):
    """A camera read by OpenCV in a background thread; started on construction."""

    STREAM_TIMEOUT_MS = 5_000  # open and read timeouts of network streams
    JOIN_TIMEOUT = 10.0  # longer than a stream's read timeout
    STALE_AFTER = 2.0  # seconds without a frame before an open source counts as degraded
    READ_SLICE = 0.5  # how long one ``_read`` of the capture thread lasts at the most

    def __init__(
        self, source: str | int, *, name: str = "camera", fps: float = 10.0, loop: bool = False
    ) -> None:
        super().__init__(name)
        if not fps > 0:
            raise ValueError(f"fps must be positive, not {fps}")
        self._source, self.kind = classify(source)
        self.label = describe(source)
        self._period = 1.0 / fps
        self._loop = loop and self.kind is SourceKind.FILE
        self._stale_after = max(self.STALE_AFTER, 3 * self._period)
        self._frame_lock = threading.Lock()
        self._latest: Frame | None = None
        # Touched by the capture thread only.
        self._capture: cv2.VideoCapture | None = None
        self._sequence = 0
        self._attempts = 0
        self._frames_since_open = 0
        self._source_period = 0.0
        self._next_grab = 0.0
        self._next_publish = 0.0
        self._thread = threading.Thread(
            target=self._read_forever, args=(self.READ_SLICE,), name=f"camera-{name}", daemon=True
        )
        self._thread.start()

    @classmethod
    def from_config(cls, config: OpenCvCameraConfig, *, name: str, data_dir: Path) -> OpenCvCamera:
        """Build from an ``opencv`` config; a relative file path is taken under ``data_dir``."""
        source: str | int = config.source
        if classify(config.source)[1] is SourceKind.FILE and not Path(str(source)).is_absolute():
            source = str(data_dir / str(source))
        return cls(source, name=name, fps=config.fps, loop=config.loop)

    # --- the port -------------------------------------------------------------------------

    def latest_frame(self) -> Frame | None:
        """The newest frame (the same one until a newer arrives); None while there is none."""
        with self._frame_lock:
            return self._latest

    def health(self) -> DeviceHealth:
        """Ok while frames arrive; degraded when they stop coming; offline while reopening."""
        current = super().health()
        if current.state is not DeviceState.OK:
            return current
        frame = self.latest_frame()
        if frame is not None:
            age = time.monotonic() - frame.monotonic
            if age > self._stale_after:
                return DeviceHealth(
                    DeviceState.DEGRADED, f"no frame for {age:.1f} s", current.last_seen
                )
        return current

    def close(self) -> None:
        """Stop the capture thread, wait for it, and release the source (idempotent)."""
        self._closing.set()
        if self._thread is not threading.current_thread():
            self._thread.join(self.JOIN_TIMEOUT)
            if self._thread.is_alive():
                # Stuck in a blocking cv2 call; it releases the capture when that returns.
                logger.error(
                    "%s: capture thread still busy after %s s", self.name, self.JOIN_TIMEOUT
                )
        with self._frame_lock:
            self._latest = None
        self._mark_closed()

    @property
    def open_attempts(self) -> int:
        """How many times the source was (re)opened, successfully or not."""
        return self._attempts

    # --- the capture thread (``_read_forever``) -------------------------------------------

    def _connected(self) -> bool:
        return self._capture is not None

    def _connect_internal(self) -> None:
        self._attempts += 1
        self._capture = self._open()
        logger.info("%s: opened %s (%s)", self.name, self.label, self.kind.value)

    def _read_internal(self, timeout: float) -> Frame | None:
        assert self._capture is not None
        return self._step(self._capture)

    def _lost(self, detail: str) -> None:
        super()._lost(f"{detail} (attempt {self._attempts})")

    def _open(self) -> cv2.VideoCapture:
        with self._cv("open"):
            if isinstance(self._source, int):
                capture = cv2.VideoCapture(self._source)
            elif self.kind is SourceKind.STREAM:
                timeouts = [
                    cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
                    self.STREAM_TIMEOUT_MS,
                    cv2.CAP_PROP_READ_TIMEOUT_MSEC,
                    self.STREAM_TIMEOUT_MS,
                ]
                capture = cv2.VideoCapture(self._source, cv2.CAP_ANY, timeouts)
            else:
                capture = cv2.VideoCapture(self._source)
            if not capture.isOpened():
                capture.release()
                raise DeviceIOError(f"cannot open {self.label}", device=self.name)
            if self.kind is SourceKind.FILE:
                native = capture.get(cv2.CAP_PROP_FPS)
                # Absurd rates (0, NaN, 90000) are container artefacts: pace at the cap then.
                self._source_period = 1.0 / native if 1.0 <= native <= 240.0 else self._period
            else:
                capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # best effort; many backends ignore it
                self._source_period = 0.0  # a live source paces itself
        now = time.monotonic()
        self._next_grab = self._next_publish = now
        self._frames_since_open = 0
        return capture

    def _step(self, capture: cv2.VideoCapture) -> Frame | None:
        """Grab one frame (paced for a file); decode and keep it if the cap allows."""
        if self._source_period:
            delay = self._next_grab - time.monotonic()
            if delay > 0 and self._closing.wait(delay):
                return None
            # Behind (slow decoding)? Catch up by at most one frame, never in a burst.
            self._next_grab = max(
                self._next_grab + self._source_period, time.monotonic() - self._source_period
            )
        with self._cv("grab"):
            grabbed = capture.grab()
        if not grabbed:
            self._source_ended(capture)
            return None
        self._frames_since_open += 1
        now = time.monotonic()
        if now < self._next_publish:
            return None
        with self._cv("retrieve"):
            decoded, image = capture.retrieve()
        if not decoded or image is None or image.size == 0:
            raise DeviceIOError("a grabbed frame could not be decoded", device=self.name)
        self._next_publish = max(self._next_publish + self._period, now)
        return self._publish(image, now)

    def _source_ended(self, capture: cv2.VideoCapture) -> None:
        if self._loop and self._frames_since_open > 0:
            with self._cv("rewind"):
                rewound = capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
            if not rewound:
                raise DeviceIOError(f"cannot rewind {self.label}", device=self.name)
            self._frames_since_open = 0  # a file that yields nothing after a rewind is lost
            logger.debug("%s: rewound %s", self.name, self.label)
            return
        if self.kind is SourceKind.FILE:
            raise DeviceIOError(f"{self.label} ended", device=self.name)
        raise DeviceIOError(f"{self.label} stopped delivering frames", device=self.name)

    def _publish(self, image: cv2.typing.MatLike, monotonic: float) -> Frame | None:
        if self._closing.is_set():
            return None
        image.flags.writeable = False  # shared by every consumer of this frame
        self._sequence += 1
        frame = Frame(image, datetime.now(UTC), self._sequence, monotonic)
        with self._frame_lock:
            self._latest = frame
        self._seen()
        return frame

    def _disconnect_internal(self) -> None:
        with self._frame_lock:
            self._latest = None  # an old picture must not pass for the current one
        capture, self._capture = self._capture, None
        if capture is not None:
            try:
                capture.release()
            except cv2.error:
                logger.warning("%s: releasing %s failed", self.name, self.label, exc_info=True)

    @contextmanager
    def _cv(self, operation: str) -> Iterator[None]:
        """Map ``cv2.error`` into ``DeviceIOError``: the one place cv2 errors are caught."""
        try:
            yield
        except cv2.error as exc:
            message = str(exc).strip().splitlines()[-1] if str(exc).strip() else "cv2.error"
            raise DeviceIOError(f"{operation} failed: {message}", device=self.name) from exc
