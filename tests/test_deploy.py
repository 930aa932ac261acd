"""The files an operator copies from deploy/ are valid for this version."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from gate.runtime.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"


def test_example_config_loads_and_states_the_defaults() -> None:
    example = DEPLOY / "gate.example.toml"
    loaded = load_settings(example)
    assert loaded.model_dump() == Settings().model_dump()
    # Every section of the settings tree is documented in the example.
    sections = {
        key for key, value in tomllib.loads(example.read_text()).items() if isinstance(value, dict)
    }
    nested = {
        name for name, field in Settings.model_fields.items() if "Settings" in str(field.annotation)
    }
    assert sections == nested


def test_systemd_unit_runs_existing_commands() -> None:
    unit = (DEPLOY / "gate.service").read_text()
    assert "ExecStartPre=/opt/gate/.venv/bin/gate db upgrade" in unit
    assert "ExecStart=/opt/gate/.venv/bin/gate serve" in unit
    assert "LoadCredential=gate-data-key:" in unit


def _local_unit(tmp_path: Path) -> Path:
    """The unit with /opt/gate pointing at this checkout, so verify finds its commands."""
    text = (DEPLOY / "gate.service").read_text().replace("/opt/gate", str(ROOT))
    unit = tmp_path / "gate.service"
    unit.write_text(text)
    return unit


def test_systemd_unit_is_hardened_and_notifies() -> None:
    unit = (DEPLOY / "gate.service").read_text()
    for line in (
        "Type=notify",
        "WatchdogSec=",
        "Restart=always",
        "User=gate",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "PrivateTmp=yes",
        "DevicePolicy=closed",
        "SupplementaryGroups=dialout input video",
    ):
        assert line in unit, line


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze here")
def test_systemd_analyze_verify_finds_nothing(tmp_path: Path) -> None:
    checked = subprocess.run(
        ["systemd-analyze", "verify", str(_local_unit(tmp_path))],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr
    assert checked.stderr.strip() == "", checked.stderr  # verify warns and still exits 0
    assert checked.stdout.strip() == ""


def test_the_real_gate_example_loads_with_its_devices() -> None:
    loaded = load_settings(DEPLOY / "gate.real.toml")
    entry = loaded.gate.lanes[0]
    kinds = ("id_reader", "qr_scanner", "camera", "barrier", "thermometer")
    assert all(getattr(entry, kind) is not None for kind in kinds)
    assert loaded.gate.lanes[1].free_exit


def test_the_grafana_dashboard_reads_metrics_the_service_exports() -> None:
    dashboard = json.loads((DEPLOY / "grafana-gate.json").read_text())
    exprs = " ".join(t["expr"] for p in dashboard["panels"] for t in p["targets"])
    exported = (ROOT / "api" / "web" / "ops.py").read_text()
    for name in set(re.findall(r"\b(gate_[a-z_]+?)(?:_bucket|_total)?\{", exprs)):
        assert name in exported, name


def locked_versions(lock: Path) -> dict[str, str]:
    """Name -> pinned version of every requirement in a pip lock file."""
    pins = re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^ ;\\\n]+)", lock.read_text(), re.M)
    return {canonicalize_name(name): version for name, version in pins}


def test_the_lock_pins_every_dependency_with_hashes() -> None:
    """scripts/setup installs from the lock alone: it must satisfy pyproject.toml."""
    locked = locked_versions(DEPLOY / "requirements.lock")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    for line in declared:
        requirement = Requirement(line)
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{name} is not in deploy/requirements.lock: run scripts/lock"
        assert requirement.specifier.contains(locked[name], prereleases=True), (name, locked[name])
    # Every pin carries its hashes (pip --require-hashes refuses the file otherwise).
    entries = re.split(r"\n(?=[A-Za-z0-9])", (DEPLOY / "requirements.lock").read_text())
    assert all("--hash=sha256:" in entry for entry in entries if "==" in entry)
    nodeps = locked_versions(DEPLOY / "requirements-nodeps.lock")
    assert nodeps["face-recognition"] == "1.3.0"
    assert "pip" in nodeps
