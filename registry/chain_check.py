"""Verifying the passage log: the keyed chain, its head and the anchors outside the database.

The walk recomputes every row's hash in ``seq`` order: plain SHA-256 before the head's
``keyed_from`` (rows written before migration 0013), HMAC-SHA-256 under the chain key
from it on. It names the first row that does not fit. Then the anchors (signed heads kept
outside the database, ``registry.log_anchors``): a row at an anchor's ``seq`` with another
hash was rewritten, a log that ends before the latest anchor's ``seq`` was cut back, and
a ``keyed_from`` other than the anchors' is an attempt to pass keyed rows off as old.

After a retention purge the log starts at ``passage_chain.purged_to + 1`` and that row's
``prev_hash`` is ``purged_hash``. The walk starts there, but only if a signed anchor
carries the same checkpoint (written before the rows were deleted): rows deleted from the
start without one, or more rows than the checkpoint says, are named like any other gap.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import Table, select, update
from sqlalchemy.engine import Connection, RowMapping

from gate.domain.anchors import Anchor
from gate.domain.hashchain import GENESIS, chain_key_id, keyed_row_digest, row_digest
from registry.database import Database
from registry.models import Passage, PassageChain
from registry.passages import hashed_content

_passages: Table = Passage.__table__  # type: ignore[assignment]
_chain: Table = PassageChain.__table__  # type: ignore[assignment]


@dataclass(frozen=True)
class ChainState:
    """The log's head as the database holds it, and which key its chain is under."""

    last_seq: int
    last_hash: str
    keyed_from: int
    key_id: str | None


@dataclass(frozen=True)
class Head:
    """The last row of the log as the rows say (not the head row): what an anchor signs."""

    seq: int
    row_hash: str
    keyed_from: int


def chain_state(database: Database) -> ChainState:
    """The head row of the chain."""
    with database.engine.connect() as connection:
        row = connection.execute(select(_chain).where(_chain.c.id == 1)).mappings().one()
    return ChainState(row["last_seq"], row["last_hash"], row["keyed_from"], row["key_id"])


def claim_chain_key(database: Database, key_id: str) -> str:
    """Record ``key_id`` as the chain's key if none is yet; the key id the chain is under."""
    with database.engine.begin() as connection:
        connection.execute(
            update(_chain).where(_chain.c.id == 1, _chain.c.key_id.is_(None)).values(key_id=key_id)
        )
        recorded = connection.scalar(select(_chain.c.key_id).where(_chain.c.id == 1))
    return str(recorded)


def log_head(database: Database) -> Head:
    """The newest row's seq and hash (0 and the genesis value for an empty log)."""
    with database.engine.connect() as connection:
        last = connection.execute(
            select(_passages.c.seq, _passages.c.row_hash).order_by(_passages.c.seq.desc()).limit(1)
        ).first()
        keyed_from = connection.execute(
            select(_chain.c.keyed_from).where(_chain.c.id == 1)
        ).scalar_one()
    if last is None:
        return Head(0, GENESIS, int(keyed_from))
    return Head(int(last[0]), str(last[1]), int(keyed_from))


@dataclass(frozen=True)
class ChainReport:
    """What ``verify_chain`` found: rows checked and, if broken, where and why."""

    checked: int
    first_broken_seq: int | None = None
    problem: str | None = None
    keyed_from: int = 1
    anchor: Anchor | None = None  # the latest anchor the log was checked against
    purged_to: int = 0  # rows 1..purged_to deleted by retention, checked from the checkpoint
    checkpoint: Anchor | None = None  # the signed anchor that first carried that checkpoint

    @property
    def intact(self) -> bool:
        """True if every row, the head and the anchors agree."""
        return self.first_broken_seq is None and self.problem is None


def verify_chain(
    database: Database, *, chain_key: bytes, anchors: Sequence[Anchor] = (), batch: int = 5000
) -> ChainReport:
    """Recompute every hash in order, then hold the log against ``anchors`` (signatures
    already checked); name the first row that does not fit.
    """
    latest = max(anchors, key=lambda anchor: (anchor.seq, anchor.n), default=None)
    with database.engine.connect() as connection:
        head = connection.execute(select(_chain).where(_chain.c.id == 1)).mappings().one()
        keyed_from = int(head["keyed_from"])

        def report(checked: int, seq: int | None, problem: str) -> ChainReport:
            return ChainReport(checked, seq, problem, keyed_from, latest)

        if head["key_id"] is not None and head["key_id"] != chain_key_id(chain_key):
            return report(0, None, f"the log is under chain key {head['key_id']}, not this key")
        for anchor in anchors:
            if anchor.keyed_from != keyed_from:
                return report(
                    0,
                    min(anchor.keyed_from, keyed_from),
                    f"the log says its keyed chain starts at row {keyed_from} but anchor "
                    f"{anchor.n} says row {anchor.keyed_from}",
                )
        purged_to = int(head["purged_to"] or 0)
        purged_hash = str(head["purged_hash"] or GENESIS)
        checkpoint = min(
            (a for a in anchors if (a.purged_to, a.purged_hash) == (purged_to, purged_hash)),
            key=lambda anchor: anchor.n,
            default=None,
        )
        if purged_to > 0 and checkpoint is None:
            return report(
                0,
                1,
                f"rows 1-{purged_to} are gone and no signed anchor says they were purged "
                "under retention",
            )
        for anchor in anchors:
            if anchor.seq == purged_to > 0 and anchor.row_hash != purged_hash:
                return report(
                    0, purged_to, f"row {purged_to} is not the row anchor {anchor.n} signed"
                )
        # Anchors of rows purged since cannot be held against them: the checkpoint covers them.
        at_seq = {anchor.seq: anchor for anchor in anchors if anchor.seq > purged_to}
        expected_seq, prev_hash, checked = purged_to + 1, purged_hash, 0
        for row in _rows_in_order(connection, batch, after=purged_to):
            seq = row["seq"]
            if seq != expected_seq:
                return report(checked, expected_seq, f"row {expected_seq} is missing")
            if row["prev_hash"] != prev_hash:
                return report(checked, seq, "does not follow the row before it")
            content = hashed_content(dict(row))
            if seq >= keyed_from:
                if keyed_row_digest(chain_key, prev_hash, content) != row["row_hash"]:
                    return report(checked, seq, "content does not match its keyed hash")
            elif row_digest(prev_hash, content) != row["row_hash"]:
                return report(checked, seq, "content does not match its (unkeyed) hash")
            signed = at_seq.get(seq)
            if signed is not None and signed.row_hash != row["row_hash"]:
                return report(
                    checked, seq, f"row {seq} is not the row anchor {signed.n} signed: rewritten"
                )
            prev_hash, expected_seq, checked = row["row_hash"], expected_seq + 1, checked + 1
    last = expected_seq - 1
    if latest is not None and latest.seq > last:
        return report(
            checked,
            last + 1,
            f"log ends at seq {last} but anchor {latest.n} ({latest.at}) says seq "
            f"{latest.seq}: rows {last + 1}-{latest.seq} were removed",
        )
    if head["last_seq"] != last or head["last_hash"] != prev_hash:
        return report(
            checked,
            last + 1 if head["last_seq"] > last else None,
            f"the log head says {head['last_seq']} rows, {last} found",
        )
    return ChainReport(
        checked,
        keyed_from=keyed_from,
        anchor=latest,
        purged_to=purged_to,
        checkpoint=checkpoint if purged_to > 0 else None,
    )


def _rows_in_order(connection: Connection, batch: int, *, after: int = 0) -> Iterator[RowMapping]:
    last = after
    while True:
        rows = list(
            connection.execute(
                select(_passages)
                .where(_passages.c.seq > last)
                .order_by(_passages.c.seq)
                .limit(batch)
            ).mappings()
        )
        if not rows:
            return
        yield from rows
        last = rows[-1]["seq"]
