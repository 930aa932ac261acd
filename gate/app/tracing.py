"""Tracing for the district: one person's passages, and who passed in a window.

``trace_person`` finds a document's passages: a registered person's by their ref, and,
for anyone, the passages where the gate read that document (an outsider's or a visitor's
swipes, kept under the document's keyed hash, and a resident's before they registered).
``trace_window`` lists every passage in a window (the 2020 case: a confirmed taxi
driver's movements matched against who passed the gate). Both answer in the feed's own
shape (``district_feed.standard_item``: pseudonymous people, no document numbers), need a
``purpose`` (at most ``MAX_PURPOSE`` characters) and windows of at most ``MAX_WINDOW``;
each call is audited with the caller, the purpose, the window and the count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from gate.app.actor import Actor
from gate.app.district_feed import CompoundAddress, Pseudonym, standard_item
from gate.app.ports import UnitOfWorkFactory
from gate.domain.documents import DocumentType, validate
from gate.domain.errors import ActionRefused
from gate.domain.status import LOCAL_TZ, local_date

MAX_PURPOSE = 200
MAX_WINDOW = timedelta(days=31)
MAX_ITEMS = 20_000  # more in one window: ``truncated``, ask for a shorter one


@dataclass(frozen=True)
class TracePerson:
    """A document's passages in a window (no ``since``: ``MAX_WINDOW`` before ``until``)."""

    document: str
    purpose: str | None
    document_type: str | None = None
    since: str | None = None
    until: str | None = None

    def __repr__(self) -> str:  # never the number in a log line
        return f"TracePerson(since={self.since!r}, until={self.until!r})"


@dataclass(frozen=True)
class TraceWindow:
    """Every passage in ``[since, until)``."""

    since: str | None
    until: str | None
    purpose: str | None


@dataclass(frozen=True)
class TraceAnswer:
    """The passages found, in sequence order, and the window they were looked for in."""

    items: list[dict[str, Any]]
    since: datetime
    until: datetime
    truncated: bool


def _purpose(text: str | None) -> str:
    purpose = " ".join((text or "").split())
    if not purpose:
        raise ActionRefused("trace_purpose_required")
    if len(purpose) > MAX_PURPOSE:
        raise ActionRefused("trace_purpose_too_long", limit=MAX_PURPOSE)
    return purpose


def _moment(text: str | None, field: str, *, end: bool) -> datetime | None:
    """An ISO-8601 time (no offset: Beijing time) or a date (its start; an end: its end)."""
    if text is None or not text.strip():
        return None
    value = text.strip()
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            moment = datetime.combine(day + timedelta(days=1) if end else day, time.min)
        else:
            moment = datetime.fromisoformat(value)
    except ValueError:
        raise ActionRefused("trace_time", field=field) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LOCAL_TZ)
    return moment


def _window(
    since: str | None, until: str | None, *, now: datetime, required: bool
) -> tuple[datetime, datetime]:
    start, stop = _moment(since, "from", end=False), _moment(until, "to", end=True)
    if required and (start is None or stop is None):
        raise ActionRefused("trace_window_required")
    stop = stop or now
    start = start or stop - MAX_WINDOW
    if stop <= start:
        raise ActionRefused("trace_window_order")
    if stop - start > MAX_WINDOW:
        raise ActionRefused("trace_window_too_long", days=MAX_WINDOW.days)
    return start, stop


def trace_person(
    command: TracePerson,
    *,
    actor: Actor,
    units: UnitOfWorkFactory,
    compound: CompoundAddress,
    pseudonym: Pseudonym,
) -> TraceAnswer:
    """The document's passages (``ActionRefused``, ``DocumentInvalid``)."""
    purpose = _purpose(command.purpose)
    since, until = _window(command.since, command.until, now=actor.at, required=False)
    try:
        doc_type = DocumentType((command.document_type or DocumentType.RESIDENT_ID.value).strip())
    except ValueError:
        raise ActionRefused("control_document_type") from None
    info = validate(doc_type, command.document.strip(), today=local_date(actor.at))
    with units(actor) as uow:
        document_hash = uow.controls.document_hash(info.doc_type, info.number)
        holder = uow.controls.holder(document_hash)
        rows = uow.traces.of_person(
            person_ref=holder.ref if holder is not None else None,
            document_hash=document_hash,
            since=since,
            until=until,
            limit=MAX_ITEMS + 1,
        )
        target = f"person:{holder.ref}" if holder is not None else f"document:{document_hash[:16]}"
        uow.audit(
            "trace.person",
            target,
            {
                "caller": actor.name,
                "purpose": purpose,
                "from": since.isoformat(),
                "to": until.isoformat(),
                "registered": holder is not None,
                "count": min(len(rows), MAX_ITEMS),
            },
        )
        uow.commit()
    items = [standard_item(row, compound, pseudonym) for row in rows[:MAX_ITEMS]]
    return TraceAnswer(items, since, until, len(rows) > MAX_ITEMS)


def trace_window(
    command: TraceWindow,
    *,
    actor: Actor,
    units: UnitOfWorkFactory,
    compound: CompoundAddress,
    pseudonym: Pseudonym,
) -> TraceAnswer:
    """Who passed in the window (``ActionRefused``)."""
    purpose = _purpose(command.purpose)
    since, until = _window(command.since, command.until, now=actor.at, required=True)
    with units(actor) as uow:
        rows = uow.traces.window(since=since, until=until, limit=MAX_ITEMS + 1)
        uow.audit(
            "trace.window",
            "passages",
            {
                "caller": actor.name,
                "purpose": purpose,
                "from": since.isoformat(),
                "to": until.isoformat(),
                "count": min(len(rows), MAX_ITEMS),
            },
        )
        uow.commit()
    items = [standard_item(row, compound, pseudonym) for row in rows[:MAX_ITEMS]]
    return TraceAnswer(items, since, until, len(rows) > MAX_ITEMS)
