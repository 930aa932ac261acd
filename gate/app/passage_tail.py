"""The log's newest passages, read once for every guard terminal's live feed in a process.

Each terminal's live feed asks for the passages after its cursor every fraction of a
second. Asked of the log by each feed, 20 terminals were some 67 queries a second in the
process that also runs the lanes. ``PassageTail`` reads what is new at most once per
``interval`` (for whichever feed asks first) and keeps the newest ``keep`` passages. A
feed whose cursor lies within them is answered from memory; one further behind (a
terminal back from a long sleep or a lost network) reads the log itself, as before.

The tail reads the log, not an in-process event, so passages that other processes wrote
(a second ``gate serve``, ``gate simulate``) reach the terminals as before. A record
never changes once written (a guard's decision is a row of its own), so a kept record is
never stale.
"""

from __future__ import annotations

import bisect
import threading
import time
from collections.abc import Callable

from gate.app.ports import PassageLogReader
from gate.domain.model import PassageRecord

READ_LIMIT = 1000  # what one read of the log takes; a larger backlog takes several


class PassageTail:
    """The newest passages of the log, shared by every live feed; thread-safe."""

    def __init__(
        self,
        reader: PassageLogReader,
        *,
        interval: float = 0.1,
        keep: int = 2000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._reader = reader
        self._interval = interval
        self._keep = keep
        self._clock = clock
        self._records: list[PassageRecord] = []
        self._seqs: list[int] = []
        self._last = 0  # the newest seq read so far
        self._read_at: float | None = None
        self._lock = threading.Lock()
        self.reads = 0  # reads of the log for the tail (shown by the tests and /metrics)

    def since(self, cursor: int) -> list[PassageRecord]:
        """The passages after ``cursor`` in order, as ``PassageLogReader.since`` gives them."""
        with self._lock:
            now = self._clock()
            if self._read_at is None or now - self._read_at >= self._interval:
                self._read_new()
                self._read_at = now
            first = self._seqs[0] if self._seqs else self._last + 1
            if cursor >= first - 1:  # everything after the cursor is kept
                return self._records[bisect.bisect_right(self._seqs, cursor) :]
        return self._reader.since(cursor)  # far behind: its own read, outside the lock

    def _read_new(self) -> None:
        if self._read_at is None:  # the first read: the newest passages, as a start
            fresh = self._reader.tail(self._keep)
        else:
            fresh = []
            while True:
                batch = self._reader.since(self._last, READ_LIMIT)
                fresh += batch
                if len(batch) < READ_LIMIT:
                    break
                self._last = batch[-1].seq
        self.reads += 1
        if not fresh:
            return
        self._records += fresh
        self._seqs += [record.seq for record in fresh]
        self._last = self._seqs[-1]
        if len(self._records) > self._keep:
            del self._records[: -self._keep]
            del self._seqs[: -self._keep]
