"""How long to wait before trying again after failures in a row: doubling, capped.

One rule for everything that retries: a device reopened after it was lost, a relay
sending to a sink that is down.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    """Seconds to wait after the n-th failure in a row: ``first``, doubling, at most ``cap``."""

    first: float = 0.5
    cap: float = 60.0

    def delay(self, failures: int) -> float:
        """The wait after ``failures`` (>= 1) failures in a row."""
        return float(min(self.cap, self.first * 2 ** min(failures - 1, 30)))
