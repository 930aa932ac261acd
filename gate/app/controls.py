"""The district's control lists: ``PUT /api/v1/controls`` rows applied, idempotent by reference.

Each row names a document (its number, or its keyed hash as the gate makes it), a status
(home or centralized quarantine, health monitoring, key person, or ``cleared``), whole
local days ``from``..``to`` (the last included; no ``to``: until cleared), a basis and the
district's ``reference``. A row is

- **applied** when a present resident holds the document: a status period written through
  the office's own status writer (``gate.app.people.write_status``); the same reference
  again with other facts changes that period; ``cleared`` ends the statuses in force;
- **watch** when nobody here holds it: kept under the document's keyed hash, and the first
  time that document is read at the gate the passage is decided with the listed status
  (``gate.domain.watch``); ``cleared`` ends the watch entries of the document;
- **invalid** with the reason (a bad number or hash, unknown status or type, bad dates);
  the other rows are applied all the same.

A row whose reference is on file with the same facts changes nothing and says
``unchanged``, so the same list applied twice changes nothing the second time. One audit
row per request with the caller and the counts; running gates reload at once when
anything changed.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from gate.app.actor import Actor
from gate.app.control_ports import CLEARED, ControlChange, ControlFacts, ControlOnFile
from gate.app.people import checked_status, finish_status, write_status
from gate.app.ports import UnitOfWork, UnitOfWorkFactory
from gate.app.views import PersonRef
from gate.domain.documents import DocumentType, validate
from gate.domain.errors import ActionRefused, DocumentInvalid, GateError, NotFound
from gate.domain.people import HealthStatus, LegalBasis, parse_label
from gate.domain.status import LOCAL_TZ, local_date

MAX_ROWS = 10_000
MAX_REFERENCE = 100
MAX_BASIS = 400
_HASH = re.compile(r"^[0-9a-f]{64}$")
_CLEARED_WORDS = frozenset({CLEARED, "解除"})


class ControlResultKind:
    """What became of a row."""

    APPLIED = "applied"
    WATCH = "watch"
    INVALID = "invalid"


@dataclass(frozen=True)
class ControlRow:
    """One row as the district sent it (text, unchecked)."""

    reference: str | None = None
    document_number: str | None = None
    document_hash: str | None = None
    document_type: str | None = None
    status: str | None = None
    first_day: str | None = None  # "from"
    last_day: str | None = None  # "to"
    basis: str | None = None

    def __repr__(self) -> str:  # never the number in a log line
        return f"ControlRow(reference={self.reference!r}, status={self.status!r})"


@dataclass(frozen=True)
class ApplyControls:
    """A control list from the district."""

    rows: Sequence[ControlRow]


@dataclass(frozen=True)
class ControlResult:
    """One row's result: applied, watch or invalid; what changed; why it was refused."""

    row: int
    reference: str | None
    result: str
    change: str | None = None  # added, updated, cleared, unchanged
    problem: GateError | None = None  # for invalid: what was wrong

    @property
    def reason(self) -> str | None:
        """The refusal's code (``document`` for a bad number, with ``document_reason``)."""
        if isinstance(self.problem, ActionRefused):
            return self.problem.code
        if isinstance(self.problem, DocumentInvalid):
            return "document"
        return None


@dataclass(frozen=True)
class ControlsApplied:
    """Every row's result, in the list's order, and the counts."""

    results: tuple[ControlResult, ...]
    counts: dict[str, int]


@dataclass(frozen=True)
class _Checked:
    facts: ControlFacts
    status: HealthStatus | None  # None: cleared
    first_day: date | None
    last_day: date | None


def _day(text: str | None, field: str) -> date | None:
    if text is None or not str(text).strip():
        return None
    value = str(text).strip()
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ActionRefused("control_date", field=field) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LOCAL_TZ)
    return local_date(moment)


def _status(text: str | None) -> HealthStatus | None:
    value = (text or "").strip()
    if value in _CLEARED_WORDS:
        return None
    try:
        status = parse_label(HealthStatus, value)
    except ValueError:
        raise ActionRefused("control_status", status=value[:40]) from None
    if status is HealthStatus.NORMAL:
        raise ActionRefused("control_status", status=value[:40])
    return status


def _document(uow: UnitOfWork, row: ControlRow) -> tuple[DocumentType, str]:
    try:
        doc_type = DocumentType((row.document_type or DocumentType.RESIDENT_ID.value).strip())
    except ValueError:
        raise ActionRefused("control_document_type") from None
    number, given_hash = (row.document_number or "").strip(), (row.document_hash or "").strip()
    if bool(number) == bool(given_hash):
        raise ActionRefused("control_document")
    if given_hash:
        if not _HASH.match(given_hash.lower()):
            raise ActionRefused("control_document_hash")
        return doc_type, given_hash.lower()
    info = validate(doc_type, number, today=local_date(uow.actor.at))
    return info.doc_type, uow.controls.document_hash(info.doc_type, info.number)


def _checked(uow: UnitOfWork, row: ControlRow) -> _Checked:
    """The row's facts, or ``ActionRefused`` / ``DocumentInvalid`` saying what is wrong."""
    reference = (row.reference or "").strip()
    if not reference:
        raise ActionRefused("control_reference")
    if len(reference) > MAX_REFERENCE:
        raise ActionRefused("too_long", field="reference", limit=MAX_REFERENCE)
    basis = " ".join((row.basis or "").split())
    if len(basis) > MAX_BASIS:
        raise ActionRefused("too_long", field="basis", limit=MAX_BASIS)
    status = _status(row.status)
    first_day, last_day = _day(row.first_day, "from"), _day(row.last_day, "to")
    doc_type, document_hash = _document(uow, row)
    if status is None:
        starts_at, ends_at = uow.actor.at, None
    else:
        if first_day is None:
            raise ActionRefused("control_date", field="from")
        period = checked_status(status, first_day, last_day, "", at=uow.actor.at)
        starts_at, ends_at = period.starts_at, period.ends_at
    facts = ControlFacts(
        reference=reference,
        doc_type=doc_type,
        document_hash=document_hash,
        status=status.value if status else CLEARED,
        starts_at=starts_at,
        ends_at=ends_at,
        basis=basis,
    )
    return _Checked(facts, status, first_day, last_day)


def _same(kept: ControlOnFile, facts: ControlFacts, person_ref: str | None) -> bool:
    if kept.person_ref != person_ref:
        return False
    if facts.status == CLEARED:  # a clearing takes effect when received: no dates to compare
        old = kept.facts
        return (old.status, old.document_hash, old.basis) == (
            CLEARED,
            facts.document_hash,
            facts.basis,
        )
    return kept.facts == facts


def _note(facts: ControlFacts) -> str:
    return f"{facts.basis} [{facts.reference}]".strip()


def _apply(uow: UnitOfWork, checked: _Checked) -> tuple[str, str]:
    """Apply one checked row; its result kind and change."""
    facts = checked.facts
    kept = uow.controls.get(facts.reference)
    if kept is not None and kept.facts.document_hash != facts.document_hash:
        raise ActionRefused("control_reference_taken")
    holder = uow.controls.holder(facts.document_hash)
    person: PersonRef | None = holder if holder is not None and not holder.moved_out else None
    person_ref = person.ref if person is not None else None
    kind = ControlResultKind.APPLIED if person is not None else ControlResultKind.WATCH
    if kept is not None and _same(kept, facts, person_ref):
        return kind, "unchanged"
    if checked.status is None:
        if person is not None:
            for record in uow.statuses.of_person(person.ref):
                if record.starts_at < uow.actor.at and (
                    record.ends_at is None or record.ends_at > uow.actor.at
                ):
                    finish_status(uow, record)
        uow.controls.end_watch(facts.document_hash)
        uow.controls.save(facts, person_ref=person_ref, status_record_id=None)
        return kind, "cleared"
    change = "updated" if kept is not None else "added"
    if person is None:
        uow.controls.save(facts, person_ref=None, status_record_id=None)
        return kind, change
    assert checked.first_day is not None
    period = checked_status(
        checked.status, checked.first_day, checked.last_day, _note(facts), at=uow.actor.at
    )
    record_id = (
        kept.status_record_id if kept is not None and kept.person_ref == person_ref else None
    )
    try:
        record_id = write_status(
            uow,
            person,
            period,
            legal_basis=LegalBasis.PUBLIC_HEALTH_EMERGENCY,
            record_id=record_id,
        )
    except NotFound:  # the period was deleted with its person's history: a new one
        record_id = write_status(
            uow, person, period, legal_basis=LegalBasis.PUBLIC_HEALTH_EMERGENCY
        )
    uow.controls.save(facts, person_ref=person_ref, status_record_id=record_id)
    return kind, change


def apply_controls(
    command: ApplyControls, *, actor: Actor, units: UnitOfWorkFactory
) -> ControlsApplied:
    """Apply every row (see the module docstring); ``ActionRefused`` for a list too long."""
    if not command.rows:
        raise ActionRefused("control_empty")
    if len(command.rows) > MAX_ROWS:
        raise ActionRefused("control_too_many", limit=MAX_ROWS)
    results: list[ControlResult] = []
    seen: set[str] = set()
    with units(actor) as uow:
        for index, row in enumerate(command.rows):
            reference = (row.reference or "").strip() or None
            try:
                checked = _checked(uow, row)
                if checked.facts.reference in seen:
                    raise ActionRefused("control_reference_repeated")
                seen.add(checked.facts.reference)
                kind, change = _apply(uow, checked)
            except (ActionRefused, DocumentInvalid) as problem:
                results.append(
                    ControlResult(index, reference, ControlResultKind.INVALID, problem=problem)
                )
                continue
            results.append(ControlResult(index, reference, kind, change))
        counts = _counts(results)
        uow.audit(
            "controls.apply",
            "controls",
            {
                "caller": actor.name,
                **counts,
                "invalid_rows": [r.row for r in results if r.problem is not None][:100],
            },
        )
        if counts["added"] or counts["updated"] or counts["cleared"]:
            uow.registry_changed()
        uow.commit()
    return ControlsApplied(tuple(results), counts)


def _counts(results: Sequence[ControlResult]) -> dict[str, int]:
    kinds = Counter(result.result for result in results)
    changes = Counter(result.change for result in results if result.change)
    return {
        "rows": len(results),
        "applied": kinds[ControlResultKind.APPLIED],
        "watch": kinds[ControlResultKind.WATCH],
        "invalid": kinds[ControlResultKind.INVALID],
        "added": changes["added"],
        "updated": changes["updated"],
        "cleared": changes["cleared"],
        "unchanged": changes["unchanged"],
    }


def recent_control_changes(
    *, since: datetime, actor: Actor, units: UnitOfWorkFactory, limit: int = 20
) -> list[ControlChange]:
    """What the district's lists changed since ``since``, the latest first (the terminal)."""
    with units(actor) as uow:
        return list(uow.controls.changed_since(since, limit))
