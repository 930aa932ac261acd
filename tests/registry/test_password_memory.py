"""Password checks cannot take the serving process's memory: at most two argon2 runs at once.

Each argon2 check holds its memory cost (64 MiB) while it runs, in the web server's thread
pool, in the process that runs the lanes. Measured here: 20 sign-ins at once took that
process past 1 GB before the checks were bounded. The test runs 20 concurrent checks in a
fresh interpreter and reads the growth of its peak resident memory (VmHWM).
"""

from __future__ import annotations

import subprocess
import sys

BURST = """
import threading
from pathlib import Path
from registry import staff_store

def peak_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise SystemExit("no VmHWM")

stored = staff_store._hasher.hash("the right password")
before = peak_mib()
results = []
threads = [
    threading.Thread(target=lambda: results.append(staff_store._verify(stored, "a wrong one")))
    for _ in range(20)
]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
assert results == [False] * 20, results
assert staff_store._verify(stored, "the right password")
print(peak_mib() - before)
"""


def test_twenty_concurrent_password_checks_stay_within_three_argon2_runs_of_memory() -> None:
    done = subprocess.run(
        [sys.executable, "-c", BURST], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr
    growth_mib = float(done.stdout.strip())
    # Two at a time: about 128 MiB over the one hash made before; unbounded it was ~1.2 GiB.
    assert growth_mib < 3 * 64, growth_mib
