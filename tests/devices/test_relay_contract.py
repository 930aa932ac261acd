"""The ``BarrierRelay`` contract, run against every relay driver.

Always on the emulators; on a real relay when ``GATE_TEST_HARDWARE`` holds its device
config as JSON (an object or a list of them), e.g.
``GATE_TEST_HARDWARE='{"type": "serial-relay", "port": "/dev/ttyUSB0", "pulse_ms": 200}'``.
The real barrier will open: stand by it.
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

from devices.drivers import BarrierConfig, open_driver
from devices.modbus.config import Transport
from devices.modbus.link import ModbusEndpoint, ModbusLink
from devices.relay.emulated import EmulatedModbusRelay
from devices.relay.emulators import ModbusRelayEmulator, SerialRelayBoardEmulator
from devices.relay.modbus import ModbusRelay
from devices.relay.serial_board import SerialRelayBoard
from gate.domain.device_ports import BarrierRelay, DeviceHealth, DeviceState
from gate.domain.errors import DeviceIOError
from gate.domain.model import Direction

HARDWARE_TYPES = {"modbus-relay", "serial-relay"}


def _every_driver_is_a_barrier_relay(
    a: ModbusRelay, b: EmulatedModbusRelay, c: SerialRelayBoard
) -> list[BarrierRelay]:
    return [a, b, c]  # checked by mypy: each class satisfies the port


def hardware_relays() -> list[BarrierConfig]:
    """The relay configs named by GATE_TEST_HARDWARE (a typo in one fails loudly)."""
    raw = os.environ.get("GATE_TEST_HARDWARE", "").strip()
    if not raw:
        return []
    items = json.loads(raw)
    adapter: TypeAdapter[BarrierConfig] = TypeAdapter(BarrierConfig)
    return [
        adapter.validate_python(item)
        for item in (items if isinstance(items, list) else [items])
        if item.get("type") in HARDWARE_TYPES
    ]


@dataclass
class RelayUnderTest:
    relay: BarrierRelay
    unplug: Callable[[], None] | None  # makes the device vanish; None for real hardware


def _modbus(stack: ExitStack, transport: Transport) -> RelayUnderTest:
    emulator = ModbusRelayEmulator(transport=transport)
    emulator.start()
    stack.callback(emulator.close)
    if transport == "rtu":
        endpoint = ModbusEndpoint(
            transport="rtu", serial_port=emulator.server.serial_port, timeout=0.5
        )
    else:
        endpoint = ModbusEndpoint(port=emulator.port, timeout=0.5)
    link = ModbusLink(endpoint, device="contract")
    relay = ModbusRelay("contract", link=link, pulse_ms=60, closed_input=0)
    stack.callback(relay.close)
    return RelayUnderTest(relay, emulator.stop)


def _serial_board(stack: ExitStack) -> RelayUnderTest:
    board = SerialRelayBoardEmulator()
    board.start()
    stack.callback(board.stop)
    relay = SerialRelayBoard("contract", port=board.port, pulse_ms=60)
    stack.callback(relay.close)
    return RelayUnderTest(relay, board.unplug)


def _emulated(stack: ExitStack) -> RelayUnderTest:
    relay = EmulatedModbusRelay("contract", pulse_ms=60)
    stack.callback(relay.close)
    return RelayUnderTest(relay, relay.emulator.stop)


def _hardware(stack: ExitStack, data_dir: Path) -> RelayUnderTest:
    configs = hardware_relays()
    if not configs:
        pytest.skip("no relay named by GATE_TEST_HARDWARE (JSON device config); emulators only")
    relay = open_driver(configs[0], name="hardware-relay", data_dir=data_dir)
    stack.callback(relay.close)
    return RelayUnderTest(relay, None)


@pytest.fixture(
    params=[
        "modbus-tcp",
        "modbus-rtu",
        "modbus-emulated",
        "serial-board",
        pytest.param("hardware", marks=pytest.mark.hardware),
    ]
)
def relay_under_test(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RelayUnderTest]:
    """Each relay driver, connected to its emulator (or to the real relay)."""
    with ExitStack() as stack:
        kind = request.param
        if kind == "modbus-tcp":
            yield _modbus(stack, "tcp")
        elif kind == "modbus-rtu":
            yield _modbus(stack, "rtu")
        elif kind == "serial-board":
            yield _serial_board(stack)
        elif kind == "modbus-emulated":
            yield _emulated(stack)
        else:
            yield _hardware(stack, tmp_path)


def test_open_pulses_for_both_directions_and_reports_ok(relay_under_test: RelayUnderTest) -> None:
    relay = relay_under_test.relay
    for direction in Direction:
        relay.open("main", direction)

    health = relay.health()
    assert isinstance(health, DeviceHealth)
    assert health.state is DeviceState.OK
    assert health.last_seen is not None


def test_a_vanished_device_raises_device_io_error_and_is_offline(
    relay_under_test: RelayUnderTest,
) -> None:
    if relay_under_test.unplug is None:
        pytest.skip("a test cannot unplug real hardware")
    relay_under_test.unplug()

    with pytest.raises(DeviceIOError):
        relay_under_test.relay.open("main", Direction.IN)
    assert relay_under_test.relay.health().state is DeviceState.OFFLINE


def test_close_releases_and_may_be_called_twice(relay_under_test: RelayUnderTest) -> None:
    relay_under_test.relay.close()
    relay_under_test.relay.close()

    assert relay_under_test.relay.health().state is DeviceState.OFFLINE
