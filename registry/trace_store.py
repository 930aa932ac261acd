"""The tracing store of ``gate.app.control_ports`` on SQLAlchemy.

Tracing reads the log with the district feed's own query and row conversion
(``registry.feed_reader``), bounded by time and by whose passages instead of a cursor.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from gate.app.district_feed import FeedRow
from registry.feed_reader import FEED_SELECT, _passages, feed_rows


class SqlTraceStore:
    """``TraceStore``."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def of_person(
        self,
        *,
        person_ref: str | None,
        document_hash: str,
        since: datetime,
        until: datetime,
        limit: int,
    ) -> list[FeedRow]:
        """The person's passages, and those of their document read at the gate."""
        whose = _passages.c.document_hash == document_hash
        if person_ref is not None:
            whose = whose | (_passages.c.person_ref == person_ref)
        query = FEED_SELECT.where(whose, _passages.c.at >= since, _passages.c.at < until)
        return feed_rows(self._session.execute(query.limit(limit)).all())

    def window(self, *, since: datetime, until: datetime, limit: int) -> list[FeedRow]:
        """Every passage in the window."""
        query = FEED_SELECT.where(_passages.c.at >= since, _passages.c.at < until)
        return feed_rows(self._session.execute(query.limit(limit)).all())
