"""Is this gate's clock right? Its offset against a reference, watched against a threshold.

Every passage is stamped with this machine's clock (in UTC), and IEC 60839-11-1 asks an
access control system to keep within +/-10 s a week. The reference (``TimeSource``) is an
NTP server (SNTP, RFC 4330) or the district hub's HTTP ``Date``; the composition root
picks it from ``[clock]`` (``gate.runtime.clock_sources``).

``offset_seconds`` is the reference minus this clock: positive, this clock is behind.
The watch alarms when ``|offset|`` passes ``[clock] alarm_seconds``: a warning in the log
(once, and once again when it is back), the terminal's header, ``gate_clock_offset_seconds``.
The gate does not set the clock itself: that is the time daemon's job (chrony,
systemd-timesyncd), and a passage log whose times jump under it is worse than one that
is known to be off.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from gate.domain.errors import GateError

logger = logging.getLogger(__name__)


class ClockUnavailable(GateError):
    """The time reference did not answer, or answered something unusable; try later."""


@dataclass(frozen=True)
class ClockReading:
    """One comparison with the reference."""

    source: str  # "ntp ntp.example:123" or "hub https://hub.example"
    offset_seconds: float  # reference minus this clock
    round_trip_seconds: float
    at: datetime  # this clock's time of the reading (UTC)


class TimeSource(Protocol):
    """A reference clock."""

    name: str

    def read(self) -> ClockReading:
        """Compare this clock with the reference (``ClockUnavailable`` if it cannot)."""
        ...


class ClockWatch:
    """The latest reading of one source, and whether it is beyond the alarm threshold."""

    def __init__(
        self,
        source: TimeSource,
        *,
        alarm_seconds: float,
        every_seconds: float,
    ) -> None:
        self.source = source
        self.alarm_seconds = alarm_seconds
        self.every_seconds = every_seconds
        self._lock = threading.Lock()
        self._last: ClockReading | None = None
        self._failing = False
        self._alarmed = False

    @property
    def last(self) -> ClockReading | None:
        """The latest successful reading (None before the first)."""
        with self._lock:
            return self._last

    def beyond(self, reading: ClockReading | None) -> bool:
        """Whether ``reading`` is off by more than the threshold."""
        return reading is not None and abs(reading.offset_seconds) > self.alarm_seconds

    def alarm(self) -> ClockReading | None:
        """The latest reading when it is beyond the threshold, else None."""
        last = self.last
        return last if self.beyond(last) else None

    def check(self) -> ClockReading | None:
        """Read the source once; log when the alarm starts or ends, or the source fails."""
        try:
            reading = self.source.read()
        except ClockUnavailable as exc:
            if not self._failing:
                logger.warning("cannot check the clock against %s: %s", self.source.name, exc)
            self._failing = True
            return None
        if self._failing:
            logger.info("the clock's reference %s answers again", self.source.name)
        self._failing = False
        with self._lock:
            self._last = reading
        late = self.beyond(reading)
        if late and not self._alarmed:
            logger.warning(
                "this clock is %.1f s %s %s (alarm beyond %.0f s): passages are stamped off",
                abs(reading.offset_seconds),
                "behind" if reading.offset_seconds > 0 else "ahead of",
                reading.source,
                self.alarm_seconds,
                extra={"clock_offset_seconds": round(reading.offset_seconds, 3)},
            )
        elif self._alarmed and not late:
            logger.info(
                "this clock is back within %.0f s of %s (%.3f s)",
                self.alarm_seconds,
                reading.source,
                reading.offset_seconds,
            )
        self._alarmed = late
        return reading
