"""``ThermometerEmulator``: a Modbus thermometer whose register tests and the demo set."""

from __future__ import annotations

import threading
from typing import Literal

from devices.modbus.config import Transport
from devices.modbus.server import ModbusDeviceEmulator, ModbusRequest, SimBlocks, bit_blocks


class ThermometerEmulator(ModbusDeviceEmulator):
    """A Modbus thermometer: the last reading x ``scale`` in one holding register."""

    def __init__(
        self,
        *,
        scale: Literal[10, 100] = 10,
        register: int = 0,
        unit_id: int = 1,
        transport: Transport = "tcp",
        port: int = 0,
    ) -> None:
        super().__init__(
            unit_id=unit_id, transport=transport, port=port, name="thermometer-emulator"
        )
        self.scale = scale
        self.register = register
        self._lock = threading.Lock()
        self._raw = 0

    def _blocks(self) -> SimBlocks:
        return bit_blocks(coils=16, inputs=16, registers=self.register + 1)

    def _answer(self, request: ModbusRequest) -> None:
        first, count = request.address, request.count
        if request.function_code not in (3, 6, 16) or not first <= self.register < first + count:
            return
        with self._lock:
            if request.values is not None:  # a master wrote the register: keep what it wrote
                self._raw = int(request.values[self.register - first])
            request.registers[self.register - request.start] = self._raw

    def set_celsius(self, value: float) -> None:
        """Show a measured temperature."""
        self.set_raw(round(value * self.scale))

    def set_raw(self, raw: int) -> None:
        """Put any register value (0 and 0xFFFF are "no reading")."""
        if not 0 <= raw <= 0xFFFF:
            raise ValueError(f"register value {raw} is not 0..65535")
        with self._lock:
            self._raw = raw

    def clear(self) -> None:
        """Nobody measured."""
        self.set_raw(0)
