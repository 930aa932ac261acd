"""Ports of the gate's devices: what the service asks of a reader, scanner, camera, relay.

Each port is small; every driver implements one, the emulators included. Drivers map
their library's exceptions (``serial.SerialException``, ``cv2.error``, pymodbus errors)
into ``gate.domain.errors`` once, at their boundary:

    DeviceError
    ├── DriverNotAvailable        the configured driver cannot be loaded (start-up)
    └── DeviceIOError             the device did not answer or answered wrongly
        ├── DeviceTimeout         no answer in time (also a TimeoutError)
        └── FrameError            bytes that break the protocol (bad checksum, length)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from gate.domain.cards import IdCard
from gate.domain.model import Direction


class DeviceState(StrEnum):
    """How a device is doing, as the guard's header shows it."""

    OK = "ok"
    DEGRADED = "degraded"  # answering, but with errors or late
    OFFLINE = "offline"  # not answering; reconnecting


@dataclass(frozen=True)
class DeviceHealth:
    """A device's state, why, and when it last answered."""

    state: DeviceState
    detail: str = ""
    last_seen: datetime | None = None


class IdCardReader(Protocol):
    """An ID-card reader (GA 467 SAM module)."""

    def read_card(self, timeout: float) -> IdCard | None:
        """The next card placed on the reader (each card once while it stays); None if none.

        Raises ``DeviceIOError`` when the reader cannot be reached.
        """
        ...

    def health(self) -> DeviceHealth:
        """The reader's current state."""
        ...

    def close(self) -> None:
        """Release the port."""
        ...


class QrScanner(Protocol):
    """A QR-code scanner (serial or keyboard wedge)."""

    def read_code(self, timeout: float) -> str | None:
        """The next scanned code's text; None if none within ``timeout``; ``DeviceIOError``."""
        ...

    def health(self) -> DeviceHealth:
        """The scanner's current state."""
        ...

    def close(self) -> None:
        """Release the device."""
        ...


@dataclass(frozen=True, eq=False)
class Frame:
    """One picture from a camera, when it was taken, and its place in the camera's stream.

    ``image`` is a BGR numpy array (height x width x 3, uint8), read-only because every
    consumer shares it; typed ``Any`` to keep numpy out of ``gate/``. ``sequence`` grows by
    one per frame the driver kept, across reconnects. ``monotonic`` is ``time.monotonic()``
    at capture, for ages that a step of the wall clock cannot skew. Compared by identity.
    """

    image: Any
    captured_at: datetime
    sequence: int
    monotonic: float


class Camera(Protocol):
    """A camera at the lane: always the freshest frame, never a queue of old ones."""

    def latest_frame(self) -> Frame | None:
        """The newest frame (the same one until a newer arrives); None while there is none.

        Returns at once and raises nothing; ``health()`` says why there is no frame.
        """
        ...

    def health(self) -> DeviceHealth:
        """The camera's current state."""
        ...

    def close(self) -> None:
        """Stop capturing and release the source."""
        ...


class DecodedText(Protocol):
    """One code a decoder read in a frame."""

    @property
    def text(self) -> str:
        """The code's text."""
        ...


class QrFrameDecoder(Protocol):
    """Finds and reads the QR codes in a camera frame (``recognition.qr``)."""

    def decode(self, frame: Any) -> Sequence[DecodedText]:
        """The codes in ``frame`` (a BGR or grey image); none, never an error, if broken."""
        ...


class BarrierRelay(Protocol):
    """The relay that opens a lane's barrier (``gate.domain.ports.Barrier`` plus health)."""

    def open(self, lane: str, direction: Direction) -> None:
        """Pulse the relay; raises ``DeviceIOError`` if the relay does not confirm."""
        ...

    def health(self) -> DeviceHealth:
        """The relay's current state."""
        ...

    def close(self) -> None:
        """Release the connection."""
        ...


class Thermometer(Protocol):
    """A contactless thermometer at the lane."""

    def read_celsius(self, timeout: float) -> float | None:
        """The latest measured temperature; None if nobody was measured; ``DeviceIOError``."""
        ...

    def health(self) -> DeviceHealth:
        """The thermometer's current state."""
        ...

    def close(self) -> None:
        """Release the connection."""
        ...


@dataclass(frozen=True)
class DeviceStatus:
    """One device's health as the service exposes it."""

    lane: str
    kind: str
    name: str
    health: DeviceHealth
    silent_for: float | None  # seconds since last seen, None if never seen


@dataclass(frozen=True)
class DeviceAlarm:
    """A device fell silent (or came back)."""

    status: DeviceStatus
    silent: bool
