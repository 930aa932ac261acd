"""Health status at a moment, derived from the status history."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import permutations
from zoneinfo import ZoneInfo

import pytest

from gate.domain.people import HealthStatus
from gate.domain.status import (
    SEVERITY,
    StatusPeriod,
    current_period,
    current_status,
    end_of_local_day,
    local_date,
    start_of_local_day,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A wall-clock time at the gate."""
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def quarantine_through(last_day: date, *, since: date = date(2020, 2, 1)) -> StatusPeriod:
    """Home quarantine from ``since`` through ``last_day``, as a spreadsheet states it."""
    return StatusPeriod(
        HealthStatus.HOME_QUARANTINE, start_of_local_day(since), end_of_local_day(last_day)
    )


# --- local days -------------------------------------------------------------------------


def test_local_day_boundaries_are_shanghai_midnights_in_utc() -> None:
    assert start_of_local_day(date(2020, 2, 14)) == datetime(2020, 2, 13, 16, tzinfo=UTC)
    assert end_of_local_day(date(2020, 2, 14)) == datetime(2020, 2, 14, 16, tzinfo=UTC)
    assert end_of_local_day(date(2020, 2, 14)).tzinfo is UTC


def test_end_of_local_day_crosses_month_and_year_ends() -> None:
    assert end_of_local_day(date(2020, 2, 29)) == start_of_local_day(date(2020, 3, 1))
    assert end_of_local_day(date(2020, 12, 31)) == datetime(2020, 12, 31, 16, tzinfo=UTC)


@pytest.mark.parametrize(
    ("moment", "day"),
    [
        (datetime(2020, 2, 14, 15, 59, tzinfo=UTC), date(2020, 2, 14)),
        (datetime(2020, 2, 14, 16, 0, tzinfo=UTC), date(2020, 2, 15)),
        (local(2020, 2, 15, 0, 0), date(2020, 2, 15)),
        (datetime(2020, 2, 14, 23, 0, tzinfo=ZoneInfo("America/New_York")), date(2020, 2, 15)),
    ],
)
def test_local_date_is_the_calendar_day_in_shanghai(moment: datetime, day: date) -> None:
    assert local_date(moment) == day


def test_local_date_refuses_a_naive_time() -> None:
    # A naive time would silently be read in the machine's own time zone.
    with pytest.raises(ValueError, match="timezone-aware"):
        local_date(datetime(2020, 2, 14, 20, 0))  # noqa: DTZ001


# --- an end date is inclusive -----------------------------------------------------------


def test_quarantine_until_a_day_lasts_through_that_day() -> None:
    periods = [quarantine_through(date(2020, 2, 14))]
    assert current_status(periods, local(2020, 2, 14, 0, 0)) is HealthStatus.HOME_QUARANTINE
    assert current_status(periods, local(2020, 2, 14, 23, 59)) is HealthStatus.HOME_QUARANTINE


def test_quarantine_that_ended_yesterday_is_over_today() -> None:
    periods = [quarantine_through(date(2020, 2, 14))]
    assert current_status(periods, local(2020, 2, 15, 0, 0)) is HealthStatus.NORMAL
    assert current_status(periods, local(2020, 2, 15, 8, 30)) is HealthStatus.NORMAL


def test_status_starts_at_its_start_and_not_before() -> None:
    periods = [quarantine_through(date(2020, 2, 14), since=date(2020, 2, 1))]
    assert current_status(periods, local(2020, 1, 31, 23, 59)) is HealthStatus.NORMAL
    assert current_status(periods, local(2020, 2, 1, 0, 0)) is HealthStatus.HOME_QUARANTINE


def test_open_ended_status_lasts_until_further_notice() -> None:
    period = StatusPeriod(HealthStatus.KEY_PERSON, local(2020, 2, 1))
    assert current_status([period], local(2030, 1, 1)) is HealthStatus.KEY_PERSON


def test_no_history_means_normal() -> None:
    assert current_status([], local(2020, 2, 1)) is HealthStatus.NORMAL
    assert current_period([], local(2020, 2, 1)) is None


def test_period_is_half_open() -> None:
    period = StatusPeriod(HealthStatus.HOME_QUARANTINE, local(2020, 2, 1), local(2020, 2, 2))
    assert period.active_at(local(2020, 2, 1))
    assert period.active_at(local(2020, 2, 2) - timedelta(microseconds=1))
    assert not period.active_at(local(2020, 2, 2))


def test_times_in_any_zone_are_compared_as_instants() -> None:
    period = StatusPeriod(HealthStatus.HOME_QUARANTINE, local(2020, 2, 1), local(2020, 2, 2))
    # 2020-02-01 17:00 UTC is 2020-02-02 01:00 in Shanghai: already over.
    assert not period.active_at(datetime(2020, 2, 1, 17, tzinfo=UTC))
    assert period.active_at(datetime(2020, 2, 1, 15, tzinfo=UTC))


# --- overlapping records ----------------------------------------------------------------


def test_severity_ranks_every_status() -> None:
    assert set(SEVERITY) == set(HealthStatus)
    ranked = sorted(HealthStatus, key=SEVERITY.__getitem__)
    assert ranked == [
        HealthStatus.NORMAL,
        HealthStatus.HEALTH_MONITORING,
        HealthStatus.KEY_PERSON,
        HealthStatus.HOME_QUARANTINE,
        HealthStatus.CENTRALIZED_QUARANTINE,
    ]


@pytest.mark.parametrize(
    ("milder", "stricter"),
    [(a, b) for a, b in permutations(HealthStatus, 2) if SEVERITY[a] < SEVERITY[b]],
)
@pytest.mark.parametrize("stricter_starts_first", [True, False])
def test_most_restrictive_active_status_wins(
    milder: HealthStatus, stricter: HealthStatus, stricter_starts_first: bool
) -> None:
    early, late = local(2020, 2, 1), local(2020, 2, 5)
    periods = [
        StatusPeriod(stricter, early if stricter_starts_first else late),
        StatusPeriod(milder, late if stricter_starts_first else early),
    ]
    assert current_status(periods, local(2020, 2, 10)) is stricter
    assert current_status(reversed(periods), local(2020, 2, 10)) is stricter


def test_a_stricter_status_that_has_ended_no_longer_counts() -> None:
    periods = [
        quarantine_through(date(2020, 2, 14)),
        StatusPeriod(HealthStatus.HEALTH_MONITORING, start_of_local_day(date(2020, 2, 1))),
    ]
    assert current_status(periods, local(2020, 2, 10)) is HealthStatus.HOME_QUARANTINE
    assert current_status(periods, local(2020, 2, 15)) is HealthStatus.HEALTH_MONITORING


def test_among_equal_statuses_the_latest_start_governs() -> None:
    first = StatusPeriod(HealthStatus.HOME_QUARANTINE, local(2020, 2, 1), local(2020, 2, 20))
    second = StatusPeriod(HealthStatus.HOME_QUARANTINE, local(2020, 2, 5), local(2020, 2, 12))
    assert current_period([first, second], local(2020, 2, 10)) is second
    assert current_period([second, first], local(2020, 2, 10)) is second
    assert current_period([first, second], local(2020, 2, 15)) is first


def test_history_may_be_any_iterable() -> None:
    periods = (p for p in [quarantine_through(date(2020, 2, 14))])
    assert current_status(periods, local(2020, 2, 10)) is HealthStatus.HOME_QUARANTINE


# --- refused input ----------------------------------------------------------------------


def test_naive_start_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        StatusPeriod(HealthStatus.HOME_QUARANTINE, datetime(2020, 2, 1))  # noqa: DTZ001


def test_naive_end_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        StatusPeriod(
            HealthStatus.HOME_QUARANTINE,
            local(2020, 2, 1),
            datetime(2020, 2, 14),  # noqa: DTZ001
        )


@pytest.mark.parametrize(
    "periods", [[], [StatusPeriod(HealthStatus.HOME_QUARANTINE, local(2020, 2, 1))]]
)
def test_naive_moment_is_refused_even_without_history(periods: list[StatusPeriod]) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        current_status(periods, datetime(2020, 2, 10))  # noqa: DTZ001


@pytest.mark.parametrize("hours", [0, -1])
def test_a_period_must_end_after_it_starts(hours: int) -> None:
    with pytest.raises(ValueError, match="end after it starts"):
        StatusPeriod(
            HealthStatus.HOME_QUARANTINE,
            local(2020, 2, 1),
            local(2020, 2, 1) + timedelta(hours=hours),
        )
