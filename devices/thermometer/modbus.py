"""A thermometer that keeps its last reading in a Modbus holding register.

Many gate thermometers (wrist/forehead modules on RS-485 or behind a TCP gateway) expose the
last measured temperature as an unsigned holding register in tenths or hundredths of a
degree. ``read_celsius`` reads it and divides by ``scale``:

- ``0``, ``0xFFFF`` and any configured "no reading" value mean nobody was measured: None;
- a value outside 30..45 C is not a body temperature (a cup of tea, a sensor fault):
  health turns ``degraded`` and the reading is None, never a fever alarm from garbage;
- no answer: ``DeviceIOError`` (``DeviceTimeout`` when it is late), health ``offline``,
  retried with the backoff of ``DeviceDriver``.

The emulator is ``devices.thermometer.emulator.ThermometerEmulator``, and the real driver
against one started in-process is ``devices.thermometer.emulated.EmulatedModbusThermometer``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from devices.base import DeviceDriver
from devices.modbus.link import ModbusLink
from devices.thermometer.config import ModbusThermometerConfig
from gate.domain.device_ports import DeviceHealth
from gate.domain.errors import DeviceIOError

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
        return cls(
            name,
            link=ModbusLink.from_config(config, device=name),
            register=config.holding_register,
            scale=config.scale,
            no_reading=config.no_reading,
        )

    def read_celsius(self, timeout: float) -> float | None:
        """The last measured temperature; None if nobody was measured or it is implausible.

        ``timeout`` bounds the connection and the answer. Raises ``DeviceIOError`` when the
        thermometer does not answer (at once while waiting out the reconnect backoff).
        """
        with self._io_lock:
            self._link.set_timeout(timeout)
            self._reconnect()  # at once: a passage does not wait out a backoff
            try:
                raw = self._link.read_register(self._register)
            except DeviceIOError as exc:
                self._io_failed(exc)
                raise
            value = celsius(raw, scale=self._scale, no_reading=self._no_reading)
            low, high = self._plausible
            if value is not None and not low <= value <= high:
                self._degraded(f"implausible reading {value:.2f} C (raw {raw})")
                return None
            self._seen()
            return value

    def _connected(self) -> bool:
        return self._link.connected

    def _connect_internal(self) -> None:
        self._link.connect()

    def _disconnect_internal(self) -> None:
        self._link.close()

    def close(self) -> None:
        """Release the connection."""
        with self._io_lock:
            self._link.close()
            self._mark_closed()
