"""`gate doctor` on a gate that is well, one with a broken config, and one missing its key."""

from __future__ import annotations

import base64
import json
import re
import socket
from pathlib import Path

from typer.testing import CliRunner

from gate.domain.people import Sex
from gate.runtime.bootstrap import Services
from gate.runtime.cli import app
from tests.e2e.conftest import RESIDENT_A, populate
from tests.e2e.test_lane_devices import card


def _config(services: Services, tmp_path: Path, extra: str = "") -> Path:
    settings = services.settings
    path = tmp_path / "gate.toml"
    path.write_text(
        f'data_dir = "{settings.data_dir}"\n'
        f'database_url = "{settings.effective_database_url}"\n'
        f'[secrets]\nkey_file = "{settings.secrets.key_file}"\n{extra}'
    )
    return path


def _doctor(config: Path, *more: str) -> tuple[int, str]:
    # After the command, as the operator's guide writes it; `gate -c FILE doctor` works too.
    result = CliRunner().invoke(
        app, ["doctor", "--config", str(config), "--device-seconds", "2", *more]
    )
    return result.exit_code, result.output


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


EMULATED_LANE = """
[[gate.lanes]]
id = "main"
direction = "in"
id_reader = { type = "ga467-emulated" }
barrier = { type = "modbus-emulated" }
"""


def test_a_well_gate_is_all_well_and_each_device_says_what_it_sees(
    services: Services, tmp_path: Path
) -> None:
    populate(services)
    cards = services.settings.data_dir / "demo" / "cards.json"
    cards.parent.mkdir(parents=True, exist_ok=True)
    cards.write_text(json.dumps([card(RESIDENT_A, "王小明", Sex.MALE)], ensure_ascii=False))
    code, output = _doctor(_config(services, tmp_path, EMULATED_LANE), "--min-free-mb", "1")
    assert code == 0, output
    assert output.rstrip().endswith("all well")
    for check in ("config", "database", "data key", "chain key", "anchors", "clock", "disk"):
        assert f"ok   {check} " in output
    # The emulator presents its card half the time: either answer is what it sees.
    assert re.search(
        r"ok   device main/id_reader  ga467-emulated: answers; (no|a \w+) card", output
    )
    assert "device main/barrier    modbus-emulated: answers (not moved)" in output


def test_a_broken_config_is_the_one_finding_with_its_key_and_fix(tmp_path: Path) -> None:
    config = tmp_path / "gate.toml"
    config.write_text('[server]\nprot = 8000\n[upstream]\nurl = "ftp://hub"\n')
    result = CliRunner().invoke(app, ["-c", str(config), "doctor"])
    code, output = result.exit_code, result.output
    assert code == 1
    lines = output.splitlines()
    assert lines[0].startswith("FAIL config  server.prot: unknown setting")
    assert lines[1].strip().startswith("fix: correct that key")
    assert lines[-1] == "1 to fix"


def test_a_missing_key_an_open_mode_and_an_unreachable_hub_are_findings(
    services: Services, tmp_path: Path
) -> None:
    populate(services)
    assert services.settings.secrets.key_file is not None
    services.settings.secrets.key_file.unlink()
    services.chain_key.path.chmod(0o644)
    hub_key = tmp_path / "hub.key"
    hub_key.write_text("k" * 32)
    hub_key.chmod(0o600)
    upstream = (
        f'[upstream]\nurl = "http://127.0.0.1:{_closed_port()}"\nkey_file = "{hub_key}"\n'
        "timeout_seconds = 2\n"
    )
    code, output = _doctor(_config(services, tmp_path, upstream), "--json")
    assert code == 1
    found = {item["check"]: item for item in json.loads(output)}
    assert found["database"]["ok"]
    data_key = found["data key"]
    assert not data_key["ok"]
    assert "does not exist; the registry holds encrypted document numbers" in data_key["seen"]
    assert "gate restore" in data_key["fix"]
    assert not found["chain key"]["ok"]
    assert found["chain key"]["fix"] == f"chmod 600 {services.chain_key.path}"
    assert not found["upstream"]["ok"]
    assert "check the network to the hub" in found["upstream"]["fix"]
    assert [check for check, item in found.items() if not item["ok"]] == [
        "data key",
        "chain key",
        "upstream",
    ]


def test_another_data_key_is_told_apart_from_a_missing_one(
    services: Services, tmp_path: Path
) -> None:
    populate(services)
    assert services.settings.secrets.key_file is not None
    services.settings.secrets.key_file.write_text(base64.b64encode(bytes(range(32, 64))).decode())
    code, output = _doctor(_config(services, tmp_path))
    assert code == 1
    assert "does not open the stored document numbers: it is another key" in output


def test_a_missing_sqlite_file_is_a_finding_and_is_not_created(tmp_path: Path) -> None:
    config = tmp_path / "gate.toml"
    config.write_text(f'data_dir = "{tmp_path / "var"}"\n')
    code, output = _doctor(config)
    assert code == 1
    assert (
        f"FAIL database    the SQLite file {tmp_path / 'var' / 'gate.db'} does not exist" in output
    )
    assert "fix: gate db upgrade for a new gate, or gate restore BACKUP" in output
    assert "ok   data key    " in output  # not made yet: the first start makes it
    assert not (tmp_path / "var" / "gate.db").exists()
