"""What every driver shares: health bookkeeping, reconnect backoff, logging.

A driver subclasses ``DeviceDriver``, calls ``_seen()`` when the device answered,
``_degraded(...)`` when it answered wrongly, ``_lost(...)`` when it stopped answering,
and asks ``_may_retry()`` before reconnecting, so a dead port is retried with exponential
backoff (0.5 s doubling to 10 s) instead of in a tight loop.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from gate.domain.device_ports import DeviceHealth, DeviceState

logger = logging.getLogger(__name__)


class DeviceDriver:
    """Base class of the drivers in ``devices/``."""

    BACKOFF_START = 0.5
    BACKOFF_MAX = 10.0

    def __init__(self, name: str, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.name = name
        self._monotonic = monotonic
        self._health_lock = threading.Lock()
        self._state = DeviceState.OFFLINE
        self._detail = "not connected yet"
        self._last_seen: datetime | None = None
        self._failures = 0
        self._retry_at = 0.0

    def health(self) -> DeviceHealth:
        """The device's state, why, and when it last answered."""
        with self._health_lock:
            return DeviceHealth(self._state, self._detail, self._last_seen)

    def _seen(self) -> None:
        with self._health_lock:
            if self._state is not DeviceState.OK:
                logger.info("%s: ok", self.name)
            self._state, self._detail = DeviceState.OK, ""
            self._last_seen = datetime.now(UTC)
            self._failures = 0

    def _degraded(self, detail: str) -> None:
        with self._health_lock:
            if self._state is not DeviceState.DEGRADED:
                logger.warning("%s: degraded: %s", self.name, detail)
            self._state, self._detail = DeviceState.DEGRADED, detail
            self._last_seen = datetime.now(UTC)

    def _lost(self, detail: str) -> None:
        with self._health_lock:
            if self._state is not DeviceState.OFFLINE:
                logger.error("%s: offline: %s", self.name, detail)
            self._state, self._detail = DeviceState.OFFLINE, detail
            self._failures += 1
            delay = min(self.BACKOFF_START * 2 ** (self._failures - 1), self.BACKOFF_MAX)
            self._retry_at = self._monotonic() + delay

    def _mark_closed(self) -> None:
        """Mark the device closed on purpose: offline, without an error or a backoff."""
        with self._health_lock:
            self._state, self._detail = DeviceState.OFFLINE, "closed"

    def _may_retry(self) -> bool:
        """True once the backoff after the last failure has passed."""
        return self._monotonic() >= self._retry_at

    def _retry_delay(self) -> float:
        """Seconds until ``_may_retry`` turns true."""
        return max(0.0, self._retry_at - self._monotonic())
