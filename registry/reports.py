"""What the shift report reads: counts, guard decisions, alerts; never a document number.

The values and what they mean are in ``gate.app.report_values``. Names come masked,
resolved with one query per table for the whole report. The audit log's reads are in
``reports_audit``; ``SqlReportStore`` is the ``ReportStore`` port over both.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from gate.app.report_values import (
    AlertLine,
    AuditFilter,
    AuditLine,
    AuditPage,
    GuardDecision,
    LaneCounts,
    OverrideLine,
    QuarantineExit,
    ShiftReport,
    Who,
)
from gate.domain.model import Outcome, Reason
from gate.domain.people import HealthStatus, mask_name
from gate.domain.places import building_label, unit_label
from registry.models import (
    Building,
    Household,
    Passage,
    Person,
    StatusRecord,
    Unit,
    Visitor,
)
from registry.reports_audit import audit_actions, audit_events, audit_page
from registry.status_rows import QUARANTINE_IN

# A guard decides after the gate did; the margin only absorbs clocks of other lane PCs.
HANDLING_MARGIN = timedelta(hours=1)
_ALERTS = (Outcome.REVIEW.value, Outcome.DENY.value)
_BATCH = 500


def _reasons(raw: Iterable[Mapping[str, Any]]) -> tuple[Reason, ...]:
    return tuple(Reason(r["code"], r.get("params") or {}, r.get("rule_id")) for r in raw)


def _guard_decision(row: Passage) -> GuardDecision:
    params = row.reasons[0].get("params", {}) if row.reasons else {}
    return GuardDecision(
        seq=row.seq,
        at=row.at,
        guard=row.decided_by.removeprefix("guard:"),
        outcome=row.outcome,
        code=str(params.get("code", "")),
        text=str(params.get("text", "")),
    )


def _in_window(start: datetime, end: datetime) -> ColumnElement[bool]:
    return (Passage.at >= start) & (Passage.at < end)


def _people(session: Session, rows: Iterable[Passage]) -> dict[str, Who]:
    """Masked names and homes of the rows' persons and visitors, a query per table."""
    kinds = {row.person_ref: row.identity_kind for row in rows if row.person_ref}
    found: dict[str, Who] = {}
    refs = sorted(kinds)
    for first in range(0, len(refs), _BATCH):
        batch = refs[first : first + _BATCH]
        persons = session.execute(
            select(Person.ref, Person.name, Building.key, Unit.key, Household.room)
            .outerjoin(Household, Person.household_id == Household.id)
            .outerjoin(Unit, Household.unit_id == Unit.id)
            .outerjoin(Building, Unit.building_id == Building.id)
            .where(Person.ref.in_(batch))
        )
        visitors = session.execute(
            select(Visitor.ref, Visitor.name, Building.key, Unit.key, Household.room)
            .outerjoin(Household, Visitor.host_household_id == Household.id)
            .outerjoin(Unit, Household.unit_id == Unit.id)
            .outerjoin(Building, Unit.building_id == Building.id)
            .where(Visitor.ref.in_(batch))
        )
        for ref, name, building, unit, room in [*persons, *visitors]:
            home = f"{building_label(building)}{unit_label(unit)}{room}" if room else None
            found[ref] = Who(kinds[ref], mask_name(name), home)
    return found


def _who(people: Mapping[str, Who], row: Passage) -> Who:
    if row.person_ref and row.person_ref in people:
        return people[row.person_ref]
    return Who(row.identity_kind)


def _lane_counts(session: Session, start: datetime, end: datetime) -> tuple[LaneCounts, ...]:
    counts: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    for lane, direction, outcome, count in session.execute(
        select(Passage.lane, Passage.direction, Passage.outcome, func.count())
        .where(_in_window(start, end), Passage.overrides_seq.is_(None))
        .group_by(Passage.lane, Passage.direction, Passage.outcome)
    ):
        counts[(lane, direction)][outcome] = count
    return tuple(
        LaneCounts(lane, direction, **by_outcome)
        for (lane, direction), by_outcome in sorted(counts.items())
    )


def shift_report(session: Session, *, start: datetime, end: datetime) -> ShiftReport:
    """The report of the passages in ``[start, end)``."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("a report window needs aware datetimes")
    window = _in_window(start, end)
    alert_rows = session.scalars(
        select(Passage)
        .where(window, Passage.overrides_seq.is_(None), Passage.outcome.in_(_ALERTS))
        .order_by(Passage.seq)
    ).all()
    alert_seqs = select(Passage.seq).where(
        window, Passage.overrides_seq.is_(None), Passage.outcome.in_(_ALERTS)
    )
    # Handled whenever it was, even after the shift ended: the report says by whom and when.
    handlings = {
        row.overrides_seq: _guard_decision(row)
        for row in session.scalars(
            select(Passage)
            .where(Passage.at >= start - HANDLING_MARGIN, Passage.overrides_seq.in_(alert_seqs))
            .order_by(Passage.seq)
        )
    }
    override_rows = session.scalars(
        select(Passage).where(window, Passage.overrides_seq.is_not(None)).order_by(Passage.seq)
    ).all()
    originals = {
        row.seq: row
        for row in session.scalars(
            select(Passage).where(
                Passage.seq.in_(
                    select(Passage.overrides_seq).where(window, Passage.overrides_seq.is_not(None))
                )
            )
        )
    }
    exit_rows = _quarantine_exit_rows(session, start, end)
    people = _people(session, [*alert_rows, *override_rows, *(row for row, _ in exit_rows)])
    return ShiftReport(
        start=start,
        end=end,
        lanes=_lane_counts(session, start, end),
        overrides=tuple(_override_line(row, originals, people) for row in override_rows),
        alerts=tuple(
            AlertLine(
                seq=row.seq,
                at=row.at,
                lane=row.lane,
                direction=row.direction,
                outcome=row.outcome,
                alert=row.alert,
                reasons=_reasons(row.reasons),
                who=_who(people, row),
                handling=handlings.get(row.seq),
            )
            for row in alert_rows
        ),
        quarantine_exits=tuple(_quarantine_exit(row, status, people) for row, status in exit_rows),
    )


def _override_line(
    row: Passage, originals: Mapping[int, Passage], people: Mapping[str, Who]
) -> OverrideLine:
    assert row.overrides_seq is not None
    original = originals.get(row.overrides_seq)
    params = row.reasons[0].get("params", {}) if row.reasons else {}
    return OverrideLine(
        decision=_guard_decision(row),
        lane=row.lane,
        direction=row.direction,
        who=_who(people, row),
        original_seq=row.overrides_seq,
        original_at=original.at if original else None,
        original_outcome=original.outcome if original else str(params.get("original_outcome")),
        original_reasons=_reasons(original.reasons) if original else (),
    )


def _quarantine_exit_rows(
    session: Session, start: datetime, end: datetime
) -> list[tuple[Passage, HealthStatus]]:
    exits = session.scalars(
        select(Passage)
        .where(
            _in_window(start, end),
            Passage.direction == "out",
            Passage.outcome == Outcome.ALLOW.value,
            Passage.identity_kind == "registered",
            Passage.person_ref.is_not(None),
        )
        .order_by(Passage.seq)
    ).all()
    if not exits:
        return []
    periods: dict[str, list[tuple[HealthStatus, datetime, datetime | None]]] = defaultdict(list)
    refs = sorted({row.person_ref for row in exits if row.person_ref})
    for first in range(0, len(refs), _BATCH):
        for ref, status, starts_at, ends_at in session.execute(
            select(Person.ref, StatusRecord.status, StatusRecord.starts_at, StatusRecord.ends_at)
            .join(StatusRecord, StatusRecord.person_id == Person.id)
            .where(
                Person.ref.in_(refs[first : first + _BATCH]),
                StatusRecord.status.in_(QUARANTINE_IN),
                StatusRecord.starts_at < end,
                StatusRecord.ends_at.is_(None) | (StatusRecord.ends_at > start),
            )
        ):
            periods[ref].append((status, starts_at, ends_at))
    found = []
    for row in exits:
        for status, starts_at, ends_at in periods.get(row.person_ref or "", ()):
            if starts_at <= row.at and (ends_at is None or row.at < ends_at):
                found.append((row, status))
                break
    return found


def _quarantine_exit(
    row: Passage, status: HealthStatus, people: Mapping[str, Who]
) -> QuarantineExit:
    reasons = _reasons(row.reasons)
    codes = {reason.code for reason in reasons}
    guard = code = text = None
    if row.overrides_seq is not None:
        how = "override"
        decision = _guard_decision(row)
        guard, code, text = decision.guard, decision.code, decision.text
    elif "exempted" in codes:
        how = "exemption"
        exempted = next(reason for reason in reasons if reason.code == "exempted")
        text = str(exempted.params.get("exemption", ""))
    else:
        how = "rule"
    return QuarantineExit(
        seq=row.seq,
        at=row.at,
        lane=row.lane,
        who=_who(people, row),
        status=status,
        how=how,
        guard=guard,
        code=code,
        text=text,
        original_seq=row.overrides_seq,
    )


class SqlReportStore:
    """``ReportStore``: the shift report and the audit log, read in the unit's session."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def shift(self, start: datetime, end: datetime) -> ShiftReport:
        """The report of ``[start, end)``."""
        return shift_report(self._session, start=start, end=end)

    def audit_page(
        self, filters: AuditFilter, *, before: int | None, after: int | None, size: int
    ) -> AuditPage:
        """A page of the audit log, newest first."""
        return audit_page(self._session, filters=filters, before=before, after=after, size=size)

    def audit_events(self, filters: AuditFilter) -> Iterator[AuditLine]:
        """Every matching event, newest first, read in batches."""
        return audit_events(self._session, filters=filters)

    def audit_actions(self) -> Sequence[str]:
        """The actions that occur in the log."""
        return audit_actions(self._session)
