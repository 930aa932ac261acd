"""``gate doctor``'s findings and the judgments that need no I/O (clock, disk, key file mode).

A finding is one check's answer: ``ok`` or not, what was seen, and what to do about it.
The runtime gathers the facts (``gate.runtime.doctor``); the judging lives here so the
thresholds are tested without a machine to break.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Finding:
    """One check: what it looked at, whether all is well, what it saw, and the fix."""

    check: str
    ok: bool
    seen: str
    fix: str = ""

    def to_json(self) -> dict[str, object]:
        """The finding as plain data."""
        return {"check": self.check, "ok": self.ok, "seen": self.seen, "fix": self.fix or None}


def all_well(findings: list[Finding]) -> bool:
    """True when no finding needs doing something about."""
    return all(finding.ok for finding in findings)


def judge_key_mode(check: str, path: str, mode: int) -> Finding:
    """A key file's permission bits: nobody but its owner may read it."""
    if mode & 0o077:
        return Finding(
            check,
            False,
            f"{path} is readable by others (mode {mode & 0o777:o})",
            f"chmod 600 {path}",
        )
    return Finding(check, True, f"{path} (mode {mode & 0o777:o})")


def judge_clock(
    now: datetime, *, last_passage: datetime | None, synchronised: bool | None
) -> Finding:
    """The wall clock against the log's newest row and the time service.

    A clock behind the last passage (by more than a minute) would write rows out of order
    and make anchors and passes look from the future; an unsynchronised clock drifts.
    """
    if last_passage is not None and now < last_passage - timedelta(minutes=1):
        return Finding(
            "clock",
            False,
            f"the clock says {now.isoformat(timespec='seconds')}, before the last passage "
            f"({last_passage.isoformat(timespec='seconds')})",
            "set the time (timedatectl set-ntp true, or timedatectl set-time) before serving",
        )
    if now.year < 2025:
        return Finding(
            "clock",
            False,
            f"the clock says {now.isoformat(timespec='seconds')}",
            "set the time: the gate PC's clock battery may be flat",
        )
    if synchronised is False:
        return Finding(
            "clock",
            False,
            f"{now.isoformat(timespec='seconds')}, not synchronised with a time server",
            "timedatectl set-ntp true (and let UDP 123 out), or point chrony at the district's "
            "time server",
        )
    said = {True: "synchronised", None: "synchronisation unknown (no timedatectl)"}[synchronised]
    return Finding("clock", True, f"{now.isoformat(timespec='seconds')}, {said}")


def judge_disk(path: str, *, free: int, total: int, min_free: int) -> Finding:
    """Free space where the database and the data folder live."""
    said = f"{path}: {free / 2**30:.1f} GiB free of {total / 2**30:.1f} GiB"
    if free < min_free:
        return Finding(
            "disk",
            False,
            said,
            f"free space below {min_free / 2**20:.0f} MiB: move old backups and exports off "
            "this disk (the log is never deleted by hand)",
        )
    return Finding("disk", True, said)
