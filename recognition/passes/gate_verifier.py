"""``KeyRingVerifier``: the gate's ``PassVerifier`` on the key ring in the data folder.

A running gate must follow ``gate pass rotate-key`` run from another process: the folder
is looked at again when it changes (its modification time, checked at most once every
``recheck_seconds``), and a token signed by a key the gate does not know yet makes it look
at once (a pass issued right after a rotation must not be refused for a second). A folder
that cannot be read keeps the last good ring and logs why.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from gate.domain.errors import ConfigError
from gate.domain.passes import PassCheck, PassRefusal
from recognition.passes.keyring import KeyRing, StepSecrets, open_key_ring
from recognition.passes.verify import TrustedKeys, verify_pass

logger = logging.getLogger(__name__)


class KeyRingVerifier:
    """Verifies scanned texts against the current and previous key of a key folder."""

    def __init__(
        self,
        folder: Path,
        *,
        recheck_seconds: float = 2.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._folder = folder
        self._recheck = recheck_seconds
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._stamp: int | None = None
        self._checked_at = monotonic()
        self._parts: tuple[TrustedKeys, StepSecrets] | None = None

    @property
    def key_ids(self) -> tuple[str, ...]:
        """The key ids accepted now, current first."""
        return self._current()[0].key_ids

    def _current(self) -> tuple[TrustedKeys, StepSecrets]:
        # Loaded on first use: a command that never checks a pass never creates a key.
        if self._parts is None:
            with self._lock:
                if self._parts is None:
                    self._stamp = self._folder_stamp()
                    self._parts = _verifying_parts(open_key_ring(self._folder))
                    self._stamp = self._folder_stamp()
        return self._parts

    def verify(self, text: str, *, now: datetime) -> PassCheck:
        """Check ``text`` at ``now`` (see ``recognition.passes.verify``)."""
        self._current()
        self._follow_rotation(force=False)
        keys, secrets = self._current()
        check = verify_pass(text, keys=keys, now=now, step_secrets=secrets)
        unknown_key = not check.valid and check.reason is PassRefusal.UNKNOWN_KEY
        if unknown_key and self._follow_rotation(force=True):
            keys, secrets = self._current()
            check = verify_pass(text, keys=keys, now=now, step_secrets=secrets)
        return check

    def _follow_rotation(self, *, force: bool) -> bool:
        """Reload the ring if the folder changed; True if it did."""
        now = self._monotonic()
        if not force and now - self._checked_at < self._recheck:
            return False
        with self._lock:
            self._checked_at = now
            stamp = self._folder_stamp()
            if stamp == self._stamp:
                return False
            try:
                ring = open_key_ring(self._folder)
            except ConfigError as exc:
                logger.error("pass keys not reloaded, keeping the last ones: %s", exc)
                return False
            self._parts = _verifying_parts(ring)
            self._stamp = stamp
            logger.info("pass keys reloaded: %s", ", ".join(self._parts[0].key_ids))
            return True

    def _folder_stamp(self) -> int | None:
        try:
            return os.stat(self._folder).st_mtime_ns
        except OSError:
            return None


def _verifying_parts(ring: KeyRing) -> tuple[TrustedKeys, StepSecrets]:
    return ring.trusted(), ring.step_secrets()
