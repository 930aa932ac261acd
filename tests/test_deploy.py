"""The files an operator copies from deploy/ are valid for this version."""

from __future__ import annotations

import tomllib
from pathlib import Path

from gate.runtime.settings import Settings, load_settings

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"


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
