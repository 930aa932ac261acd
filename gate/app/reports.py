"""Reading the shift report, the daily report and the audit log; exports audited here, once.

A report window is at most ``MAX_REPORT_SPAN`` long and ends after it starts; so is an
audit filter's. A daily report's day is a ``YYYY-MM-DD`` local day that has begun (today
is the day so far). Reading a page leaves no trace (it would drown the log in its own
reads); an export writes its audit row before anything is handed out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TypeVar

from gate.app.actor import Actor
from gate.app.ports import UnitOfWorkFactory
from gate.app.report_values import (
    AuditFilter,
    AuditLine,
    AuditPage,
    CrowdCounts,
    DailyReport,
    HourCounts,
    OutcomeCounts,
    ShiftReport,
)
from gate.domain.errors import ActionRefused
from gate.domain.model import IdentityKind, Outcome
from gate.domain.status import FIRST_DAY, LAST_DAY, LOCAL_TZ, start_of_local_day, within_calendar

OUTCOMES = (Outcome.ALLOW.value, Outcome.REVIEW.value, Outcome.DENY.value)
SHIFT_STARTS = (time(8), time(20))  # local: the day shift and the night shift
SHIFT_LENGTH = timedelta(hours=12)
MAX_REPORT_SPAN = timedelta(days=31)
AUDIT_PAGE_SIZE = 50
T = TypeVar("T")


def _both() -> dict[str, int]:
    return {"in": 0, "out": 0}


@dataclass
class DayTally:
    """The daily report's counts, one passage (or a group of alike ones) at a time.

    The gate's decisions by local hour, by outcome and by credential kind (override rows
    are not passages: ``guard_decision``), the denials by their deciding reason, and the
    outsiders' and visitors' passages with who they were (``who``: an outsider's document
    hash, a visitor's visit; None: not known). The gate's daily report and the hub's, per
    compound, count with it.
    """

    hours: dict[int, dict[str, int]] = field(
        default_factory=lambda: {hour: _both() for hour in range(24)}
    )
    outcomes: dict[str, dict[str, int]] = field(
        default_factory=lambda: {outcome: _both() for outcome in OUTCOMES}
    )
    credentials: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(_both))
    refusals: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    guard: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    crowds: dict[str, dict[str, int]] = field(
        default_factory=lambda: {IdentityKind.OUTSIDER: _both(), IdentityKind.VISITOR: _both()}
    )
    outsiders: set[str] = field(default_factory=set)
    visits: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(_both))

    def passage(
        self,
        *,
        hour: int,
        direction: str,
        outcome: str,
        identity_kind: str,
        credential_kind: str | None = None,
        reason: str | None = None,
        who: str | None = None,
        count: int = 1,
    ) -> None:
        """Count ``count`` passages alike; ``reason``: the first one (of a denial)."""
        self.hours[hour][direction] += count
        self.outcomes.setdefault(outcome, _both())[direction] += count
        if credential_kind is not None:
            self.credentials[credential_kind][direction] += count
        if outcome == Outcome.DENY and reason is not None:
            self.refusals[reason] += count
        if identity_kind in self.crowds:
            self.crowds[identity_kind][direction] += count
        if identity_kind == IdentityKind.OUTSIDER and who:
            self.outsiders.add(who)
        if identity_kind == IdentityKind.VISITOR and who:
            self.visits[who][direction] += count

    def guard_decision(self, outcome: str, count: int = 1) -> None:
        """Count ``count`` guard decisions (override rows) with ``outcome``."""
        self.guard[outcome] += count

    def hour_counts(self) -> tuple[HourCounts, ...]:
        """The 24 local hours, hour 0 first."""
        return tuple(HourCounts(h, c["in"], c["out"]) for h, c in self.hours.items())

    def outcome_counts(self) -> tuple[OutcomeCounts, ...]:
        """Allow, review, deny (always all three), then any other outcome seen."""
        return tuple(OutcomeCounts(o, c["in"], c["out"]) for o, c in self.outcomes.items())

    def credential_counts(self) -> tuple[tuple[str, int, int], ...]:
        """``(kind, in, out)`` of each credential kind seen, by kind."""
        return tuple((k, c["in"], c["out"]) for k, c in sorted(self.credentials.items()))

    def refusal_counts(self) -> tuple[tuple[str, int], ...]:
        """``(reason, denials)``, the most frequent first."""
        return tuple(sorted(self.refusals.items(), key=lambda item: (-item[1], item[0])))

    def outsider_counts(self) -> CrowdCounts:
        """Outsiders' passages and how many documents (0 where ``who`` is not known)."""
        crowd = self.crowds[IdentityKind.OUTSIDER]
        return CrowdCounts(crowd["in"], crowd["out"], len(self.outsiders))

    def visitor_counts(self) -> CrowdCounts:
        """Visitors' passages and how many visits."""
        crowd = self.crowds[IdentityKind.VISITOR]
        return CrowdCounts(crowd["in"], crowd["out"], len(self.visits))


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


def check_window(start: datetime, end: datetime) -> None:
    """``ActionRefused`` unless ``[start, end)`` is an aware window of at most a month."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("a report window needs aware datetimes")
    if start >= end:
        raise ActionRefused("date_order")
    if end - start > MAX_REPORT_SPAN:
        raise ActionRefused("report_span", days=MAX_REPORT_SPAN.days)


def shift_report(
    start: datetime, end: datetime, *, actor: Actor, units: UnitOfWorkFactory
) -> ShiftReport:
    """The report of the passages in ``[start, end)``."""
    check_window(start, end)
    with units(actor) as uow:
        return uow.reports.shift(start, end)


def export_shift_report(
    start: datetime,
    end: datetime,
    *,
    file_format: str,
    write: Callable[[ShiftReport], T],
    actor: Actor,
    units: UnitOfWorkFactory,
) -> T:
    """The report as ``write`` turns it into a file; audited with what it holds."""
    check_window(start, end)
    with units(actor) as uow:
        report = uow.reports.shift(start, end)
        written = write(report)
        uow.audit(
            "report.export",
            f"report:{start.isoformat()}/{end.isoformat()}",
            {
                "format": file_format,
                "start": start.isoformat(),
                "end": end.isoformat(),
                "alerts": len(report.alerts),
                "overrides": len(report.overrides),
                "quarantine_exits": len(report.quarantine_exits),
            },
        )
        uow.commit()
    return written


def report_day(day: date | str, *, now: datetime) -> date:
    """The day asked for: a ``date`` or ``YYYY-MM-DD`` text, not after today (local).

    ``ActionRefused("report_date")`` for text that is not a day, ``report_date_future``
    for a day that has not begun at ``now``.
    """
    if isinstance(day, str):
        text = day.strip()
        try:
            if len(text) != 10:
                raise ValueError(text)
            day = date.fromisoformat(text)
        except ValueError:
            raise ActionRefused("report_date", text=text[:40]) from None
    if not within_calendar(day):
        raise ActionRefused("report_date_range", first=FIRST_DAY.year, last=LAST_DAY.year)
    if start_of_local_day(day) > now:
        raise ActionRefused("report_date_future", day=day.isoformat())
    return day


def today(now: datetime) -> date:
    """The local day holding ``now`` (what a daily report without a date shows)."""
    return now.astimezone(LOCAL_TZ).date()


def daily_report(day: date | str, *, actor: Actor, units: UnitOfWorkFactory) -> DailyReport:
    """The report of the local day ``day`` (00:00-24:00 Asia/Shanghai)."""
    checked = report_day(day, now=actor.at)
    with units(actor) as uow:
        return uow.reports.daily(checked)


def export_daily_report(
    day: date | str,
    *,
    file_format: str,
    write: Callable[[DailyReport], T],
    actor: Actor,
    units: UnitOfWorkFactory,
) -> T:
    """The daily report as ``write`` turns it into a file; audited with what it holds."""
    checked = report_day(day, now=actor.at)
    with units(actor) as uow:
        report = uow.reports.daily(checked)
        written = write(report)
        uow.audit(
            "report.daily.export",
            f"report:daily:{checked.isoformat()}",
            {
                "format": file_format,
                "day": checked.isoformat(),
                "passages": report.totals.total,
                "overrides": len(report.overrides),
                "quarantined": len(report.quarantined),
                "quarantine_let_out": sum(q.let_out for q in report.quarantined),
                "guard_allowed": report.guard_decisions(Outcome.ALLOW),
            },
        )
        uow.commit()
    return written


def _check_filter(filters: AuditFilter) -> None:
    if filters.start is not None and filters.end is not None and filters.start >= filters.end:
        raise ActionRefused("date_order")


def audit_page(
    filters: AuditFilter,
    *,
    before: int | None = None,
    after: int | None = None,
    actor: Actor,
    units: UnitOfWorkFactory,
) -> AuditPage:
    """Up to ``AUDIT_PAGE_SIZE`` events older than ``before`` (or just newer than ``after``)."""
    _check_filter(filters)
    with units(actor) as uow:
        return uow.reports.audit_page(filters, before=before, after=after, size=AUDIT_PAGE_SIZE)


def audit_actions(*, actor: Actor, units: UnitOfWorkFactory) -> list[str]:
    """The actions that occur in the audit log (the filter's suggestions)."""
    with units(actor) as uow:
        return list(uow.reports.audit_actions())


def export_audit_log(
    filters: AuditFilter, *, file_format: str, actor: Actor, units: UnitOfWorkFactory
) -> Iterator[AuditLine]:
    """Audit the export (committed at once), then every matching event, newest first.

    The events are read, in batches, as the caller iterates.
    """
    _check_filter(filters)
    with units(actor) as uow:
        uow.audit(
            "audit.export",
            "audit_log",
            {
                "format": file_format,
                "action": filters.action,
                "actor": filters.actor,
                "start": filters.start.isoformat() if filters.start else None,
                "end": filters.end.isoformat() if filters.end else None,
            },
        )
        uow.commit()
    return _events(filters, actor=actor, units=units)


def _events(filters: AuditFilter, *, actor: Actor, units: UnitOfWorkFactory) -> Iterator[AuditLine]:
    with units(actor) as uow:
        yield from uow.reports.audit_events(filters)
