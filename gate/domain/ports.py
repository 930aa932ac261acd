"""The ports the passage pipeline talks through; adapters live in ``registry/`` and ``devices/``."""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

from gate.domain.model import Direction, PassageEntry, PassageRecord


class PassageLog(Protocol):
    """The durable, append-only passage log."""

    def append(self, entry: PassageEntry, *, registry_revision: int | None = None) -> PassageRecord:
        """Write ``entry`` durably and return it with its sequence number.

        Raises ``StaleSnapshot`` (nothing written) when ``registry_revision`` is given and
        the registry has moved on, ``LogUnavailable`` when the database refuses the write.
        """
        ...

    def get(self, seq: int) -> PassageRecord:
        """The passage with ``seq``; raises ``NotFound``."""
        ...

    def overridden(self, seq: int) -> bool:
        """True if a guard has already overridden passage ``seq``."""
        ...


class BarrierAction(StrEnum):
    """What the barrier did when a passage was allowed."""

    OPENED = "opened"  # a relay was pulsed
    FREE_EXIT = "free_exit"  # the exit is physically free: nothing to open
    NO_BARRIER = "no_barrier"  # no relay is configured for the lane: nothing moved
    FAILED = "failed"  # the relay did not answer: the guard lets them through by hand


class Barrier(Protocol):
    """The barrier of the gate's lanes."""

    def open(self, lane: str, direction: Direction) -> BarrierAction:
        """Let one person through and say what moved; ``DeviceError`` if the relay fails."""
        ...
