"""What every driver shares: health bookkeeping, reconnecting with backoff, the read loop.

A driver subclasses ``DeviceDriver`` and says what its device did: ``_seen()`` when it
answered, ``_degraded(...)`` when it answered wrongly, ``_lost(...)`` when it stopped
answering. A lost device is reopened only after a backoff (0.5 s doubling to 10 s), never
in a tight loop.

A driver holding a connection overrides ``_connected()``, ``_connect_internal()`` and
``_disconnect_internal()``. ``_reconnect(deadline)`` then opens the connection when it is
not open, once the backoff has passed, and ``_io_failed(exc)`` releases it when a request
failed. A driver read with a timeout subclasses ``ReadingDriver``: it overrides
``_read_internal(timeout)``, one read of at most ``timeout`` seconds, and its port's read
method returns ``_read(timeout)``, the deadline loop (python-can's split of
``BusABC.recv()`` and ``_recv_internal()``). A driver read by a thread of its own runs
``_read_forever(poll)`` in it.

``_mark_closed()`` (and ``_closing.set()`` early in ``close()``) ends every wait here at
once; from then on ``_reconnect`` and every read raise ``DeviceIOError``: a closed driver
stays closed.
"""

from __future__ import annotations

import logging
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Generic, TypeVar

from gate.domain.backoff import Backoff
from gate.domain.device_ports import DeviceHealth, DeviceState
from gate.domain.errors import DeviceIOError
from gate.domain.redaction import mask_urls

logger = logging.getLogger(__name__)

T = TypeVar("T")


class DeviceDriver:
    """Base class of the drivers in ``devices/``."""

    BACKOFF = Backoff(first=0.5, cap=10.0)  # before reopening a lost device

    def __init__(self, name: str, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.name = name
        self._monotonic = monotonic
        self._health_lock = threading.Lock()
        self._io_lock = threading.Lock()  # held by a read or request, and by close()
        self._closing = threading.Event()
        self._state = DeviceState.OFFLINE
        self._detail = "not connected yet"
        self._last_seen: datetime | None = None
        self._failures = 0
        self._retry_at = 0.0

    def health(self) -> DeviceHealth:
        """The device's state, why, and when it last answered."""
        with self._health_lock:
            return DeviceHealth(self._state, self._detail, self._last_seen)

    # --- health -----------------------------------------------------------------------

    def _seen(self) -> None:
        with self._health_lock:
            if self._state is not DeviceState.OK:
                logger.info("%s: ok", self.name)
            self._state, self._detail = DeviceState.OK, ""
            self._last_seen = datetime.now(UTC)
            self._failures = 0

    def _degraded(self, detail: str) -> None:
        detail = mask_urls(detail)  # a driver's error may quote its URL, password and all
        with self._health_lock:
            if self._state is not DeviceState.DEGRADED:
                logger.warning("%s: degraded: %s", self.name, detail)
            self._state, self._detail = DeviceState.DEGRADED, detail
            self._last_seen = datetime.now(UTC)

    def _lost(self, detail: str) -> None:
        detail = mask_urls(detail)
        with self._health_lock:
            if self._state is not DeviceState.OFFLINE:
                logger.error("%s: offline: %s", self.name, detail)
            self._state, self._detail = DeviceState.OFFLINE, detail
            self._failures += 1
            self._retry_at = self._monotonic() + self.BACKOFF.delay(self._failures)

    def _mark_closed(self) -> None:
        """Mark the device closed on purpose: offline, without an error or a backoff."""
        self._closing.set()
        with self._health_lock:
            self._state, self._detail = DeviceState.OFFLINE, "closed"

    def _may_retry(self) -> bool:
        """True once the backoff after the last failure has passed."""
        return self._monotonic() >= self._retry_at

    def _retry_delay(self) -> float:
        """Seconds until ``_may_retry`` turns true."""
        return max(0.0, self._retry_at - self._monotonic())

    def _message(self, exc: Exception) -> str:
        """An error's message without our name in front (health and logs add it)."""
        return str(exc).removeprefix(f"{self.name}: ")

    # --- the connection ---------------------------------------------------------------

    def _connected(self) -> bool:
        """Whether the connection is open (a driver without one is always connected)."""
        return True

    def _connect_internal(self) -> None:
        """Open the connection; ``DeviceIOError`` if the device cannot be reached."""

    def _disconnect_internal(self) -> None:
        """Release the connection, if open; never raises."""

    def _check_open(self) -> None:
        if self._closing.is_set():
            raise DeviceIOError("closed", device=self.name)

    def _pause(self, seconds: float) -> None:
        """Sleep, waking at once when the driver is closed."""
        if seconds > 0:
            self._closing.wait(seconds)

    def _reconnect(self, deadline: float | None = None) -> None:
        """Open the connection unless it is open, once the backoff has passed.

        The backoff is waited out when it ends before ``deadline`` (a ``monotonic`` time;
        None: never waited). Raises ``DeviceIOError`` once closed, while the backoff lasts
        past the deadline (after waiting until then), and when connecting fails (the
        device is then offline, with a longer backoff).
        """
        self._check_open()
        if self._connected():
            return
        delay = self._retry_delay()
        if delay > 0:
            remaining = 0.0 if deadline is None else max(0.0, deadline - self._monotonic())
            if delay > remaining:
                self._pause(remaining)
                self._check_open()
                detail = self.health().detail
                raise DeviceIOError(
                    f"offline ({detail}); next attempt in {delay - remaining:.1f} s",
                    device=self.name,
                )
            self._pause(delay)
            self._check_open()
        try:
            self._connect_internal()
        except DeviceIOError as exc:
            self._disconnect_internal()
            self._lost(self._message(exc))
            raise

    def _io_failed(self, exc: DeviceIOError) -> None:
        """A request failed: release the connection, and the device is offline (unless closing)."""
        self._disconnect_internal()
        if not self._closing.is_set():
            self._lost(self._message(exc))


class ReadingDriver(DeviceDriver, Generic[T], ABC):
    """A driver read with a deadline: the loop is here, one read is the driver's."""

    @abstractmethod
    def _read_internal(self, timeout: float) -> T | None:
        """Read once, for at most ``timeout`` seconds: what came, or None.

        Called only while connected and not closed, with the I/O lock held; raises
        ``DeviceIOError`` (mapped from the library's errors) when the read failed.
        """

    def _read(self, timeout: float) -> T | None:
        """The next reading, or None once ``timeout`` seconds passed without one.

        Reconnects when needed (``_reconnect``: the backoff is waited out within the
        timeout), then reads until something comes or the deadline passes. Raises
        ``DeviceIOError`` once closed, while offline, and when a read failed (once per
        failure, after ``_io_failed`` has told the health).
        """
        deadline = self._monotonic() + max(0.0, timeout)
        with self._io_lock:
            while True:
                self._reconnect(deadline)
                try:
                    result = self._read_internal(max(0.0, deadline - self._monotonic()))
                except DeviceIOError as exc:
                    logger.debug("%s: read failed: %s", self.name, mask_urls(str(exc)))
                    self._io_failed(exc)
                    raise
                if result is not None:
                    return result
                if self._monotonic() >= deadline:
                    return None

    def _read_forever(self, poll: float) -> None:
        """The body of a reader thread: ``_read(poll)`` again and again until closed.

        Failures are in the health (and the backoff in ``_read``), so they are not raised
        here; a bug in a read is logged and counted as a lost device, so the thread never
        dies behind a device that still says ok.
        """
        try:
            while not self._closing.is_set():
                try:
                    self._read(poll)
                except DeviceIOError:
                    continue
                except Exception as exc:
                    logger.exception("%s: read failed", self.name)
                    self._disconnect_internal()
                    self._lost(f"internal error: {type(exc).__name__}")
        finally:
            self._disconnect_internal()
