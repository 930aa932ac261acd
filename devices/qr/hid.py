"""A QR scanner in USB HID keyboard mode (a "keyboard wedge"), read with evdev.

- Open it by a stable path (``/dev/input/by-id/usb-...-event-kbd``) and grab it
  (EVIOCGRAB) so that what the scanner types reaches this service only, not the console
  or the guard's browser. The service's user needs read access (group ``input``).
- A thread drains the device all the time: the kernel keeps only a few hundred events
  per reader, and one long code with shifts needs more, so reading only inside
  ``read_code`` would lose keys while the pipeline is busy. Key events are decoded with
  ``devices.qr.keymap`` (US layout); ``read_code`` takes the completed codes.
- When the kernel reports lost events (SYN_DROPPED) the interrupted code is dropped,
  never delivered half, and the scanner is degraded for a while.
- A device that goes away (unplugged) makes the scanner offline; its path is reopened
  with the base class's backoff. ``OSError`` and ``evdev.EvdevError`` become
  ``DeviceIOError`` in ``_io``, once.
"""

from __future__ import annotations

import logging
import select
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

import evdev

from devices.qr import ScannerDriver
from devices.qr.config import HidQrConfig
from devices.qr.keymap import EV_KEY, EV_SYN, SYN_DROPPED, KeymapDecoder
from gate.domain.device_ports import DeviceState
from gate.domain.errors import DeviceIOError

logger = logging.getLogger(__name__)


class KeyEventSource(Protocol):
    """An open input device as the driver reads it: evdev's, or an emulator's."""

    def fileno(self) -> int:
        """A descriptor that polls readable when events are pending."""
        ...

    def read_events(self) -> list[tuple[int, int, int]]:
        """The pending ``(type, code, value)`` events, [] if none; ``OSError`` once gone."""
        ...

    def close(self) -> None:
        """Release the device (and its grab)."""
        ...


Opener = Callable[[str, bool], KeyEventSource]


class EvdevSource:
    """``KeyEventSource`` on a real input device, grabbed if asked."""

    def __init__(self, path: str, *, grab: bool) -> None:
        self._device = evdev.InputDevice(path)
        self._grabbed = False
        if grab:
            try:
                self._device.grab()  # OSError (EBUSY) when another process holds it
            except OSError:
                self._device.close()
                raise
            self._grabbed = True

    def fileno(self) -> int:
        """The device's descriptor."""
        return self._device.fd

    def read_events(self) -> list[tuple[int, int, int]]:
        """The pending events."""
        try:
            return [(event.type, event.code, event.value) for event in self._device.read()]
        except BlockingIOError:
            return []

    def close(self) -> None:
        """Ungrab and close; a device already gone took its grab with it."""
        try:
            if self._grabbed:
                self._device.ungrab()
        except OSError:
            pass
        finally:
            self._device.close()


def open_evdev(path: str, grab: bool) -> KeyEventSource:
    """Open (and grab) the input device at ``path``."""
    return EvdevSource(path, grab=grab)


class HidQrScanner(ScannerDriver):
    """``QrScanner`` port on an evdev keyboard device; its thread starts at once."""

    POLL = 0.1  # how long the thread waits for events before checking for close()
    JOIN_TIMEOUT = 2.0

    def __init__(
        self,
        device: str,
        *,
        name: str = "qr",
        grab: bool = True,
        opener: Opener = open_evdev,
        max_code_length: int = 8192,
    ) -> None:
        super().__init__(name)
        self.device = device
        self._grab = grab
        self._opener = opener
        self._decoder = KeymapDecoder(max_length=max_code_length)
        self._ready = threading.Condition()  # guards the code queue
        self._source: KeyEventSource | None = None  # the thread's own
        self._thread = threading.Thread(
            target=self._read_forever, args=(self.POLL,), name=f"qr-hid-{name}", daemon=True
        )
        self._thread.start()

    @classmethod
    def from_config(cls, config: HidQrConfig, *, name: str, data_dir: Path) -> HidQrScanner:
        """Build from a ``hid-qr`` config."""
        return cls(config.device, name=name, grab=config.grab)

    def read_code(self, timeout: float) -> str | None:
        """The next scanned code; None if none within ``timeout``; ``DeviceIOError``."""
        deadline = time.monotonic() + max(0.0, timeout)
        with self._ready:
            while True:
                if self._closing.is_set():
                    raise self._unavailable()
                code = self._take()
                if code is not None:
                    return code
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._ready.wait(remaining)
        if self.health().state is DeviceState.OFFLINE:
            raise self._unavailable()
        return None

    def close(self) -> None:
        """Stop the thread, ungrab and close the device (idempotent)."""
        self._closing.set()
        with self._ready:
            self._ready.notify_all()
        if self._thread is not threading.current_thread():
            self._thread.join(self.JOIN_TIMEOUT)
            if self._thread.is_alive():
                logger.error(
                    "%s: reader thread still busy after %s s", self.name, self.JOIN_TIMEOUT
                )
        self._mark_closed()

    # --- the reader thread (``_read_forever``) ---------------------------------------------

    def _connected(self) -> bool:
        return self._source is not None

    def _connect_internal(self) -> None:
        with self._io("open"):
            self._source = self._opener(self.device, self._grab)
        self._decoder.reset()
        self._seen()
        logger.info("%s: opened %s%s", self.name, self.device, " (grabbed)" if self._grab else "")

    def _read_internal(self, timeout: float) -> str | None:
        """Wait up to ``timeout`` for events; decode them; queue the completed codes."""
        assert self._source is not None
        with self._io("read"):
            ready, _, _ = select.select([self._source.fileno()], [], [], timeout)
            events = self._source.read_events() if ready else []
        dropped = self._decoder.dropped
        for type_, code, value in events:
            if type_ == EV_KEY:
                text = self._decoder.feed(code, value)
                if text is not None:
                    with self._ready:
                        self._push(text)
                        self._ready.notify()
            elif type_ == EV_SYN and code == SYN_DROPPED:
                self._decoder.abort()
                self._trouble("input events were lost; the code being typed was dropped")
        if self._decoder.dropped > dropped and self.health().state is DeviceState.OK:
            self._trouble("a code too long to be a pass was dropped")
        self._alive()
        return None  # codes wait in the queue for ``read_code``

    def _disconnect_internal(self) -> None:
        source, self._source = self._source, None
        if source is not None:
            try:
                source.close()
            except OSError:
                logger.debug("%s: closing %s failed", self.name, self.device, exc_info=True)

    @contextmanager
    def _io(self, operation: str) -> Iterator[None]:
        """Map the OS's and evdev's errors into ``DeviceIOError``: the one place."""
        try:
            yield
        except (OSError, evdev.EvdevError) as exc:
            raise DeviceIOError(
                f"{operation} {self.device} failed: {exc}", device=self.name
            ) from exc
