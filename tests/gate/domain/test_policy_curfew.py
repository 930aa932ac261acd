"""``decide()`` and curfews: windows per direction in Shanghai local time, across midnight."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from gate.domain.model import AlertLevel, Direction, Outcome, Reason
from gate.domain.policy import decide
from gate.domain.rules import RuleConfig, RuleKind
from tests.gate.domain.test_policy_builders import at, passage, resident, rule

NIGHT_OUT = [rule(RuleKind.CURFEW, direction="out", start="23:00", end="05:00")]


def fires(rules: list[RuleConfig], now: datetime, direction: Direction = Direction.OUT) -> bool:
    """True if the curfew refuses a resident passing at ``now``."""
    decision = decide(resident(), passage(direction, now=now), rules)
    return decision.reason_codes == ("curfew",)


def test_curfew_denies_with_its_window_in_the_reason() -> None:
    decision = decide(resident(), passage(now=at(23, 30)), NIGHT_OUT)

    assert decision.outcome is Outcome.DENY
    assert decision.alert is AlertLevel.NOTICE
    assert decision.opens_barrier is False
    assert decision.reasons == (
        Reason("curfew", {"start": "23:00", "end": "05:00", "direction": "out"}, "curfew"),
    )


@pytest.mark.parametrize(
    ("hour", "minute", "second", "inside"),
    [
        (22, 59, 59, False),
        (23, 0, 0, True),
        (23, 59, 59, True),
        (0, 0, 0, True),
        (4, 59, 59, True),
        (5, 0, 0, False),
        (12, 0, 0, False),
    ],
)
def test_window_across_midnight(hour: int, minute: int, second: int, inside: bool) -> None:
    assert fires(NIGHT_OUT, at(hour, minute, second)) is inside


@pytest.mark.parametrize(
    ("hour", "minute", "inside"),
    [(11, 59, False), (12, 0, True), (13, 59, True), (14, 0, False), (23, 30, False)],
)
def test_window_within_one_day(hour: int, minute: int, inside: bool) -> None:
    midday = [rule(RuleKind.CURFEW, start="12:00", end="14:00")]

    assert fires(midday, at(hour, minute)) is inside


def test_default_window_is_23_to_05() -> None:
    unspecified = [rule(RuleKind.CURFEW)]

    assert fires(unspecified, at(23, 0))
    assert fires(unspecified, at(4, 59))
    assert not fires(unspecified, at(5, 0))
    assert not fires(unspecified, at(22, 59))


def test_curfew_for_one_direction_lets_the_other_through() -> None:
    night_in = [rule(RuleKind.CURFEW, direction="in", start="23:00", end="05:00")]

    assert fires(NIGHT_OUT, at(1), Direction.OUT)
    assert not fires(NIGHT_OUT, at(1), Direction.IN)
    assert fires(night_in, at(1), Direction.IN)
    assert not fires(night_in, at(1), Direction.OUT)


@pytest.mark.parametrize("direction", list(Direction))
def test_curfew_without_a_direction_applies_both_ways(direction: Direction) -> None:
    both = [rule(RuleKind.CURFEW, start="23:00", end="05:00")]

    decision = decide(resident(), passage(direction, now=at(1)), both)

    assert decision.outcome is Outcome.DENY
    assert decision.reasons[0].params["direction"] is None


@pytest.mark.parametrize(
    ("now", "inside"),
    [
        (datetime(2020, 2, 10, 14, 59, 59, tzinfo=UTC), False),  # 22:59:59 in Shanghai
        (datetime(2020, 2, 10, 15, 0, tzinfo=UTC), True),  # 23:00
        (datetime(2020, 2, 10, 20, 59, 59, tzinfo=UTC), True),  # 04:59:59 next day
        (datetime(2020, 2, 10, 21, 0, tzinfo=UTC), False),  # 05:00
        # Summer: Shanghai keeps UTC+8 (no daylight saving since 1991).
        (datetime(2020, 7, 10, 15, 0, tzinfo=UTC), True),
        (datetime(2020, 7, 10, 14, 30, tzinfo=UTC), False),
        # A clock in another zone with daylight saving: 17:00 CEST is 23:00 in Shanghai.
        (datetime(2020, 7, 10, 17, 0, tzinfo=ZoneInfo("Europe/Berlin")), True),
        (datetime(2020, 7, 10, 16, 59, tzinfo=ZoneInfo("Europe/Berlin")), False),
        # Winter: 16:00 CET is 23:00 in Shanghai.
        (datetime(2020, 1, 10, 16, 0, tzinfo=ZoneInfo("Europe/Berlin")), True),
    ],
)
def test_curfew_is_read_in_shanghai_time_whatever_zone_now_is_in(
    now: datetime, inside: bool
) -> None:
    assert fires(NIGHT_OUT, now) is inside


def test_curfew_with_seconds_in_its_bounds() -> None:
    precise = [rule(RuleKind.CURFEW, start="23:00:30", end="05:00")]

    assert not fires(precise, at(23, 0, 29))
    assert fires(precise, at(23, 0, 30))
