"""Sliding-window rate limits in memory: at most ``limit`` events per ``window`` per key.

The public phone forms count per address (``check``: ``ActionRefused`` with the minutes
to wait); the district API counts per key (``wait``: the seconds a ``Retry-After`` says);
the sign-in counts wrong passwords per account and source (``LoginThrottle``).
One process, one gate box: nothing is shared between processes or kept over a restart.
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
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


SOURCE_FAILURES = 5  # wrong sign-ins of one account from one source in a window
SPRAY_FAILURES = 30  # wrong sign-ins from one source across every name in a window
ACCOUNT_FAILURES = 20  # wrong sign-ins of one account from every untrusted source
LOGIN_WINDOW = timedelta(minutes=15)


class _Failures:
    """Failure times per key in a sliding window; bounded in keys (quiet ones go first)."""

    def __init__(self, limit: int, window: float) -> None:
        self._limit, self._window = limit, window
        self._seen: dict[str, deque[float]] = {}

    def _recent(self, key: str, now: float) -> deque[float] | None:
        seen = self._seen.get(key)
        while seen and seen[0] <= now - self._window:
            seen.popleft()
        return seen

    def over(self, key: str, now: float) -> bool:
        seen = self._recent(key, now)
        return seen is not None and len(seen) >= self._limit

    def add(self, key: str, now: float) -> None:
        if key not in self._seen and len(self._seen) >= MAX_KEYS:
            self._forget(now)
        seen = self._seen.setdefault(key, deque())
        seen.append(now)
        while len(seen) > self._limit:  # only the newest ``limit`` matter
            seen.popleft()

    def clear(self, key: str) -> None:
        self._seen.pop(key, None)

    def _forget(self, now: float) -> None:
        quiet = now - self._window
        self._seen = {key: seen for key, seen in self._seen.items() if seen and seen[-1] > quiet}
        if len(self._seen) >= MAX_KEYS:  # all busy: the keys whose last failure is oldest go
            newest = sorted(self._seen.items(), key=lambda item: item[1][-1])[MAX_KEYS // 2 :]
            self._seen = dict(newest)


class LoginThrottle:
    """Wrong sign-ins counted per account *and* source, in memory; never an account lock.

    A source (a client address) that failed ``SOURCE_FAILURES`` times for one user name
    within ``LOGIN_WINDOW`` waits for that name; one that failed ``SPRAY_FAILURES`` times
    across names waits for every name. ``ACCOUNT_FAILURES`` failures of one name from
    untrusted sources (many machines guessing) make every untrusted source wait for that
    name, while a *trusted* source -- the terminal's own machine -- is only ever held back
    by its own failures. Unknown names are counted like real ones, so waiting tells no
    names apart. Only attempts that were checked count: a source that waits as told gets
    through again.

    In memory, per process: the gate is a single-process edge, and a restart forgetting
    the counts only gives a guesser a handful more tries (the password hash is the
    ceiling of the rate); nothing needs a migration or a write per refusal.
    """

    def __init__(
        self,
        *,
        trusted: Sequence[str] = (),
        window: timedelta = LOGIN_WINDOW,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        seconds = window.total_seconds()
        self._trusted = tuple(ipaddress.ip_network(item, strict=False) for item in trusted)
        self._by_pair = _Failures(SOURCE_FAILURES, seconds)
        self._by_source = _Failures(SPRAY_FAILURES, seconds)
        self._by_account = _Failures(ACCOUNT_FAILURES, seconds)
        self._monotonic = monotonic
        self._lock = threading.Lock()  # the web app's worker threads share one throttle

    def trusted(self, source: str) -> bool:
        """True if ``source`` is one of the terminal's own addresses (or networks)."""
        try:
            address = ipaddress.ip_address(source)
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in network for network in self._trusted)

    def waiting(self, username: str, source: str) -> bool:
        """True if a sign-in as ``username`` from ``source`` must not be checked now."""
        with self._lock:
            now = self._monotonic()
            if self._by_pair.over(_pair(username, source), now):
                return True
            if self._by_source.over(source, now):
                return True
            return not self.trusted(source) and self._by_account.over(username, now)

    def failed(self, username: str, source: str) -> None:
        """Count a checked sign-in that was wrong."""
        with self._lock:
            now = self._monotonic()
            self._by_pair.add(_pair(username, source), now)
            self._by_source.add(source, now)
            if not self.trusted(source):
                self._by_account.add(username, now)

    def succeeded(self, username: str, source: str) -> None:
        """Forget this source's failures for ``username`` (the account-wide count stays)."""
        with self._lock:
            self._by_pair.clear(_pair(username, source))


def _pair(username: str, source: str) -> str:
    return f"{source}\n{username}"
