"""``gate devices read-id`` and ``gate devices emulate id-reader``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gate.domain.errors import ConfigError
from gate.runtime.cli import app
from tests.devices.ga467_helpers import (
    ALL_TYPES,
    RESIDENT,
    emulator,
    read_until,
    serial_reader,
    write_cards,
)

CARD_KEYS = [
    "card_type", "name", "name_en", "sex", "ethnicity", "birth_date", "address", "id_number",
    "authority", "valid_from", "valid_to", "pass_number", "issue_count", "nationality",
    "renewal_count", "previous_number", "address_endorsement", "photo_wlt_b64",
]  # fmt: skip
GATE = [sys.executable, "-m", "gate"]


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_read_id_once_prints_one_json_line_with_exactly_the_card_keys(runner: CliRunner) -> None:
    with emulator() as emu:
        emu.place(0)
        result = runner.invoke(app, ["devices", "read-id", "--port", emu.path, "--once", "--json"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    data = json.loads(lines[0])
    assert list(data) == CARD_KEYS
    assert data == RESIDENT.to_json()
    assert data["name"] == "测试样例"  # not \\u-escaped


def test_read_id_prints_a_readable_card_without_json(runner: CliRunner) -> None:
    with emulator() as emu:
        emu.place(3)
        result = runner.invoke(app, ["devices", "read-id", "--port", emu.path, "--once"])
    assert result.exit_code == 0, result.output
    assert "foreign_2023:" in result.stdout
    assert "WOLFESCHLEGELSTEINHAUSEN, HUBERT BLAINE JR" in result.stdout
    assert "photo_wlt" in result.stdout


def test_read_id_once_gives_up_after_wait_seconds(runner: CliRunner) -> None:
    with emulator() as emu:
        args = ["devices", "read-id", "--port", emu.path, "--once", "--wait", "0.5"]
        result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert "no card within 0.5 s" in result.output


def test_read_id_on_a_missing_port_prints_one_error_line(tmp_path: Path) -> None:
    port = str(tmp_path / "ttyUSB9")
    done = subprocess.run(
        [*GATE, "devices", "read-id", "--port", port, "--once", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert done.stdout == ""
    errors = done.stderr.strip().splitlines()
    assert len(errors) == 1
    assert errors[0].startswith("error: read-id: cannot open")
    assert port in errors[0]


def test_emulate_defaults_to_the_demo_cards_of_the_data_dir(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GATE_DATA_DIR", str(tmp_path / "var"))
    result = runner.invoke(app, ["devices", "emulate", "id-reader"])
    assert isinstance(result.exception, ConfigError)
    assert str(tmp_path / "var" / "demo" / "cards.json") in str(result.exception)


@pytest.mark.slow
def test_emulate_serves_a_pty_until_interrupted(tmp_path: Path) -> None:
    cards = write_cards(tmp_path / "cards.json", ALL_TYPES, expected="resident")
    process = subprocess.Popen(
        [*GATE, "devices", "emulate", "id-reader", "--cards", str(cards), "--interval", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        path = process.stdout.readline().strip()
        assert os.path.exists(path)
        with serial_reader(path) as reader:
            assert read_until(reader, 5.0) in ALL_TYPES
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
        assert not os.path.exists(path)
        assert process.stderr is not None
        assert "4 cards" in process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()
