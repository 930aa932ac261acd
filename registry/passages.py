"""The passage log in the database: durable appends on a keyed hash chain, reads.

An append is one short transaction: bump the chain head (which takes the write lock on
SQLite and a row lock on PostgreSQL, so lanes and processes append in one order), check
the registry revision the decision was made on, insert the row, move the head. It is
committed - durable, ``synchronous=FULL`` on SQLite - before ``append`` returns, and only
then may the barrier open. When the database refuses the write, a log with a spool keeps
the passage in a local file instead (``registry.passage_spool``, fsynced: also durable
before the barrier) and writes it, in order and before any newer one, once the database
answers again. Each row's hash is HMAC-SHA-256 under the chain key, which is
not in the database (``gate.domain.hashchain``); ``registry.chain_check`` verifies.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.engine import Connection, RowMapping
from sqlalchemy.exc import DBAPIError

from gate.domain.errors import LogUnavailable, NotFound, PassSpent, StaleSnapshot
from gate.domain.hashchain import keyed_row_digest
from gate.domain.model import (
    AlertLevel,
    CredentialKind,
    Decision,
    Direction,
    IdentityKind,
    Outcome,
    PassageEntry,
    PassageRecord,
    Reason,
)
from gate.domain.passes import spent_passes
from gate.domain.status import LOCAL_TZ
from registry.database import Database
from registry.models import Exemption, IssuedPass, Passage, PassageChain, RegistryRevision
from registry.passage_spool import PassageSpool

logger = logging.getLogger(__name__)
_T = TypeVar("_T")

_passages: Table = Passage.__table__  # type: ignore[assignment]
_chain: Table = PassageChain.__table__  # type: ignore[assignment]
_exemptions: Table = Exemption.__table__  # type: ignore[assignment]
_revision: Table = RegistryRevision.__table__  # type: ignore[assignment]
_issued_passes: Table = IssuedPass.__table__  # type: ignore[assignment]


def _row_values(seq: int, entry: PassageEntry, prev_hash: str) -> dict[str, Any]:
    decision = entry.decision
    return {
        "seq": seq,
        "uuid": entry.uuid,
        "at": entry.at.astimezone(UTC),
        "local_time": entry.at.astimezone(LOCAL_TZ).isoformat(timespec="seconds"),
        "lane": entry.lane,
        "direction": entry.direction.value,
        "credential_kind": entry.credential_kind.value,
        "identity_kind": entry.identity_kind.value,
        "person_ref": entry.person_ref,
        "household_ref": entry.household_ref,
        "document_hash": entry.document_hash,
        "outcome": decision.outcome.value,
        "alert": decision.alert.value,
        "opens_barrier": decision.opens_barrier,
        "reasons": decision.reasons_json(),
        "rule_ids": list(decision.rule_ids),
        "decided_by": entry.decided_by,
        "overrides_seq": entry.overrides_seq,
        "temperature": entry.temperature,
        "snapshot_ref": entry.snapshot_ref,
        "prev_hash": prev_hash,
    }


def hashed_content(values: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a row the chain hash covers: everything but the hashes themselves."""
    content = {key: value for key, value in values.items() if key not in ("row_hash", "prev_hash")}
    at = content["at"]
    content["at"] = (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(UTC).isoformat()
    return content


# Built once: compiling a statement per passage cost more than the fsync.
_BUMP_HEAD = (
    update(_chain)
    .where(_chain.c.id == 1)
    .values(last_seq=_chain.c.last_seq + 1)
    .returning(
        _chain.c.last_seq,
        _chain.c.last_hash,
        select(_revision.c.revision).where(_revision.c.id == 1).scalar_subquery(),
    )
)
_INSERT_ROW = _passages.insert()
_MOVE_HEAD = update(_chain).where(_chain.c.id == 1).values(last_hash=bindparam("new_hash"))


class SqlPassageReader:
    """``gate.app.ports.PassageLogReader`` on the registry database (reads only).

    Built once by the composition root; the terminal, the reports, the CLI and the district
    feed read the log through it.
    """

    def __init__(self, database: Database) -> None:
        self._database = database

    def _records(self, query: Any) -> list[PassageRecord]:
        with self._database.engine.connect() as connection:
            return [record_from_row(row) for row in connection.execute(query).mappings()]

    def get(self, seq: int) -> PassageRecord:
        """The passage with ``seq``."""
        found = self._records(select(_passages).where(_passages.c.seq == seq))
        if not found:
            raise NotFound(f"no passage {seq}")
        return found[0]

    def overridden(self, seq: int) -> bool:
        """True if an override row already points at ``seq``."""
        with self._database.engine.connect() as connection:
            return (
                connection.scalar(
                    select(_passages.c.seq).where(_passages.c.overrides_seq == seq).limit(1)
                )
                is not None
            )

    def tail(self, count: int) -> list[PassageRecord]:
        """The last ``count`` passages, oldest first."""
        newest = self._records(select(_passages).order_by(_passages.c.seq.desc()).limit(count))
        return list(reversed(newest))

    def since(self, after_seq: int, limit: int = 1000) -> list[PassageRecord]:
        """Passages with ``seq > after_seq`` in order (the district's incremental pull)."""
        return self._records(
            select(_passages)
            .where(_passages.c.seq > after_seq)
            .order_by(_passages.c.seq)
            .limit(limit)
        )

    def unhandled(self, *, since: datetime, limit: int = 200) -> list[PassageRecord]:
        """Reviews and denials since ``since`` that no guard has decided yet, oldest first."""
        override = _passages.alias("override")
        return self._records(
            select(_passages)
            .outerjoin(override, override.c.overrides_seq == _passages.c.seq)
            .where(
                _passages.c.outcome.in_(("review", "deny")),
                _passages.c.overrides_seq.is_(None),
                _passages.c.at >= since,
                override.c.seq.is_(None),
            )
            .order_by(_passages.c.seq)
            .limit(limit)
        )

    def by_person(self, person_ref: str, *, since: datetime) -> list[PassageRecord]:
        """One person's passages since ``since``, in order."""
        return self._records(
            select(_passages)
            .where(_passages.c.person_ref == person_ref, _passages.c.at >= since)
            .order_by(_passages.c.seq)
        )


class SqlPassageLog(SqlPassageReader):
    """``gate.domain.ports.PassageLog`` on the registry database.

    Appends go through an engine of their own whose connections wait at most
    ``lock_timeout_ms`` for a lock (a gate must never hang: past that the passage is
    refused), without a ping per checkout; a connection the server dropped is retried once.
    Build one per process (the composition root does): each holds an engine.
    ``chain_key`` keys every row's hash; the composition root checks it is the key the
    database's chain is under (``gate.runtime.log_keys``).

    With a ``spool``, a write the database refuses is kept in it and ``append`` returns a
    record with ``seq`` 0 (numbered when the database takes it); every append first writes
    what the spool holds (``flush_spool``, also run by the station's upkeep), so the log's
    order is the order of the passages. Without one, ``LogUnavailable`` as before.
    """

    def __init__(
        self,
        database: Database,
        *,
        chain_key: bytes,
        lock_timeout_ms: int = 2000,
        spool: PassageSpool | None = None,
    ) -> None:
        super().__init__(database)
        self._chain_key = chain_key
        self._writer = database.writer_engine(lock_timeout_ms=lock_timeout_ms)
        self._spool = spool
        self._spool_lock = threading.Lock()  # the lanes' threads drain and hold one at a time

    def append(self, entry: PassageEntry, *, registry_revision: int | None = None) -> PassageRecord:
        """Write ``entry`` durably (see the module docstring)."""
        if self._spool is None:
            return self._write(lambda c: self._append(c, entry, registry_revision))
        with self._spool_lock:
            try:
                self._drain(self._spool)
                return self._write(lambda c: self._append(c, entry, registry_revision))
            except LogUnavailable as exc:
                self._spool.hold(_row_values(0, entry, ""))  # LogUnavailable if that fails too
                logger.warning(
                    "passage kept in the local spool until the database is back: %s", exc
                )
                return PassageRecord(seq=0, entry=entry, row_hash="")

    def flush_spool(self) -> int:
        """Write what the spool holds if the database takes it; how many passages were written."""
        if self._spool is None or not self._spool.pending():
            return 0
        with self._spool_lock:
            try:
                return self._drain(self._spool)
            except LogUnavailable:
                return 0

    def spooled(self) -> int:
        """How many passages wait in the spool for the database."""
        return 0 if self._spool is None else self._spool.count()

    def _drain(self, spool: PassageSpool) -> int:
        if not spool.pending():
            return 0
        with spool.draining() as held:
            written = self._write(lambda connection: self._replay(connection, held))
        logger.warning("wrote %d passages from the local spool to the database", written)
        return written

    def _replay(self, connection: Connection, held: list[dict[str, Any]]) -> int:
        uuids = [values["uuid"] for values in held]
        known: set[str] = set()
        for start in range(0, len(uuids), 500):
            chunk = uuids[start : start + 500]
            known |= set(
                connection.scalars(select(_passages.c.uuid).where(_passages.c.uuid.in_(chunk)))
            )
        written = 0
        for values in held:
            if values["uuid"] in known:
                continue  # written before a crash left the spool full: not twice
            try:
                entry = record_from_row({**values, "seq": 0, "row_hash": ""}).entry  # type: ignore[arg-type]
            except (KeyError, ValueError, TypeError) as exc:  # never one bad line blocking the rest
                logger.error("passage spool: %s unreadable, skipped: %r", values.get("uuid"), exc)
                continue
            self._append(connection, entry, None, replayed=True)
            written += 1
        return written

    def _write(self, work: Callable[[Connection], _T]) -> _T:
        for attempt in range(2):
            try:
                with self._writer.begin() as connection:
                    return work(connection)
            except DBAPIError as exc:
                if exc.connection_invalidated and attempt == 0:
                    continue  # the server dropped an idle connection: once more, fresh
                logger.error("passage log write failed: %s", exc.orig)
                raise LogUnavailable(f"the passage log refused the write: {exc.orig}") from None
        raise AssertionError("unreachable")

    def _append(
        self,
        connection: Connection,
        entry: PassageEntry,
        registry_revision: int | None,
        *,
        replayed: bool = False,
    ) -> PassageRecord:
        last_seq, last_hash, current_revision = connection.execute(_BUMP_HEAD).one()
        if registry_revision is not None and current_revision != registry_revision:
            raise StaleSnapshot(int(current_revision or 0))
        self._spend_one_time_passes(connection, entry, last_seq, replayed=replayed)
        values = _row_values(last_seq, entry, last_hash)
        values["row_hash"] = keyed_row_digest(self._chain_key, last_hash, hashed_content(values))
        connection.execute(_INSERT_ROW, values)
        connection.execute(_MOVE_HEAD, {"new_hash": values["row_hash"]})
        if entry.decision.opens_barrier:
            self._consume_single_use_passes(connection, entry)
        return PassageRecord(seq=last_seq, entry=entry, row_hash=values["row_hash"])

    def _spend_one_time_passes(
        self, connection: Connection, entry: PassageEntry, seq: int, *, replayed: bool = False
    ) -> None:
        """A one-time QR pass (an invite) is spent by the passage it lets through.

        Same transaction as the row, and only if nobody spent or revoked it first: two
        lanes scanning one invite at the same moment let exactly one person in; the other
        gets ``PassSpent`` (nothing written) and decides again. A passage written from the
        spool happened already (the barrier opened offline): it is written even if the pass
        was spent meanwhile elsewhere, with a warning.
        """
        for pass_id in spent_passes(entry.decision):
            result = connection.execute(
                update(_issued_passes)
                .where(
                    _issued_passes.c.pass_id == pass_id,
                    _issued_passes.c.used_at.is_(None),
                    _issued_passes.c.revoked_at.is_(None),
                )
                .values(used_at=entry.at.astimezone(UTC), used_seq=seq)
            )
            if result.rowcount != 1:
                if replayed:
                    logger.warning("one-time pass %s was also used while offline", pass_id)
                    continue
                raise PassSpent(pass_id)

    def _consume_single_use_passes(self, connection: Connection, entry: PassageEntry) -> None:
        """A one-time pass (an escorted hospital visit) is spent by the passage it let through.

        Same transaction as the row: the pass is used if and only if the passage is logged.
        """
        spent = [
            reason.params["exemption_id"]
            for reason in entry.decision.reasons
            if reason.code == "exempted" and reason.params.get("single_use")
        ]
        if not spent:
            return
        connection.execute(
            update(_exemptions)
            .where(_exemptions.c.id.in_(spent), _exemptions.c.used_at.is_(None))
            .values(used_at=entry.at.astimezone(UTC))
        )
        connection.execute(
            update(_revision).where(_revision.c.id == 1).values(revision=_revision.c.revision + 1)
        )


def record_from_row(row: RowMapping) -> PassageRecord:
    """Rebuild a ``PassageRecord`` from a ``passages`` row."""
    at = row["at"] if row["at"].tzinfo else row["at"].replace(tzinfo=UTC)
    decision = Decision(
        outcome=Outcome(row["outcome"]),
        reasons=tuple(
            Reason(reason["code"], reason.get("params") or {}, reason.get("rule_id"))
            for reason in row["reasons"]
        ),
        alert=AlertLevel(row["alert"]),
        rule_ids=tuple(row["rule_ids"]),
        opens_barrier=bool(row["opens_barrier"]),
    )
    entry = PassageEntry(
        uuid=row["uuid"],
        at=at,
        lane=row["lane"],
        direction=Direction(row["direction"]),
        credential_kind=CredentialKind(row["credential_kind"]),
        identity_kind=IdentityKind(row["identity_kind"]),
        person_ref=row["person_ref"],
        household_ref=row["household_ref"],
        document_hash=row["document_hash"],
        decision=decision,
        decided_by=row["decided_by"],
        overrides_seq=row["overrides_seq"],
        temperature=row["temperature"],
        snapshot_ref=row["snapshot_ref"],
    )
    return PassageRecord(seq=row["seq"], entry=entry, row_hash=row["row_hash"])
