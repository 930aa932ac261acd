"""What the shift and daily reports read: counts, guard decisions, alerts; never a number.

The values and what they mean are in ``gate.app.report_values``. Names come masked,
resolved with one query per table for the whole report. The audit log's reads are in
``reports_audit``; ``SqlReportStore`` is the ``ReportStore`` port over both.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from gate.app.report_timeline import TimelineTally
from gate.app.report_values import (
    AlertLine,
    Attempt,
    AuditFilter,
    AuditLine,
    AuditPage,
    BuildingPresence,
    DailyReport,
    DayOccupancy,
    GuardDecision,
    HostVisitors,
    LaneCounts,
    OverrideLine,
    QuarantinedDay,
    QuarantineExit,
    ShiftReport,
    Who,
)
from gate.app.reports import DayTally
from gate.domain.model import Direction, IdentityKind, Outcome, Reason
from gate.domain.people import HealthStatus, mask_name
from gate.domain.places import building_label, natural_key, unit_label
from gate.domain.status import LOCAL_TZ, end_of_local_day, start_of_local_day
from registry.models import (
    Building,
    Household,
    Passage,
    Person,
    StatusRecord,
    Unit,
    Visitor,
)
from registry.report_timeline import timeline
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


def _lane_counts(
    session: Session, start: datetime, end: datetime, tally: TimelineTally
) -> tuple[LaneCounts, ...]:
    """The gate's decisions by lane, direction and outcome; ``tally`` counts them by time."""
    counts: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for lane, direction, outcome, at in session.execute(
        select(Passage.lane, Passage.direction, Passage.outcome, Passage.at).where(
            _in_window(start, end), Passage.overrides_seq.is_(None)
        )
    ):
        counts[(lane, direction)][outcome] += 1
        tally.passage(at=at, direction=direction, outcome=outcome)
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
    override_rows, originals = _override_rows(session, start, end)
    exit_rows = _quarantine_exit_rows(session, start, end)
    people = _people(session, [*alert_rows, *override_rows, *(row for row, _ in exit_rows)])
    tally = TimelineTally(start, end)
    lanes = _lane_counts(session, start, end, tally)
    return ShiftReport(
        start=start,
        end=end,
        lanes=lanes,
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
        timeline=timeline(session, tally),
    )


def _override_rows(
    session: Session, start: datetime, end: datetime
) -> tuple[Sequence[Passage], dict[int, Passage]]:
    """The guard decisions in ``[start, end)`` and the passages they override, by seq."""
    window = _in_window(start, end)
    rows = session.scalars(
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
    return rows, originals


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


def daily_report(session: Session, *, day: date) -> DailyReport:
    """The report of the local day ``day``, 00:00-24:00 Asia/Shanghai."""
    start, end = start_of_local_day(day), end_of_local_day(day)
    tally = DayTally()
    hours = TimelineTally(start, end)
    for at, direction, outcome, kind, document_hash, person_ref in session.execute(
        select(
            Passage.at,
            Passage.direction,
            Passage.outcome,
            Passage.identity_kind,
            Passage.document_hash,
            Passage.person_ref,
        ).where(_in_window(start, end), Passage.overrides_seq.is_(None))
    ):
        tally.passage(
            hour=at.astimezone(LOCAL_TZ).hour,
            direction=direction,
            outcome=outcome,
            identity_kind=kind,
            who=document_hash if kind == IdentityKind.OUTSIDER else person_ref,
        )
        hours.passage(at=at, direction=direction, outcome=outcome)
    override_rows, originals = _override_rows(session, start, end)
    quarantined, attempt_rows = _quarantined_of_day(session, start, end)
    people = _people(session, [*override_rows, *attempt_rows])
    return DailyReport(
        day=day,
        start=start,
        end=end,
        hours=tally.hour_counts(),
        outcomes=tally.outcome_counts(),
        outsiders=tally.outsider_counts(),
        visitors=tally.visitor_counts(),
        visitors_by_host=_visitors_by_host(session, tally.visits),
        quarantined=tuple(
            QuarantinedDay(
                who=who,
                status=status,
                since=since,
                until=until,
                attempts=tuple(_attempts(session, rows, start)),
            )
            for who, status, since, until, rows in quarantined
        ),
        overrides=tuple(_override_line(row, originals, people) for row in override_rows),
        occupancy=_occupancy_at(session, end),
        timeline=timeline(session, hours),
    )


def _attempts(session: Session, rows: Sequence[Passage], start: datetime) -> list[Attempt]:
    """Each row as an attempt, with the guard's decision on it wherever that was logged."""
    if not rows:
        return []
    handlings = {
        row.overrides_seq: _guard_decision(row)
        for row in session.scalars(
            select(Passage)
            .where(
                Passage.at >= start - HANDLING_MARGIN,
                Passage.overrides_seq.in_([row.seq for row in rows]),
            )
            .order_by(Passage.seq)
        )
    }
    return [
        Attempt(
            seq=row.seq,
            at=row.at,
            lane=row.lane,
            direction=row.direction,
            outcome=row.outcome,
            reasons=_reasons(row.reasons),
            handling=handlings.get(row.seq),
        )
        for row in rows
    ]


_Quarantined = tuple[Who, HealthStatus, datetime, datetime | None, list[Passage]]


def _quarantined_of_day(
    session: Session, start: datetime, end: datetime
) -> tuple[list[_Quarantined], list[Passage]]:
    """Everybody in quarantine at some moment of the day, with their attempts then."""
    periods: dict[str, list[tuple[HealthStatus, datetime, datetime | None]]] = defaultdict(list)
    homes: dict[str, Who] = {}
    for ref, name, building, unit, room, status, starts_at, ends_at in session.execute(
        select(
            Person.ref,
            Person.name,
            Building.key,
            Unit.key,
            Household.room,
            StatusRecord.status,
            StatusRecord.starts_at,
            StatusRecord.ends_at,
        )
        .join(StatusRecord, StatusRecord.person_id == Person.id)
        .outerjoin(Household, Person.household_id == Household.id)
        .outerjoin(Unit, Household.unit_id == Unit.id)
        .outerjoin(Building, Unit.building_id == Building.id)
        .where(
            StatusRecord.status.in_(QUARANTINE_IN),
            StatusRecord.starts_at < end,
            StatusRecord.ends_at.is_(None) | (StatusRecord.ends_at > start),
            Person.moved_out_at.is_(None) | (Person.moved_out_at > start),
        )
        .order_by(StatusRecord.starts_at)
    ):
        periods[ref].append((status, starts_at, ends_at))
        home = f"{building_label(building)}{unit_label(unit)}{room}" if room else None
        homes[ref] = Who(IdentityKind.REGISTERED.value, mask_name(name), home)
    rows_of: dict[str, list[Passage]] = defaultdict(list)
    refs = sorted(periods)
    for first in range(0, len(refs), _BATCH):
        for row in session.scalars(
            select(Passage)
            .where(
                _in_window(start, end),
                Passage.overrides_seq.is_(None),
                Passage.person_ref.in_(refs[first : first + _BATCH]),
            )
            .order_by(Passage.seq)
        ):
            assert row.person_ref is not None
            if any(
                since <= row.at and (until is None or row.at < until)
                for _status, since, until in periods[row.person_ref]
            ):
                rows_of[row.person_ref].append(row)
    found: list[_Quarantined] = []
    for ref, spans in periods.items():
        status, since, _until = spans[0]
        found.append((homes[ref], status, since, _max_end(spans), rows_of.get(ref, [])))
    found.sort(key=lambda item: (natural_key(item[0].home or ""), item[0].name or ""))
    return found, [row for rows in rows_of.values() for row in rows]


def _max_end(spans: Sequence[tuple[HealthStatus, datetime, datetime | None]]) -> datetime | None:
    """The latest end of overlapping periods (None: open-ended)."""
    ends = [until for _status, _since, until in spans]
    return None if any(until is None for until in ends) else max(e for e in ends if e)


def _visitors_by_host(
    session: Session, visits: Mapping[str, Mapping[str, int]]
) -> tuple[HostVisitors, ...]:
    hosts: dict[str | None, dict[str, int]] = defaultdict(
        lambda: {"visitors": 0, "in": 0, "out": 0}
    )
    refs = sorted(visits)
    homes: dict[str, str | None] = {}
    for first in range(0, len(refs), _BATCH):
        for ref, building, unit, room in session.execute(
            select(Visitor.ref, Building.key, Unit.key, Household.room)
            .outerjoin(Household, Visitor.host_household_id == Household.id)
            .outerjoin(Unit, Household.unit_id == Unit.id)
            .outerjoin(Building, Unit.building_id == Building.id)
            .where(Visitor.ref.in_(refs[first : first + _BATCH]))
        ):
            homes[ref] = f"{building_label(building)}{unit_label(unit)}{room}" if room else None
    for ref, counts in visits.items():
        host = hosts[homes.get(ref)]
        host["visitors"] += 1
        host["in"] += counts["in"]
        host["out"] += counts["out"]
    return tuple(
        HostVisitors(home, c["visitors"], c["in"], c["out"])
        for home, c in sorted(hosts.items(), key=lambda item: natural_key(item[0] or "~"))
    )


def _occupancy_at(session: Session, end: datetime) -> DayOccupancy:
    """Presence of the registered persons living here at ``end``, from the log before it.

    The same definition as the snapshot's (``registry.snapshot``): the last passage that
    opened the barrier for a person says where they are.
    """
    latest = (
        select(func.max(Passage.seq).label("seq"))
        .where(Passage.opens_barrier.is_(True), Passage.person_ref.is_not(None), Passage.at < end)
        .group_by(Passage.person_ref)
        .subquery()
    )
    last_direction: dict[str | None, str] = dict(
        session.execute(
            select(Passage.person_ref, Passage.direction).join(latest, Passage.seq == latest.c.seq)
        ).all()
    )
    quarantined = set(
        session.scalars(
            select(StatusRecord.person_id).where(
                StatusRecord.status.in_(QUARANTINE_IN),
                StatusRecord.starts_at < end,
                StatusRecord.ends_at.is_(None) | (StatusRecord.ends_at >= end),
            )
        )
    )
    buildings: dict[str, dict[str, int]] = defaultdict(lambda: {"in": 0, "out": 0, "unknown": 0})
    totals = {"in": 0, "out": 0, "unknown": 0}
    quarantined_outside = 0
    for person_id, ref, building in session.execute(
        select(Person.id, Person.ref, Building.key)
        .outerjoin(Household, Person.household_id == Household.id)
        .outerjoin(Unit, Household.unit_id == Unit.id)
        .outerjoin(Building, Unit.building_id == Building.id)
        .where(
            Person.created_at < end,
            Person.moved_out_at.is_(None) | (Person.moved_out_at >= end),
        )
    ):
        where = last_direction.get(ref, "unknown")
        totals[where] += 1
        if building is not None:
            buildings[building][where] += 1
        if where == Direction.OUT.value and person_id in quarantined:
            quarantined_outside += 1
    return DayOccupancy(
        inside=totals["in"],
        outside=totals["out"],
        unknown=totals["unknown"],
        buildings=tuple(
            BuildingPresence(key, c["in"], c["out"], c["unknown"])
            for key, c in sorted(buildings.items(), key=lambda item: natural_key(item[0]))
        ),
        quarantined_outside=quarantined_outside,
    )


class SqlReportStore:
    """``ReportStore``: the shift report and the audit log, read in the unit's session."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def shift(self, start: datetime, end: datetime) -> ShiftReport:
        """The report of ``[start, end)``."""
        return shift_report(self._session, start=start, end=end)

    def daily(self, day: date) -> DailyReport:
        """The report of the local day ``day``."""
        return daily_report(self._session, day=day)

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
