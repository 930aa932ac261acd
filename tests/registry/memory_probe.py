"""The peak resident memory of a process since a mark: ``VmHWM`` after a reset (Linux)."""

from __future__ import annotations

import re
from pathlib import Path

MiB = 1024 * 1024


def status_kib(field: str, pid: int | str = "self") -> int:
    """``field`` (``VmHWM``, ``VmRSS``) of ``/proc/<pid>/status``, in KiB."""
    text = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    match = re.search(rf"^{field}:\s+(\d+) kB$", text, re.MULTILINE)
    assert match, f"no {field} in /proc/{pid}/status"
    return int(match[1])


def reset_peak(pid: int | str = "self") -> int:
    """Reset the process's peak RSS to its current RSS; that RSS in bytes."""
    Path(f"/proc/{pid}/clear_refs").write_text("5", encoding="ascii")
    return status_kib("VmRSS", pid) * 1024


def peak_since_reset(pid: int | str = "self") -> int:
    """The peak RSS in bytes since the last ``reset_peak``."""
    return status_kib("VmHWM", pid) * 1024
