"""The Modbus thermometer driver against its emulator (a pymodbus server on 127.0.0.1)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.base import DeviceDriver
from devices.drivers import open_driver
from devices.modbus.link import ModbusEndpoint, ModbusLink
from devices.thermometer.config import ModbusThermometerConfig, ThermometerEmulatedConfig
from devices.thermometer.emulated import EmulatedModbusThermometer
from devices.thermometer.emulator import ThermometerEmulator
from devices.thermometer.modbus import ModbusThermometer, celsius
from gate.domain.device_ports import DeviceState
from gate.domain.errors import DeviceIOError, DeviceTimeout

TIMEOUT = 1.0  # the emulator shares this process; a loaded machine can be slow to answer
LANE_TIMEOUT = 0.2  # what a lane asks for


@pytest.fixture
def emulator() -> Iterator[ThermometerEmulator]:
    """A thermometer showing tenths of a degree in holding register 0."""
    device = ThermometerEmulator(scale=10)
    device.start()
    yield device
    device.close()


def make_thermometer(
    port: int,
    *,
    register: int = 0,
    scale: Literal[10, 100] = 10,
    no_reading: Iterable[int] = (),
    timeout: float = TIMEOUT,
) -> ModbusThermometer:
    link = ModbusLink(ModbusEndpoint(port=port, timeout=timeout), device="thermometer")
    return ModbusThermometer(
        "thermometer", link=link, register=register, scale=scale, no_reading=no_reading
    )


@pytest.fixture
def thermometer(emulator: ThermometerEmulator) -> Iterator[ModbusThermometer]:
    """The real driver on the emulator, scale 10."""
    driver = make_thermometer(emulator.port)
    yield driver
    driver.close()


def test_tenths_of_a_degree(emulator: ThermometerEmulator, thermometer: ModbusThermometer) -> None:
    emulator.set_raw(366)
    assert thermometer.read_celsius(TIMEOUT) == 36.6
    emulator.set_celsius(38.2)
    assert thermometer.read_celsius(TIMEOUT) == 38.2
    assert thermometer.health().state is DeviceState.OK


def test_hundredths_of_a_degree() -> None:
    emulator = ThermometerEmulator(scale=100, register=5)
    emulator.start()
    driver = make_thermometer(emulator.port, scale=100, register=5)
    try:
        emulator.set_raw(3655)
        assert driver.read_celsius(TIMEOUT) == 36.55
    finally:
        driver.close()
        emulator.close()


@pytest.mark.parametrize("raw", [0, 0xFFFF])
def test_no_reading_is_none_and_healthy(
    emulator: ThermometerEmulator, thermometer: ModbusThermometer, raw: int
) -> None:
    emulator.set_raw(raw)
    assert thermometer.read_celsius(TIMEOUT) is None
    assert thermometer.health().state is DeviceState.OK


def test_a_configured_no_reading_value_is_none(emulator: ThermometerEmulator) -> None:
    driver = make_thermometer(emulator.port, no_reading=[0x7FFF])
    try:
        emulator.set_raw(0x7FFF)
        assert driver.read_celsius(TIMEOUT) is None
        assert driver.health().state is DeviceState.OK
    finally:
        driver.close()


@pytest.mark.parametrize("value", [29.9, 45.1, 100.0])
def test_an_implausible_value_is_none_and_degrades_health(
    emulator: ThermometerEmulator, thermometer: ModbusThermometer, value: float
) -> None:
    emulator.set_celsius(value)
    assert thermometer.read_celsius(TIMEOUT) is None
    assert thermometer.health().state is DeviceState.DEGRADED
    assert "implausible" in thermometer.health().detail

    emulator.set_celsius(36.9)
    assert thermometer.read_celsius(TIMEOUT) == 36.9
    assert thermometer.health().state is DeviceState.OK


def test_the_limits_are_plausible(
    emulator: ThermometerEmulator, thermometer: ModbusThermometer
) -> None:
    for value in (30.0, 45.0):
        emulator.set_celsius(value)
        assert thermometer.read_celsius(TIMEOUT) == value


def test_a_thermometer_that_goes_away_is_offline_then_read_again_after_backoff(
    emulator: ThermometerEmulator, thermometer: ModbusThermometer
) -> None:
    emulator.set_celsius(36.6)
    assert thermometer.read_celsius(TIMEOUT) == 36.6
    emulator.stop()

    with pytest.raises(DeviceIOError):
        thermometer.read_celsius(TIMEOUT)
    assert thermometer.health().state is DeviceState.OFFLINE

    emulator.start()
    with pytest.raises(DeviceIOError, match="next attempt"):
        thermometer.read_celsius(TIMEOUT)
    time.sleep(DeviceDriver.BACKOFF.first)

    assert thermometer.read_celsius(TIMEOUT) == 36.6
    assert thermometer.health().state is DeviceState.OK


def test_a_server_that_never_answers_times_out() -> None:
    with socket.socket() as silent:  # accepts connections (the kernel does) but never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        driver = make_thermometer(silent.getsockname()[1], timeout=LANE_TIMEOUT)
        try:
            assert driver.health().state is DeviceState.OFFLINE  # the probe at start timed out
            time.sleep(DeviceDriver.BACKOFF.first)
            started = time.monotonic()
            with pytest.raises(DeviceTimeout):
                driver.read_celsius(LANE_TIMEOUT)
            assert time.monotonic() - started < 1.0  # the lane's timeout, not pymodbus' 3 s
        finally:
            driver.close()


def test_rtu_over_a_pair_of_pseudo_terminals() -> None:
    emulator = ThermometerEmulator(scale=10, transport="rtu")
    emulator.start()
    endpoint = ModbusEndpoint(
        transport="rtu", serial_port=emulator.server.serial_port, timeout=TIMEOUT
    )
    driver = ModbusThermometer("thermometer", link=ModbusLink(endpoint, device="thermometer"))
    try:
        emulator.set_celsius(37.4)
        assert driver.read_celsius(TIMEOUT) == 37.4
    finally:
        driver.close()
        emulator.close()


def test_built_from_its_config(emulator: ThermometerEmulator, tmp_path: Path) -> None:
    config = ModbusThermometerConfig(type="modbus-thermometer", port=emulator.port, scale=10)
    driver = open_driver(config, name="thermometer", data_dir=tmp_path)
    try:
        assert isinstance(driver, ModbusThermometer)
        emulator.set_celsius(36.1)
        assert driver.read_celsius(TIMEOUT) == 36.1
    finally:
        driver.close()


def test_the_emulated_thermometer_exposes_its_register(tmp_path: Path) -> None:
    config = ThermometerEmulatedConfig(type="thermometer-emulated", scale=100)
    driver = open_driver(config, name="thermometer", data_dir=tmp_path)
    try:
        assert isinstance(driver, EmulatedModbusThermometer)
        assert driver.read_celsius(TIMEOUT) is None  # nobody measured yet
        driver.emulator.set_celsius(37.25)
        assert driver.read_celsius(TIMEOUT) == 37.25
    finally:
        driver.close()


@given(st.integers(min_value=1, max_value=0xFFFE), st.sampled_from([10, 100]))
def test_a_register_value_is_divided_by_the_scale(raw: int, scale: Literal[10, 100]) -> None:
    assert celsius(raw, scale=scale) == pytest.approx(raw / scale, abs=0.005)


@given(st.decimals(min_value=30, max_value=45, places=2))
def test_a_temperature_survives_the_register_in_hundredths(value: Decimal) -> None:
    assert celsius(int(value * 100), scale=100) == float(value)
