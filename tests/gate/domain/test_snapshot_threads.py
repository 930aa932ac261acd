"""Lanes note passages on the shared snapshot from their own threads while others read it.

Each lane thread walks its own resident of one household out and back in, hour by hour,
for long enough that old outings are pruned. Readers take contexts and occupancy the
whole time. Afterwards every outing must be closed by its own person, presence must say
everyone is inside, and no reader may have seen an error. The interpreter is made to
switch threads every microsecond, so an unlocked read-modify-write of the outings list
(find the open outing, then replace it at that index) is interleaved for real.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from gate.domain.model import Direction, Identity, IdentityKind, Presence
from gate.domain.people import PersonKind
from gate.domain.presence import occupancy
from gate.domain.snapshot import PersonFacts, RegistrySnapshot

HOUSEHOLD = "h-1"
LANES = 4
TRIPS = 400
START = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture
def fast_switching() -> Iterator[None]:
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def household_snapshot() -> RegistrySnapshot:
    persons = {
        f"p-{lane}": PersonFacts(
            ref=f"p-{lane}",
            name=f"居民{lane}",
            kind=PersonKind.RESIDENT,
            household_ref=HOUSEHOLD,
            building="1",
            home="1号楼1单元101",
            statuses=(),
            exemptions=(),
        )
        for lane in range(LANES)
    }
    return RegistrySnapshot(
        revision=1, persons=persons, person_by_document={}, visits_by_document={}, rules=()
    )


def test_concurrent_lanes_keep_presence_and_outings_consistent(fast_switching: None) -> None:
    snapshot = household_snapshot()
    errors: list[BaseException] = []
    done = threading.Event()

    def lane(number: int) -> None:
        person = f"p-{number}"
        try:
            for trip in range(TRIPS):
                left = START + timedelta(hours=trip, minutes=number)
                for direction, at in ((Direction.OUT, left), (Direction.IN, left)):
                    snapshot.note_passage(
                        person_ref=person, household_ref=HOUSEHOLD, direction=direction, at=at
                    )
        except BaseException as exc:  # surfaced below; a thread's error is otherwise lost
            errors.append(exc)

    def reader() -> None:
        identity = Identity(kind=IdentityKind.REGISTERED, person_ref="p-0", household_ref=HOUSEHOLD)
        try:
            while not done.is_set():
                snapshot.context(identity, lane="main", direction=Direction.OUT, now=START)
                occupancy(snapshot, now=START)
        except BaseException as exc:
            errors.append(exc)

    lanes = [threading.Thread(target=lane, args=(number,)) for number in range(LANES)]
    readers = [threading.Thread(target=reader) for _ in range(2)]
    for thread in [*lanes, *readers]:
        thread.start()
    for thread in lanes:
        thread.join()
    done.set()
    for thread in readers:
        thread.join()

    assert errors == []
    outings = snapshot.outings_of(HOUSEHOLD)
    assert outings, "the recent outings are kept"
    assert all(outing.returned_at is not None for outing in outings), "an outing was lost"
    assert len(outings) < LANES * TRIPS, "outings older than the memory are pruned"
    for number in range(LANES):
        mine = [outing for outing in outings if outing.person_ref == f"p-{number}"]
        # Every trip inside the memory is there exactly once, for its own person.
        assert len({outing.left_at for outing in mine}) == len(mine)
        assert all(outing.returned_at == outing.left_at for outing in mine)
    assert set(snapshot.presence_now().values()) == {Presence.INSIDE}
    counts = occupancy(snapshot, now=START)
    assert (counts.inside, counts.outside) == (LANES, 0)
