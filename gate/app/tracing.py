"""Tracing for the district: one person's passages, and who passed in a window.

``trace_person`` finds a person's passages, ``trace_window`` lists every passage in a
window (the 2020 case: a confirmed taxi driver's movements matched against who passed the
gate). The rule is here once: a ``purpose`` (at most ``MAX_PURPOSE`` characters), a window
of at most ``MAX_WINDOW``, at most ``MAX_ITEMS`` items, each call audited with the caller,
the purpose, the window and the count. Where the passages are read is a ``TraceReader``:

- ``GateTraces``, this gate's own log: a document's passages, a registered person's by
  their ref and, for anyone, the passages where the gate read that document (an
  outsider's or a visitor's swipes, kept under the document's keyed hash, and a
  resident's before they registered);
- ``HubTraces``, the passages the compounds' gates pushed to the hub, of the compounds
  the caller reads: the hub holds no document numbers nor hashes (each gate keys its
  own), so a person is named by the pseudonym its compound's feed gives them (``person``).

Both answer in the feed's own standard shape (pseudonymous people, no document numbers;
a hub's items carry ``hub_seq`` first, as its feed does).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Protocol

from gate.app.actor import Actor
from gate.app.district_feed import CompoundAddress, Pseudonym, standard_item
from gate.app.ports import UnitOfWork, UnitOfWorkFactory
from gate.domain.documents import DocumentType, validate
from gate.domain.errors import ActionRefused
from gate.domain.status import LOCAL_TZ, local_date

MAX_PURPOSE = 200
MAX_WINDOW = timedelta(days=31)
MAX_ITEMS = 20_000  # more in one window: ``truncated``, ask for a shorter one
MAX_PSEUDONYM = 64


@dataclass(frozen=True)
class TracePerson:
    """A person's passages in a window (no ``since``: ``MAX_WINDOW`` before ``until``).

    ``document`` (with ``document_type``) at a gate; ``person``, the feed's pseudonym, on
    the hub.
    """

    document: str | None
    purpose: str | None
    document_type: str | None = None
    since: str | None = None
    until: str | None = None
    person: str | None = None

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
    """The passages found, in order, and the window they were looked for in."""

    items: list[dict[str, Any]]
    since: datetime
    until: datetime
    truncated: bool


@dataclass(frozen=True)
class PersonPassages:
    """What a reader found for a person: the audit's target and facts, and the items."""

    target: str
    detail: Mapping[str, Any]
    items: list[dict[str, Any]]


class TraceReader(Protocol):
    """Where tracing reads passages, in the unit of work the use case opened."""

    def of_person(
        self,
        uow: UnitOfWork,
        command: TracePerson,
        *,
        since: datetime,
        until: datetime,
        limit: int,
        today: date,
    ) -> PersonPassages:
        """The person's passages in ``[since, until)``, in order, at most ``limit``.

        ``today`` (local) checks a document's dates. Raises ``ActionRefused``
        (``DocumentInvalid``) for a person it cannot name, before reading anything.
        """
        ...

    def window(
        self, uow: UnitOfWork, *, since: datetime, until: datetime, limit: int
    ) -> list[dict[str, Any]]:
        """Every passage in ``[since, until)``, in order, at most ``limit``."""
        ...

    def scope(self) -> Mapping[str, Any]:
        """What the audit row says about where was looked (nothing at a gate)."""
        ...


@dataclass(frozen=True)
class GateTraces:
    """``TraceReader`` of this gate's own log (``uow.traces``), items as its feed has them."""

    compound: CompoundAddress
    pseudonym: Pseudonym

    def of_person(
        self,
        uow: UnitOfWork,
        command: TracePerson,
        *,
        since: datetime,
        until: datetime,
        limit: int,
        today: date,
    ) -> PersonPassages:
        """The document's holder's passages, and those where the gate read the document."""
        if command.document is None or not command.document.strip():
            raise ActionRefused("trace_document_required")
        try:
            doc_type = DocumentType(
                (command.document_type or DocumentType.RESIDENT_ID.value).strip()
            )
        except ValueError:
            raise ActionRefused("control_document_type") from None
        info = validate(doc_type, command.document.strip(), today=today)
        document_hash = uow.controls.document_hash(info.doc_type, info.number)
        holder = uow.controls.holder(document_hash)
        rows = uow.traces.of_person(
            person_ref=holder.ref if holder is not None else None,
            document_hash=document_hash,
            since=since,
            until=until,
            limit=limit,
        )
        target = f"person:{holder.ref}" if holder is not None else f"document:{document_hash[:16]}"
        items = [standard_item(row, self.compound, self.pseudonym) for row in rows]
        return PersonPassages(target, {"registered": holder is not None}, items)

    def window(
        self, uow: UnitOfWork, *, since: datetime, until: datetime, limit: int
    ) -> list[dict[str, Any]]:
        """Every passage of the log in the window, in ``seq`` order."""
        rows = uow.traces.window(since=since, until=until, limit=limit)
        return [standard_item(row, self.compound, self.pseudonym) for row in rows]

    def scope(self) -> Mapping[str, Any]:
        """Nothing: a gate reads its own log."""
        return {}


@dataclass(frozen=True)
class HubTraces:
    """``TraceReader`` of the hub's pushed passages (``uow.hub``) of ``compounds``.

    ``compounds`` None: every compound (a staff session of the hub). Items come in time
    order (then ``hub_seq``), across compounds, with ``hub_seq`` first.
    """

    compounds: frozenset[str] | None

    def of_person(
        self,
        uow: UnitOfWork,
        command: TracePerson,
        *,
        since: datetime,
        until: datetime,
        limit: int,
        today: date,
    ) -> PersonPassages:
        """The passages whose ``person`` is the pseudonym asked for."""
        person = (command.person or "").strip()
        if not person:
            # The hub holds no document numbers nor hashes: only the feed's pseudonyms.
            code = "hub_trace_document" if command.document else "trace_person_required"
            raise ActionRefused(code)
        if len(person) > MAX_PSEUDONYM:
            raise ActionRefused("trace_person_invalid")
        items = uow.hub.passages_in(
            since=since, until=until, compounds=self.compounds, person=person, limit=limit
        )
        return PersonPassages(f"pseudonym:{person}", {}, items)

    def window(
        self, uow: UnitOfWork, *, since: datetime, until: datetime, limit: int
    ) -> list[dict[str, Any]]:
        """Every pushed passage of the compounds in the window."""
        return uow.hub.passages_in(
            since=since, until=until, compounds=self.compounds, person=None, limit=limit
        )

    def scope(self) -> Mapping[str, Any]:
        """The compounds looked in (``*``: all of them)."""
        return {"compounds": sorted(self.compounds) if self.compounds is not None else "*"}


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
    command: TracePerson, *, actor: Actor, units: UnitOfWorkFactory, reader: TraceReader
) -> TraceAnswer:
    """The person's passages (``ActionRefused``, ``DocumentInvalid``)."""
    purpose = _purpose(command.purpose)
    since, until = _window(command.since, command.until, now=actor.at, required=False)
    with units(actor) as uow:
        found = reader.of_person(
            uow,
            command,
            since=since,
            until=until,
            limit=MAX_ITEMS + 1,
            today=local_date(actor.at),
        )
        uow.audit(
            "trace.person",
            found.target,
            {
                "caller": actor.name,
                "purpose": purpose,
                "from": since.isoformat(),
                "to": until.isoformat(),
                **found.detail,
                **reader.scope(),
                "count": min(len(found.items), MAX_ITEMS),
            },
        )
        uow.commit()
    items = found.items
    return TraceAnswer(items[:MAX_ITEMS], since, until, len(items) > MAX_ITEMS)


def trace_window(
    command: TraceWindow, *, actor: Actor, units: UnitOfWorkFactory, reader: TraceReader
) -> TraceAnswer:
    """Who passed in the window (``ActionRefused``)."""
    purpose = _purpose(command.purpose)
    since, until = _window(command.since, command.until, now=actor.at, required=True)
    with units(actor) as uow:
        items = reader.window(uow, since=since, until=until, limit=MAX_ITEMS + 1)
        uow.audit(
            "trace.window",
            "passages",
            {
                "caller": actor.name,
                "purpose": purpose,
                "from": since.isoformat(),
                "to": until.isoformat(),
                **reader.scope(),
                "count": min(len(items), MAX_ITEMS),
            },
        )
        uow.commit()
    return TraceAnswer(items[:MAX_ITEMS], since, until, len(items) > MAX_ITEMS)
