"""A barrier that only records what it was told: the stand-in until a relay is wired.

It is a real driver in the sense that the pipeline cannot tell it from a relay: it is
chosen by configuration, and ``opened`` says what a relay would have done.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime

from gate.model import Direction

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BarrierCommand:
    """One command given to the barrier."""

    lane: str
    direction: Direction
    at: datetime


class RecordingBarrier:
    """``gate.ports.Barrier`` that keeps every command in memory."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._commands: list[BarrierCommand] = []

    def open(self, lane: str, direction: Direction) -> None:
        """Record an open command."""
        command = BarrierCommand(lane, direction, datetime.now(UTC))
        with self._lock:
            self._commands.append(command)
        logger.info("barrier %s opened for %s", lane, direction.value)

    @property
    def opened(self) -> list[BarrierCommand]:
        """Every open command so far, oldest first."""
        with self._lock:
            return list(self._commands)
