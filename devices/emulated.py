"""``EmulatedDriver``: a real driver talking to an emulator started for it.

The emulated drivers (``ga467-emulated``, ``modbus-emulated``, ``thermometer-emulated``)
are chosen by config like any other. Each starts its emulator, opens the real driver
against it and, on ``close``, closes both: the driver first, so that it never sees its
device vanish. A subclass adds ``from_config`` and hands the port's methods to ``driver``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

from gate.domain.device_ports import DeviceHealth
from gate.domain.errors import DriverNotAvailable


class Emulator(Protocol):
    """An emulator as the wrapper runs it."""

    def start(self) -> object:
        """Start answering; ``OSError`` if it cannot."""
        ...

    def close(self) -> None:
        """Stop answering and release everything (safe after a failed start)."""
        ...


class Driver(Protocol):
    """A driver as the wrapper closes it."""

    name: str

    def health(self) -> DeviceHealth:
        """The device's state."""
        ...

    def close(self) -> None:
        """Release the device."""
        ...


E = TypeVar("E", bound=Emulator)
D = TypeVar("D", bound=Driver)


class EmulatedDriver(Generic[E, D]):
    """``emulator`` started, then ``driver`` opened against it; ``close`` closes both."""

    def __init__(self, emulator: E, open_driver: Callable[[E], D]) -> None:
        self.emulator = emulator
        try:
            emulator.start()
        except OSError as exc:
            emulator.close()
            raise DriverNotAvailable(
                f"{type(self).__name__}: emulator cannot start: {exc}"
            ) from exc
        try:
            self.driver = open_driver(emulator)
        except BaseException:
            emulator.close()
            raise
        self.name = self.driver.name

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"

    def health(self) -> DeviceHealth:
        """The real driver's view of the emulated device."""
        return self.driver.health()

    def close(self) -> None:
        """Close the driver, then the emulator (twice is harmless)."""
        try:
            self.driver.close()
        finally:
            self.emulator.close()
