"""QR scanners: ``serial_scanner.SerialQrScanner`` and ``hid.HidQrScanner``; emulators aside.

Both implement ``gate.domain.device_ports.QrScanner`` with the same rules (``ScannerDriver``):

- ``read_code(timeout)`` returns the oldest unread code, or None after ``timeout``; it
  raises ``DeviceIOError`` when the read itself failed (once per failure) and, after
  waiting out ``timeout`` for a reconnect, while the scanner is offline or closed. It never
  busy-loops: an offline scanner is reopened with the base class's backoff (the serial
  scanner in ``read_code``, through ``ReadingDriver._read``; the HID scanner in its thread,
  through ``ReadingDriver._read_forever``).
- A scanner that sends nothing is healthy as long as its port or device is open: each
  read refreshes ``last_seen``, so an idle scanner is not mistaken for a silent one.
- Garbage (an overlong code, lost input events) makes it degraded for ``DEGRADED_HOLD``
  seconds, so the guard's screen can show it; the next good reads turn it ok again.
- Codes read but not yet taken wait at most ``CODE_TTL`` seconds (and only the newest
  ``MAX_PENDING``): a pass scanned while nobody was reading must not open the barrier
  for whoever stands there a minute later.

Importing this package imports neither pyserial nor evdev.
"""

from __future__ import annotations

import logging
import time
from collections import deque

from devices.base import ReadingDriver
from gate.domain.errors import DeviceIOError

logger = logging.getLogger(__name__)


class ScannerDriver(ReadingDriver[str]):
    """Health rules and the code queue shared by the QR scanner drivers."""

    DEGRADED_HOLD = 30.0
    CODE_TTL = 10.0
    MAX_PENDING = 16

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self._degraded_until = 0.0
        self._codes: deque[tuple[float, str]] = deque(maxlen=self.MAX_PENDING)

    def _push(self, code: str) -> None:
        """Queue a code just read (the caller holds the driver's lock)."""
        self._codes.append((time.monotonic(), code))

    def _take(self) -> str | None:
        """The oldest code still fresh, or None (the caller holds the driver's lock)."""
        while self._codes:
            read_at, code = self._codes.popleft()
            if time.monotonic() - read_at <= self.CODE_TTL:
                return code
            logger.warning("%s: dropped a code nobody took for %.0f s", self.name, self.CODE_TTL)
        return None

    def _alive(self) -> None:
        """The device is open and answering: refresh ``last_seen``, keep a recent degrade."""
        if time.monotonic() < self._degraded_until:
            self._degraded(self.health().detail)
        else:
            self._seen()

    def _trouble(self, detail: str) -> None:
        """The device answered with garbage: degraded for a while."""
        self._degraded_until = time.monotonic() + self.DEGRADED_HOLD
        self._degraded(detail)

    def _unavailable(self) -> DeviceIOError:
        """The error ``read_code`` raises while the scanner is offline or closed."""
        health = self.health()
        return DeviceIOError(f"{health.state.value}: {health.detail}", device=self.name)
