"""The barrier relays' config models (``devices.drivers`` names their drivers)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from devices.config import DriverConfig
from devices.modbus.config import ModbusLinkConfig


class ModbusRelayConfig(ModbusLinkConfig):
    """A relay module on Modbus TCP or RTU: pulse a coil, optionally read a closed contact."""

    type: Literal["modbus-relay"]
    coil: int = Field(default=0, ge=0)
    pulse_ms: int = Field(default=500, ge=50, le=10_000)
    closed_input: int | None = Field(default=None, ge=0, description="Barrier-closed contact")


class ModbusEmulatedConfig(DriverConfig):
    """The Modbus relay driver against a local emulated relay module."""

    type: Literal["modbus-emulated"]
    coil: int = Field(default=0, ge=0)
    pulse_ms: int = Field(default=500, ge=50, le=10_000)


class SerialRelayConfig(DriverConfig):
    """The common serial relay boards speaking 4-byte ``A0 ch state sum`` commands."""

    type: Literal["serial-relay"]
    port: str
    baud: int = Field(default=9600, gt=0)
    channel: int = Field(default=1, ge=1, le=255)
    pulse_ms: int = Field(default=500, ge=50, le=10_000)
