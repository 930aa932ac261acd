"""A gate process killed in the middle of a burst never opened a barrier without its row."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from gate.runtime.bootstrap import Services
from registry.chain_check import verify_chain
from registry.models import Passage
from tests.e2e.conftest import RESIDENT_A, RESIDENT_B, populate

WORKER = Path(__file__).with_name("burst_worker.py")


@pytest.mark.slow
@pytest.mark.parametrize("kill_after_openings", [40, 173])
def test_sigkill_mid_burst_leaves_no_opening_without_its_row(
    services: Services, tmp_path: Path, kill_after_openings: int
) -> None:
    populate(services)
    settings = services.settings
    assert settings.secrets.key_file is not None
    env = {key: value for key, value in os.environ.items() if not key.startswith("GATE_")}
    env.update(
        GATE_DATA_DIR=str(settings.data_dir),
        GATE_DATABASE_URL=settings.effective_database_url,
        GATE_SECRETS__KEY_FILE=str(settings.secrets.key_file),
        GATE_LOG_LEVEL="WARNING",
        PYTHONPATH=str(Path(__file__).resolve().parents[2]),
    )
    barrier_file = tmp_path / "openings.txt"
    worker = subprocess.Popen(
        [sys.executable, str(WORKER), str(barrier_file), RESIDENT_A, RESIDENT_B],
        env=env,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while _openings(barrier_file) < kill_after_openings:
            assert worker.poll() is None, worker.stderr.read() if worker.stderr else ""
            assert time.monotonic() < deadline, "the worker made no progress"
            time.sleep(0.002)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        if worker.stderr:
            worker.stderr.close()
    opened = _openings(barrier_file)
    with services.database.session() as session:
        allowed = session.scalar(
            select(func.count()).select_from(Passage).where(Passage.opens_barrier.is_(True))
        )
    # Row first, barrier second: the kill can fall between the two, never the other way.
    assert allowed is not None
    assert opened <= allowed <= opened + 1
    report = verify_chain(services.database, chain_key=services.chain_key.material)
    assert report.intact, report
    assert report.checked >= allowed


def _openings(path: Path) -> int:
    if not path.exists():
        return 0
    return path.read_bytes().count(b"\n")
