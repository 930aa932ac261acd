"""A person's health status at a moment, derived from their status history.

A status record covers ``[starts_at, ends_at)``; an open end means "until further notice".
Where records overlap, the most restrictive status wins (a key person who is put into home
quarantine is in home quarantine), and among equals the one that started last. Times are
timezone-aware; end *dates* from spreadsheets become the end of that day in Asia/Shanghai
(``end_of_local_day``), so a quarantine "until 14 February" lasts through the 14th.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from gate.domain.people import HealthStatus

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
# The days a screen or a report may ask about: far enough out for any real date, near
# enough that a day's local bounds (and a shift or a week around them) stay computable.
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2999, 12, 31)

# Larger is more restrictive.
SEVERITY: dict[HealthStatus, int] = {
    HealthStatus.NORMAL: 0,
    HealthStatus.HEALTH_MONITORING: 1,
    HealthStatus.KEY_PERSON: 2,
    HealthStatus.HOME_QUARANTINE: 3,
    HealthStatus.CENTRALIZED_QUARANTINE: 4,
}


@dataclass(frozen=True)
class StatusPeriod:
    """One entry of a person's status history."""

    status: HealthStatus
    starts_at: datetime
    ends_at: datetime | None = None

    def __post_init__(self) -> None:
        _require_aware(self.starts_at)
        if self.ends_at is not None:
            _require_aware(self.ends_at)
        if self.ends_at is not None and self.ends_at <= self.starts_at:
            raise ValueError("a status must end after it starts")

    def active_at(self, moment: datetime) -> bool:
        """True if ``moment`` falls inside this period."""
        return self.starts_at <= moment and (self.ends_at is None or moment < self.ends_at)


def current_period(periods: Iterable[StatusPeriod], at: datetime) -> StatusPeriod | None:
    """The period that governs ``at``: most restrictive first, then latest start; None if none."""
    _require_aware(at)
    active = [period for period in periods if period.active_at(at)]
    if not active:
        return None
    return max(active, key=lambda period: (SEVERITY[period.status], period.starts_at))


def current_status(periods: Iterable[StatusPeriod], at: datetime) -> HealthStatus:
    """The status at ``at``; ``NORMAL`` when no record covers it."""
    period = current_period(periods, at)
    return period.status if period else HealthStatus.NORMAL


def start_of_local_day(day: date) -> datetime:
    """00:00 Asia/Shanghai on ``day``, in UTC."""
    return datetime.combine(day, time.min, tzinfo=LOCAL_TZ).astimezone(UTC)


def end_of_local_day(day: date) -> datetime:
    """The exclusive end of ``day`` in Asia/Shanghai (next local midnight), in UTC."""
    return start_of_local_day(day + timedelta(days=1))


def local_date(moment: datetime) -> date:
    """The calendar date in Asia/Shanghai of an aware ``moment``."""
    _require_aware(moment)
    return moment.astimezone(LOCAL_TZ).date()


def _require_aware(moment: datetime) -> None:
    # A naive time would be compared as the machine's local time, or not at all.
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("status times must be timezone-aware")


def within_calendar(day: date | datetime) -> bool:
    """True if ``day`` (a moment: its day where it was written) is in ``FIRST_DAY`` .. ``LAST_DAY``.

    A moment's own day is enough (converting one at year 1 or 9999 would overflow): the
    bounds are centuries from where any offset could carry a moment across them.
    """
    if isinstance(day, datetime):
        day = day.date()
    return FIRST_DAY <= day <= LAST_DAY
