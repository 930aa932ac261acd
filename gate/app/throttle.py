"""A sliding-window rate limit in memory: at most ``limit`` events per ``window`` per key.

The public phone forms count per address (``check``: ``ActionRefused`` with the minutes
to wait); the district API counts per key (``wait``: the seconds a ``Retry-After`` says).
One process, one gate box: nothing is shared between processes or kept over a restart.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import timedelta

from gate.domain.errors import ActionRefused

MAX_KEYS = 10_000  # past this, keys quiet for a whole window are forgotten


class SubmissionThrottle:
    """At most ``limit`` events per ``window`` for one key (an address, an API key).

    A poster is public: one phone (or script) must not fill the registry. The web layer
    asks before calling ``request_visit`` and refuses with ``ActionRefused`` if not allowed.
    """

    def __init__(
        self,
        *,
        limit: int = 5,
        window: timedelta = timedelta(minutes=10),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._limit, self._window = limit, window.total_seconds()
        self._monotonic = monotonic
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()  # the web app's worker threads share one throttle

    def wait(self, key: str) -> float:
        """Count one event of ``key`` and return 0; or, over the limit, the seconds to wait.

        A refused event is not counted: a client that waits as told gets through.
        """
        with self._lock:
            now = self._monotonic()
            if len(self._seen) > MAX_KEYS:  # a flood of keys: forget the quiet ones
                self._seen = {
                    key: seen for key, seen in self._seen.items() if seen[-1] > now - self._window
                }
            seen = self._seen.setdefault(key, deque())
            while seen and seen[0] <= now - self._window:
                seen.popleft()
            if len(seen) >= self._limit:
                return max(seen[0] + self._window - now, 1e-3)
            seen.append(now)
            return 0.0

    def retry_after(self, key: str) -> int:
        """``wait`` in whole seconds for a ``Retry-After`` header (0: go ahead, counted)."""
        waiting = self.wait(key)
        return math.ceil(waiting) if waiting else 0

    def check(self, address: str) -> None:
        """Count one submission from ``address``; ``ActionRefused`` if over the limit."""
        waiting = self.wait(address)
        if waiting:
            raise ActionRefused("too_many_requests", minutes=int(waiting) // 60 + 1)
