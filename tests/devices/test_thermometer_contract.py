"""The ``Thermometer`` contract, run against every thermometer driver.

Always on the emulators; on a real thermometer when ``GATE_TEST_HARDWARE`` holds its device
config as JSON (an object or a list of them), e.g.
``GATE_TEST_HARDWARE='{"type": "modbus-thermometer", "host": "192.168.1.40", "scale": 10}'``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import TypeAdapter

from devices.drivers import ThermometerConfig, open_driver
from devices.modbus.config import Transport
from devices.modbus.link import ModbusEndpoint, ModbusLink
from devices.thermometer.emulated import EmulatedModbusThermometer
from devices.thermometer.emulator import ThermometerEmulator
from devices.thermometer.modbus import ModbusThermometer
from gate.domain.device_ports import DeviceHealth, DeviceState, Thermometer
from gate.domain.errors import DeviceIOError

HARDWARE_TYPES = {"modbus-thermometer"}
TIMEOUT = 0.5


def _every_driver_is_a_thermometer(
    a: ModbusThermometer, b: EmulatedModbusThermometer
) -> list[Thermometer]:
    return [a, b]  # checked by mypy: each class satisfies the port


def hardware_thermometers() -> list[ThermometerConfig]:
    """The thermometer configs named by GATE_TEST_HARDWARE (a typo in one fails loudly)."""
    raw = os.environ.get("GATE_TEST_HARDWARE", "").strip()
    if not raw:
        return []
    items = json.loads(raw)
    adapter: TypeAdapter[ThermometerConfig] = TypeAdapter(ThermometerConfig)
    return [
        adapter.validate_python(item)
        for item in (items if isinstance(items, list) else [items])
        if item.get("type") in HARDWARE_TYPES
    ]


@dataclass
class ThermometerUnderTest:
    thermometer: Thermometer
    show: Callable[[float | None], None] | None  # sets what the device reports; None: real
    unplug: Callable[[], None] | None


def _shows(emulator: ThermometerEmulator) -> Callable[[float | None], None]:
    def show(value: float | None) -> None:
        emulator.clear() if value is None else emulator.set_celsius(value)

    return show


def _modbus(stack: ExitStack, transport: Transport) -> ThermometerUnderTest:
    emulator = ThermometerEmulator(scale=10, transport=transport)
    emulator.start()
    stack.callback(emulator.close)
    if transport == "rtu":
        endpoint = ModbusEndpoint(transport="rtu", serial_port=emulator.server.serial_port)
    else:
        endpoint = ModbusEndpoint(port=emulator.port)
    thermometer = ModbusThermometer("contract", link=ModbusLink(endpoint, device="contract"))
    stack.callback(thermometer.close)
    return ThermometerUnderTest(thermometer, _shows(emulator), emulator.stop)


def _emulated(stack: ExitStack) -> ThermometerUnderTest:
    thermometer = EmulatedModbusThermometer("contract", scale=100)
    stack.callback(thermometer.close)
    return ThermometerUnderTest(
        thermometer, _shows(thermometer.emulator), thermometer.emulator.stop
    )


def _hardware(stack: ExitStack, data_dir: Path) -> ThermometerUnderTest:
    configs = hardware_thermometers()
    if not configs:
        pytest.skip("no thermometer named by GATE_TEST_HARDWARE (JSON device config)")
    thermometer = open_driver(configs[0], name="hardware-thermometer", data_dir=data_dir)
    stack.callback(thermometer.close)
    return ThermometerUnderTest(thermometer, None, None)


@pytest.fixture(
    params=[
        "modbus-tcp",
        "modbus-rtu",
        "thermometer-emulated",
        pytest.param("hardware", marks=pytest.mark.hardware),
    ]
)
def thermometer_under_test(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[ThermometerUnderTest]:
    """Each thermometer driver, connected to its emulator (or to the real thermometer)."""
    with ExitStack() as stack:
        kind = request.param
        if kind == "modbus-tcp":
            yield _modbus(stack, "tcp")
        elif kind == "modbus-rtu":
            yield _modbus(stack, "rtu")
        elif kind == "thermometer-emulated":
            yield _emulated(stack)
        else:
            yield _hardware(stack, tmp_path)


def test_a_reading_is_none_or_a_body_temperature(
    thermometer_under_test: ThermometerUnderTest,
) -> None:
    value = thermometer_under_test.thermometer.read_celsius(TIMEOUT)

    assert value is None or 30.0 <= value <= 45.0
    health = thermometer_under_test.thermometer.health()
    assert isinstance(health, DeviceHealth)
    assert health.state is DeviceState.OK


def test_it_reads_what_the_device_shows(thermometer_under_test: ThermometerUnderTest) -> None:
    show = thermometer_under_test.show
    if show is None:
        pytest.skip("a test cannot set a real thermometer's reading")
    thermometer = thermometer_under_test.thermometer

    show(36.8)
    assert thermometer.read_celsius(TIMEOUT) == 36.8
    show(None)
    assert thermometer.read_celsius(TIMEOUT) is None
    show(52.0)
    assert thermometer.read_celsius(TIMEOUT) is None
    assert thermometer.health().state is DeviceState.DEGRADED


def test_a_vanished_device_raises_device_io_error_and_is_offline(
    thermometer_under_test: ThermometerUnderTest,
) -> None:
    if thermometer_under_test.unplug is None:
        pytest.skip("a test cannot unplug real hardware")
    thermometer_under_test.thermometer.read_celsius(TIMEOUT)
    thermometer_under_test.unplug()

    with pytest.raises(DeviceIOError):
        thermometer_under_test.thermometer.read_celsius(TIMEOUT)
    assert thermometer_under_test.thermometer.health().state is DeviceState.OFFLINE


def test_close_releases_and_may_be_called_twice(
    thermometer_under_test: ThermometerUnderTest,
) -> None:
    thermometer_under_test.thermometer.close()
    thermometer_under_test.thermometer.close()

    assert thermometer_under_test.thermometer.health().state is DeviceState.OFFLINE
