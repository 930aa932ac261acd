"""``decide()`` and the household outing quota: a rolling window, forfeits, who counts."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from gate.domain.model import AlertLevel, Direction, Identity, IdentityKind, Outcome, Outing, Reason
from gate.domain.people import PersonKind
from gate.domain.policy import decide
from gate.domain.rules import RuleKind
from tests.gate.domain.test_policy_builders import (
    HOUR,
    NOW,
    TICK,
    only_reason,
    outing,
    passage,
    resident,
    rule,
    visitor,
)

DEFAULT_QUOTA = [rule(RuleKind.HOUSEHOLD_QUOTA)]  # 1 outing per 48 h
PERIOD = 48 * HOUR


def quota(persons: int = 1, period_hours: float = 48, max_outside_hours: float | None = None):
    """A quota rule in force."""
    return [
        rule(
            RuleKind.HOUSEHOLD_QUOTA,
            persons=persons,
            period_hours=period_hours,
            max_outside_hours=max_outside_hours,
        )
    ]


def leaving(*outings: Outing, now: datetime = NOW):
    """A member of household h-1 asking to go out."""
    return passage(Direction.OUT, now=now, outings=outings)


def test_first_outing_of_the_period_is_allowed() -> None:
    decision = decide(resident(), leaving(), DEFAULT_QUOTA)

    assert decision.reasons == (Reason("registered"),)


def test_second_outing_within_the_period_is_denied_with_when_it_frees() -> None:
    left = NOW - 10 * HOUR

    decision = decide(resident(), leaving(outing(left, left + 2 * HOUR)), DEFAULT_QUOTA)

    assert decision.outcome is Outcome.DENY
    assert decision.alert is AlertLevel.NOTICE
    assert decision.opens_barrier is False
    assert decision.reasons == (
        Reason(
            "household_quota",
            {
                "used": 1,
                "allowed": 1,
                "period_hours": 48.0,
                "next_at": (left + PERIOD).isoformat(),
                "forfeited": False,
            },
            "household_quota",
        ),
    )


@pytest.mark.parametrize(
    ("ago", "denied"),
    [(PERIOD - TICK, True), (PERIOD, False), (PERIOD + HOUR, False), (timedelta(0), True)],
)
def test_rolling_window_frees_the_slot_exactly_one_period_after_leaving(
    ago: timedelta, denied: bool
) -> None:
    decision = decide(resident(), leaving(outing(NOW - ago, NOW - ago + HOUR)), DEFAULT_QUOTA)

    assert (decision.outcome is Outcome.DENY) is denied


def test_next_at_is_when_the_quota_really_allows_again() -> None:
    held = outing(NOW - 30 * HOUR, NOW - 29 * HOUR)
    denied = decide(resident(), leaving(held), DEFAULT_QUOTA)
    next_at = datetime.fromisoformat(str(only_reason(denied).params["next_at"]))

    assert decide(resident(), leaving(held, now=next_at - TICK), DEFAULT_QUOTA).outcome is (
        Outcome.DENY
    )
    assert decide(resident(), leaving(held, now=next_at), DEFAULT_QUOTA).outcome is Outcome.ALLOW


def test_outings_of_other_members_count_for_the_household_even_while_still_out() -> None:
    still_out = outing(NOW - 3 * HOUR, None, person="p-3")

    decision = decide(resident(), leaving(still_out), DEFAULT_QUOTA)

    assert decision.outcome is Outcome.DENY


def test_outings_recorded_after_now_are_not_counted() -> None:
    later = outing(NOW + HOUR, NOW + 2 * HOUR)

    assert decide(resident(), leaving(later), DEFAULT_QUOTA).outcome is Outcome.ALLOW


def test_quota_is_only_for_going_out() -> None:
    context = passage(Direction.IN, outings=(outing(NOW - HOUR),))

    assert decide(resident(), context, DEFAULT_QUOTA).reason_codes == ("registered",)


@pytest.mark.parametrize(
    "person",
    [
        resident(person_kind=PersonKind.STAFF),
        resident(household_ref=None),
        visitor(),
        Identity(kind=IdentityKind.VISITOR, household_ref="h-1"),
    ],
    ids=["staff", "no-household", "visitor", "visitor-with-household"],
)
def test_staff_visitors_and_people_without_a_household_are_not_counted(person: Identity) -> None:
    decision = decide(person, leaving(outing(NOW - HOUR, NOW)), DEFAULT_QUOTA)

    assert "household_quota" not in decision.reason_codes
    assert decision.outcome is Outcome.ALLOW


@pytest.mark.parametrize("person_kind", [PersonKind.TENANT, None])
def test_tenants_and_people_of_unknown_kind_are_counted(person_kind: PersonKind | None) -> None:
    decision = decide(
        resident(person_kind=person_kind), leaving(outing(NOW - HOUR, NOW)), DEFAULT_QUOTA
    )

    assert decision.outcome is Outcome.DENY


# --- several outings per period ----------------------------------------------------------


def test_n_outings_per_period_allow_n_then_deny() -> None:
    first, second = outing(NOW - 20 * HOUR, NOW - 19 * HOUR), outing(NOW - 5 * HOUR, None)

    assert decide(resident(), leaving(first), quota(persons=2)).outcome is Outcome.ALLOW
    decision = decide(resident(), leaving(first, second), quota(persons=2))

    assert decision.outcome is Outcome.DENY
    params = only_reason(decision).params
    assert params["used"] == 2
    assert params["allowed"] == 2
    assert params["next_at"] == (first.left_at + PERIOD).isoformat()


def test_with_more_outings_held_than_allowed_next_at_waits_for_enough_to_free() -> None:
    # Three held, two allowed: two must free before a third may go; unordered input.
    lefts = [NOW - 40 * HOUR, NOW - 10 * HOUR, NOW - 30 * HOUR]

    decision = decide(resident(), leaving(*(outing(t) for t in lefts)), quota(persons=2))

    params = only_reason(decision).params
    assert params["used"] == 3
    assert params["next_at"] == (NOW - 30 * HOUR + PERIOD).isoformat()


def test_custom_period_is_honoured_and_reported() -> None:
    old = outing(NOW - 25 * HOUR, NOW - 24 * HOUR)
    recent = outing(NOW - 23 * HOUR, NOW - 22 * HOUR)

    assert decide(resident(), leaving(old), quota(period_hours=24)).outcome is Outcome.ALLOW
    decision = decide(resident(), leaving(recent), quota(period_hours=24))

    assert only_reason(decision).params["period_hours"] == 24.0
    assert only_reason(decision).params["next_at"] == (recent.left_at + 24 * HOUR).isoformat()


def test_quota_of_zero_denies_every_outing_without_a_next_time() -> None:
    decision = decide(resident(), leaving(), quota(persons=0))

    assert decision.outcome is Outcome.DENY
    assert only_reason(decision).params["next_at"] is None


# --- time outside and forfeits -----------------------------------------------------------

LIMIT = 12  # hours


def test_outing_within_the_time_limit_holds_its_slot_for_one_period() -> None:
    back_in_time = outing(NOW - 50 * HOUR, NOW - 50 * HOUR + LIMIT * HOUR)  # exactly the limit

    decision = decide(resident(), leaving(back_in_time), quota(max_outside_hours=LIMIT))

    assert decision.outcome is Outcome.ALLOW


def test_outing_that_overran_forfeits_the_next_period() -> None:
    left = NOW - 50 * HOUR
    late = outing(left, left + LIMIT * HOUR + TICK)

    decision = decide(resident(), leaving(late), quota(max_outside_hours=LIMIT))

    assert decision.outcome is Outcome.DENY
    params = only_reason(decision).params
    assert params["forfeited"] is True
    assert params["next_at"] == (left + 2 * PERIOD).isoformat()


@pytest.mark.parametrize(("ago", "denied"), [(2 * PERIOD - TICK, True), (2 * PERIOD, False)])
def test_overrun_slot_frees_exactly_two_periods_after_leaving(ago: timedelta, denied: bool) -> None:
    late = outing(NOW - ago, NOW - ago + 20 * HOUR)

    decision = decide(resident(), leaving(late), quota(max_outside_hours=LIMIT))

    assert (decision.outcome is Outcome.DENY) is denied


def test_member_still_out_past_the_limit_has_overrun() -> None:
    still_out = outing(NOW - 60 * HOUR, None)

    decision = decide(resident(), leaving(still_out), quota(max_outside_hours=LIMIT))

    assert only_reason(decision).params["forfeited"] is True
    assert decision.outcome is Outcome.DENY


def test_a_return_recorded_after_now_does_not_count_as_overrun_yet() -> None:
    # As of NOW the member has been out 10 h (< 12 h); the row says they come back in 5 h.
    out = outing(NOW - 10 * HOUR, NOW + 5 * HOUR)

    decision = decide(resident(), leaving(out), quota(max_outside_hours=LIMIT))

    params = only_reason(decision).params
    assert params["forfeited"] is False
    assert params["next_at"] == (out.left_at + PERIOD).isoformat()


def test_an_old_overrun_that_no_longer_holds_a_slot_is_not_a_forfeit() -> None:
    old_late = outing(NOW - 200 * HOUR, NOW - 150 * HOUR)
    recent = outing(NOW - 5 * HOUR, NOW - 4 * HOUR)

    decision = decide(resident(), leaving(old_late, recent), quota(max_outside_hours=LIMIT))

    assert only_reason(decision).params["forfeited"] is False
    assert only_reason(decision).params["used"] == 1


def test_without_a_time_limit_no_outing_overruns() -> None:
    very_long = outing(NOW - 60 * HOUR, NOW - HOUR)

    decision = decide(resident(), leaving(very_long), DEFAULT_QUOTA)

    assert decision.outcome is Outcome.ALLOW


def test_n_outings_with_one_overrun_frees_the_normal_slot_first() -> None:
    late = outing(NOW - 60 * HOUR, NOW - 30 * HOUR)  # overran: held until NOW + 36 h
    normal = outing(NOW - 20 * HOUR, NOW - 19 * HOUR)  # held until NOW + 28 h

    decision = decide(resident(), leaving(late, normal), quota(2, max_outside_hours=LIMIT))

    params = only_reason(decision).params
    assert params["forfeited"] is True
    assert params["next_at"] == (normal.left_at + PERIOD).isoformat()
