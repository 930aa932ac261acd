"""A tiny run of benchmarks/bench_faces.py goes through and prints every figure (no timing)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import shared_data

BENCH = Path(__file__).resolve().parents[3] / "benchmarks" / "bench_faces.py"


@pytest.mark.slow
def test_bench_faces_runs() -> None:
    shared_data("faces/serengil-deepface/master.csv")
    tiny = ["--frames", "2", "--pool-frames", "3", "--sizes", "500", "--queries", "3"]
    done = subprocess.run(
        [sys.executable, str(BENCH), *tiny],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "640x480" in done.stdout
    assert "1280x720" in done.stdout
    assert "2 worker(s): 3 frames 1280x720, 3 faces encoded" in done.stdout
    assert "       500 " in done.stdout
