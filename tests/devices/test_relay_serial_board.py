"""The serial relay board driver against the board emulator on a pseudo-terminal.

The driver opens the board through a symlink, as it would open a udev ``by-id`` link, so a
re-plugged board (a new pseudo-terminal) is found under the same name.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import serial

from devices.base import DeviceDriver
from devices.drivers import open_driver
from devices.relay.config import SerialRelayConfig
from devices.relay.emulators import SerialRelayBoardEmulator
from devices.relay.serial_board import SerialRelayBoard, command
from gate.domain.device_ports import DeviceState
from gate.domain.errors import DeviceIOError
from gate.domain.model import Direction

ON_1, OFF_1 = bytes.fromhex("A0 01 01 A2"), bytes.fromhex("A0 01 00 A1")
TOLERANCE_S = 0.15  # measured by the emulator's thread: loaded machines add jitter


@pytest.fixture
def board() -> Iterator[SerialRelayBoardEmulator]:
    """A relay board plugged in on a fresh pseudo-terminal."""
    emulator = SerialRelayBoardEmulator()
    emulator.start()
    yield emulator
    emulator.stop()


@pytest.fixture
def board_link(tmp_path: Path, board: SerialRelayBoardEmulator) -> Path:
    """A stable name for the board's port, like /dev/serial/by-id/..."""
    link = tmp_path / "ttyRELAY"
    link.symlink_to(board.port)
    return link


@pytest.fixture
def relay(board_link: Path) -> Iterator[SerialRelayBoard]:
    """The driver on channel 1 with a 100 ms pulse."""
    driver = SerialRelayBoard("main-barrier", port=str(board_link), channel=1, pulse_ms=100)
    yield driver
    driver.close()


@pytest.mark.parametrize(
    ("channel", "on", "frame"),
    [
        (1, True, "A0 01 01 A2"),
        (1, False, "A0 01 00 A1"),
        (2, True, "A0 02 01 A3"),
        (8, False, "A0 08 00 A8"),
        (0x5F, True, "A0 5F 01 00"),  # the sum wraps to 0x100
        (0xFF, True, "A0 FF 01 A0"),
    ],
)
def test_commands_carry_the_low_byte_of_the_sum(channel: int, on: bool, frame: str) -> None:
    assert command(channel, on) == bytes.fromhex(frame)


def test_channel_zero_does_not_exist() -> None:
    with pytest.raises(ValueError, match="channel"):
        command(0, True)


def test_a_pulse_sends_on_then_off_for_channel_1(
    relay: SerialRelayBoard, board: SerialRelayBoardEmulator
) -> None:
    assert board.wait_for(1)[0].on is False  # "off" first: de-energised from the start
    start = len(board.received)

    relay.open("main", Direction.IN)

    board.wait_for(3)
    assert board.received[start:] == ON_1 + OFF_1
    assert board.bad_frames == 0
    [pulse] = board.pulses
    assert pulse.coil == 1
    assert pulse.duration == pytest.approx(0.1, abs=TOLERANCE_S)
    assert not board.relay(1)


def test_a_board_that_never_answers_still_works(
    relay: SerialRelayBoard, board: SerialRelayBoardEmulator
) -> None:
    for _ in range(3):
        relay.open("main", Direction.OUT)

    assert len(board.wait_for(7)) == 7  # off at start, then on/off three times
    assert relay.health().state is DeviceState.OK


def test_an_unplugged_board_is_offline_then_found_again_after_backoff(
    relay: SerialRelayBoard, board: SerialRelayBoardEmulator, board_link: Path
) -> None:
    relay.open("main", Direction.IN)
    board.unplug()

    with pytest.raises(DeviceIOError):
        relay.open("main", Direction.IN)
    assert relay.health().state is DeviceState.OFFLINE
    with pytest.raises(DeviceIOError, match="next attempt"):
        relay.open("main", Direction.IN)

    replugged = SerialRelayBoardEmulator()
    replugged.start()
    try:
        board_link.unlink()
        board_link.symlink_to(replugged.port)
        time.sleep(DeviceDriver.BACKOFF.first)

        relay.open("main", Direction.IN)

        assert relay.health().state is DeviceState.OK
        assert [(c.channel, c.on) for c in replugged.wait_for(3)] == [
            (1, False),
            (1, True),
            (1, False),
        ]
    finally:
        relay.close()
        replugged.stop()


def test_a_missing_port_at_start_is_offline_not_an_error(tmp_path: Path) -> None:
    driver = SerialRelayBoard("main-barrier", port=str(tmp_path / "nothing"), pulse_ms=50)
    try:
        assert driver.health().state is DeviceState.OFFLINE
        with pytest.raises(DeviceIOError):
            driver.open("main", Direction.IN)
    finally:
        driver.close()


def test_close_switches_the_relay_off(
    relay: SerialRelayBoard, board: SerialRelayBoardEmulator
) -> None:
    board.wait_for(1)

    relay.close()

    assert board.wait_for(2)[-1].on is False
    assert relay.health().state is DeviceState.OFFLINE


def test_the_emulator_resynchronises_after_garbage(board: SerialRelayBoardEmulator) -> None:
    with serial.Serial(board.port, 9600, timeout=0) as port:
        port.write(bytes.fromhex("FF A0 01 01 A3") + ON_1)  # junk, a bad checksum, a good one
        port.flush()

    assert [(c.channel, c.on) for c in board.wait_for(1)] == [(1, True)]
    assert board.bad_frames >= 1


def test_built_from_its_config(
    board: SerialRelayBoardEmulator, board_link: Path, tmp_path: Path
) -> None:
    config = SerialRelayConfig(type="serial-relay", port=str(board_link), channel=2, pulse_ms=50)
    driver = open_driver(config, name="main-barrier", data_dir=tmp_path)
    try:
        assert isinstance(driver, SerialRelayBoard)
        driver.open("main", Direction.IN)
        assert [(c.channel, c.on) for c in board.wait_for(3)] == [
            (2, False),
            (2, True),
            (2, False),
        ]
        assert board.received.endswith(bytes.fromhex("A0 02 01 A3 A0 02 00 A2"))
    finally:
        driver.close()
