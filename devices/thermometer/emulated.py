"""``EmulatedModbusThermometer``: the real Modbus driver against an in-process emulator."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from devices.emulated import EmulatedDriver
from devices.modbus.link import ModbusEndpoint, ModbusLink
from devices.thermometer.config import ThermometerEmulatedConfig
from devices.thermometer.emulator import ThermometerEmulator
from devices.thermometer.modbus import ModbusThermometer


class EmulatedModbusThermometer(EmulatedDriver[ThermometerEmulator, ModbusThermometer]):
    """The real ``ModbusThermometer`` talking TCP to an in-process ``ThermometerEmulator``."""

    def __init__(self, name: str, *, scale: Literal[10, 100] = 10) -> None:
        def thermometer(emulator: ThermometerEmulator) -> ModbusThermometer:
            endpoint = ModbusEndpoint(host=emulator.host, port=emulator.port)
            return ModbusThermometer(name, link=ModbusLink(endpoint, device=name), scale=scale)

        super().__init__(ThermometerEmulator(scale=scale), thermometer)

    @classmethod
    def from_config(
        cls, config: ThermometerEmulatedConfig, *, name: str, data_dir: Path
    ) -> EmulatedModbusThermometer:
        """Build from a ``thermometer-emulated`` config: start the emulator on a free port."""
        return cls(name, scale=config.scale)

    def read_celsius(self, timeout: float) -> float | None:
        """Read the emulated register through the real driver."""
        return self.driver.read_celsius(timeout)
