"""`gate serve` with ``[logging]`` set: its own and uvicorn's lines, masked, in one JSON file."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.e2e.test_serve import _get_json, free_port, gate, gate_env

PHONE = "13812345678"


@pytest.mark.parametrize("empty_database_url", ["sqlite"], indirect=True)  # no SQL involved
def test_serve_writes_masked_json_lines_to_its_file(
    tmp_path: Path, empty_database_url: str
) -> None:
    env = gate_env(tmp_path, empty_database_url)
    log_file = tmp_path / "logs" / "gate.log"
    env.update(GATE_LOGGING__FORMAT="json", GATE_LOGGING__FILE=str(log_file))
    assert gate(env, "db", "upgrade").returncode == 0
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gate", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert _get_json(f"http://127.0.0.1:{port}/healthz", deadline=30)["status"] == "ok"
        search = f"http://127.0.0.1:{port}/terminal/search?q={PHONE}"
        with pytest.raises(urllib.error.HTTPError) as refused:  # not signed in
            urllib.request.urlopen(search, timeout=5)
        refused.value.close()
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=15)
    assert server.returncode in (0, -15), output
    lines = [json.loads(line) for line in log_file.read_text(encoding="utf-8").splitlines()]
    messages = {(line["logger"], line["message"]) for line in lines}
    assert ("uvicorn.error", "Application startup complete.") in messages
    access = [line["message"] for line in lines if line["logger"] == "uvicorn.access"]
    assert any("GET /terminal/search?q=*** HTTP/1.1" in message for message in access), access
    assert all(line["ts"].endswith("Z") for line in lines)
    assert not [line for line in lines if "color_message" in line]  # uvicorn's ANSI copy
    assert PHONE not in log_file.read_text(encoding="utf-8")
    assert "Application startup complete" not in output  # the file, not stderr
