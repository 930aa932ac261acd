"""``gate.app.district_feed.FeedReader`` on the registry database: passages with their place.

One query per page: the passages after a sequence number joined to their household's
building, unit and room (a passage keeps the household's ref; the place is looked up so
a district sees where the household lives now, not an internal id).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Table, select

from gate.app.district_feed import FeedRow, Place
from registry.database import Database
from registry.models import Building, Household, Passage, Unit
from registry.passages import record_from_row

_passages: Table = Passage.__table__  # type: ignore[assignment]
_households: Table = Household.__table__  # type: ignore[assignment]
_units: Table = Unit.__table__  # type: ignore[assignment]
_buildings: Table = Building.__table__  # type: ignore[assignment]

_PAGE = (
    select(
        _passages,
        _buildings.c.key.label("place_building"),
        _units.c.key.label("place_unit"),
        _households.c.room.label("place_room"),
    )
    .select_from(
        _passages.outerjoin(_households, _households.c.ref == _passages.c.household_ref)
        .outerjoin(_units, _units.c.id == _households.c.unit_id)
        .outerjoin(_buildings, _buildings.c.id == _units.c.building_id)
    )
    .order_by(_passages.c.seq)
)


class SqlFeedReader:
    """Reads pages of the log for the district feed (read only)."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def rows_after(self, seq: int, limit: int) -> Sequence[FeedRow]:
        """Committed passages after ``seq`` in order (see the cursor contract)."""
        query = _PAGE.where(_passages.c.seq > seq).limit(limit)
        with self._database.engine.connect() as connection:
            rows = connection.execute(query).mappings().all()
        return [
            FeedRow(
                record_from_row(row),
                Place(row["place_building"], row["place_unit"], row["place_room"])
                if row["place_room"] is not None
                else None,
            )
            for row in rows
        ]
