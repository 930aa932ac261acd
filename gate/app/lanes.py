"""Lanes at work: each reader and scanner feeds the pipeline; each lane's relay opens it.

``LaneRunner`` turns what a lane's devices read into credentials and runs them through the
pipeline off the event loop, one thread per input device. ``LaneBarriers`` routes the
pipeline's "open" to the relay of the lane it is for. ``DeviceWatch`` samples every
device's health and raises an alarm when a feed falls silent.

Free exit: on a lane marked ``free_exit`` leaving never waits for the service: the exit
is physically free (barrier wired open outward, or a turnstile that turns freely), so
its relay is not pulsed for leaving. The passage is still read, decided and logged, so
the guard still sees a quarantined person walk out.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Protocol

from gate.app.face_camera import FaceCamera
from gate.domain.device_ports import (
    BarrierRelay,
    Camera,
    DeviceAlarm,
    DeviceHealth,
    DeviceState,
    DeviceStatus,
    IdCardReader,
    QrFrameDecoder,
    QrScanner,
)
from gate.domain.errors import DeviceError, DeviceIOError
from gate.domain.model import Credential, CredentialKind, Direction
from gate.domain.ports import BarrierAction
from gate.domain.redaction import mask_urls

logger = logging.getLogger(__name__)


class PassageRunner(Protocol):
    """The part of ``PassagePipeline`` a lane needs."""

    def process(
        self,
        credential: Credential,
        *,
        lane: str,
        direction: Direction,
        temperature: float | None = None,
    ) -> object:
        """Decide and carry out one passage."""
        ...


class TemperatureSource(Protocol):
    """What a lane asks of its thermometer."""

    def read_celsius(self, timeout: float) -> float | None:
        """The latest reading, or None."""
        ...


class HasHealth(Protocol):
    """Anything that reports a ``DeviceHealth``."""

    def health(self) -> DeviceHealth:
        """The current state."""
        ...


class LaneBarriers:
    """``gate.domain.ports.Barrier`` that opens the relay of the lane the passage is at."""

    def __init__(self, relays: Mapping[str, BarrierRelay], *, free_exit: frozenset[str]) -> None:
        self._relays = dict(relays)
        self._free_exit = free_exit

    def open(self, lane: str, direction: Direction) -> BarrierAction:
        """Pulse the lane's relay; a lane without a relay has nothing to open."""
        if direction is Direction.OUT and lane in self._free_exit:
            return BarrierAction.FREE_EXIT  # the exit is physically free; nothing waits for us
        relay = self._relays.get(lane)
        if relay is None:
            logger.info("lane %s has no relay; passage allowed without a barrier", lane)
            return BarrierAction.NO_BARRIER
        relay.open(lane, direction)
        return BarrierAction.OPENED


class RecentCodes:
    """Forgets a code only after it has not been seen for ``hold_seconds``.

    A scanner in continuous mode repeats a code held in front of it, and a camera sees the
    same phone in every frame: one showing of a code is one passage. A rotating pass shows
    a new text every 30 s, so a resident who comes back later is not held up by this.
    """

    def __init__(
        self, hold_seconds: float = 3.0, *, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._hold = hold_seconds
        self._monotonic = monotonic
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def first_showing(self, text: str) -> bool:
        """True if ``text`` was not seen within the hold time (and remember it now)."""
        now = self._monotonic()
        with self._lock:
            last = self._seen.get(text)
            self._seen[text] = now
            if len(self._seen) > 256:
                horizon = now - self._hold
                self._seen = {code: at for code, at in self._seen.items() if at >= horizon}
            return last is None or now - last > self._hold


class LaneRunner:
    """Reads a lane's reader, QR scanner and camera in threads and feeds the pipeline.

    A QR code from the scanner or from a camera frame becomes a ``QR_PASS`` credential and
    goes through the same pipeline as a card; the pipeline verifies it.
    """

    POLL_TIMEOUT = 0.5
    FRAME_WAIT = 0.02  # between looks for a new camera frame

    def __init__(
        self,
        lane: str,
        direction: Direction,
        *,
        pipeline: PassageRunner,
        reader: IdCardReader | None = None,
        scanner: QrScanner | None = None,
        camera: Camera | None = None,
        decoder: QrFrameDecoder | None = None,
        thermometer: TemperatureSource | None = None,
        recent_codes: RecentCodes | None = None,
        faces: FaceCamera | None = None,
    ) -> None:
        self.lane = lane
        self.direction = direction
        self._pipeline = pipeline
        self._reader = reader
        self._scanner = scanner
        self._camera = camera
        self._decoder = decoder
        self._thermometer = thermometer
        self._recent = recent_codes or RecentCodes()
        self._faces = faces
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """Start reading."""
        if self._reader is not None:
            self._spawn(f"lane-{self.lane}-reader", self._read_cards)
        if self._scanner is not None:
            self._spawn(f"lane-{self.lane}-scanner", self._read_codes)
        if self._camera is not None and self._decoder is not None:
            self._spawn(f"lane-{self.lane}-camera-qr", self._read_frame_codes)
        if self._camera is not None and self._faces is not None:
            self._spawn(f"lane-{self.lane}-camera-faces", self._watch_faces)

    def _spawn(self, name: str, target: Callable[[], None]) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        self._threads.append(thread)
        thread.start()

    def stop(self) -> None:
        """Stop reading and wait for the threads."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads.clear()

    def _read_cards(self) -> None:
        assert self._reader is not None
        while not self._stop.is_set():
            try:
                card = self._reader.read_card(self.POLL_TIMEOUT)
            except DeviceIOError as exc:
                logger.debug("lane %s reader: %s", self.lane, exc)
                self._stop.wait(self.POLL_TIMEOUT)
                continue
            if card is None:
                continue
            self._run(Credential(CredentialKind.ID_CARD, document=card.to_document()))

    def _read_codes(self) -> None:
        assert self._scanner is not None
        while not self._stop.is_set():
            try:
                code = self._scanner.read_code(self.POLL_TIMEOUT)
            except DeviceIOError as exc:
                logger.debug("lane %s scanner: %s", self.lane, exc)
                self._stop.wait(self.POLL_TIMEOUT)
                continue
            if code is not None:
                self._present_code(code)

    def _read_frame_codes(self) -> None:
        assert self._camera is not None
        assert self._decoder is not None
        last_sequence: int | None = None
        while not self._stop.is_set():
            frame = self._camera.latest_frame()
            if frame is None or frame.sequence == last_sequence:
                self._stop.wait(self.FRAME_WAIT)
                continue
            last_sequence = frame.sequence
            for decoded in self._decoder.decode(frame.image):
                self._present_code(decoded.text)

    def _watch_faces(self) -> None:
        assert self._camera is not None
        assert self._faces is not None
        self._faces.run(self._camera, self._stop, lambda seen: self._run(seen.credential))

    def _present_code(self, text: str) -> None:
        if not self._recent.first_showing(text):
            return
        self._run(Credential(CredentialKind.QR_PASS, code=text))

    def _run(self, credential: Credential) -> None:
        try:
            self._pipeline.process(
                credential,
                lane=self.lane,
                direction=self.direction,
                temperature=self._temperature(),
            )
        except Exception:
            # The pipeline refuses with reasons; anything else is a bug, but the lane goes on.
            logger.exception("lane %s: passage failed", self.lane)

    def _temperature(self) -> float | None:
        if self._thermometer is None:
            return None
        try:
            return self._thermometer.read_celsius(0.2)
        except DeviceError as exc:
            logger.warning("lane %s thermometer: %s", self.lane, exc)
            return None


# Devices that should keep talking on their own; a relay or a thermometer speaks only
# when asked, so for them only an offline state counts (after a probe, if they have one).
FEED_KINDS = frozenset({"id_reader", "qr_scanner", "camera"})


class DeviceWatch:
    """Samples every device's health; tells listeners when a feed goes silent or recovers."""

    def __init__(
        self,
        devices: Mapping[tuple[str, str], HasHealth],
        *,
        silence_after: timedelta,
        on_alarm: Callable[[DeviceAlarm], None],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._devices = dict(devices)
        self.silence_after = silence_after
        self._on_alarm = on_alarm
        self._clock = clock
        self._silent: set[tuple[str, str]] = set()

    def statuses(self) -> list[DeviceStatus]:
        """Every device's current status."""
        now = self._clock()
        result = []
        for (lane, kind), device in self._devices.items():
            health = device.health()
            silent_for = (
                (now - health.last_seen).total_seconds()
                if health.last_seen and kind in FEED_KINDS
                else None
            )
            # Whatever a device says, no URL credential leaves here (API, terminal, events).
            health = replace(health, detail=mask_urls(health.detail))
            result.append(
                DeviceStatus(lane, kind, getattr(device, "name", kind), health, silent_for)
            )
        return result

    def probe(self) -> None:
        """Ask the devices that only speak when spoken to whether they still answer."""
        for device in self._devices.values():
            probe = getattr(device, "probe", None)
            if callable(probe):
                try:
                    probe()
                except DeviceError as exc:
                    logger.debug("probe of %s failed: %s", getattr(device, "name", device), exc)

    def check(self) -> list[DeviceAlarm]:
        """Compare with the last check; raise an alarm for each change of silence."""
        alarms = []
        for status in self.statuses():
            key = (status.lane, status.kind)
            silent = status.health.state is DeviceState.OFFLINE or (
                status.silent_for is not None
                and status.silent_for > self.silence_after.total_seconds()
            )
            if silent != (key in self._silent):
                (self._silent.add if silent else self._silent.discard)(key)
                alarm = DeviceAlarm(status, silent)
                alarms.append(alarm)
                self._on_alarm(alarm)
        return alarms
