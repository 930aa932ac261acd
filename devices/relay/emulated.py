"""``EmulatedModbusRelay``: the real Modbus relay driver against an in-process emulated module."""

from __future__ import annotations

from pathlib import Path

from devices.emulated import EmulatedDriver
from devices.modbus.link import ModbusEndpoint, ModbusLink
from devices.relay.config import ModbusEmulatedConfig
from devices.relay.emulators import ModbusRelayEmulator
from devices.relay.modbus import ModbusRelay
from gate.domain.device_ports import DeviceHealth
from gate.domain.model import Direction


class EmulatedModbusRelay(EmulatedDriver[ModbusRelayEmulator, ModbusRelay]):
    """The real ``ModbusRelay`` talking TCP to an in-process emulated relay module.

    ``emulator`` is the module: its ``pulses`` and ``barrier_closed()`` show what happened.
    """

    def __init__(
        self,
        name: str,
        *,
        coil: int = 0,
        pulse_ms: int = 500,
        emulator: ModbusRelayEmulator | None = None,
    ) -> None:
        def relay(module: ModbusRelayEmulator) -> ModbusRelay:
            endpoint = ModbusEndpoint(host=module.host, port=module.port)
            link = ModbusLink(endpoint, device=name)
            return ModbusRelay(
                name, link=link, coil=coil, pulse_ms=pulse_ms, closed_input=module.closed_input
            )

        super().__init__(emulator or ModbusRelayEmulator(barrier_coil=coil), relay)

    @classmethod
    def from_config(
        cls, config: ModbusEmulatedConfig, *, name: str, data_dir: Path
    ) -> EmulatedModbusRelay:
        """Build from a ``modbus-emulated`` config: start the emulator on a free port."""
        return cls(name, coil=config.coil, pulse_ms=config.pulse_ms)

    def open(self, lane: str, direction: Direction) -> None:
        """Pulse the emulated module's coil."""
        self.driver.open(lane, direction)

    def probe(self) -> DeviceHealth:
        """See ``ModbusRelay.probe``."""
        return self.driver.probe()
