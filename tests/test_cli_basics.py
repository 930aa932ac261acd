"""``gate id check`` and ``gate config show``, and the one-line error of the console entry point."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gate.domain.errors import ConfigError
from gate.runtime.cli import app
from tests.conftest import TEST_KEY

WORKED_EXAMPLE = "11010519491231002X"
ENTRY_POINT = "import sys; from gate.runtime.cli import main; sys.argv[0] = 'gate'; main()"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No GATE_* variable or systemd credential of this machine; relative paths stay here."""
    for name in list(os.environ):
        if name.startswith("GATE_"):
            monkeypatch.delenv(name)
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def runner() -> CliRunner:
    """A runner for ``gate.runtime.cli.app`` in this process."""
    return CliRunner()


def with_check(first17: str) -> str:
    weights = [pow(2, 17 - position, 11) for position in range(17)]
    total = sum(int(digit) * weight for digit, weight in zip(first17, weights, strict=True))
    return first17 + "10X98765432"[total % 11]


def run_gate(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the console entry point (``gate.runtime.cli.main``) in a fresh interpreter."""
    return subprocess.run(
        [sys.executable, "-c", ENTRY_POINT, *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=60,
        check=False,
    )


# --- gate id check ----------------------------------------------------------------------


def test_id_check_prints_the_facts_of_a_valid_number(runner: CliRunner) -> None:
    result = runner.invoke(app, ["id", "check", WORKED_EXAMPLE])
    assert result.exit_code == 0, result.output
    assert "valid 居民身份证 (resident_id), ending 002X" in result.stdout
    assert "birth date: 1949-12-31" in result.stdout
    assert "女 (female)" in result.stdout
    assert "110105 北京市朝阳区" in result.stdout
    assert WORKED_EXAMPLE not in result.stdout


def test_id_check_json_output(runner: CliRunner) -> None:
    result = runner.invoke(app, ["id", "check", "--json", WORKED_EXAMPLE])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "valid": True,
        "type": "resident_id",
        "type_label": "居民身份证",
        "birth_date": "1949-12-31",
        "sex": "female",
        "region_code": "110105",
        "region": "北京市朝阳区",
        "nationality_code": None,
        "last4": "002X",
    }


def test_id_check_accepts_full_width_input(runner: CliRunner) -> None:
    result = runner.invoke(app, ["id", "check", "--json", "１１０１０５ １９４９１２３１ ００２ｘ"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["last4"] == "002X"


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("110105194912310021", "check_digit"),
        ("11010519491231002", "length"),
        (with_check("11010519490230002"), "birth_date"),
        ("ABC123", "unrecognised"),
    ],
)
def test_id_check_invalid_number_exits_1_with_the_reason(
    runner: CliRunner, number: str, reason: str
) -> None:
    result = runner.invoke(app, ["id", "check", number])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("invalid: ")
    assert f"[{reason}]" in result.stderr
    assert number not in result.stderr


def test_id_check_invalid_number_as_json(runner: CliRunner) -> None:
    result = runner.invoke(app, ["id", "check", "--json", "110105194912310021"])
    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    assert payload["valid"] is False
    assert payload["reason"] == "check_digit"
    assert "110105194912310021" not in result.stdout


def test_id_check_with_a_type_that_does_not_fit(runner: CliRunner) -> None:
    result = runner.invoke(app, ["id", "check", "--type", "hmt_residence_permit", WORKED_EXAMPLE])
    assert result.exit_code == 1
    assert "[type_mismatch]" in result.stderr


def test_id_check_refuses_a_birth_date_after_today(runner: CliRunner) -> None:
    number = with_check("11010529990101002")
    result = runner.invoke(app, ["id", "check", "--json", number])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["reason"] == "birth_date_future"


def test_id_check_places_a_2017_card_birth_year_in_the_past(runner: CliRunner) -> None:
    result = runner.invoke(app, ["id", "check", "--json", "USA110085010121"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["type"] == "foreign_permanent_2017"
    assert payload["birth_date"] == "1985-01-01"
    assert payload["nationality_code"] == "USA"


def test_id_check_describes_a_2023_foreigner_card(runner: CliRunner) -> None:
    result = runner.invoke(app, ["id", "check", with_check("91184019900101002")])
    assert result.exit_code == 0, result.output
    assert "外国人永久居留身份证(2023版)" in result.stdout
    assert "region:     11 北京市" in result.stdout
    assert "nationality code: 840" in result.stdout


def test_id_check_says_when_a_region_is_not_in_the_table(runner: CliRunner) -> None:
    result = runner.invoke(app, ["id", "check", with_check("10101019900101123")])
    assert result.exit_code == 0, result.output
    assert "101010 (not in GB/T 2260 table)" in result.stdout


def test_id_check_needs_no_configuration(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["--config", str(tmp_path / "absent.toml"), "id", "check", "X"])
    assert result.exit_code == 1
    assert "[unrecognised]" in result.stderr
    assert not (tmp_path / "var").exists()


# --- gate config show -------------------------------------------------------------------


def test_config_show_prints_json_with_the_key_masked(
    runner: CliRunner, tmp_path: Path, key_file: Path
) -> None:
    config = tmp_path / "gate.toml"
    config.write_text(
        f'database_url = "postgresql+psycopg://gate:hunter2@db/gate"\n'
        f'[secrets]\nkey_file = "{key_file}"\n[server]\nport = 9000\n'
    )
    result = runner.invoke(app, ["--config", str(config), "config", "show"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["server"]["port"] == 9000
    assert data["secrets"]["key_file"] == str(key_file)
    assert data["secrets"]["effective_key_file"] == str(key_file)
    assert data["secrets"]["key"] == "***"
    assert data["database_url"] == "postgresql+psycopg://gate:***@db/gate"
    for secret in (base64.b64encode(TEST_KEY).decode(), TEST_KEY.hex(), "hunter2"):
        assert secret not in result.output


def test_config_show_takes_the_file_from_gate_config(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "gate.toml"
    config.write_text('[compound]\nname = "幸福里"\ncode = "xingfuli"\n')
    monkeypatch.setenv("GATE_CONFIG", str(config))
    result = runner.invoke(app, ["config", "show"])
    assert result.exit_code == 0, result.output
    compound = json.loads(result.stdout)["compound"]
    assert (compound["name"], compound["code"]) == ("幸福里", "xingfuli")
    assert compound["province"] == "内蒙古自治区"  # the address levels keep their defaults


def test_config_show_before_first_start_generates_nothing(
    runner: CliRunner, tmp_path: Path
) -> None:
    result = runner.invoke(app, ["config", "show"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["secrets"]["effective_key_file"] == str(Path("var") / "secret.key")
    assert data["secrets"]["key"] == "(not yet generated)"
    assert data["effective_database_url"] == "sqlite:///var/gate.db"
    assert not (tmp_path / "var").exists()


def test_config_show_with_a_bad_config_raises_config_error_in_process(
    runner: CliRunner, tmp_path: Path
) -> None:
    config = tmp_path / "gate.toml"
    config.write_text("[server]\nprot = 9000\n")
    result = runner.invoke(app, ["--config", str(config), "config", "show"])
    assert isinstance(result.exception, ConfigError)
    assert result.exception.key == "server.prot"


# --- the console entry point: one line, exit 1, no traceback ----------------------------


@pytest.mark.parametrize(
    ("toml", "env", "key"),
    [
        ("[server]\nprot = 9000\n", {}, "server.prot"),
        ('[server]\nport = "eighty"\n', {}, "server.port"),
        ("[server\nport = 9000\n", {}, "config"),
        ("", {"GATE_SERVER__PORT": "eighty"}, "server.port"),
    ],
)
def test_bad_config_gives_one_line_naming_the_key(
    tmp_path: Path, toml: str, env: dict[str, str], key: str
) -> None:
    config = tmp_path / "gate.toml"
    config.write_text(toml)
    result = run_gate("--config", str(config), "config", "show", env=env)
    assert result.returncode == 1
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: {key}: ")


def test_missing_config_file_gives_one_line(tmp_path: Path) -> None:
    result = run_gate("config", "show", env={"GATE_CONFIG": str(tmp_path / "gone.toml")})
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        f"error: config: config file {tmp_path / 'gone.toml'} does not exist"
    ]


def test_entry_point_id_check(tmp_path: Path) -> None:
    valid = run_gate("id", "check", WORKED_EXAMPLE)
    assert valid.returncode == 0, valid.stderr
    assert "北京市朝阳区" in valid.stdout
    invalid = run_gate("id", "check", "110105194912310021")
    assert invalid.returncode == 1
    assert "[check_digit]" in invalid.stderr
    assert "Traceback" not in invalid.stderr
