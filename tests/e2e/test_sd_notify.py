"""``gate serve`` under systemd's notify protocol: READY=1 once it accepts connections,
then WATCHDOG=1 at every upkeep round (the unit is ``Type=notify`` with ``WatchdogSec``)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from gate.runtime.bootstrap import Services


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.slow
def test_serve_says_ready_when_listening_then_pings_the_watchdog(
    services: Services, tmp_path: Path
) -> None:
    settings = services.settings
    port = free_port()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(str(tmp_path / "notify.sock"))
    listener.settimeout(1.0)
    env = {key: value for key, value in os.environ.items() if not key.startswith("GATE_")}
    env.update(
        NOTIFY_SOCKET=str(tmp_path / "notify.sock"),
        GATE_DATA_DIR=str(settings.data_dir),
        GATE_DATABASE_URL=settings.effective_database_url,
        GATE_SECRETS__KEY_FILE=str(settings.secrets.key_file),
        GATE_SERVER__PORT=str(port),
        GATE_GATE__SNAPSHOT_POLL_SECONDS="0.2",
        GATE_LOG_LEVEL="WARNING",
    )
    log = tmp_path / "serve.log"
    with log.open("w") as errors:
        server = subprocess.Popen(
            [sys.executable, "-m", "gate", "serve"], env=env, stdout=errors, stderr=errors
        )
    received: list[str] = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and received.count("WATCHDOG=1") < 2:
            try:
                message = listener.recv(256).decode()
            except TimeoutError:
                assert server.poll() is None, log.read_text()
                continue
            if message == "READY=1":
                # Ready means accepting: the health check answers now.
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
                    assert r.status == 200
            received.append(message)
    finally:
        server.terminate()
        server.wait(timeout=30)
        listener.close()
    assert "READY=1" in received
    assert received.count("WATCHDOG=1") >= 2
