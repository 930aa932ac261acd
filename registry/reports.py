"""What the shift report reads: counts, guard decisions, alerts; never a document number.

The shift report counts the gate's own decisions (override rows are the guards' decisions
and are listed on their own), lists every guard decision with the passage it overrides,
every alert (review or denial) with how and by whom it was handled, and the exits of
persons who were in quarantine at that moment. Names come masked, resolved with one
query per table for the whole report. The audit log's reads are in ``reports_audit``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from gate.domain.model import Outcome, Reason
from gate.domain.people import HealthStatus, mask_name
from gate.domain.places import building_label, unit_label
from gate.domain.status import LOCAL_TZ
from registry.models import (
    Building,
    Household,
    Passage,
    Person,
    StatusRecord,
    Unit,
    Visitor,
)
from registry.status_rows import QUARANTINE_IN

SHIFT_STARTS = (time(8), time(20))  # local: the day shift and the night shift
SHIFT_LENGTH = timedelta(hours=12)
MAX_REPORT_SPAN = timedelta(days=31)
# A guard decides after the gate did; the margin only absorbs clocks of other lane PCs.
HANDLING_MARGIN = timedelta(hours=1)
_ALERTS = (Outcome.REVIEW.value, Outcome.DENY.value)
_BATCH = 500


def shift_containing(moment: datetime) -> tuple[datetime, datetime]:
    """The 12-hour shift (08:00-20:00 or 20:00-08:00, Asia/Shanghai) that holds ``moment``."""
    local = moment.astimezone(LOCAL_TZ)
    day, night = SHIFT_STARTS
    if local.time() >= night:
        start = datetime.combine(local.date(), night, tzinfo=LOCAL_TZ)
    elif local.time() >= day:
        start = datetime.combine(local.date(), day, tzinfo=LOCAL_TZ)
    else:
        start = datetime.combine(local.date() - timedelta(days=1), night, tzinfo=LOCAL_TZ)
    return start, start + SHIFT_LENGTH


@dataclass(frozen=True)
class Who:
    """Whom a passage was about, as screens may show it (masked name, home)."""

    identity_kind: str
    name: str | None = None
    home: str | None = None


@dataclass(frozen=True)
class LaneCounts:
    """The gate's decisions at one lane in one direction."""

    lane: str
    direction: str
    allow: int = 0
    review: int = 0
    deny: int = 0

    @property
    def total(self) -> int:
        """All decisions counted here."""
        return self.allow + self.review + self.deny


@dataclass(frozen=True)
class GuardDecision:
    """An override row: a guard's decision on a review or denial."""

    seq: int
    at: datetime
    guard: str
    outcome: str
    code: str
    text: str


@dataclass(frozen=True)
class AlertLine:
    """A review or denial of the gate and how it was handled (``handling`` None: not yet)."""

    seq: int
    at: datetime
    lane: str
    direction: str
    outcome: str
    alert: str
    reasons: tuple[Reason, ...]
    who: Who
    handling: GuardDecision | None


@dataclass(frozen=True)
class OverrideLine:
    """A guard decision in the shift, with the passage it overrides."""

    decision: GuardDecision
    lane: str
    direction: str
    who: Who
    original_seq: int
    original_at: datetime | None
    original_outcome: str
    original_reasons: tuple[Reason, ...]


@dataclass(frozen=True)
class QuarantineExit:
    """An allowed exit of a person in quarantine at that moment, and what let them out."""

    seq: int
    at: datetime
    lane: str
    who: Who
    status: HealthStatus
    how: str  # "override", "exemption" or "rule" (a rule that only flags)
    guard: str | None
    code: str | None
    text: str | None
    original_seq: int | None


@dataclass(frozen=True)
class ShiftReport:
    """Everything the shift report page and its XLSX show."""

    start: datetime
    end: datetime
    lanes: tuple[LaneCounts, ...]
    overrides: tuple[OverrideLine, ...]
    alerts: tuple[AlertLine, ...]
    quarantine_exits: tuple[QuarantineExit, ...]

    @property
    def totals(self) -> LaneCounts:
        """The gate's decisions over all lanes."""
        return LaneCounts(
            "",
            "",
            allow=sum(lane.allow for lane in self.lanes),
            review=sum(lane.review for lane in self.lanes),
            deny=sum(lane.deny for lane in self.lanes),
        )

    @property
    def unhandled(self) -> int:
        """Alerts no guard has decided."""
        return sum(1 for alert in self.alerts if alert.handling is None)

    def guard_decisions(self, outcome: Outcome) -> int:
        """Guard decisions in the shift with ``outcome``."""
        return sum(1 for line in self.overrides if line.decision.outcome == outcome.value)


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
