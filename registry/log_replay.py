"""Presence and household outings rebuilt from the passage log, from scratch or onwards.

From scratch (start-up) it takes two reads whose cost does not follow the length of the
log: presence by a loose index scan of ``ix_passages_presence`` (one seek per person),
the outings by the window of ``ix_passages_at``. ``SnapshotSource`` keeps what its last
load read (a ``LogReplay``), and a reload after a registry change goes on from there:
it reads only the passages appended since.

Every read is bounded by the last sequence number, read first (``upto``): the statements
of one load do not share one database snapshot (pysqlite reads outside a transaction,
PostgreSQL reads committed), and a passage appended meanwhile must be counted once, by
the next reload. Sequence numbers are taken under the chain head's lock, so every row up
to a visible ``seq`` is visible too; the log is append-only, so what was read stays true.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from gate.domain.model import Direction, Outing, Presence
from gate.domain.snapshot import RegistrySnapshot
from registry.models import Passage, passage_opened_barrier


@dataclass(frozen=True)
class LogReplay:
    """What one load read of the log: up to row ``seq`` (whose hash is kept), at ``now``.

    ``window_times`` are the times of the passages the outings were replayed from, in log
    order: reading on is exact only while those before ``since`` all come first.
    """

    seq: int
    row_hash: str | None
    now: datetime
    presence: Mapping[str, Presence]
    outings: Mapping[str, tuple[Outing, ...]]
    window_times: tuple[datetime, ...]


Row = tuple[str | None, str | None, str, datetime]  # person_ref, household_ref, direction, at


def replay_log(
    session: Session,
    snapshot: RegistrySnapshot,
    *,
    now: datetime,
    since: datetime,
    previous: LogReplay | None = None,
) -> LogReplay:
    """Set the snapshot's presence and its outings from ``since`` on; return what was read.

    With ``previous`` only the passages after it are read (``_onwards``), unless that
    would not give what a replay from scratch gives: then from scratch, as without.
    """
    upto, row_hash = session.execute(
        select(Passage.seq, Passage.row_hash).order_by(Passage.seq.desc()).limit(1)
    ).one_or_none() or (0, None)
    times = None
    if previous is not None and upto >= previous.seq and _still_there(session, previous):
        times = _onwards(session, snapshot, previous, now=now, since=since, upto=upto)
    if times is None:
        snapshot.presence = _presence(session, upto=upto)
        snapshot.outings = {}
        times = _replay_outings(session, snapshot, since=since, upto=upto)
    return LogReplay(
        seq=upto,
        row_hash=row_hash,
        now=now,
        presence=dict(snapshot.presence),
        outings={ref: tuple(outings) for ref, outings in snapshot.outings.items() if outings},
        window_times=times,
    )


def presence_query(upto: int | None = None) -> Select[str | None, str | None]:
    """(person_ref, direction) of each person's latest passage that opened the barrier.

    A loose index scan of ``ix_passages_presence``: the recursive part steps from one
    person_ref to the next, the outer part takes each one's latest row, one index seek
    each, so the cost follows the number of people, not the length of the log (a
    ``GROUP BY person_ref`` reads every row that ever opened the barrier).
    """
    opened = passage_opened_barrier()
    if upto is not None:
        opened = opened & (Passage.seq <= upto)
    first = select(func.min(Passage.person_ref).label("ref")).where(opened)
    refs = first.cte("refs", recursive=True)
    following = (
        select(func.min(Passage.person_ref))
        .where(opened, Passage.person_ref > refs.c.ref)
        .scalar_subquery()
    )
    refs = refs.union_all(select(following).where(refs.c.ref.is_not(None)))
    latest = (
        select(Passage.direction)
        .where(opened, Passage.person_ref == refs.c.ref)
        .order_by(Passage.seq.desc())
        .limit(1)
        .scalar_subquery()
    )
    return select(refs.c.ref, latest).where(refs.c.ref.is_not(None))


def _presence(session: Session, *, upto: int) -> dict[str, Presence]:
    return {
        person_ref: Presence.INSIDE if direction == Direction.IN.value else Presence.OUTSIDE
        for person_ref, direction in session.execute(presence_query(upto))
        if person_ref is not None
    }


def _replay_outings(
    session: Session, snapshot: RegistrySnapshot, *, since: datetime, upto: int
) -> tuple[datetime, ...]:
    # No ORDER BY seq: with it SQLite walks the whole log in seq order rather than the
    # window through ix_passages_at; the window is put in log order here instead.
    window = session.execute(
        select(
            Passage.seq, Passage.person_ref, Passage.household_ref, Passage.direction, Passage.at
        ).where(
            Passage.opens_barrier.is_(True),
            Passage.household_ref.is_not(None),
            Passage.at >= since,
            Passage.seq <= upto,
        )
    )
    rows = sorted(window, key=itemgetter(0))
    presence = snapshot.presence_now()  # replaying must not disturb the latest presence
    for _, person_ref, household_ref, direction, at in rows:
        snapshot.note_passage(
            person_ref=person_ref,
            household_ref=household_ref,
            direction=Direction(direction),
            at=at,
        )
    snapshot.presence = presence
    return tuple(at for *_, at in rows)


def _still_there(session: Session, previous: LogReplay) -> bool:
    if previous.seq == 0:
        return True
    found = session.scalar(select(Passage.row_hash).where(Passage.seq == previous.seq))
    return found is not None and found == previous.row_hash


def _onwards(
    session: Session,
    snapshot: RegistrySnapshot,
    previous: LogReplay,
    *,
    now: datetime,
    since: datetime,
    upto: int,
) -> tuple[datetime, ...] | None:
    """Presence and outings from ``previous`` and the passages after it; None if not exact.

    From scratch the outings are replayed from the passages dated from ``since`` on, in
    log order. Reading on replays a longer run (the passages dated from the earlier
    loads' ``since``) and then drops the outings that left before ``since``: the same
    outings if every passage dated before ``since`` comes before every one dated after
    it and none is dated after ``now``. Gates' clocks may disagree by a little (lanes
    log in the order they finish), so a run can break that near ``since``; then, and if
    the clock went back, None: the caller replays from scratch.
    """
    if now < previous.now:
        return None
    rows: list[Row] = [
        (person_ref, household_ref, direction, at)
        for person_ref, household_ref, direction, at in session.execute(
            select(Passage.person_ref, Passage.household_ref, Passage.direction, Passage.at)
            .where(passage_opened_barrier(), Passage.seq > previous.seq, Passage.seq <= upto)
            .order_by(Passage.seq)
        )
    ]
    # A passage dated before ``since`` moves presence only, as from scratch.
    times = [
        *previous.window_times,
        *(at for _, household_ref, _, at in rows if household_ref is not None and at >= since),
    ]
    first = next((index for index, at in enumerate(times) if at >= since), len(times))
    if any(at < since for at in times[first:]) or any(at > now for at in times[first:]):
        return None
    snapshot.presence = dict(previous.presence)
    snapshot.outings = {ref: list(outings) for ref, outings in previous.outings.items()}
    for person_ref, household_ref, direction, at in rows:
        snapshot.note_passage(
            person_ref=person_ref,
            household_ref=household_ref if at >= since else None,
            direction=Direction(direction),
            at=at,
        )
    for household_ref, outings in list(snapshot.outings.items()):
        kept = [outing for outing in outings if outing.left_at >= since]
        if kept:
            snapshot.outings[household_ref] = kept
        else:
            del snapshot.outings[household_ref]
    return tuple(times[first:])
