"""Where a Modbus device answers, as the relay and thermometer configs name it."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from devices.config import DriverConfig

Transport = Literal["tcp", "rtu"]


class ModbusLinkConfig(DriverConfig):
    """A Modbus device on TCP (host and port) or RTU (a serial port), and its unit id."""

    transport: Transport = "tcp"
    host: str = "127.0.0.1"
    port: int = Field(default=502, ge=1, le=65535)
    serial_port: str | None = None
    baud: int = Field(default=9600, gt=0)
    unit_id: int = Field(default=1, ge=1, le=247)  # 0 is broadcast: nothing would answer
    timeout: float = Field(default=1.0, gt=0)
