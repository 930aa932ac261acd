"""SerialQrScanner against the pty emulator; its framing and decoding on their own."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.drivers import open_driver
from devices.qr.config import SerialQrConfig
from devices.qr.emulators import PtyQrScanner
from devices.qr.serial_scanner import LineFramer, SerialQrScanner, decode_code
from gate.domain.device_ports import DeviceState
from gate.domain.errors import DeviceIOError

TERMINATOR_BYTES = {"cr": b"\r", "lf": b"\n", "crlf": b"\r\n"}


def open_device_fds() -> set[str]:
    """This process's open ptys and pipes, as ``fd->target``."""
    found = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(("/dev/pts/", "/dev/ptmx", "pipe:")):
            found.add(f"{fd}->{target}")
    return found


@pytest.fixture(autouse=True)
def _no_leaked_ptys() -> Iterator[None]:
    """Fail a test that leaves a pty or pipe open."""
    before = open_device_fds()
    yield
    leaked = open_device_fds() - before
    assert not leaked, f"test leaked descriptors: {sorted(leaked)}"


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[PtyQrScanner]:
    """A scanner on a pty, published as a by-id style symlink."""
    with PtyQrScanner(link=tmp_path / "ttyQR") as pty:
        yield pty


@pytest.fixture
def scanner(emulator: PtyQrScanner) -> Iterator[SerialQrScanner]:
    """The driver on the emulator's port, CR-terminated."""
    driver = SerialQrScanner(emulator.port, name="qr")
    yield driver
    driver.close()


@pytest.mark.parametrize("terminator", ["cr", "lf", "crlf"])
def test_codes_come_in_order_whatever_the_terminator(tmp_path: Path, terminator: str) -> None:
    with PtyQrScanner(terminator=TERMINATOR_BYTES[terminator]) as pty:
        driver = SerialQrScanner(pty.port, name="qr", terminator=terminator)  # type: ignore[arg-type]
        try:
            pty.scan("https://gate.example/p?t=AbC-123_x")
            pty.scan("R01-102-3")
            assert driver.read_code(2.0) == "https://gate.example/p?t=AbC-123_x"
            assert driver.read_code(2.0) == "R01-102-3"
            assert driver.read_code(0.05) is None
        finally:
            driver.close()


def test_health_is_ok_with_last_seen(scanner: SerialQrScanner, emulator: PtyQrScanner) -> None:
    health = scanner.health()
    assert health.state is DeviceState.OK
    assert health.last_seen is not None
    emulator.scan("x")
    assert scanner.read_code(1.0) == "x"
    assert scanner.health().last_seen is not None


def test_a_code_split_over_reads_is_kept_until_its_terminator(
    scanner: SerialQrScanner, emulator: PtyQrScanner
) -> None:
    emulator.send(b"eyJwIjoi")
    assert scanner.read_code(0.1) is None
    emulator.send(b"UjAxIn0")
    assert scanner.read_code(0.1) is None
    emulator.send(b"\rnext")
    assert scanner.read_code(1.0) == "eyJwIjoiUjAxIn0"
    emulator.send(b"\r")
    assert scanner.read_code(1.0) == "next"


def test_a_crlf_split_between_its_two_bytes(tmp_path: Path) -> None:
    with PtyQrScanner(terminator=b"\r\n") as pty:
        driver = SerialQrScanner(pty.port, name="qr", terminator="crlf")
        try:
            pty.send(b"line one\r")
            assert driver.read_code(0.1) is None
            pty.send(b"\nline\rtwo\r\n")  # a lone CR inside a CRLF code is content
            assert driver.read_code(1.0) == "line one"
            assert driver.read_code(1.0) == "line\rtwo"
        finally:
            driver.close()


def test_crlf_sent_to_a_port_set_to_cr_gives_clean_codes(
    scanner: SerialQrScanner, emulator: PtyQrScanner
) -> None:
    emulator.send(b"first\r\nsecond\r\n\r\n")
    assert scanner.read_code(1.0) == "first"
    assert scanner.read_code(1.0) == "second"
    assert scanner.read_code(0.1) is None  # empty lines are no codes


def test_overlong_garbage_is_dropped_and_the_scanner_recovers(emulator: PtyQrScanner) -> None:
    driver = SerialQrScanner(emulator.port, name="qr", max_code_bytes=1024)
    try:
        for _ in range(12):  # 12 KB at a wrong baud rate, never a terminator
            emulator.send(bytes(range(14, 256)) * 4 + b"\x00" * 56)
            assert driver.read_code(0.05) is None
        assert driver._framer._buffer.__len__() <= 1024
        health = driver.health()
        assert health.state is DeviceState.DEGRADED
        assert "garbage" in health.detail
        emulator.send(b"tail of the garbage\r")
        emulator.scan("R01-102-3")
        assert driver.read_code(1.0) == "R01-102-3"  # the garbage's tail is not a code
        assert driver.read_code(0.05) is None
    finally:
        driver.close()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("门禁通行证 R01".encode(), "门禁通行证 R01"),
        ("门禁通行证 R01".encode("gbk"), "门禁通行证 R01"),
        ("访客€".encode("gb18030"), "访客€"),
        (b"\xef\xbb\xbfBOM-prefixed", "BOM-prefixed"),
    ],
)
def test_text_is_utf8_or_gb18030(
    scanner: SerialQrScanner, emulator: PtyQrScanner, raw: bytes, expected: str
) -> None:
    emulator.send(raw + b"\r")
    assert scanner.read_code(1.0) == expected


def test_undecodable_bytes_never_crash(scanner: SerialQrScanner, emulator: PtyQrScanner) -> None:
    emulator.send("ゲート".encode("shift_jis") + b"\r")  # mojibake, not an error
    emulator.send(b"\xff\xfe\x80 ok\r")
    assert isinstance(scanner.read_code(1.0), str)
    code = scanner.read_code(1.0)
    assert code is not None
    assert "\ufffd" in code
    assert code.endswith(" ok")


def test_a_scan_made_before_the_port_was_opened_is_stale(emulator: PtyQrScanner) -> None:
    emulator.scan("scanned an hour ago")
    driver = SerialQrScanner(emulator.port, name="qr")
    try:
        assert driver.read_code(0.2) is None
        emulator.scan("now")
        assert driver.read_code(1.0) == "now"
    finally:
        driver.close()


def test_timeouts_are_honoured(scanner: SerialQrScanner) -> None:
    started = time.monotonic()
    assert scanner.read_code(0) is None
    assert time.monotonic() - started < 0.05
    started = time.monotonic()
    assert scanner.read_code(0.3) is None
    assert 0.28 <= time.monotonic() - started < 0.6


def test_unplug_gives_one_io_error_then_offline_then_reconnects(
    scanner: SerialQrScanner, emulator: PtyQrScanner
) -> None:
    emulator.unplug()
    with pytest.raises(DeviceIOError) as failed:
        scanner.read_code(1.0)
    assert failed.value.device == "qr"
    assert not isinstance(failed.value.__cause__, DeviceIOError)  # mapped from pyserial/OS
    assert scanner.health().state is DeviceState.OFFLINE
    started = time.monotonic()
    with pytest.raises(DeviceIOError, match="offline"):
        scanner.read_code(0.3)  # waits out its timeout, no tight loop
    assert time.monotonic() - started >= 0.28
    emulator.plug()
    code = None
    deadline = time.monotonic() + 5
    while code is None and time.monotonic() < deadline:
        try:
            code = scanner.read_code(0.2)
        except DeviceIOError:
            continue
        if scanner.health().state is DeviceState.OK and code is None:
            emulator.scan("back again")
    assert code == "back again"


def test_a_missing_port_is_offline_not_an_exception(tmp_path: Path) -> None:
    driver = SerialQrScanner(str(tmp_path / "ttyNothing"), name="qr")
    try:
        health = driver.health()
        assert health.state is DeviceState.OFFLINE
        assert "open" in health.detail
        with pytest.raises(DeviceIOError):
            driver.read_code(0.1)
    finally:
        driver.close()


def test_a_port_held_by_another_driver_is_not_shared(
    scanner: SerialQrScanner, emulator: PtyQrScanner
) -> None:
    second = SerialQrScanner(emulator.port, name="qr2")
    try:
        assert second.health().state is DeviceState.OFFLINE
    finally:
        second.close()


def test_close_wakes_a_waiting_reader(scanner: SerialQrScanner) -> None:
    outcome: list[BaseException | str | None] = []

    def wait() -> None:
        try:
            outcome.append(scanner.read_code(10.0))
        except DeviceIOError as exc:
            outcome.append(exc)

    reader = threading.Thread(target=wait)
    reader.start()
    time.sleep(0.1)
    started = time.monotonic()
    scanner.close()
    reader.join(2.0)
    assert time.monotonic() - started < 1.0
    assert isinstance(outcome[0], DeviceIOError)
    assert scanner.health().detail == "closed"
    with pytest.raises(DeviceIOError, match="closed"):
        scanner.read_code(0)
    scanner.close()


def test_the_driver_table_builds_it(emulator: PtyQrScanner, tmp_path: Path) -> None:
    config = SerialQrConfig(type="serial-qr", port=emulator.port, baud=115200, terminator="cr")
    driver = open_driver(config, name="lane1-qr_scanner", data_dir=tmp_path)
    try:
        assert isinstance(driver, SerialQrScanner)
        emulator.scan("R01")
        assert driver.read_code(1.0) == "R01"
    finally:
        driver.close()


# --- framing and decoding, no port --------------------------------------------------------

CODES = st.lists(
    st.binary(min_size=1, max_size=60).filter(lambda b: b"\r" not in b), min_size=1, max_size=8
)


@given(CODES, st.lists(st.integers(1, 40), min_size=1, max_size=20))
def test_any_chunking_gives_the_same_codes(codes: list[bytes], cuts: list[int]) -> None:
    stream = b"".join(code + b"\r" for code in codes)
    framer = LineFramer(b"\r", max_length=64)
    lines: list[bytes] = []
    position = 0
    for size in cuts * (len(stream) // sum(cuts) + 1):
        lines += framer.feed(stream[position : position + size])
        position += size
    assert lines == codes


@given(st.lists(st.binary(max_size=500), max_size=30), st.sampled_from([b"\r", b"\n", b"\r\n"]))
def test_framing_any_bytes_stays_bounded(chunks: list[bytes], terminator: bytes) -> None:
    framer = LineFramer(terminator, max_length=100)
    for chunk in chunks:
        for line in framer.feed(chunk):
            assert len(line) <= 100
            assert terminator not in line
        assert len(framer._buffer) <= 100 + len(terminator)


@given(st.binary(max_size=200))
def test_decoding_any_bytes_never_raises(raw: bytes) -> None:
    assert isinstance(decode_code(raw), str)
