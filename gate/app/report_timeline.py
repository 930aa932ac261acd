"""A report's passages bucket by bucket and its occupancy over the window (for the charts).

Buckets are local hours for a window of up to two days, local days for a longer one; the
first and last may be cut by the window. Occupancy follows the definition of the daily
report's (``registry.reports``): a registered person living here is where the passage
with the highest ``seq`` that opened the barrier for them before the moment says, unknown
without one. Both tallies are pure: the store feeds them the rows of its one query.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from gate.app.report_values import OccupancyPoint, TimeBucket
from gate.domain.model import Outcome
from gate.domain.status import LOCAL_TZ

OUTCOMES = (Outcome.ALLOW.value, Outcome.REVIEW.value, Outcome.DENY.value)
HOURLY_UP_TO = timedelta(days=2)


def bucket_edges(start: datetime, end: datetime) -> list[datetime]:
    """``start``, every local hour (or midnight, past two days) inside the window, ``end``."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("a report window needs aware datetimes")
    local = start.astimezone(LOCAL_TZ)
    if end - start <= HOURLY_UP_TO:
        step = timedelta(hours=1)
        edge = local.replace(minute=0, second=0, microsecond=0)
    else:
        step = timedelta(days=1)
        edge = local.replace(hour=0, minute=0, second=0, microsecond=0)
    edges = [start]
    edge += step
    while edge < end:
        edges.append(edge)
        edge += step
    edges.append(end)
    return edges


class TimelineTally:
    """The gate's decisions counted into the window's buckets."""

    def __init__(self, start: datetime, end: datetime) -> None:
        self.edges = bucket_edges(start, end)
        self._counts = [
            {"in": dict.fromkeys(OUTCOMES, 0), "out": dict.fromkeys(OUTCOMES, 0)}
            for _ in self.edges[1:]
        ]

    def passage(self, *, at: datetime, direction: str, outcome: str, count: int = 1) -> None:
        """Count ``count`` decisions at ``at`` (outside the window: not counted)."""
        index = bisect_right(self.edges, at) - 1
        if 0 <= index < len(self._counts):
            by_outcome = self._counts[index][direction]
            by_outcome[outcome] = by_outcome.get(outcome, 0) + count

    def buckets(self) -> tuple[TimeBucket, ...]:
        """The buckets, the earliest first."""
        return tuple(
            TimeBucket(start, end, counts["in"], counts["out"])
            for start, end, counts in zip(
                self.edges[:-1], self.edges[1:], self._counts, strict=True
            )
        )


def occupancy_over(
    edges: Iterable[datetime],
    *,
    residents: Iterable[tuple[str, datetime, datetime | None]],
    before: Mapping[str, tuple[int, str]],
    passages: Iterable[tuple[datetime, int, str, str]],
) -> tuple[OccupancyPoint, ...]:
    """Inside, outside and unknown at each edge.

    ``residents``: ``(ref, created_at, moved_out_at)``; ``before``: each person's last
    barrier-opening passage before the first edge, ``ref -> (seq, direction)``;
    ``passages``: the barrier-opening passages of persons after it, ``(at, seq, ref,
    direction)`` in any order.
    """
    people = list(residents)
    state = dict(before)
    pending = sorted(passages)
    taken = 0
    points = []
    for edge in edges:
        while taken < len(pending) and pending[taken][0] < edge:
            _at, seq, ref, direction = pending[taken]
            if ref not in state or state[ref][0] < seq:
                state[ref] = (seq, direction)
            taken += 1
        counts = {"in": 0, "out": 0, "unknown": 0}
        for ref, created_at, moved_out_at in people:
            if created_at < edge and (moved_out_at is None or moved_out_at >= edge):
                last = state.get(ref)
                counts[last[1] if last else "unknown"] += 1
        points.append(OccupancyPoint(edge, counts["in"], counts["out"], counts["unknown"]))
    return tuple(points)
