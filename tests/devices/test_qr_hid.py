"""HidQrScanner against the emulated keyboard wedge, and end to end through uinput."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from devices.drivers import open_driver
from devices.qr.config import HidQrConfig
from devices.qr.emulators import EmulatedKeyboard
from devices.qr.hid import HidQrScanner
from devices.qr.keymap import EV_KEY, KEY_KPENTER, key_events
from gate.domain.device_ports import DeviceState
from gate.domain.errors import DeviceIOError
from tests.devices.test_qr_serial import _no_leaked_ptys  # noqa: F401  (autouse fd guard)

DEVICE = "/dev/input/by-id/usb-Emulated_QR_Scanner-event-kbd"


def wait_for(predicate: Callable[[], bool], timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


@pytest.fixture
def keyboard() -> Iterator[EmulatedKeyboard]:
    with EmulatedKeyboard() as emulated:
        yield emulated


@pytest.fixture
def scanner(keyboard: EmulatedKeyboard) -> Iterator[HidQrScanner]:
    driver = HidQrScanner(DEVICE, name="qr", opener=keyboard.opener)
    assert wait_for(lambda: driver.health().state is DeviceState.OK)
    yield driver
    driver.close()


def test_codes_typed_come_back_and_the_device_is_grabbed(
    scanner: HidQrScanner, keyboard: EmulatedKeyboard
) -> None:
    assert keyboard.grabbed
    keyboard.scan("https://gate.example/p?t=AbC-123_x")
    keyboard.scan("eyJwIjoiUjAxIn0.kX9_Qm-ZZt4", enter=KEY_KPENTER)
    assert scanner.read_code(2.0) == "https://gate.example/p?t=AbC-123_x"
    assert scanner.read_code(2.0) == "eyJwIjoiUjAxIn0.kX9_Qm-ZZt4"
    assert scanner.read_code(0.05) is None
    health = scanner.health()
    assert health.state is DeviceState.OK
    assert health.last_seen is not None


def test_grab_can_be_turned_off(keyboard: EmulatedKeyboard) -> None:
    driver = HidQrScanner(DEVICE, name="qr", grab=False, opener=keyboard.opener)
    try:
        assert wait_for(lambda: keyboard.opens == 1)
        assert not keyboard.grabbed
    finally:
        driver.close()


def test_a_code_read_while_nobody_waits_is_kept_then_returned(
    scanner: HidQrScanner, keyboard: EmulatedKeyboard
) -> None:
    keyboard.scan("R01-102-3")
    time.sleep(0.3)  # the pipeline is busy; the thread keeps draining the device
    assert scanner.read_code(0) == "R01-102-3"


def test_a_code_nobody_took_in_time_is_not_delivered(
    scanner: HidQrScanner, keyboard: EmulatedKeyboard
) -> None:
    scanner.CODE_TTL = 0.1
    keyboard.scan("a pass from a minute ago")
    time.sleep(0.4)
    keyboard.scan("fresh")
    assert scanner.read_code(1.0) == "fresh"


def test_lost_events_drop_the_interrupted_code_only(
    scanner: HidQrScanner, keyboard: EmulatedKeyboard
) -> None:
    events = [(EV_KEY, code, value) for code, value in key_events("R01-102-3")]
    keyboard.send(events[:10])
    keyboard.lose_events()
    keyboard.send(events[10:])  # the rest of the interrupted code, with its Enter
    keyboard.scan("R01-102-4")
    assert scanner.read_code(2.0) == "R01-102-4"
    assert scanner.read_code(0.05) is None
    health = scanner.health()
    assert health.state is DeviceState.DEGRADED
    assert "lost" in health.detail


def test_an_overlong_code_is_dropped(keyboard: EmulatedKeyboard) -> None:
    driver = HidQrScanner(DEVICE, name="qr", opener=keyboard.opener, max_code_length=32)
    try:
        assert wait_for(lambda: keyboard.opens == 1)
        keyboard.scan("x" * 100)
        keyboard.scan("short")
        assert driver.read_code(2.0) == "short"
        assert driver.health().state is DeviceState.DEGRADED
    finally:
        driver.close()


def test_unplug_goes_offline_and_plugging_back_reconnects(
    scanner: HidQrScanner, keyboard: EmulatedKeyboard
) -> None:
    keyboard.unplug()
    assert wait_for(lambda: scanner.health().state is DeviceState.OFFLINE)
    started = time.monotonic()
    with pytest.raises(DeviceIOError, match="offline"):
        scanner.read_code(0.2)
    assert time.monotonic() - started >= 0.18
    keyboard.plug()
    assert wait_for(lambda: scanner.health().state is DeviceState.OK, 3.0)
    assert keyboard.opens == 2
    keyboard.scan("after replug")
    assert scanner.read_code(2.0) == "after replug"


def test_a_missing_device_is_offline_with_backoff(keyboard: EmulatedKeyboard) -> None:
    keyboard.unplug()
    driver = HidQrScanner(DEVICE, name="qr", opener=keyboard.opener)
    try:
        time.sleep(1.0)
        health = driver.health()
        assert health.state is DeviceState.OFFLINE
        assert "No such file" in health.detail
        assert keyboard.opens == 0
    finally:
        driver.close()


def test_close_wakes_a_reader_and_stops_the_thread(scanner: HidQrScanner) -> None:
    scanner.close()
    assert not scanner._thread.is_alive()
    with pytest.raises(DeviceIOError, match="closed"):
        scanner.read_code(1.0)
    scanner.close()


def test_the_driver_table_builds_it_and_a_missing_device_is_no_exception(tmp_path: Path) -> None:
    config = HidQrConfig(type="hid-qr", device=str(tmp_path / "event-kbd"))
    driver = open_driver(config, name="lane1-qr_scanner", data_dir=tmp_path)
    try:
        assert isinstance(driver, HidQrScanner)
        assert wait_for(lambda: "open" in driver.health().detail)
        assert driver.health().state is DeviceState.OFFLINE
    finally:
        driver.close()


def uinput_unavailable() -> str | None:
    """Why a virtual input device cannot be made here, or None if it can."""
    if not os.path.exists("/dev/uinput"):
        return "no /dev/uinput in this environment (container without the uinput module)"
    if not os.access("/dev/uinput", os.R_OK | os.W_OK):
        return "no read/write access to /dev/uinput"
    if not os.path.isdir("/dev/input"):
        return "no /dev/input: a virtual device would get no device node"
    return None


@pytest.mark.skipif(uinput_unavailable() is not None, reason=str(uinput_unavailable()))
def test_end_to_end_through_a_virtual_keyboard() -> None:
    from evdev import UInput, ecodes

    codes = sorted({code for code, _ in key_events("https://gate.example/p?t=AbC-123_x")})
    with UInput({ecodes.EV_KEY: codes}, name="gate-test-qr-wedge") as virtual:
        driver = HidQrScanner(os.fsdecode(virtual.device.path), name="qr")
        try:
            assert wait_for(lambda: driver.health().state is DeviceState.OK)
            for code, value in key_events("https://gate.example/p?t=AbC-123_x"):
                virtual.write(ecodes.EV_KEY, code, value)
                virtual.syn()
            assert driver.read_code(3.0) == "https://gate.example/p?t=AbC-123_x"
        finally:
            driver.close()
