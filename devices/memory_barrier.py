"""A barrier that only records what it was told: the stand-in until a relay is wired.

It is a real driver in the sense that the pipeline cannot tell it from a relay: it is
chosen by configuration, and ``opened`` says what a relay would have done.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from devices.base import DeviceDriver
from devices.config import DriverConfig
from gate.domain.model import Direction
from gate.domain.ports import BarrierAction

logger = logging.getLogger(__name__)


class RecordingRelayConfig(DriverConfig):
    """No hardware: record the commands (a demo without a relay)."""

    type: Literal["recording"]


@dataclass(frozen=True)
class BarrierCommand:
    """One command given to the barrier."""

    lane: str
    direction: Direction
    at: datetime


class RecordingBarrier(DeviceDriver):
    """``gate.domain.device_ports.BarrierRelay`` that keeps every command in memory."""

    def __init__(self, name: str = "barrier") -> None:
        super().__init__(name)
        self._lock = threading.Lock()
        self._commands: list[BarrierCommand] = []
        self._seen()

    @classmethod
    def from_config(
        cls, config: RecordingRelayConfig, *, name: str, data_dir: Path
    ) -> RecordingBarrier:
        """Build from a ``recording`` barrier config."""
        return cls(name)

    def open(self, lane: str, direction: Direction) -> BarrierAction:
        """Record an open command."""
        command = BarrierCommand(lane, direction, datetime.now(UTC))
        with self._lock:
            self._commands.append(command)
        logger.info("barrier %s opened for %s", lane, direction.value)
        return BarrierAction.OPENED

    def close(self) -> None:
        """Nothing to release."""

    @property
    def opened(self) -> list[BarrierCommand]:
        """Every open command so far, oldest first."""
        with self._lock:
            return list(self._commands)
