"""``gate.app.district_feed.FeedReader`` on the registry database: passages with their place.

A page is one query on the log alone: passages after a sequence number, read on the
driver's own cursor (plain tuples, no SQLAlchemy rows or per-value processing: the feed
reads up to a million rows in one request, and that processing cost more than everything
else). The JSON columns are cast to text in SQL, so both engines give the log's JSON text.
A passage keeps its household's ref; where the household lives now (building, unit,
room) is looked up once per household per request, for the refs a page brings that the
request has not seen (joining the three tables on every row was half the time of a page).

With ``documents`` the page also reads the passage's document hash, and the document
each passage was made with is looked up the same way, as ``doc_type:last4`` (never more
of the number): the document read at the gate, by its keyed hash among the residents'
documents, then the visitors'; for a passage without a read document (a resident's,
whose hash the log does not keep, or a QR pass), the person's own: a resident's first
document, else a visitor's. Nothing for anyone else (an outsider). Only then are those
tables read.

``FEED_SELECT`` and ``feed_rows`` are the log joined to the places as ``FeedRow`` values,
for tracing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Connection, String, Table, Text, bindparam, cast, null, select, type_coerce
from sqlalchemy.sql.compiler import SQLCompiler

from gate.app.district_feed import FeedRow, Place
from gate.app.feed_encoder import FeedBatch
from registry.database import Database
from registry.models import Building, Document, Household, Passage, Person, Unit, Visitor

_passages: Table = Passage.__table__  # type: ignore[assignment]
_households: Table = Household.__table__  # type: ignore[assignment]
_units: Table = Unit.__table__  # type: ignore[assignment]
_buildings: Table = Building.__table__  # type: ignore[assignment]
_documents: Table = Document.__table__  # type: ignore[assignment]
_persons: Table = Person.__table__  # type: ignore[assignment]
_visitors: Table = Visitor.__table__  # type: ignore[assignment]

# The columns of a page, in ``gate.app.feed_encoder.RAW_COLUMNS`` order (the last,
# ``document``, is added by ``_page_select``).
_PAGE_COLUMNS = (
    _passages.c.seq,
    _passages.c.uuid,
    type_coerce(_passages.c.at, String),
    _passages.c.lane,
    _passages.c.direction,
    _passages.c.credential_kind,
    _passages.c.identity_kind,
    _passages.c.person_ref,
    _passages.c.household_ref,
    _passages.c.outcome,
    _passages.c.opens_barrier,
    cast(_passages.c.reasons, Text),
    cast(_passages.c.rule_ids, Text),
    _passages.c.decided_by,
    _passages.c.overrides_seq,
    _passages.c.temperature,
)
# The tracing store's rows, in ``FeedRow`` order: a page's columns and the household's
# place, joined (tracing reads few rows; the feed looks places up once per household).
FEED_SELECT = (
    select(*_PAGE_COLUMNS, _buildings.c.key, _units.c.key, _households.c.room)
    .select_from(
        _passages.outerjoin(_households, _households.c.ref == _passages.c.household_ref)
        .outerjoin(_units, _units.c.id == _households.c.unit_id)
        .outerjoin(_buildings, _buildings.c.id == _units.c.building_id)
    )
    .order_by(_passages.c.seq)
)
_PAGE = FEED_SELECT  # the name the tracing store imports


def feed_rows(rows: Sequence[Any]) -> list[FeedRow]:
    """``FeedRow`` values from rows of ``FEED_SELECT`` (with any ``where`` added)."""
    return [_feed_row(row) for row in rows]


_LOOKUP = 500  # refs or hashes per lookup query (well under every engine's parameter limit)


def _page_select(documents: bool) -> Any:
    """The page query, after ``:after``, at most ``:size`` rows."""
    document = _passages.c.document_hash if documents else null()
    return (
        select(*_PAGE_COLUMNS, document.label("document"))
        .where(_passages.c.seq > bindparam("after"))
        .order_by(_passages.c.seq)
        .limit(bindparam("size"))
    )


class SqlFeedReader:
    """Reads pages of the log for the district feed (read only)."""

    def __init__(self, database: Database) -> None:
        self._database = database
        dialect = database.engine.dialect
        self._compiled: dict[bool, SQLCompiler] = {
            documents: _page_select(documents).compile(dialect=dialect)
            for documents in (False, True)
        }

    def pages_after(
        self, seq: int, limit: int, *, page: int, documents: bool = False
    ) -> Iterator[FeedBatch]:
        """Pages of committed passages after ``seq``, in order (see the cursor contract).

        At most ``limit`` rows in all, ``page`` a page; the last page is the first short
        one. No connection is held between pages.
        """
        places: dict[str, tuple[str, str, str] | None] = {}
        found: dict[str, str | None] = {}
        after, left = seq, limit
        while left > 0:
            size = min(page, left)
            with self._database.engine.connect() as connection:
                rows = self._page(connection, after, size, documents)
                _add_places(connection, places, {row[8] for row in rows} - places.keys())
                if documents:
                    _add_documents(connection, found, rows)
            yield FeedBatch(rows, places, found)
            if len(rows) < size:
                return
            after, left = rows[-1][0], left - len(rows)

    def _page(
        self, connection: Connection, after: int, size: int, documents: bool
    ) -> Sequence[Any]:
        compiled = self._compiled[documents]
        values: dict[str, Any] = dict(compiled.construct_params({"after": after, "size": size}))
        params: Any = values
        if compiled.positiontup is not None:  # SQLite's "?" style
            params = tuple(values[name] for name in compiled.positiontup)
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(compiled.string, params)
            return cursor.fetchall()
        finally:
            cursor.close()


def _chunks(keys: set[str]) -> Iterator[list[str]]:
    ordered = sorted(keys)
    for start in range(0, len(ordered), _LOOKUP):
        yield ordered[start : start + _LOOKUP]


def _add_places(
    connection: Connection, places: dict[str, tuple[str, str, str] | None], refs: set[Any]
) -> None:
    """Where the households ``refs`` live now (None: no such household, or no ref)."""
    refs.discard(None)
    for chunk in _chunks(refs):
        query = (
            select(_households.c.ref, _buildings.c.key, _units.c.key, _households.c.room)
            .join(_units, _units.c.id == _households.c.unit_id)
            .join(_buildings, _buildings.c.id == _units.c.building_id)
            .where(_households.c.ref.in_(chunk))
        )
        for ref, building, unit, room in connection.execute(query):
            places[ref] = (building, unit, room)
        for ref in chunk:
            places.setdefault(ref, None)


def _masked_columns(table: Any) -> tuple[Any, Any]:
    return type_coerce(table.c.doc_type, String), table.c.number_last4


def _add_documents(connection: Connection, found: dict[str, str | None], rows: Any) -> None:
    """``doc_type:last4`` of the documents of ``rows`` not in ``found`` yet (see above)."""
    hashes = {row[16] for row in rows if row[16]} - found.keys()
    refs = {row[7] for row in rows if not row[16] and row[7]} - found.keys()
    lookups = (
        (hashes, _documents.c.number_hash, _documents, None),
        (hashes, _visitors.c.number_hash, _visitors, _visitors.c.id.desc()),
        (refs, _persons.c.ref, _documents.join(_persons), _documents.c.id),
        (refs, _visitors.c.ref, _visitors, None),
    )
    for keys, key, source, order in lookups:
        table = _visitors if source is _visitors else _documents
        for chunk in _chunks(keys - found.keys()):
            query = (
                select(key, *_masked_columns(table))
                .select_from(source)
                .where(key.in_(chunk), table.c.number_last4.is_not(None))
            )
            if order is not None:
                query = query.order_by(order)
            for name, doc_type, last4 in connection.execute(query):
                found.setdefault(name, f"{doc_type}:{last4}")
    for name in hashes | refs:
        found.setdefault(name, None)


def _feed_row(row: Any) -> FeedRow:
    seq, uuid, at, lane, direction, credential, identity, person, household = row[:9]
    outcome, opens, reasons, rule_ids, decided_by, overrides, temperature = row[9:16]
    building, unit, room = row[16:]
    if isinstance(at, str):  # SQLite keeps UTC as text
        at = datetime.fromisoformat(at)
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    if isinstance(reasons, str | bytes):  # SQLite keeps JSON as text; psycopg parses it
        reasons = orjson.loads(reasons)
    if isinstance(rule_ids, str | bytes):
        rule_ids = orjson.loads(rule_ids)
    return FeedRow(
        seq,
        uuid,
        at,
        lane,
        direction,
        credential,
        identity,
        person,
        household,
        outcome,
        bool(opens),
        [reason["code"] for reason in reasons],
        rule_ids,
        decided_by,
        overrides,
        temperature,
        Place(building, unit, room) if room is not None else None,
    )
