"""``decide()`` rule by rule: status, visitors, fever, anti-passback, expired cards."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from gate.domain.model import (
    AlertLevel,
    Direction,
    Identity,
    IdentityKind,
    Outcome,
    Presence,
    Reason,
)
from gate.domain.people import HealthStatus, PersonKind
from gate.domain.policy import decide
from gate.domain.rules import RuleKind
from tests.gate.domain.test_policy_builders import (
    HOUR,
    TICK,
    VISIT_FROM,
    VISIT_UNTIL,
    at,
    card,
    only_reason,
    outsider,
    passage,
    resident,
    rule,
    visitor,
)

STATUS_RULES = [
    rule(RuleKind.QUARANTINE),
    rule(RuleKind.HEALTH_MONITORING),
    rule(RuleKind.KEY_PERSON),
]
QUARANTINED = [HealthStatus.HOME_QUARANTINE, HealthStatus.CENTRALIZED_QUARANTINE]
UNTIL = datetime(2020, 2, 14, 16, 0, tzinfo=UTC)

# --- quarantine, health monitoring, key person --------------------------------------------


@pytest.mark.parametrize("status", QUARANTINED)
def test_quarantined_person_may_not_leave(status: HealthStatus) -> None:
    decision = decide(resident(status, status_until=UNTIL), passage(), STATUS_RULES)

    assert decision.outcome is Outcome.DENY
    assert decision.alert is AlertLevel.ALARM
    assert decision.opens_barrier is False
    assert decision.reasons == (
        Reason(
            "quarantine_no_exit",
            {"status": status.value, "until": "2020-02-14T16:00:00+00:00"},
            "quarantine",
        ),
    )


@pytest.mark.parametrize("status", QUARANTINED)
def test_quarantined_person_coming_back_is_let_in_with_an_alarm(status: HealthStatus) -> None:
    decision = decide(resident(status), passage(Direction.IN), STATUS_RULES)

    assert decision.outcome is Outcome.ALLOW
    assert decision.opens_barrier is True
    assert decision.alert is AlertLevel.ALARM
    assert decision.reasons == (
        Reason("quarantine_returning", {"status": status.value, "until": None}, "quarantine"),
    )
    assert decision.rule_ids == ("quarantine",)


@pytest.mark.parametrize("direction", list(Direction))
def test_health_monitoring_passes_with_a_notice(direction: Direction) -> None:
    person = resident(HealthStatus.HEALTH_MONITORING, status_until=UNTIL)

    decision = decide(person, passage(direction), STATUS_RULES)

    assert decision.outcome is Outcome.ALLOW
    assert decision.alert is AlertLevel.NOTICE
    assert decision.reasons == (
        Reason("health_monitoring", {"until": UNTIL.isoformat()}, "health_monitoring"),
    )


@pytest.mark.parametrize("direction", list(Direction))
def test_key_person_goes_to_review(direction: Direction) -> None:
    decision = decide(resident(HealthStatus.KEY_PERSON), passage(direction), STATUS_RULES)

    assert decision.outcome is Outcome.REVIEW
    assert decision.alert is AlertLevel.ALARM
    assert decision.reasons == (Reason("key_person", {}, "key_person"),)


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (HealthStatus.HOME_QUARANTINE, RuleKind.HEALTH_MONITORING),
        (HealthStatus.HOME_QUARANTINE, RuleKind.KEY_PERSON),
        (HealthStatus.HEALTH_MONITORING, RuleKind.QUARANTINE),
        (HealthStatus.KEY_PERSON, RuleKind.QUARANTINE),
        (HealthStatus.NORMAL, RuleKind.QUARANTINE),
        (HealthStatus.NORMAL, RuleKind.HEALTH_MONITORING),
        (HealthStatus.NORMAL, RuleKind.KEY_PERSON),
    ],
)
def test_status_rule_ignores_other_statuses(status: HealthStatus, kind: RuleKind) -> None:
    decision = decide(resident(status), passage(), [rule(kind)])

    assert decision.reasons == (Reason("registered"),)


# --- visitors ----------------------------------------------------------------------------

WINDOW = {"from": VISIT_FROM.isoformat(), "until": VISIT_UNTIL.isoformat()}
VISITOR_RULE = [rule(RuleKind.VISITOR_WINDOW)]


@pytest.mark.parametrize("direction", list(Direction))
@pytest.mark.parametrize("now", [VISIT_FROM, at(12), VISIT_UNTIL - TICK])
def test_visitor_passes_inside_the_window(direction: Direction, now: datetime) -> None:
    decision = decide(visitor(), passage(direction, now=now), VISITOR_RULE)

    assert decision.outcome is Outcome.ALLOW
    assert decision.alert is AlertLevel.NONE
    assert decision.reasons == (Reason("visitor", WINDOW, "visitor_window"),)


@pytest.mark.parametrize("now", [VISIT_FROM - TICK, VISIT_UNTIL, VISIT_UNTIL + 5 * HOUR])
def test_visitor_arriving_outside_the_window_goes_to_review(now: datetime) -> None:
    decision = decide(visitor(), passage(Direction.IN, now=now), VISITOR_RULE)

    assert decision.outcome is Outcome.REVIEW
    assert decision.alert is AlertLevel.ALARM
    assert decision.reasons == (Reason("visitor_outside_window", WINDOW, "visitor_window"),)


@pytest.mark.parametrize("now", [VISIT_UNTIL, VISIT_UNTIL + 30 * HOUR])
def test_visitor_leaving_late_is_let_out_and_flagged(now: datetime) -> None:
    decision = decide(visitor(), passage(Direction.OUT, now=now), VISITOR_RULE)

    assert decision.outcome is Outcome.ALLOW
    assert decision.alert is AlertLevel.NOTICE
    assert decision.reasons == (Reason("visitor_overstay", WINDOW, "visitor_window"),)


def test_visitor_leaving_before_the_window_is_let_out_and_flagged_not_as_overstay() -> None:
    decision = decide(visitor(), passage(Direction.OUT, now=VISIT_FROM - HOUR), VISITOR_RULE)

    assert decision.outcome is Outcome.ALLOW
    assert decision.alert is AlertLevel.NOTICE
    assert decision.reason_codes == ("visitor_outside_window",)


def test_visitor_without_a_window_arriving_goes_to_review() -> None:
    decision = decide(visitor(None, None), passage(Direction.IN), VISITOR_RULE)

    assert decision.outcome is Outcome.REVIEW
    assert decision.alert is AlertLevel.ALARM
    assert decision.reasons == (
        Reason("visitor_outside_window", {"from": None, "until": None}, "visitor_window"),
    )


def test_visitor_without_a_window_leaving_is_let_out_and_flagged() -> None:
    decision = decide(visitor(None, None), passage(Direction.OUT), VISITOR_RULE)

    assert decision.outcome is Outcome.ALLOW
    assert decision.alert is AlertLevel.NOTICE
    assert decision.reason_codes == ("visitor_outside_window",)


def test_visitor_window_rule_ignores_residents_and_outsiders() -> None:
    assert decide(resident(), passage(Direction.IN), VISITOR_RULE).reason_codes == ("registered",)
    assert decide(outsider(), passage(Direction.IN), VISITOR_RULE).reason_codes == ("outsider",)


# --- fever -------------------------------------------------------------------------------


@pytest.mark.parametrize("direction", list(Direction))
@pytest.mark.parametrize("temperature", [37.3, 37.31, 39.5])
def test_fever_at_or_above_the_threshold_goes_to_review_with_recheck(
    direction: Direction, temperature: float
) -> None:
    decision = decide(
        resident(), passage(direction, temperature=temperature), [rule(RuleKind.FEVER)]
    )

    assert decision.outcome is Outcome.REVIEW
    assert decision.alert is AlertLevel.ALARM
    assert decision.reasons == (
        Reason("fever", {"temperature": temperature, "threshold": 37.3, "recheck": True}, "fever"),
    )


@pytest.mark.parametrize("temperature", [None, 35.0, 37.29])
def test_no_fever_below_the_threshold_or_unmeasured(temperature: float | None) -> None:
    decision = decide(resident(), passage(temperature=temperature), [rule(RuleKind.FEVER)])

    assert decision.reasons == (Reason("registered"),)


@pytest.mark.parametrize(("temperature", "fires"), [(37.49, False), (37.5, True)])
def test_fever_threshold_is_configurable(temperature: float, fires: bool) -> None:
    fever = rule(RuleKind.FEVER, threshold=37.5)

    decision = decide(resident(), passage(temperature=temperature), [fever])

    assert (decision.outcome is Outcome.REVIEW) is fires


def test_fever_applies_to_outsiders_and_visitors_too() -> None:
    context = passage(Direction.IN, temperature=38.0)

    assert decide(visitor(), context, [rule(RuleKind.FEVER)]).reason_codes == ("fever",)
    assert decide(outsider(), context, [rule(RuleKind.FEVER)]).reason_codes == (
        "fever",
        "outsider",
    )


# --- anti-passback -----------------------------------------------------------------------

PASSBACK = [rule(RuleKind.ANTI_PASSBACK)]


@pytest.mark.parametrize(
    ("direction", "presence"),
    [(Direction.OUT, Presence.OUTSIDE), (Direction.IN, Presence.INSIDE)],
)
def test_passing_the_way_one_already_is_fires_anti_passback(
    direction: Direction, presence: Presence
) -> None:
    decision = decide(resident(), passage(direction, presence=presence), PASSBACK)

    assert decision.outcome is Outcome.DENY
    assert decision.alert is AlertLevel.NOTICE
    assert decision.reasons == (Reason("passback", {"presence": presence.value}, "anti_passback"),)


@pytest.mark.parametrize(
    ("direction", "presence"),
    [
        (Direction.OUT, Presence.INSIDE),
        (Direction.IN, Presence.OUTSIDE),
        (Direction.OUT, Presence.UNKNOWN),
        (Direction.IN, Presence.UNKNOWN),
    ],
)
def test_expected_or_unknown_presence_never_fires_anti_passback(
    direction: Direction, presence: Presence
) -> None:
    decision = decide(resident(), passage(direction, presence=presence), PASSBACK)

    assert decision.reasons == (Reason("registered"),)


def test_anti_passback_needs_a_known_person() -> None:
    nobody = resident(person_ref=None)

    decision = decide(nobody, passage(presence=Presence.OUTSIDE), PASSBACK)

    assert decision.reasons == (Reason("registered"),)


# --- expired ID card ---------------------------------------------------------------------

CARD_RULE = [rule(RuleKind.CARD_EXPIRED)]


def test_card_past_its_validity_date_goes_to_review() -> None:
    expired = resident(document=card(valid_to=date(2020, 2, 9)))

    decision = decide(expired, passage(), CARD_RULE)

    assert decision.outcome is Outcome.REVIEW
    assert decision.alert is AlertLevel.NOTICE
    assert decision.reasons == (Reason("card_expired", {"valid_to": "2020-02-09"}, "card_expired"),)


@pytest.mark.parametrize("valid_to", [date(2020, 2, 10), date(2040, 1, 1), None])
def test_card_valid_through_today_or_long_term_passes(valid_to: date | None) -> None:
    decision = decide(resident(document=card(valid_to=valid_to)), passage(), CARD_RULE)

    assert decision.reasons == (Reason("registered"),)


def test_card_expiry_is_judged_by_the_local_date_not_the_utc_date() -> None:
    # 2020-02-09 16:30 UTC is already 00:30 on the 10th in Shanghai.
    now = datetime(2020, 2, 9, 16, 30, tzinfo=UTC)
    expired = resident(document=card(valid_to=date(2020, 2, 9)))

    assert decide(expired, passage(now=now), CARD_RULE).outcome is Outcome.REVIEW
    assert decide(expired, passage(now=now - HOUR), CARD_RULE).outcome is Outcome.ALLOW


def test_card_rule_without_a_card_read_does_not_fire() -> None:
    assert decide(resident(document=None), passage(), CARD_RULE).reason_codes == ("registered",)


def test_expired_card_of_an_outsider_is_reported_besides_the_outsider() -> None:
    stranger = Identity(kind=IdentityKind.OUTSIDER, document=card(valid_to=date(2019, 1, 1)))

    decision = decide(stranger, passage(Direction.IN), [*CARD_RULE, rule(RuleKind.OUTSIDER)])

    assert decision.reason_codes == ("card_expired", "outsider")
    assert decision.outcome is Outcome.REVIEW


def test_staff_status_rules_apply_as_to_anyone() -> None:
    guard = resident(HealthStatus.KEY_PERSON, person_kind=PersonKind.STAFF)

    assert only_reason(decide(guard, passage(), STATUS_RULES)).code == "key_person"


@pytest.mark.parametrize("threshold", [True, "38", None])
def test_a_threshold_that_is_not_a_number_falls_back_to_37_3(threshold: bool | str | None) -> None:
    misconfigured = [rule(RuleKind.FEVER, threshold=threshold)]

    assert decide(resident(), passage(temperature=37.3), misconfigured).outcome is Outcome.REVIEW
    assert decide(resident(), passage(temperature=37.2), misconfigured).outcome is Outcome.ALLOW
