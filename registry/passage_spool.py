"""The local spool: passages the database could not take, kept on disk until it can.

When the registry database is away (PostgreSQL stopped, the network to it down, SQLite
locked past the lock timeout), ``SqlPassageLog`` writes the passage here instead and the
lane carries on deciding from its in-memory snapshot: one JSON line per passage, appended
with one ``write`` and ``fsync`` under ``flock`` before the barrier is commanded, so the
pipeline's rule (durable before the barrier) holds with the spool as the record. When the
database answers again, the log writes every spooled passage in one transaction, in the
order they were spooled and before any new one (``drain``), skipping any whose ``uuid``
the database already holds (a crash between that commit and emptying the file), then
empties the file.

A torn last line (a crash inside ``hold``) was never acknowledged: ``hold`` had not
returned, so no barrier moved for it; it is dropped with a warning. Several processes on
one data folder share the file under its lock.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from gate.domain.errors import LogUnavailable

logger = logging.getLogger(__name__)

SPOOL_NAME = "passage-spool.jsonl"


class PassageSpool:
    """Passages held locally, oldest first, in ``path`` (see the module docstring)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def hold(self, values: dict[str, Any]) -> None:
        """Append one passage's row values durably; ``LogUnavailable`` if the disk refuses."""
        line = json.dumps({**values, "at": values["at"].isoformat()}, ensure_ascii=False)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                os.write(fd, (line + "\n").encode())
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            message = f"neither the database nor the local spool took it: {exc}"
            raise LogUnavailable(message) from exc

    def pending(self) -> bool:
        """Whether any passage waits in the spool (one ``stat``: cheap enough per passage)."""
        try:
            return self.path.stat().st_size > 0
        except FileNotFoundError:
            return False

    def count(self) -> int:
        """How many passages wait in the spool."""
        try:
            return self.path.read_bytes().count(b"\n")
        except FileNotFoundError:
            return 0

    @contextmanager
    def draining(self) -> Iterator[list[dict[str, Any]]]:
        """The spooled row values under the file's lock; emptied if the block succeeds."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            with os.fdopen(os.dup(fd), "rb") as spooled:
                data = spooled.read()
            lines = data.split(b"\n")
            if lines[-1]:
                logger.warning("passage spool: dropped a torn last line (never acknowledged)")
            held = []
            for number, line in enumerate(lines[:-1], 1):
                try:
                    values = json.loads(line)
                    values["at"] = datetime.fromisoformat(values["at"])
                except (ValueError, KeyError, TypeError) as exc:
                    logger.error("passage spool: line %d unreadable, skipped: %s", number, exc)
                    continue
                held.append(values)
            yield held
            os.ftruncate(fd, 0)
            os.fsync(fd)
        finally:
            os.close(fd)
