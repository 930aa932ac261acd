"""``gate.app.outbound.CursorStore`` on the registry database: one row per relay."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from gate.app.outbound import SavedCursor
from registry.database import Database
from registry.models import DeliveryCursor


class SqlCursorStore:
    """Each relay's cursor, by the sink's name."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def saved(self) -> list[SavedCursor]:
        """Every relay's cursor."""
        with self._database.session() as session:
            rows = session.execute(
                select(
                    DeliveryCursor.name, DeliveryCursor.last_seq, DeliveryCursor.updated_at
                ).order_by(DeliveryCursor.name)
            ).all()
        return [SavedCursor(name, seq, updated_at) for name, seq, updated_at in rows]

    def load(self, name: str) -> int | None:
        """The saved cursor of ``name``."""
        with self._database.session() as session:
            return session.scalar(
                select(DeliveryCursor.last_seq).where(DeliveryCursor.name == name)
            )

    def save(self, name: str, seq: int) -> None:
        """Keep ``seq`` for ``name`` (committed when it returns: ``session`` commits)."""
        with self._database.session() as session:
            row = session.get(DeliveryCursor, name)
            if row is None:
                row = DeliveryCursor(name=name)
                session.add(row)
            row.last_seq, row.updated_at = seq, datetime.now(UTC)
