"""A thermometer that keeps its last reading in a Modbus holding register, and its emulator.

Many gate thermometers (wrist/forehead modules on RS-485 or behind a TCP gateway) expose the
last measured temperature as an unsigned holding register in tenths or hundredths of a
degree. ``read_celsius`` reads it and divides by ``scale``:

- ``0``, ``0xFFFF`` and any configured "no reading" value mean nobody was measured: None;
- a value outside 30..45 C is not a body temperature (a cup of tea, a sensor fault):
  health turns ``degraded`` and the reading is None, never a fever alarm from garbage;
- no answer: ``DeviceIOError`` (``DeviceTimeout`` when it is late), health ``offline``,
  retried with the backoff of ``DeviceDriver``.

``ThermometerEmulator`` is a pymodbus server whose register tests and the demo set;
``EmulatedModbusThermometer`` is the real driver talking TCP to one started in-process.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from pymodbus.simulator import SimDevice

from devices.base import DeviceDriver
from devices.relay.emulators import ModbusEmulatorServer, Transport, bit_blocks
from devices.relay.modbus import ModbusEndpoint, ModbusLink, endpoint_from_config
from devices.thermometer.config import ModbusThermometerConfig, ThermometerEmulatedConfig
from gate.domain.device_ports import DeviceHealth
from gate.domain.errors import DeviceIOError, DriverNotAvailable

NO_READING = frozenset({0, 0xFFFF})
PLAUSIBLE_C = (30.0, 45.0)


def celsius(raw: int, *, scale: int, no_reading: Iterable[int] = NO_READING) -> float | None:
    """The temperature a register value stands for; None for "nobody measured"."""
    if raw in set(no_reading) | NO_READING:
        return None
    return round(raw / scale, 2)


class ModbusThermometer(DeviceDriver):
    """``gate.domain.device_ports.Thermometer`` reading one holding register."""

    def __init__(
        self,
        name: str,
        *,
        link: ModbusLink,
        register: int = 0,
        scale: Literal[10, 100] = 10,
        no_reading: Iterable[int] = (),
        plausible: tuple[float, float] = PLAUSIBLE_C,
    ) -> None:
        super().__init__(name)
        self._link = link
        self._register = register
        self._scale = scale
        self._no_reading = frozenset(no_reading) | NO_READING
        self._plausible = plausible
        self._lock = threading.Lock()
        self.probe()  # health says at once whether the thermometer answers

    def probe(self) -> DeviceHealth:
        """Read the register once (after the backoff, if offline); the resulting health."""
        with contextlib.suppress(DeviceIOError):
            self.read_celsius(self._link.endpoint.timeout)
        return self.health()

    @classmethod
    def from_config(
        cls, config: ModbusThermometerConfig, *, name: str, data_dir: Path
    ) -> ModbusThermometer:
        """Build from a ``modbus-thermometer`` config."""
        endpoint = endpoint_from_config(config, timeout=config.timeout)
        return cls(
            name,
            link=ModbusLink(endpoint, device=name),
            register=config.holding_register,
            scale=config.scale,
            no_reading=config.no_reading,
        )

    def read_celsius(self, timeout: float) -> float | None:
        """The last measured temperature; None if nobody was measured or it is implausible.

        ``timeout`` bounds the connection and the answer. Raises ``DeviceIOError`` when the
        thermometer does not answer (at once while waiting out the reconnect backoff).
        """
        with self._lock:
            self._link.set_timeout(timeout)
            if not self._link.connected and not self._may_retry():
                raise DeviceIOError(
                    f"offline, next attempt in {self._retry_delay():.1f} s", device=self.name
                )
            try:
                raw = self._link.read_register(self._register)
            except DeviceIOError as exc:
                self._link.close()
                self._lost(str(exc))
                raise
            value = celsius(raw, scale=self._scale, no_reading=self._no_reading)
            low, high = self._plausible
            if value is not None and not low <= value <= high:
                self._degraded(f"implausible reading {value:.2f} C (raw {raw})")
                return None
            self._seen()
            return value

    def close(self) -> None:
        """Release the connection."""
        with self._lock:
            self._link.close()
            self._mark_closed()


class ThermometerEmulator:
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
        self.scale = scale
        self.register = register
        self.unit_id = unit_id
        self._lock = threading.Lock()
        self._raw = 0
        self.server = ModbusEmulatorServer(
            self._device, transport=transport, port=port, name="thermometer-emulator"
        )

    def _device(self) -> SimDevice:
        blocks = bit_blocks(coils=16, inputs=16, registers=self.register + 1)
        return SimDevice(self.unit_id, simdata=blocks, action=self._action)

    async def _action(
        self,
        function_code: int,
        start: int,
        address: int,
        count: int,
        registers: list[int],
        values: list[int] | list[bool] | None,
    ) -> None:
        if function_code not in (3, 6, 16) or not address <= self.register < address + count:
            return
        index = self.register - start
        with self._lock:
            if values is not None:  # a master wrote the register: keep what it wrote
                self._raw = int(values[self.register - address])
            registers[index] = self._raw

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

    def start(self) -> None:
        """Start serving."""
        self.server.start()

    def stop(self) -> None:
        """Stop serving; every connection drops (the reading is kept for a restart)."""
        self.server.stop()

    def close(self) -> None:
        """Stop and free the pseudo-terminals (RTU)."""
        self.server.close()

    @property
    def host(self) -> str:
        """Where the TCP server listens."""
        return self.server.host

    @property
    def port(self) -> int:
        """The TCP port."""
        return self.server.port


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
