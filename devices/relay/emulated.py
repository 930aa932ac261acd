"""``EmulatedModbusRelay``: the real Modbus relay driver against an in-process emulated module."""

from __future__ import annotations

from pathlib import Path

from devices.modbus.link import ModbusEndpoint, ModbusLink
from devices.relay.config import ModbusEmulatedConfig
from devices.relay.emulators import ModbusRelayEmulator
from devices.relay.modbus import ModbusRelay
from gate.domain.device_ports import DeviceHealth
from gate.domain.errors import DriverNotAvailable
from gate.domain.model import Direction


class EmulatedModbusRelay:
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
        self.name = name
        self.emulator = emulator or ModbusRelayEmulator(barrier_coil=coil)
        try:
            self.emulator.start()
        except OSError as exc:
            raise DriverNotAvailable(f"emulated relay module cannot start: {exc}") from exc
        endpoint = ModbusEndpoint(host=self.emulator.host, port=self.emulator.port)
        self.relay = ModbusRelay(
            name,
            link=ModbusLink(endpoint, device=name),
            coil=coil,
            pulse_ms=pulse_ms,
            closed_input=self.emulator.closed_input,
        )

    @classmethod
    def from_config(
        cls, config: ModbusEmulatedConfig, *, name: str, data_dir: Path
    ) -> EmulatedModbusRelay:
        """Build from a ``modbus-emulated`` config: start the emulator on a free port."""
        return cls(name, coil=config.coil, pulse_ms=config.pulse_ms)

    def open(self, lane: str, direction: Direction) -> None:
        """Pulse the emulated module's coil."""
        self.relay.open(lane, direction)

    def health(self) -> DeviceHealth:
        """The driver's view of the emulated module."""
        return self.relay.health()

    def probe(self) -> DeviceHealth:
        """See ``ModbusRelay.probe``."""
        return self.relay.probe()

    def close(self) -> None:
        """Close the driver, then stop the emulator."""
        try:
            self.relay.close()
        finally:
            self.emulator.close()
