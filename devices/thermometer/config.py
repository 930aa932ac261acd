"""The thermometers' config models (``devices.drivers`` names their drivers)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from devices.config import DriverConfig
from devices.modbus.config import ModbusLinkConfig


class ModbusThermometerConfig(ModbusLinkConfig):
    """A thermometer exposing the last reading in a holding register (x10 or x100)."""

    type: Literal["modbus-thermometer"]
    holding_register: int = Field(default=0, ge=0)
    scale: Literal[10, 100] = 10
    no_reading: tuple[int, ...] = Field(
        default=(), description="Raw values the device writes when nobody was measured"
    )


class ThermometerEmulatedConfig(DriverConfig):
    """The Modbus thermometer driver against a local emulated thermometer."""

    type: Literal["thermometer-emulated"]
    scale: Literal[10, 100] = 10
