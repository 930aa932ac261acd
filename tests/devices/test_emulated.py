"""``EmulatedDriver``: the emulator started before the driver, both closed, nothing left behind."""

from __future__ import annotations

import pytest

from devices.emulated import EmulatedDriver
from gate.domain.device_ports import DeviceHealth, DeviceState
from gate.domain.errors import DriverNotAvailable


class FakeEmulator:
    def __init__(self, *, fails: bool = False) -> None:
        self.fails = fails
        self.events: list[str] = []

    def start(self) -> None:
        self.events.append("start")
        if self.fails:
            raise OSError("no free port")

    def close(self) -> None:
        self.events.append("emulator closed")


class FakeDriver:
    def __init__(self, emulator: FakeEmulator) -> None:
        self.name = "lane-thing"
        self.emulator = emulator

    def health(self) -> DeviceHealth:
        return DeviceHealth(DeviceState.OK, "", None)

    def close(self) -> None:
        self.emulator.events.append("driver closed")


def test_the_driver_is_closed_before_its_emulator() -> None:
    emulator = FakeEmulator()
    emulated = EmulatedDriver(emulator, FakeDriver)
    assert emulated.name == "lane-thing"
    assert emulated.health().state is DeviceState.OK

    emulated.close()

    assert emulator.events == ["start", "driver closed", "emulator closed"]


def test_an_emulator_that_cannot_start_is_driver_not_available() -> None:
    emulator = FakeEmulator(fails=True)
    with pytest.raises(DriverNotAvailable, match="no free port"):
        EmulatedDriver(emulator, FakeDriver)
    assert emulator.events == ["start", "emulator closed"]


def test_a_driver_that_cannot_open_stops_the_emulator() -> None:
    emulator = FakeEmulator()

    def refuse(emulator: FakeEmulator) -> FakeDriver:
        raise ValueError("bad setting")

    with pytest.raises(ValueError, match="bad setting"):
        EmulatedDriver(emulator, refuse)
    assert emulator.events == ["start", "emulator closed"]
