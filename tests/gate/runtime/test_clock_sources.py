"""The clock's references against real servers on localhost: NTP over UDP, a hub's Date."""

from __future__ import annotations

import json
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from gate.app.clock_watch import ClockUnavailable
from gate.domain.errors import ConfigError
from gate.runtime.cli import app
from gate.runtime.clock_sources import (
    HubDateSource,
    SntpSource,
    from_ntp,
    parse_host_port,
    to_ntp,
)
from tests.ntp_server import ntp_server


@pytest.mark.parametrize("offset", [0.0, 12.5, -3600.25])
def test_sntp_reads_the_servers_offset(offset: float) -> None:
    with ntp_server(offset=offset) as server:
        reading = SntpSource(server.address, timeout=2).read()
    assert reading.offset_seconds == pytest.approx(offset, abs=0.05)
    assert 0 <= reading.round_trip_seconds < 0.5
    assert reading.source == f"ntp {server}"
    assert reading.at.tzinfo is not None


def test_the_servers_own_delay_is_not_counted_as_offset() -> None:
    with ntp_server(offset=5.0, delay=0.3) as server:
        reading = SntpSource(server.address, timeout=2).read()
    assert reading.offset_seconds == pytest.approx(5.0, abs=0.05)
    assert reading.round_trip_seconds < 0.2  # the 0.3 s spent inside the server is not travel


@pytest.mark.parametrize(
    ("server_kwargs", "why"),
    [
        ({"stratum": 0}, "kiss-o'-death"),
        ({"leap": 3}, "not synchronised"),
        ({"echo": False}, "another request"),
    ],
)
def test_an_answer_that_cannot_be_trusted_is_refused(
    server_kwargs: dict[str, Any], why: str
) -> None:
    with (
        ntp_server(offset=0, **server_kwargs) as server,
        pytest.raises(ClockUnavailable, match=why),
    ):
        SntpSource(server.address, timeout=2).read()


def test_a_silent_server_is_unavailable_not_a_hang() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))  # receives, never answers
        port = silent.getsockname()[1]
        started = time.monotonic()
        with pytest.raises(ClockUnavailable):
            SntpSource(f"127.0.0.1:{port}", timeout=0.3).read()
    assert time.monotonic() - started < 2


def test_ntp_timestamps_and_server_names() -> None:
    assert from_ntp(to_ntp(1_733_089_721.25)) == pytest.approx(1_733_089_721.25, abs=1e-6)
    assert to_ntp(0) >> 32 == 2_208_988_800
    assert parse_host_port("ntp.aliyun.com") == ("ntp.aliyun.com", 123)
    assert parse_host_port("10.0.0.1:1123") == ("10.0.0.1", 1123)
    assert parse_host_port("[fd00::1]:124") == ("fd00::1", 124)
    assert parse_host_port("[fd00::1]") == ("fd00::1", 123)


@contextmanager
def hub_with_date(offset: float, status: int = 200) -> Iterator[str]:
    """An HTTP server whose ``Date`` is ``offset`` s off this machine's clock."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response_only(status)
            self.send_header("Date", formatdate(time.time() + offset, usegmt=True))
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, name="test-hub", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.mark.parametrize(("offset", "status"), [(-42.0, 200), (30.0, 503)])
def test_the_hubs_date_header_gives_the_offset_to_a_second(offset: float, status: int) -> None:
    with hub_with_date(offset, status) as url:
        reading = HubDateSource(url, timeout=2).read()
    assert reading.offset_seconds == pytest.approx(offset, abs=0.6)
    assert reading.source == f"hub {url}"


def test_an_unreachable_hub_is_unavailable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nobody listens once it is closed
    with pytest.raises(ClockUnavailable):
        HubDateSource(f"http://127.0.0.1:{port}", timeout=1).read()


@pytest.fixture
def gate_cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[..., Result]:
    """``gate ...`` in this process with only the given ``GATE_*`` settings."""
    for name in list(os.environ):
        if name.startswith("GATE_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)

    def run(*args: str, **env: str) -> Result:
        return CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)

    return run


def test_gate_clock_check_prints_the_offset_and_alarms_with_exit_2(
    gate_cli: Callable[..., Result],
) -> None:
    with ntp_server(offset=-25.0) as server:
        ok = gate_cli(
            "clock",
            "check",
            "--json",
            GATE_CLOCK__NTP_SERVER=server.address,
            GATE_CLOCK__ALARM_SECONDS="30",
        )
        off = gate_cli("clock", "check", GATE_CLOCK__NTP_SERVER=server.address)
    assert ok.exit_code == 0, ok.output
    answer = json.loads(ok.stdout)
    assert answer["offset_seconds"] == pytest.approx(-25.0, abs=0.05)
    assert answer["beyond"] is False
    assert off.exit_code == 2
    assert re.match(
        rf"ntp {re.escape(server.address)}: this clock is 2[45]\.\d{{3}} s fast", off.stdout
    )
    assert "ALARM: over 10 s" in off.stdout


def test_gate_clock_check_asks_the_hub_without_an_ntp_server(
    gate_cli: Callable[..., Result],
) -> None:
    with hub_with_date(3.0) as url:
        result = gate_cli("clock", "check", GATE_UPSTREAM__URL=url)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"hub {url}: this clock is ")
    assert "within 10 s" in result.stdout


def test_gate_clock_check_without_a_reference_says_what_to_set(
    gate_cli: Callable[..., Result],
) -> None:
    with pytest.raises(ConfigError, match="ntp_server"):
        gate_cli("clock", "check")
