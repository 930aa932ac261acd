"""Presence and household outings as the snapshot rebuilds them from the passage log."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

from gate.domain.model import (
    AlertLevel,
    CredentialKind,
    Decision,
    Direction,
    IdentityKind,
    Outcome,
    Outing,
    PassageEntry,
    Presence,
)
from gate.domain.snapshot import OUTING_MEMORY
from registry.database import Database
from registry.passages import SqlPassageLog
from registry.snapshot import load_snapshot

NOW = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)


def passage(
    person_ref: str | None,
    direction: Direction,
    *,
    opens: bool = True,
    household_ref: str | None = None,
    at: datetime = NOW,
) -> PassageEntry:
    """A card passage of ``person_ref``, allowed (the barrier opened) or denied."""
    decision = Decision(
        outcome=Outcome.ALLOW if opens else Outcome.DENY,
        reasons=(),
        alert=AlertLevel.NONE,
        rule_ids=(),
        opens_barrier=opens,
    )
    return PassageEntry(
        uuid=str(uuid.uuid4()),
        at=at,
        lane="main",
        direction=direction,
        credential_kind=CredentialKind.ID_CARD,
        identity_kind=IdentityKind.REGISTERED if person_ref else IdentityKind.OUTSIDER,
        person_ref=person_ref,
        household_ref=household_ref,
        document_hash=None if person_ref else "d" * 64,
        decision=decision,
    )


def test_presence_is_each_persons_latest_passage_that_opened_the_barrier(
    database: Database,
) -> None:
    log = SqlPassageLog(database)
    # Refs that sort next to each other and share prefixes: the scan steps from one to the next.
    refs = [f"p-{n:03d}" for n in range(40)] + ["p", "p-0", "q", "p-000-x"]
    rng = random.Random(11)  # noqa: S311 -- a reproducible log, no secret
    expected: dict[str, Presence] = {}
    for step in range(400):
        ref = rng.choice([*refs, None])
        direction = rng.choice((Direction.IN, Direction.OUT))
        opens = rng.random() < 0.7
        log.append(passage(ref, direction, opens=opens, at=NOW + timedelta(seconds=step)))
        if ref is not None and opens:
            expected[ref] = Presence.INSIDE if direction is Direction.IN else Presence.OUTSIDE
    log.append(passage("only-denied", Direction.IN, opens=False))
    with database.session() as session:
        snapshot = load_snapshot(session, now=NOW + timedelta(hours=1))
    assert snapshot.presence == expected
    assert snapshot.presence_of("only-denied") is Presence.UNKNOWN


def test_presence_of_an_empty_log_is_empty(database: Database) -> None:
    with database.session() as session:
        assert load_snapshot(session, now=NOW).presence == {}


def test_outings_replay_in_log_order_and_only_the_recent_ones(database: Database) -> None:
    log = SqlPassageLog(database)
    old = NOW - OUTING_MEMORY - timedelta(hours=1)
    log.append(passage("a", Direction.OUT, household_ref="h1", at=old))  # too old to count
    log.append(passage("a", Direction.IN, household_ref="h1", at=old + timedelta(minutes=30)))
    log.append(passage("b", Direction.OUT, household_ref="h1", at=NOW))
    # A second gate whose clock is behind logs the return with an earlier time: the log's
    # order (seq) says b came back, whatever the times say.
    log.append(passage("b", Direction.IN, household_ref="h1", at=NOW - timedelta(minutes=1)))
    log.append(passage("c", Direction.OUT, household_ref="h2", at=NOW))
    log.append(passage("c", Direction.IN, household_ref="h2", opens=False, at=NOW))  # refused
    with database.session() as session:
        snapshot = load_snapshot(session, now=NOW + timedelta(minutes=5))
    assert snapshot.outings_of("h1") == (
        Outing(person_ref="b", left_at=NOW, returned_at=NOW - timedelta(minutes=1)),
    )
    assert snapshot.outings_of("h2") == (Outing(person_ref="c", left_at=NOW),)
    # Presence comes from the whole log, the outings' window does not cut it.
    assert snapshot.presence == {"a": Presence.INSIDE, "b": Presence.INSIDE, "c": Presence.OUTSIDE}
