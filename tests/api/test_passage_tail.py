"""``PassageTail``: the terminals' live feeds share one read of the log, on each engine.

Real passages through the real pipeline; the tail's clock is the test's, so "within the
interval" and "after it" are exact. Many feeds asking at once are one read; a passage
written by another process's gate reaches them after the interval; a feed far behind
reads the log itself and gets what the log would give; a backlog longer than one read
arrives whole and in order.
"""

from __future__ import annotations

import pytest

from gate.app import passage_tail
from gate.app.passage_tail import PassageTail
from gate.runtime.bootstrap import bootstrap
from tests.api.test_district_api import _passages
from tests.api.test_office_support import Compound


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_feeds_asking_at_once_are_one_read_and_see_what_the_log_holds(
    compound: Compound,
) -> None:
    services = compound.services
    _passages(services, 5)
    clock = Clock()
    tail = PassageTail(services.passages, interval=0.1, clock=clock)
    answers = [tail.since(2) for _ in range(20)]  # twenty terminals within one interval
    assert tail.reads == 1
    assert all([r.seq for r in answer] == [3, 4, 5] for answer in answers)
    assert [r.seq for r in tail.since(5)] == []
    # Another process's gate writes (its own services on the same database).
    other = bootstrap(services.settings)
    try:
        _passages(other, 2)
    finally:
        other.close()
    assert [r.seq for r in tail.since(5)] == []  # not yet: within the interval
    clock.now += 0.11
    assert [r.seq for r in tail.since(5)] == [6, 7]
    assert tail.reads == 2
    assert [r.entry for r in tail.since(0)] == [r.entry for r in services.passages.since(0)]


def test_a_feed_far_behind_reads_the_log_and_a_long_backlog_arrives_whole(
    compound: Compound, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = compound.services
    _passages(services, 3)
    clock = Clock()
    tail = PassageTail(services.passages, interval=0.1, keep=4, clock=clock)
    assert [r.seq for r in tail.since(0)] == [1, 2, 3]
    _passages(services, 9)  # 4 to 12, more than one read of 4 takes
    monkeypatch.setattr(passage_tail, "READ_LIMIT", 4)
    clock.now += 1
    assert [r.seq for r in tail.since(10)] == [11, 12]
    assert tail.reads == 2
    # Kept are 9-12; a terminal back from a sleep at 3 gets 4-12 from the log itself.
    behind = tail.since(3)
    assert [r.seq for r in behind] == list(range(4, 13))
    assert tail.reads == 2  # its read is its own, not the tail's
    assert [r.seq for r in tail.since(8)] == [9, 10, 11, 12]
