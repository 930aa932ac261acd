"""Smoke runs of the benchmarks: a tiny run must finish and its figures hang together.

No timing is asserted (the machine decides those); only that the run went through the
real pipeline end to end and its log checks out.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import POSTGRES_URL, PostgresServer

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def run_benchmark(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``benchmarks/<script>`` in a fresh interpreter, as its docstring says to."""
    return subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *args],
        capture_output=True,
        text=True,
        env={key: value for key, value in os.environ.items() if not key.startswith("GATE_")},
        timeout=300,
        check=False,
    )


def qr_passage_figures(*args: str) -> list[dict[str, Any]]:
    done = run_benchmark(
        "bench_qr_passage.py", "--passages", "20", "--residents", "10", "--round", "5", "--json",
        *args,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    engines: list[dict[str, Any]] = json.loads(done.stdout)["engines"]
    for figures in engines:
        assert figures["card"]["count"] == figures["qr"]["count"] == 20
        assert figures["refused_passes"] == 0
        assert figures["reasons"]["qr"]["qr_pass"] == 20  # every passage went by its pass
        assert figures["outcomes"]["card"].keys() <= {"allow", "review", "deny"}
        assert figures["log"] == "chain intact, 40 rows = 40 passages"
        cold = figures["breakdown"]["verify_cold"]["count"]
        assert 1 <= cold <= 10  # the first verification of each pass that came
        assert figures["breakdown"]["verify_repeated"]["count"] == 40 - cold
    assert "QR / card" in done.stderr  # the text report goes to stderr with --json
    return engines


@pytest.mark.slow
def test_bench_qr_passage_runs_on_sqlite() -> None:
    assert [figures["engine"] for figures in qr_passage_figures()] == ["sqlite"]


@pytest.mark.slow
@pytest.mark.postgres
def test_bench_qr_passage_runs_on_postgresql(postgres_server: PostgresServer) -> None:
    engines = qr_passage_figures("--postgres", POSTGRES_URL)
    assert [figures["engine"] for figures in engines] == ["sqlite", "postgresql"]


@pytest.mark.slow
def test_bench_startup_runs_on_a_tiny_log() -> None:
    done = run_benchmark(
        "bench_startup.py", "--real", "60", "--sizes", "100,300", "--runs", "1",
        "--serve-runs", "1",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    # The load's presence is checked against the GROUP BY it replaced, inside the run.
    assert done.stdout.count("gate serve until /healthz answers") == 2
    assert "300 / 100 passages" in done.stdout


@pytest.mark.slow
@pytest.mark.postgres
def test_bench_hub_runs_on_postgresql(postgres_server: PostgresServer) -> None:
    done = run_benchmark(
        "bench_hub.py", "--admin-url", POSTGRES_URL, "--sizes", "20000", "--edges", "2",
        "--batches", "1", "--batch", "200", "--repeat", "1", "--pages", "2",
        "--compounds", "10", "--servers", "1", "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["ingest"]["median_per_s"] > 0
    loaded = report["feed"]["20,000"]
    assert loaded["partitions"] >= 12  # a year of months
    assert "500 rows, key of 1 compound (HTTP), end" in loaded["page_ms"]


@pytest.mark.slow
def test_bench_face_lane_runs_the_real_face_path() -> None:
    done = run_benchmark(
        "bench_face_lane.py", "--cards", "40", "--gallery", "200", "--repeat", "1",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "frame -> logged decision" in done.stdout
    assert "busy / idle p50" in done.stdout
    # The enrolled residents' other photos come back as themselves.
    lines = [line for line in done.stdout.splitlines() if line.strip().startswith("640x480")]
    assert len(lines) == 1
    assert "right person 0" not in lines[0]


@pytest.mark.slow
def test_bench_load_runs_with_terminals_and_the_district() -> None:
    done = run_benchmark(
        "bench_load.py", "--passages", "10", "--rate", "50", "--rounds", "1", "--terminals", "2",
        "--feed-workers", "1,0", "--outside-nice", "5",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "1 feed worker(s), the outside world at niceness 5" in done.stdout
    assert "0 feed worker(s), the outside world at niceness 5" in done.stdout
    assert done.stdout.count("decision p99 loaded / idle: x") == 2
    loads = [line for line in done.stdout.splitlines() if line.startswith("load: ")]
    assert len(loads) == 2
    for load in loads:  # from the worker and from this process alike
        assert load.startswith("load: 2 terminals, 20 passage events")  # each saw all 10
        assert "state loads; the district pulled 0 times" not in load
    assert "non-2xx answers: none" in done.stdout
    assert "non-2xx answers: {" not in done.stdout
