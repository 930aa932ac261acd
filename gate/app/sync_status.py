"""How far behind each relay is: ``gate sync status``, the terminal's warning, the log.

A relay's lag is read from the database alone (its saved cursor against the log), so
any process can tell: the CLI beside a running ``gate serve``, the web page, a monitor.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from gate.app.outbound import CursorStore
from gate.app.ports import PassageLogReader

logger = logging.getLogger(__name__)

UPSTREAM = "upstream"  # the store-and-forward relay's name


@dataclass(frozen=True)
class RelayLag:
    """One relay against the log: where it is, how many passages and how long behind."""

    name: str
    cursor: int
    head: int
    oldest_pending_at: datetime | None  # the first passage it has not delivered
    moved_at: datetime | None  # when its cursor last moved; None: it never delivered

    @property
    def behind(self) -> int:
        """Passages written and not yet delivered."""
        return max(0, self.head - self.cursor)

    def lag(self, now: datetime) -> timedelta:
        """How old the oldest undelivered passage is (zero when nothing waits)."""
        if self.oldest_pending_at is None:
            return timedelta(0)
        return max(timedelta(0), now - self.oldest_pending_at)


def relay_lags(
    *, cursors: CursorStore, passages: PassageLogReader, expected: Sequence[str] = ()
) -> list[RelayLag]:
    """Every relay that has delivered (or started), by name.

    A relay named in ``expected`` that never delivered anything (a hub that was never
    reached) is behind by the whole log.
    """
    last = passages.tail(1)
    head = last[-1].seq if last else 0
    saved: dict[str, tuple[int, datetime | None]] = {
        cursor.name: (cursor.seq, cursor.updated_at) for cursor in cursors.saved()
    }
    for name in expected:
        saved.setdefault(name, (0, None))
    lags = []
    for name, (seq, moved_at) in sorted(saved.items()):
        pending = passages.since(seq, limit=1) if seq < head else []
        lags.append(
            RelayLag(
                name=name,
                cursor=seq,
                head=head,
                oldest_pending_at=pending[0].entry.at if pending else None,
                moved_at=moved_at,
            )
        )
    return lags


def upstream_lag(lags: Sequence[RelayLag]) -> RelayLag | None:
    """The store-and-forward relay's lag, if it has run."""
    return next((lag for lag in lags if lag.name == UPSTREAM), None)


class LagWatch:
    """Logs once when the upstream lag passes its threshold, and once when it is back."""

    def __init__(
        self, *, threshold: timedelta, cursors: CursorStore, passages: PassageLogReader
    ) -> None:
        self.threshold = threshold
        self._cursors, self._passages = cursors, passages
        self._warned = False

    def check(self, now: datetime) -> RelayLag | None:
        """The upstream lag now; a warning in the log when it first passes the threshold."""
        lags = relay_lags(cursors=self._cursors, passages=self._passages, expected=[UPSTREAM])
        lag = upstream_lag(lags)
        late = lag is not None and lag.lag(now) > self.threshold
        if late and not self._warned and lag is not None:
            logger.warning(
                "the hub is %d passages behind; the oldest not yet sent is from %s (%s ago)",
                lag.behind,
                lag.oldest_pending_at.isoformat() if lag.oldest_pending_at else "?",
                lag.lag(now),
            )
        elif self._warned and not late:
            logger.info("the hub has caught up (%d passages behind)", lag.behind if lag else 0)
        self._warned = late
        return lag
