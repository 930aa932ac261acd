"""`gate serve` as an operator runs it: refuses an unmigrated database, then serves."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest


def gate_env(tmp_path: Path, database_url: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("GATE_")}
    env.update(GATE_DATA_DIR=str(tmp_path / "var"), GATE_DATABASE_URL=database_url)
    return env


def gate(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gate", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_serve_refuses_an_unmigrated_database_in_one_line(
    tmp_path: Path, empty_database_url: str
) -> None:
    result = gate(gate_env(tmp_path, empty_database_url), "serve")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        line for line in result.stderr.strip().splitlines() if line.startswith("error:")
    ]
    assert "run: gate db upgrade" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_answers_health_and_stats_after_upgrade(
    tmp_path: Path, empty_database_url: str
) -> None:
    env = gate_env(tmp_path, empty_database_url)
    assert gate(env, "db", "upgrade").returncode == 0
    added = gate(env, "registry", "add-building", "1号楼", "--units", "2")
    assert added.returncode == 0
    assert "generated a new personal-data key" in added.stderr
    created = gate(env, "apikey", "create", "--name", "monitor", "--scope", "registry:read")
    assert created.returncode == 0, created.stderr
    key = created.stdout.split()[-1]
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gate", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        health = _get_json(f"http://127.0.0.1:{port}/healthz", deadline=30)
        assert health["status"] == "ok"
        stats_url = f"http://127.0.0.1:{port}/api/v1/registry/stats"
        stats = _get_json(stats_url, deadline=5, headers={"Authorization": f"Bearer {key}"})
        assert stats["buildings"] == 1
        assert stats["units"] == 2
        with pytest.raises(urllib.error.HTTPError) as anonymous:
            urllib.request.urlopen(stats_url, timeout=5)
        assert anonymous.value.code == 401
        assert anonymous.value.headers["WWW-Authenticate"] == "Bearer"
        anonymous.value.close()
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=15)
    # uvicorn shuts down gracefully, then re-raises SIGTERM as its exit status.
    assert server.returncode in (0, -15), output
    assert "Application shutdown complete" in output
    assert (tmp_path / "var" / "secret.key").stat().st_mode & 0o777 == 0o600


def _get_json(
    url: str, *, deadline: float, headers: dict[str, str] | None = None
) -> dict[str, object]:
    end = time.monotonic() + deadline
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 - localhost
    while True:
        try:
            with urllib.request.urlopen(request, timeout=2) as response:  # noqa: S310 - localhost
                payload: dict[str, object] = json.loads(response.read())
                return payload
        except OSError:
            if time.monotonic() > end:
                pytest.fail(f"{url} did not answer within {deadline} s")
            time.sleep(0.2)
