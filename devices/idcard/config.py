"""The ID-card readers' config models (``devices.drivers`` names their drivers)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from devices.config import DriverConfig


class Ga467SerialConfig(DriverConfig):
    """A GA 467 reader on a serial, USB-serial or USB-CDC port."""

    type: Literal["ga467-serial"]
    port: str
    baud: int = Field(default=115200, gt=0)
    poll_interval: float = Field(default=0.3, ge=0.3, description="GA 467 wants >= 300 ms")
    timeout: float = Field(default=1.0, gt=0)


class Ga467EmulatedConfig(DriverConfig):
    """The real driver talking to the reader emulator on a pseudo-terminal."""

    type: Literal["ga467-emulated"]
    cards: Path | None = Field(
        default=None, description="Cards to present; default <data_dir>/demo/cards.json"
    )
    card_interval: float = Field(default=5.0, gt=0, description="Seconds between cards")
    poll_interval: float = Field(default=0.3, ge=0.3)
