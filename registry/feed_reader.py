"""``gate.app.district_feed.FeedReader`` on the registry database: passages with their place.

One query per page: the passages after a sequence number joined to their household's
building, unit and room (a passage keeps the household's ref; the place is looked up so
a district sees where the household lives now, not an internal id). The feed's pages are
read on the driver's own cursor (plain tuples, no SQLAlchemy rows or per-value
processing): the feed reads up to a million rows in one request, and that processing
cost more than everything else. The JSON columns are cast to text in SQL, so both
engines give the log's JSON text (the encoder parses each distinct text once).

With ``documents`` one more column says which document the passage was made with, as
``doc_type:last4`` (never more of the number): the document read at the gate, found by
its keyed hash among the residents' documents or the visitors'; for a passage without a
read document (a resident's, whose hash the log does not keep, or a QR pass), the
person's own: a resident's first document, a visitor's. Null for anyone else (an
outsider). Only then are those tables joined.

``FEED_SELECT`` and ``feed_rows`` are the same query as ``FeedRow`` values, for tracing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import (
    ColumnElement,
    String,
    Table,
    Text,
    bindparam,
    cast,
    func,
    null,
    select,
    type_coerce,
)
from sqlalchemy.sql.compiler import SQLCompiler

from gate.app.district_feed import FeedRow, Place
from registry.database import Database
from registry.models import Building, Document, Household, Passage, Person, Unit, Visitor

_passages: Table = Passage.__table__  # type: ignore[assignment]
_households: Table = Household.__table__  # type: ignore[assignment]
_units: Table = Unit.__table__  # type: ignore[assignment]
_buildings: Table = Building.__table__  # type: ignore[assignment]
_documents: Table = Document.__table__  # type: ignore[assignment]
_persons: Table = Person.__table__  # type: ignore[assignment]
_visitors: Table = Visitor.__table__  # type: ignore[assignment]

# The feed's columns, in ``FeedRow`` order. The time and the JSON columns are read as
# the driver gives them (``type_coerce``: no per-value processing), ``_feed_row`` parses.
FEED_SELECT = (
    select(
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
        type_coerce(_passages.c.reasons, String),
        type_coerce(_passages.c.rule_ids, String),
        _passages.c.decided_by,
        _passages.c.overrides_seq,
        _passages.c.temperature,
        _buildings.c.key,
        _units.c.key,
        _households.c.room,
    )
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


def _masked(doc_type: ColumnElement[Any], last4: ColumnElement[Any]) -> ColumnElement[str]:
    return type_coerce(doc_type, String) + ":" + last4


def _document_column() -> ColumnElement[Any]:
    """``doc_type:last4`` of the passage's document (see the module docstring), or null."""
    by_hash = _documents.alias("doc_by_hash")
    visit_by_hash = _visitors.alias("visit_by_hash")
    own = _documents.alias("own_doc")
    holder = _persons.alias("holder")
    visit = _visitors.alias("visit_by_ref")
    return func.coalesce(
        select(_masked(by_hash.c.doc_type, by_hash.c.number_last4))
        .where(by_hash.c.number_hash == _passages.c.document_hash)
        .scalar_subquery(),
        select(_masked(visit_by_hash.c.doc_type, visit_by_hash.c.number_last4))
        .where(
            visit_by_hash.c.number_hash == _passages.c.document_hash,
            visit_by_hash.c.number_last4.is_not(None),
        )
        .order_by(visit_by_hash.c.id.desc())
        .limit(1)
        .scalar_subquery(),
        select(_masked(own.c.doc_type, own.c.number_last4))
        .select_from(own.join(holder, holder.c.id == own.c.person_id))
        .where(holder.c.ref == _passages.c.person_ref)
        .order_by(own.c.id)
        .limit(1)
        .scalar_subquery(),
        select(_masked(visit.c.doc_type, visit.c.number_last4))
        .where(visit.c.ref == _passages.c.person_ref, visit.c.number_last4.is_not(None))
        .scalar_subquery(),
    )


def _raw_select(documents: bool) -> Any:
    """The page query of raw rows (``RAW_COLUMNS``), after ``:after``, at most ``:size``."""
    columns = list(FEED_SELECT.selected_columns)
    columns[11] = cast(_passages.c.reasons, Text)
    columns[12] = cast(_passages.c.rule_ids, Text)
    document = _document_column() if documents else null()
    return (
        FEED_SELECT.with_only_columns(*columns, document.label("document"))
        .where(_passages.c.seq > bindparam("after"))
        .limit(bindparam("size"))
    )


class SqlFeedReader:
    """Reads pages of the log for the district feed (read only)."""

    def __init__(self, database: Database) -> None:
        self._database = database
        dialect = database.engine.dialect
        self._compiled: dict[bool, SQLCompiler] = {
            documents: _raw_select(documents).compile(dialect=dialect)
            for documents in (False, True)
        }

    def rows_after(self, seq: int, limit: int, *, documents: bool = False) -> Sequence[Any]:
        """Committed passages after ``seq`` in order, as raw rows (see the cursor contract)."""
        compiled = self._compiled[documents]
        values: dict[str, Any] = dict(compiled.construct_params({"after": seq, "size": limit}))
        params: Any = values
        if compiled.positiontup is not None:  # SQLite's "?" style
            params = tuple(values[name] for name in compiled.positiontup)
        with self._database.engine.connect() as connection:
            cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            try:
                cursor.execute(compiled.string, params)
                return cursor.fetchall()
            finally:
                cursor.close()


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
