"""The layer rules of docs/architecture.md hold, and a violation would be caught.

The rules are import-linter contracts in pyproject.toml (``[tool.importlinter]``). The
second test proves they bite: it copies the packages, adds one upward import to the copy
of the domain, and expects the check to name it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("gate", "devices", "recognition", "registry", "api")
LINT = Path(sys.executable).with_name("lint-imports")


def lint(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(LINT), "--no-cache"], cwd=tree, env=env, capture_output=True, text=True, check=False
    )


@pytest.mark.slow
def test_no_layer_imports_upward() -> None:
    checked = lint(ROOT)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "BROKEN" not in checked.stdout


@pytest.mark.slow
def test_an_upward_import_is_named(tmp_path: Path) -> None:
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    model = tmp_path / "gate" / "domain" / "model.py"
    model.write_text(model.read_text() + "\nfrom registry.models import Person  # upward\n")
    checked = lint(tmp_path)
    assert checked.returncode != 0
    assert "gate.domain is pure" in checked.stdout
    assert "gate.domain.model -> registry.models" in checked.stdout
