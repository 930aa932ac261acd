"""Reading the audit log: filters, pages newest first by id cursor, and exports.

The log is append-only; these functions only read it, and hand back copies of the rows.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from gate.app.report_values import AuditFilter, AuditLine, AuditPage
from registry.models import AuditEvent


def _conditions(filters: AuditFilter) -> list[ColumnElement[bool]]:
    """The filter as SQL conditions."""
    found: list[ColumnElement[bool]] = []
    if filters.action:
        found.append(AuditEvent.action.startswith(filters.action, autoescape=True))
    if filters.actor:
        found.append(AuditEvent.actor == filters.actor)
    if filters.start is not None:
        found.append(AuditEvent.at >= filters.start)
    if filters.end is not None:
        found.append(AuditEvent.at < filters.end)
    return found


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
    size: int,
) -> AuditPage:
    """Up to ``size`` events older than ``before`` (or just newer than ``after``), newest first."""
    conditions = _conditions(filters)
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
        query = select(AuditEvent).where(*_conditions(filters))
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
