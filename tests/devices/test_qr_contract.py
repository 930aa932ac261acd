"""The ``QrScanner`` port contract, run against every scanner driver that can run.

Always on the emulators (serial on a pty, keyboard wedge through the emulated keyboard);
through a uinput virtual keyboard where ``/dev/uinput`` is usable; on real scanners when
``GATE_TEST_HARDWARE`` names them: as JSON device configs (an object or a list, as the
other contract tests read it), e.g. ``'{"type": "serial-qr", "port": "/dev/ttyACM0",
"terminator": "crlf"}'``, or as ``serial-qr=<port>`` / ``hid-qr=<event device>`` entries
separated by ``;``. Nobody scans on real hardware, so the tests that need a scan skip there.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import TypeAdapter

from devices.config import DriverConfig
from devices.drivers import QrScannerConfig, open_driver
from devices.qr.config import HidQrConfig, SerialQrConfig
from devices.qr.emulators import EmulatedKeyboard, PtyQrScanner
from devices.qr.hid import HidQrScanner
from devices.qr.keymap import KEY_ENTER, key_events
from devices.qr.serial_scanner import SerialQrScanner
from gate.domain.device_ports import DeviceState, QrScanner
from gate.domain.errors import DeviceIOError
from tests.devices.test_qr_hid import uinput_unavailable
from tests.devices.test_qr_serial import _no_leaked_ptys  # noqa: F401  (autouse fd guard)

CODES = ["https://gate.example/p?t=AbC-123_x", "eyJwIjoiUjAxLTEwMi0zIn0.kX9_Qm-ZZt4Bw7-FvNHL"]


def hardware_scanner(kind: str) -> DriverConfig | None:
    """The ``kind`` scanner ``GATE_TEST_HARDWARE`` names (a typo in JSON fails loudly)."""
    raw = os.environ.get("GATE_TEST_HARDWARE", "").strip()
    if raw.startswith(("{", "[")):
        items = json.loads(raw)
        adapter: TypeAdapter[DriverConfig] = TypeAdapter(QrScannerConfig)
        for item in items if isinstance(items, list) else [items]:
            if item.get("type") == kind:
                return adapter.validate_python(item)
        return None
    for entry in raw.split(";"):
        key, _, target = entry.strip().partition("=")
        if key == kind and target:
            if kind == "serial-qr":
                return SerialQrConfig(type="serial-qr", port=target)
            return HidQrConfig(type="hid-qr", device=target)
    return None


@dataclass
class Rig:
    """A scanner driver and, where something can scan for the test, how to scan."""

    scanner: QrScanner
    scan: Callable[[str], None] | None


def _uinput_scanner(stack: ExitStack) -> Rig:
    from evdev import UInput, ecodes

    keys = sorted({code for text in CODES for code, _ in key_events(text)} | {KEY_ENTER})
    virtual = stack.enter_context(UInput({ecodes.EV_KEY: keys}, name="gate-contract-wedge"))

    def scan(text: str) -> None:
        for code, value in key_events(text):
            virtual.write(ecodes.EV_KEY, code, value)
            virtual.syn()

    return Rig(HidQrScanner(os.fsdecode(virtual.device.path), name="contract"), scan)


@pytest.fixture(
    params=[
        "serial-pty",
        "hid-emulated",
        "hid-uinput",
        pytest.param("serial-hardware", marks=pytest.mark.hardware),
        pytest.param("hid-hardware", marks=pytest.mark.hardware),
    ]
)
def rig(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Rig]:
    """Each scanner driver that can run here, open and ready; closed afterwards."""
    with ExitStack() as stack:
        if request.param == "serial-pty":
            pty = stack.enter_context(PtyQrScanner())
            built = Rig(SerialQrScanner(pty.port, name="contract"), pty.scan)
        elif request.param == "hid-emulated":
            keyboard = stack.enter_context(EmulatedKeyboard())
            driver = HidQrScanner("/dev/input/emulated", name="contract", opener=keyboard.opener)
            built = Rig(driver, keyboard.scan)
        elif request.param == "hid-uinput":
            reason = uinput_unavailable()
            if reason is not None:
                pytest.skip(reason)
            built = _uinput_scanner(stack)
        else:
            kind = request.param.removesuffix("-hardware") + "-qr"
            config = hardware_scanner(kind)
            if config is None:
                pytest.skip(f"no real scanner: set GATE_TEST_HARDWARE='{kind}=<path>'")
            scanner: QrScanner = open_driver(config, name="contract", data_dir=tmp_path)
            built = Rig(scanner, None)
        stack.callback(built.scanner.close)
        deadline = time.monotonic() + 3
        while built.scanner.health().state is not DeviceState.OK and time.monotonic() < deadline:
            time.sleep(0.01)
        yield built


def scan(rig: Rig, text: str) -> None:
    if rig.scan is None:
        pytest.skip("nobody scans on real hardware")
    rig.scan(text)


def test_an_open_scanner_is_ok_with_last_seen(rig: Rig) -> None:
    health = rig.scanner.health()
    assert health.state is DeviceState.OK, health
    assert health.last_seen is not None


def test_no_scan_gives_none_after_the_timeout(rig: Rig) -> None:
    started = time.monotonic()
    assert rig.scanner.read_code(0.2) is None
    assert 0.18 <= time.monotonic() - started < 1.0
    started = time.monotonic()
    assert rig.scanner.read_code(0) is None
    assert time.monotonic() - started < 0.1


def test_codes_come_back_exactly_and_in_order(rig: Rig) -> None:
    for text in CODES:
        scan(rig, text)
    assert [rig.scanner.read_code(3.0) for _ in CODES] == CODES
    assert rig.scanner.read_code(0.05) is None


def test_each_code_once(rig: Rig) -> None:
    scan(rig, "R01-102-3")
    assert rig.scanner.read_code(3.0) == "R01-102-3"
    assert rig.scanner.read_code(0.2) is None


def test_after_close_reads_fail_and_close_can_be_repeated(rig: Rig) -> None:
    rig.scanner.close()
    assert rig.scanner.health().state is DeviceState.OFFLINE
    with pytest.raises(DeviceIOError):
        rig.scanner.read_code(0.1)
    rig.scanner.close()
