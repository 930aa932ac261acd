"""The ports the passage pipeline talks through; adapters live in ``registry/`` and ``devices/``."""

from __future__ import annotations

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


class Barrier(Protocol):
    """The barrier of the gate's lanes."""

    def open(self, lane: str, direction: Direction) -> None:
        """Let one person through; raises ``DeviceError`` if the barrier does not answer."""
        ...
