"""Reading the audit log: filters, pages newest first by id cursor, and exports.

The log is append-only; these functions only read it, and hand back copies of the rows.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from registry.models import AuditEvent

AUDIT_PAGE_SIZE = 50


@dataclass(frozen=True)
class AuditFilter:
    """Which audit events to show: action prefix, exact actor, ``[start, end)``."""

    action: str = ""
    actor: str = ""
    start: datetime | None = None
    end: datetime | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        """The filter as SQL conditions."""
        found: list[ColumnElement[bool]] = []
        if self.action:
            found.append(AuditEvent.action.startswith(self.action, autoescape=True))
        if self.actor:
            found.append(AuditEvent.actor == self.actor)
        if self.start is not None:
            found.append(AuditEvent.at >= self.start)
        if self.end is not None:
            found.append(AuditEvent.at < self.end)
        return found


@dataclass(frozen=True)
class AuditLine:
    """One audit event as read (a copy: the log is never edited through it)."""

    id: int
    at: datetime
    actor: str
    origin: str
    action: str
    target: str
    detail: Mapping[str, Any]


@dataclass(frozen=True)
class AuditPage:
    """A page of audit events, newest first, and the cursors to the pages around it."""

    events: tuple[AuditLine, ...]
    newer_than: int | None  # pass as ``after`` for the newer page
    older_than: int | None  # pass as ``before`` for the older page


def _line(event: AuditEvent) -> AuditLine:
    return AuditLine(
        event.id, event.at, event.actor, event.origin, event.action, event.target, event.detail
    )


def audit_page(
    session: Session,
    *,
    filters: AuditFilter,
    before: int | None = None,
    after: int | None = None,
    size: int = AUDIT_PAGE_SIZE,
) -> AuditPage:
    """Up to ``size`` events older than ``before`` (or just newer than ``after``), newest first."""
    conditions = filters.conditions()
    query = select(AuditEvent).where(*conditions)
    if after is not None and before is None:
        rows = list(
            session.scalars(query.where(AuditEvent.id > after).order_by(AuditEvent.id).limit(size))
        )
        rows.reverse()
    else:
        if before is not None:
            query = query.where(AuditEvent.id < before)
        rows = list(session.scalars(query.order_by(AuditEvent.id.desc()).limit(size)))
    if not rows:
        return AuditPage((), None, None)

    def exists(condition: ColumnElement[bool]) -> bool:
        found = session.scalar(select(AuditEvent.id).where(*conditions, condition).limit(1))
        return found is not None

    newest, oldest = rows[0].id, rows[-1].id
    return AuditPage(
        events=tuple(_line(event) for event in rows),
        newer_than=newest if exists(AuditEvent.id > newest) else None,
        older_than=oldest if exists(AuditEvent.id < oldest) else None,
    )


def audit_events(
    session: Session, *, filters: AuditFilter, batch: int = 1000
) -> Iterator[AuditLine]:
    """Every event matching ``filters``, newest first, read in batches (for exports)."""
    before: int | None = None
    while True:
        query = select(AuditEvent).where(*filters.conditions())
        if before is not None:
            query = query.where(AuditEvent.id < before)
        rows = list(session.scalars(query.order_by(AuditEvent.id.desc()).limit(batch)))
        if not rows:
            return
        yield from (_line(event) for event in rows)
        before = rows[-1].id


def audit_actions(session: Session) -> list[str]:
    """The actions that occur in the audit log (for the filter's suggestions)."""
    return list(session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)))
