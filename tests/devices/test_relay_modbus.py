"""The Modbus relay driver against the relay-module emulator (a pymodbus server on 127.0.0.1).

The emulator models a barrier: while coil 0 is pulsed the barrier-closed input 0 drops
(after 50 ms of travel) and rises again 300 ms after the pulse.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pymodbus.client import ModbusTcpClient

from devices.base import DeviceDriver
from devices.drivers import open_driver
from devices.modbus.link import ModbusEndpoint, ModbusLink
from devices.relay.config import ModbusEmulatedConfig, ModbusRelayConfig
from devices.relay.emulated import EmulatedModbusRelay
from devices.relay.emulators import ModbusRelayEmulator
from devices.relay.modbus import ModbusRelay
from gate.domain.device_ports import DeviceState
from gate.domain.errors import ConfigError, DeviceIOError
from gate.domain.model import Direction

PULSE_MS = 200
# Measured at the emulator, so scheduling delays of either thread show up: on a quiet machine
# a pulse is within a few ms, on a loaded one single pulses stray by 100 ms or more.
TOLERANCE_S = 0.15  # "about the configured duration", for one pulse
MEDIAN_TOLERANCE_S = 0.03  # for the median of several (quiet machine: under 2 ms)


@pytest.fixture
def relay_module() -> Iterator[ModbusRelayEmulator]:
    """A relay module emulator serving TCP on a free local port."""
    emulator = ModbusRelayEmulator(travel_s=0.05, hold_s=0.3)
    emulator.start()
    yield emulator
    emulator.close()


def make_relay(
    emulator: ModbusRelayEmulator,
    *,
    pulse_ms: int = PULSE_MS,
    closed_input: int | None = 0,
    confirm_s: float | None = None,
) -> ModbusRelay:
    endpoint = ModbusEndpoint(port=emulator.port, timeout=1.0)
    return ModbusRelay(
        "main-barrier",
        link=ModbusLink(endpoint, device="main-barrier"),
        pulse_ms=pulse_ms,
        closed_input=closed_input,
        confirm_s=confirm_s,
    )


@pytest.fixture
def relay(relay_module: ModbusRelayEmulator) -> Iterator[ModbusRelay]:
    """The real driver connected to the emulator, coil 0, closed contact on input 0."""
    driver = make_relay(relay_module)
    yield driver
    driver.close()


@pytest.fixture
def module_client(relay_module: ModbusRelayEmulator) -> Iterator[ModbusTcpClient]:
    """A second Modbus master on the module, to look at it the way the bus sees it."""
    client = ModbusTcpClient("127.0.0.1", port=relay_module.port, timeout=1.0, retries=0)
    yield client
    client.close()


def contact_closed(client: ModbusTcpClient) -> bool:
    return bool(client.read_discrete_inputs(0, count=1, device_id=1).bits[0])


def wait_until(predicate: Callable[[], bool], timeout: float = 2.0) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_a_pulse_energises_the_coil_for_pulse_ms(
    relay: ModbusRelay, relay_module: ModbusRelayEmulator
) -> None:
    relay.open("main", Direction.IN)

    [pulse] = relay_module.pulses
    assert pulse.coil == 0
    assert pulse.duration == pytest.approx(PULSE_MS / 1000, abs=TOLERANCE_S)
    assert not relay_module.coil(0)
    assert relay.health().state is DeviceState.OK


def test_repeated_pulses_keep_their_length(
    relay_module: ModbusRelayEmulator,
) -> None:
    driver = make_relay(relay_module, pulse_ms=100, closed_input=None)
    try:
        for _ in range(5):
            driver.open("main", Direction.OUT)
    finally:
        driver.close()

    durations = [pulse.duration or 0.0 for pulse in relay_module.pulses]
    assert len(durations) == 5
    assert statistics.median(durations) == pytest.approx(0.1, abs=MEDIAN_TOLERANCE_S), durations
    assert all(d == pytest.approx(0.1, abs=TOLERANCE_S) for d in durations), durations


def test_the_closed_contact_drops_during_the_pulse_and_rises_after(
    relay: ModbusRelay, relay_module: ModbusRelayEmulator, module_client: ModbusTcpClient
) -> None:
    assert contact_closed(module_client)
    opening = threading.Thread(target=relay.open, args=("main", Direction.IN))
    opening.start()
    try:
        assert wait_until(lambda: not contact_closed(module_client), timeout=1.0)
        dropped_at = time.monotonic()
    finally:
        opening.join()

    [pulse] = relay_module.pulses
    assert pulse.off_at is not None
    assert pulse.on_at < dropped_at
    assert not relay_module.barrier_closed(pulse.off_at - 0.001)  # open while the coil is on
    assert wait_until(lambda: contact_closed(module_client), timeout=1.0)
    assert time.monotonic() >= pulse.off_at + relay_module.hold_s
    assert relay.health().state is DeviceState.OK


def test_a_barrier_that_does_not_open_degrades_health(
    relay_module: ModbusRelayEmulator,
) -> None:
    driver = make_relay(relay_module, confirm_s=0.4)
    try:
        relay_module.jammed = True
        with pytest.raises(DeviceIOError, match="did not open"):
            driver.open("main", Direction.IN)
        health = driver.health()
        assert health.state is DeviceState.DEGRADED
        assert "closed contact 0 never dropped" in health.detail
        assert not relay_module.coil(0)  # the relay is not left energised
        assert relay_module.pulses[-1].duration == pytest.approx(0.2, abs=TOLERANCE_S)

        relay_module.jammed = False
        driver.open("main", Direction.IN)
        assert driver.health().state is DeviceState.OK
    finally:
        driver.close()


def test_without_a_closed_contact_there_is_nothing_to_confirm(
    relay_module: ModbusRelayEmulator,
) -> None:
    relay_module.jammed = True
    driver = make_relay(relay_module, closed_input=None)
    try:
        driver.open("main", Direction.IN)
        assert driver.health().state is DeviceState.OK
    finally:
        driver.close()


def test_a_coil_left_on_is_switched_off_at_start(
    relay_module: ModbusRelayEmulator, module_client: ModbusTcpClient
) -> None:
    module_client.write_coil(0, True, device_id=1)  # as a crashed predecessor might leave it
    assert relay_module.coil(0)

    driver = make_relay(relay_module)
    try:
        assert not relay_module.coil(0)
        assert driver.health().state is DeviceState.OK
    finally:
        driver.close()


def test_close_switches_the_coil_off(
    relay: ModbusRelay, relay_module: ModbusRelayEmulator, module_client: ModbusTcpClient
) -> None:
    module_client.write_coil(0, True, device_id=1)

    relay.close()

    assert not relay_module.coil(0)
    assert relay.health().state is DeviceState.OFFLINE
    relay.close()  # twice is harmless


def test_probe_switches_off_a_coil_found_on(
    relay: ModbusRelay, relay_module: ModbusRelayEmulator, module_client: ModbusTcpClient
) -> None:
    module_client.write_coil(0, True, device_id=1)

    assert relay.probe().state is DeviceState.OK
    assert not relay_module.coil(0)


def test_an_error_during_the_pulse_still_switches_the_coil_off(
    relay_module: ModbusRelayEmulator,
) -> None:
    driver = make_relay(relay_module, closed_input=99)  # the module has no input 99
    try:
        with pytest.raises(DeviceIOError, match="Modbus exception 2"):
            driver.open("main", Direction.IN)
        assert not relay_module.coil(0)
        [pulse] = relay_module.pulses
        assert pulse.off_at is not None
        assert driver.health().state is DeviceState.OFFLINE
    finally:
        driver.close()


def test_a_module_that_goes_away_is_offline_then_reconnected_after_backoff(
    relay: ModbusRelay, relay_module: ModbusRelayEmulator
) -> None:
    relay.open("main", Direction.IN)
    relay_module.stop()

    with pytest.raises(DeviceIOError):
        relay.open("main", Direction.IN)
    assert relay.health().state is DeviceState.OFFLINE

    relay_module.start()
    with pytest.raises(DeviceIOError, match="next attempt"):
        relay.open("main", Direction.IN)  # within the backoff: not even tried, though it's back

    time.sleep(DeviceDriver.BACKOFF.first)
    relay.open("main", Direction.IN)

    assert relay.health().state is DeviceState.OK
    assert len(relay_module.pulses) == 2
    assert not relay_module.coil(0)


def test_a_module_missing_at_start_is_offline_not_an_error(
    relay_module: ModbusRelayEmulator,
) -> None:
    relay_module.stop()
    driver = make_relay(relay_module)
    try:
        assert driver.health().state is DeviceState.OFFLINE
        with pytest.raises(DeviceIOError):
            driver.open("main", Direction.IN)
    finally:
        driver.close()


def test_rtu_over_a_pair_of_pseudo_terminals() -> None:
    emulator = ModbusRelayEmulator(transport="rtu")
    emulator.start()
    endpoint = ModbusEndpoint(transport="rtu", serial_port=emulator.server.serial_port, timeout=1.0)
    driver = ModbusRelay(
        "rtu", link=ModbusLink(endpoint, device="rtu"), pulse_ms=150, closed_input=0
    )
    try:
        driver.open("main", Direction.IN)
        [pulse] = emulator.pulses
        assert pulse.duration == pytest.approx(0.15, abs=TOLERANCE_S)
        assert driver.health().state is DeviceState.OK
    finally:
        driver.close()
        emulator.close()


def test_built_from_its_config(relay_module: ModbusRelayEmulator, tmp_path: Path) -> None:
    config = ModbusRelayConfig(
        type="modbus-relay", port=relay_module.port, pulse_ms=100, closed_input=0, timeout=1.0
    )
    driver = open_driver(config, name="main-barrier", data_dir=tmp_path)
    try:
        assert isinstance(driver, ModbusRelay)
        driver.open("main", Direction.IN)
        assert relay_module.pulses[0].duration == pytest.approx(0.1, abs=TOLERANCE_S)
    finally:
        driver.close()


def test_rtu_config_without_a_serial_port_is_refused(tmp_path: Path) -> None:
    config = ModbusRelayConfig(type="modbus-relay", transport="rtu")
    with pytest.raises(ConfigError) as excinfo:
        open_driver(config, name="main-barrier", data_dir=tmp_path)
    assert excinfo.value.key == "serial_port"


def test_the_emulated_relay_exposes_its_module(tmp_path: Path) -> None:
    config = ModbusEmulatedConfig(type="modbus-emulated", pulse_ms=100)
    driver = open_driver(config, name="demo-barrier", data_dir=tmp_path)
    try:
        assert isinstance(driver, EmulatedModbusRelay)
        assert driver.emulator.barrier_closed()
        driver.open("main", Direction.IN)
        [pulse] = driver.emulator.pulses
        assert pulse.duration == pytest.approx(0.1, abs=TOLERANCE_S)
        assert not driver.emulator.barrier_closed()  # still open for the person to pass
        assert driver.health().state is DeviceState.OK
    finally:
        driver.close()
