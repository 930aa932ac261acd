"""``gate.app.district_feed.FeedReader`` on the registry database: passages with their place.

One query per page: the passages after a sequence number joined to their household's
building, unit and room (a passage keeps the household's ref; the place is looked up so
a district sees where the household lives now, not an internal id). Values are read as
the driver gives them, without SQLAlchemy's per-value processing: the feed reads up to a
million rows in one request, and that processing cost more than everything else.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import String, Table, select, type_coerce

from gate.app.district_feed import FeedRow, Place
from registry.database import Database
from registry.models import Building, Household, Passage, Unit

_passages: Table = Passage.__table__  # type: ignore[assignment]
_households: Table = Household.__table__  # type: ignore[assignment]
_units: Table = Unit.__table__  # type: ignore[assignment]
_buildings: Table = Building.__table__  # type: ignore[assignment]

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


class SqlFeedReader:
    """Reads pages of the log for the district feed (read only)."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def rows_after(self, seq: int, limit: int) -> Sequence[FeedRow]:
        """Committed passages after ``seq`` in order (see the cursor contract)."""
        query = FEED_SELECT.where(_passages.c.seq > seq).limit(limit)
        with self._database.engine.connect() as connection:
            return feed_rows(connection.execute(query).all())


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
