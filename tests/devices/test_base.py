"""The base class's read loop: deadline, reconnect after the backoff, failures once, close."""

from __future__ import annotations

import threading
import time

import pytest

from devices.base import ReadingDriver
from gate.domain.backoff import Backoff
from gate.domain.device_ports import DeviceState
from gate.domain.errors import DeviceIOError


class FakeDevice(ReadingDriver[str]):
    """A device whose connects and reads follow a script; it records what it was asked."""

    BACKOFF = Backoff(first=0.2, cap=10.0)

    def __init__(self, *, connects: list[bool], readings: list[str | Exception | None]) -> None:
        super().__init__("fake")
        self.connects = connects
        self.readings = readings
        self.calls: list[str] = []
        self.open = False

    def _connected(self) -> bool:
        return self.open

    def _connect_internal(self) -> None:
        self.calls.append("connect")
        if not self.connects.pop(0):
            raise DeviceIOError("cannot open", device=self.name)
        self.open = True

    def _disconnect_internal(self) -> None:
        self.open = False

    def _read_internal(self, timeout: float) -> str | None:
        self.calls.append("read")
        reading = self.readings.pop(0) if self.readings else None
        if isinstance(reading, Exception):
            raise reading
        if reading is None:
            time.sleep(timeout)
        return reading

    def read(self, timeout: float) -> str | None:
        return self._read(timeout)


def test_a_reading_comes_back_and_none_after_the_deadline() -> None:
    device = FakeDevice(connects=[True], readings=["a"])
    assert device.read(1.0) == "a"
    started = time.monotonic()
    assert device.read(0.1) is None
    assert 0.09 <= time.monotonic() - started < 0.5
    assert device.calls == ["connect", "read", "read"]


def test_a_failed_connect_raises_once_then_waits_out_the_backoff() -> None:
    device = FakeDevice(connects=[False, True], readings=["a"])
    with pytest.raises(DeviceIOError, match="cannot open"):
        device.read(1.0)
    assert device.health().state is DeviceState.OFFLINE
    with pytest.raises(DeviceIOError, match="next attempt"):
        device.read(0.05)  # the backoff outlasts the timeout: no new attempt
    assert device.calls == ["connect"]
    assert device.read(1.0) == "a"  # the backoff fits in the timeout: waited, reconnected
    assert device.calls == ["connect", "connect", "read"]


def test_a_failed_read_releases_the_connection_and_counts_as_lost() -> None:
    device = FakeDevice(connects=[True, True], readings=[DeviceIOError("gone"), "b"])
    with pytest.raises(DeviceIOError, match="gone"):
        device.read(1.0)
    assert not device.open
    assert device.health().state is DeviceState.OFFLINE
    assert device.read(1.0) == "b"
    assert device.calls == ["connect", "read", "connect", "read"]


def test_close_wakes_a_read_waiting_out_the_backoff() -> None:
    device = FakeDevice(connects=[False, False], readings=[])
    with pytest.raises(DeviceIOError):
        device.read(0.0)
    closer = threading.Timer(0.05, device._mark_closed)
    closer.start()
    started = time.monotonic()
    with pytest.raises(DeviceIOError, match="closed"):
        device.read(10.0)
    assert time.monotonic() - started < 0.5
    closer.join()


def test_a_url_in_a_failure_reaches_neither_the_health_nor_the_log_with_its_password(
    caplog: pytest.LogCaptureFixture,
) -> None:
    source = "rtsp://admin:s3cr/et@10.0.0.5/h264"
    device = FakeDevice(connects=[True], readings=[DeviceIOError(f"{source} stopped")])
    with caplog.at_level("DEBUG", logger="devices"), pytest.raises(DeviceIOError):
        device.read(1.0)
    assert device.health().detail == "rtsp://admin:***@10.0.0.5/h264 stopped"
    assert "10.0.0.5" in caplog.text
    assert "s3cr" not in caplog.text
    assert "et@" not in caplog.text
