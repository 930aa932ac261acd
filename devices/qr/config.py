"""The QR scanners' config models (``devices.drivers`` names their drivers)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from devices.config import DriverConfig


class SerialQrConfig(DriverConfig):
    """A QR scanner in serial mode sending line-terminated codes."""

    type: Literal["serial-qr"]
    port: str
    baud: int = Field(default=9600, gt=0)
    terminator: Literal["cr", "lf", "crlf"] = "cr"


class HidQrConfig(DriverConfig):
    """A QR scanner in USB HID keyboard mode, read with evdev and grabbed."""

    type: Literal["hid-qr"]
    device: str = Field(description="/dev/input/by-id/... path")
    grab: bool = True


class SerialQrEmulatedConfig(DriverConfig):
    """The real serial driver reading an emulated scanner that shows the demo's passes."""

    type: Literal["serial-qr-emulated"]
    passes: Path | None = Field(
        default=None, description="Passes to show; default <data_dir>/demo/passes.json"
    )
    interval: float = Field(default=10.0, gt=0, description="Seconds between scans")
