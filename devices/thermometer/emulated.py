"""``EmulatedModbusThermometer``: the real Modbus driver against an in-process emulator."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from devices.modbus.link import ModbusEndpoint, ModbusLink
from devices.thermometer.config import ThermometerEmulatedConfig
from devices.thermometer.emulator import ThermometerEmulator
from devices.thermometer.modbus import ModbusThermometer
from gate.domain.device_ports import DeviceHealth
from gate.domain.errors import DriverNotAvailable


class EmulatedModbusThermometer:
    """The real ``ModbusThermometer`` talking TCP to an in-process ``ThermometerEmulator``."""

    def __init__(self, name: str, *, scale: Literal[10, 100] = 10) -> None:
        self.name = name
        self.emulator = ThermometerEmulator(scale=scale)
        try:
            self.emulator.start()
        except OSError as exc:
            raise DriverNotAvailable(f"emulated thermometer cannot start: {exc}") from exc
        endpoint = ModbusEndpoint(host=self.emulator.host, port=self.emulator.port)
        self.thermometer = ModbusThermometer(
            name, link=ModbusLink(endpoint, device=name), scale=scale
        )

    @classmethod
    def from_config(
        cls, config: ThermometerEmulatedConfig, *, name: str, data_dir: Path
    ) -> EmulatedModbusThermometer:
        """Build from a ``thermometer-emulated`` config: start the emulator on a free port."""
        return cls(name, scale=config.scale)

    def read_celsius(self, timeout: float) -> float | None:
        """Read the emulated register through the real driver."""
        return self.thermometer.read_celsius(timeout)

    def health(self) -> DeviceHealth:
        """The driver's view of the emulated thermometer."""
        return self.thermometer.health()

    def close(self) -> None:
        """Close the driver, then stop the emulator."""
        try:
            self.thermometer.close()
        finally:
            self.emulator.close()
