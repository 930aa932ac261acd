"""``gate.runtime`` caps glibc's malloc arenas, so the serving process's threads share two.

Measured in a fresh interpreter, as the service starts: eight threads allocate and hold
memory at once, then glibc's own ``malloc_info`` report counts the heaps (arenas). With
``gate.runtime`` imported first there are at most two; without it (the control) glibc
gives the threads more. ``MALLOC_ARENA_MAX`` set by the operator is left alone.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = """
import ctypes, ctypes.util, sys, tempfile, threading
if sys.argv[1] == "gate":
    import gate.runtime
    print("limited", gate.runtime.MALLOC_ARENAS_LIMITED)
libc = ctypes.CDLL(ctypes.util.find_library("c"))
start, hold = threading.Barrier(8), threading.Barrier(9)

def work():
    start.wait()
    blocks = [ctypes.create_string_buffer(2000) for _ in range(20000)]
    hold.wait()
    hold.wait()
    del blocks

threads = [threading.Thread(target=work) for _ in range(8)]
for thread in threads:
    thread.start()
hold.wait()
libc.fopen.restype = ctypes.c_void_p
libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
libc.fclose.argtypes = [ctypes.c_void_p]
with tempfile.NamedTemporaryFile(suffix=".xml") as report:
    handle = libc.fopen(report.name.encode(), b"w")
    libc.malloc_info(0, handle)
    libc.fclose(handle)
    heaps = open(report.name).read().count("<heap nr=")
hold.wait()
for thread in threads:
    thread.join()
print("heaps", heaps)
"""


def _heaps(mode: str, **env: str) -> tuple[int, str]:
    """Heaps of the probe run plain or after ``import gate.runtime``, and what it said."""
    inherited = {key: value for key, value in os.environ.items() if key != "MALLOC_ARENA_MAX"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, mode],
        capture_output=True,
        text=True,
        timeout=120,
        env={**inherited, **env},
        cwd=Path(__file__).resolve().parents[3],
        check=True,
    )
    lines = dict(line.split(" ", 1) for line in done.stdout.splitlines())
    return int(lines["heaps"]), lines.get("limited", "")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc")
def test_the_service_process_keeps_two_arenas_where_glibc_would_give_more() -> None:
    control, _ = _heaps("plain")
    capped, limited = _heaps("gate")
    assert control > 2  # the threads got arenas of their own
    assert limited == "True"
    assert capped <= 2


def test_an_operators_malloc_arena_max_is_left_alone() -> None:
    heaps, limited = _heaps("gate", MALLOC_ARENA_MAX="3")
    assert limited == "False"
    assert heaps <= 3  # glibc applied the operator's value itself
