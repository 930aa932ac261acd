"""The report timeline's buckets and occupancy walk, without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gate.app.report_timeline import TimelineTally, bucket_edges, occupancy_over
from gate.domain.status import LOCAL_TZ


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2020, 2, day, hour, minute, tzinfo=LOCAL_TZ).astimezone(UTC)


def test_a_shift_has_twelve_hourly_buckets_and_a_cut_window_keeps_its_edges() -> None:
    assert len(bucket_edges(local(1, 8), local(1, 20))) == 13
    edges = bucket_edges(local(1, 8, 30), local(1, 10, 15))
    assert edges == [local(1, 8, 30), local(1, 9), local(1, 10), local(1, 10, 15)]


def test_a_window_longer_than_two_days_counts_by_local_day() -> None:
    edges = bucket_edges(local(1, 8), local(5, 8))
    assert edges[1] == local(2, 0)  # local midnight, 16:00 UTC
    assert len(edges) == 6


def test_the_tally_counts_by_bucket_direction_and_outcome_and_drops_what_is_outside() -> None:
    tally = TimelineTally(local(1, 8), local(1, 20))
    tally.passage(at=local(1, 8), direction="in", outcome="allow")
    tally.passage(at=local(1, 8, 59), direction="out", outcome="deny", count=2)
    tally.passage(at=local(1, 19, 59), direction="in", outcome="review")
    tally.passage(at=local(1, 20), direction="in", outcome="allow")  # the next shift's
    buckets = tally.buckets()
    assert len(buckets) == 12
    assert buckets[0].inbound == {"allow": 1, "review": 0, "deny": 0}
    assert buckets[0].outbound == {"allow": 0, "review": 0, "deny": 2}
    assert buckets[11].total_in == 1
    assert sum(b.total_in + b.total_out for b in buckets) == 4


def test_occupancy_follows_the_highest_seq_before_each_edge_and_who_lived_here() -> None:
    edges = [local(1, 8), local(1, 9), local(1, 10)]
    points = occupancy_over(
        edges,
        residents=[
            ("a", local(1, 0), None),
            ("b", local(1, 0), None),
            ("c", local(1, 8, 30), None),  # registered at 08:30
            ("d", local(1, 0), local(1, 9, 30)),  # moved out at 09:30
        ],
        before={"a": (1, "in"), "d": (2, "out")},
        passages=[
            (local(1, 8, 10), 5, "a", "out"),
            # A lane PC's clock behind: an earlier moment, a later seq; it still wins.
            (local(1, 8, 5), 6, "a", "in"),
            (local(1, 8, 40), 7, "c", "in"),
        ],
    )
    assert [(p.inside, p.outside, p.unknown) for p in points] == [(1, 1, 1), (2, 1, 1), (2, 0, 1)]
    assert points[0].at == edges[0]
    assert local(1, 10) - points[-1].at == timedelta(0)
