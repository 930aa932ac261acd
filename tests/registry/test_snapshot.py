"""Presence and household outings as the snapshot rebuilds them from the passage log."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import event, text

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
from gate.domain.snapshot import OUTING_MEMORY, RegistrySnapshot
from registry.database import Database
from registry.passages import SqlPassageLog
from registry.snapshot import SnapshotSource, load_snapshot

NOW = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)
CHAIN_KEY = bytes(range(100, 132))  # these tests never verify the chain


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
    log = SqlPassageLog(database, chain_key=CHAIN_KEY)
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
    log = SqlPassageLog(database, chain_key=CHAIN_KEY)
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


def random_passages(
    rng: random.Random, log: SqlPassageLog, now: datetime, count: int, *, spread: timedelta
) -> None:
    """Passages of a few households dated up to ``spread`` before ``now``, in no order."""
    for _ in range(count):
        household = rng.choice(("h1", "h2", "h3", None))
        person = f"{household or 'x'}-{rng.randrange(3)}"
        log.append(
            passage(
                person,
                rng.choice((Direction.IN, Direction.OUT)),
                opens=rng.random() < 0.85,
                household_ref=household,
                at=now - rng.uniform(0, 1) * spread,
            )
        )


def outings(snapshot: RegistrySnapshot) -> dict[str, tuple[Outing, ...]]:
    return {ref: snapshot.outings_of(ref) for ref in snapshot.outings if snapshot.outings[ref]}


def test_a_reload_reads_on_from_the_last_load_and_gives_what_a_fresh_load_gives(
    database: Database,
) -> None:
    log = SqlPassageLog(database, chain_key=CHAIN_KEY)
    rng = random.Random(5)  # noqa: S311 -- a reproducible log, no secret
    now = NOW
    source = SnapshotSource(database, clock=lambda: now)
    statements: list[str] = []
    event.listen(database.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    read_on = 0
    for round_ in range(10):
        # Mostly passages of the last hours; twice a log whose dates jump about by weeks.
        spread = timedelta(days=21) if round_ in (3, 7) else timedelta(hours=3)
        random_passages(rng, log, now, 40, spread=spread)
        now += timedelta(days=rng.uniform(0.5, 4))  # outings leave the window
        statements.clear()
        reloaded = source.reload()
        read_on += not any("RECURSIVE" in statement for statement in statements)
        with database.session() as session:
            fresh = load_snapshot(session, now=now)
        assert reloaded.presence == fresh.presence
        assert outings(reloaded) == outings(fresh)
    assert read_on >= 5  # most reloads read on, not from scratch
    assert outings(reloaded)  # the check compared something


def test_a_reload_after_the_log_was_cut_back_loads_from_scratch(database: Database) -> None:
    log = SqlPassageLog(database, chain_key=CHAIN_KEY)
    rng = random.Random(8)  # noqa: S311 -- a reproducible log, no secret
    source = SnapshotSource(database, clock=lambda: NOW)
    random_passages(rng, log, NOW, 30, spread=timedelta(days=3))
    source.reload()
    # A restore from an older backup, then new passages past where the last load read.
    with database.engine.begin() as connection:
        connection.execute(text("DELETE FROM passages WHERE seq > 10"))
        head = connection.execute(text("SELECT row_hash FROM passages WHERE seq = 10")).scalar_one()
        connection.execute(
            text("UPDATE passage_chain SET last_seq = 10, last_hash = :head"), {"head": head}
        )
    random_passages(rng, log, NOW, 40, spread=timedelta(days=3))
    reloaded = source.reload()
    with database.session() as session:
        fresh = load_snapshot(session, now=NOW)
    assert reloaded.presence == fresh.presence
    assert outings(reloaded) == outings(fresh)
