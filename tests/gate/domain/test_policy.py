"""``decide()``: the baseline, combining rules, hard and soft, effective dates."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

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
from gate.domain.people import HealthStatus
from gate.domain.policy import decide
from gate.domain.rules import DEFAULT_RULES, RuleConfig, RuleKind, RuleMode
from tests.gate.domain.test_policy_builders import (
    HOUR,
    NOW,
    SHANGHAI,
    SINCE,
    TICK,
    at,
    card,
    exemption,
    only_reason,
    outing,
    outsider,
    passage,
    resident,
    rule,
    soft,
    visitor,
)

# --- the baseline ------------------------------------------------------------------------


def test_registered_resident_with_normal_status_is_let_through() -> None:
    decision = decide(resident(), passage(), DEFAULT_RULES)

    assert decision.outcome is Outcome.ALLOW
    assert decision.reasons == (Reason("registered"),)
    assert decision.alert is AlertLevel.NONE
    assert decision.rule_ids == ()
    assert decision.opens_barrier is True


def test_normal_resident_passes_every_default_rule_in_force() -> None:
    context = passage(Direction.IN, temperature=36.5, presence=Presence.OUTSIDE)

    decision = decide(resident(document=card()), context, default_rules_in_force())

    assert decision.outcome is Outcome.ALLOW
    assert decision.reason_codes == ("registered",)
    assert decision.opens_barrier is True


def test_visitor_without_rules_is_let_through_as_a_visitor() -> None:
    decision = decide(visitor(), passage(Direction.IN), [])

    assert decision.outcome is Outcome.ALLOW
    assert decision.reasons == (Reason("visitor"),)


@pytest.mark.parametrize("with_card", [True, False])
def test_outsider_goes_to_review_even_without_an_outsider_rule(with_card: bool) -> None:
    rules = [rule(RuleKind.FEVER)]

    decision = decide(outsider(with_card=with_card), passage(Direction.IN), rules)

    assert decision.outcome is Outcome.REVIEW
    assert decision.alert is AlertLevel.ALARM
    assert decision.reasons == (Reason("outsider"),)
    assert decision.opens_barrier is False


def test_outsider_rule_in_force_gives_the_one_outsider_reason_with_its_rule() -> None:
    decision = decide(outsider(), passage(Direction.IN), [rule(RuleKind.OUTSIDER)])

    assert decision.outcome is Outcome.REVIEW
    assert decision.alert is AlertLevel.ALARM
    assert decision.reasons == (Reason("outsider", {"card_read": True}, "outsider"),)
    assert decision.rule_ids == ("outsider",)


def test_outsider_rule_not_yet_in_force_still_leaves_the_outsider_in_review() -> None:
    pending = rule(RuleKind.OUTSIDER, effective_from=NOW + TICK)

    decision = decide(outsider(), passage(Direction.IN), [pending])

    assert decision.outcome is Outcome.REVIEW
    assert decision.reasons == (Reason("outsider"),)
    assert decision.rule_ids == ()


def test_soft_outsider_rule_lets_the_outsider_in_but_loudly() -> None:
    # Chosen reading: an administrator who makes the outsider rule soft wants outsiders let
    # in with a flag; the alarm stays (it is never silent).
    decision = decide(outsider(), passage(Direction.IN), [soft(RuleKind.OUTSIDER)])

    assert decision.outcome is Outcome.ALLOW
    assert decision.alert is AlertLevel.ALARM
    assert decision.reasons == (Reason("outsider", {"card_read": True, "soft": True}, "outsider"),)


def test_exempting_the_outsider_rule_does_not_let_an_outsider_through() -> None:
    # An outsider has no registry record and so no exemptions; were one to arrive, the
    # baseline review still holds.
    stranger = Identity(
        kind=IdentityKind.OUTSIDER, exemptions=(exemption("outsider", reason="delivery"),)
    )

    decision = decide(stranger, passage(Direction.IN), [rule(RuleKind.OUTSIDER)])

    assert decision.outcome is Outcome.REVIEW
    assert decision.alert is AlertLevel.ALARM
    assert decision.reason_codes == ("exempted", "outsider")


# --- several rules -----------------------------------------------------------------------

FEVER_AND_CURFEW = [
    rule(RuleKind.CURFEW, start="23:00", end="05:00"),  # deny, notice
    rule(RuleKind.FEVER),  # review, alarm
    soft(RuleKind.ANTI_PASSBACK),  # allow, notice, soft
]


def test_strictest_outcome_and_loudest_alert_come_from_different_rules() -> None:
    context = passage(now=at(23, 30), temperature=38.0, presence=Presence.OUTSIDE)

    decision = decide(resident(), context, FEVER_AND_CURFEW)

    assert decision.outcome is Outcome.DENY  # from the curfew (notice)
    assert decision.alert is AlertLevel.ALARM  # from the fever (review)
    assert decision.reason_codes == ("curfew", "fever", "passback")
    assert decision.rule_ids == ("curfew", "fever", "anti_passback")
    assert decision.reasons[2].params["soft"] is True
    assert decision.opens_barrier is False


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_outcome_and_alert_do_not_depend_on_rule_order(order: tuple[int, ...]) -> None:
    context = passage(now=at(23, 30), temperature=38.0, presence=Presence.OUTSIDE)
    rules = [FEVER_AND_CURFEW[i] for i in order]

    decision = decide(resident(), context, rules)

    assert decision.outcome is Outcome.DENY
    assert decision.alert is AlertLevel.ALARM
    assert decision.rule_ids == tuple(rules[i].rule_id for i in range(3))
    assert [r.rule_id for r in decision.reasons] == [r.rule_id for r in rules]


def test_review_beats_a_loud_allow_and_keeps_its_alarm() -> None:
    # Returning from quarantine allows with an alarm; the expired card asks for review quietly.
    person = resident(
        HealthStatus.HOME_QUARANTINE, document=card(valid_to=NOW.date() - timedelta(days=1))
    )
    rules = [rule(RuleKind.QUARANTINE), rule(RuleKind.CARD_EXPIRED)]

    decision = decide(person, passage(Direction.IN), rules)

    assert decision.outcome is Outcome.REVIEW
    assert decision.alert is AlertLevel.ALARM
    assert decision.reason_codes == ("quarantine_returning", "card_expired")
    assert decision.opens_barrier is False


def test_a_review_with_a_notice_stays_at_notice() -> None:
    expired = resident(document=card(valid_to=NOW.date() - timedelta(days=1)))

    decision = decide(expired, passage(), [rule(RuleKind.CARD_EXPIRED)])

    assert decision.outcome is Outcome.REVIEW
    assert decision.alert is AlertLevel.NOTICE


def test_flag_only_rule_keeps_its_reason_without_the_registered_baseline() -> None:
    decision = decide(resident(HealthStatus.HEALTH_MONITORING), passage(), default_rules_in_force())

    assert decision.outcome is Outcome.ALLOW
    assert decision.reason_codes == ("health_monitoring",)
    assert decision.rule_ids == ("health-monitoring",)
    assert decision.alert is AlertLevel.NOTICE


# --- hard and soft -----------------------------------------------------------------------

# (rule kind, a person and a passage it fires for, the outcome the hard rule enforces)
ENFORCING = [
    (RuleKind.QUARANTINE, resident(HealthStatus.HOME_QUARANTINE), passage(), Outcome.DENY),
    (RuleKind.KEY_PERSON, resident(HealthStatus.KEY_PERSON), passage(), Outcome.REVIEW),
    (RuleKind.VISITOR_WINDOW, visitor(), passage(Direction.IN, now=at(20)), Outcome.REVIEW),
    (
        RuleKind.HOUSEHOLD_QUOTA,
        resident(),
        passage(outings=(outing(NOW - HOUR, NOW),)),
        Outcome.DENY,
    ),
    (RuleKind.CURFEW, resident(), passage(now=at(23, 30)), Outcome.DENY),
    (RuleKind.FEVER, resident(), passage(temperature=37.3), Outcome.REVIEW),
    (RuleKind.ANTI_PASSBACK, resident(), passage(presence=Presence.OUTSIDE), Outcome.DENY),
    (
        RuleKind.CARD_EXPIRED,
        resident(document=card(valid_to=NOW.date() - timedelta(days=1))),
        passage(),
        Outcome.REVIEW,
    ),
    (RuleKind.OUTSIDER, outsider(), passage(Direction.IN), Outcome.REVIEW),
]


@pytest.mark.parametrize(("kind", "person", "context", "expected"), ENFORCING)
def test_hard_rule_enforces_its_outcome(kind, person, context, expected) -> None:
    decision = decide(person, context, [rule(kind)])

    assert decision.outcome is expected
    assert decision.opens_barrier is False
    assert decision.rule_ids == (kind.value,)
    assert "soft" not in decision.reasons[0].params


@pytest.mark.parametrize(("kind", "person", "context", "hard_outcome"), ENFORCING)
def test_soft_rule_lets_through_and_flags(kind, person, context, hard_outcome) -> None:
    hard = decide(person, context, [rule(kind)])

    decision = decide(person, context, [soft(kind)])

    assert decision.outcome is Outcome.ALLOW
    assert decision.opens_barrier is True
    assert decision.rule_ids == (kind.value,)
    reason = only_reason(decision)
    assert reason.code == hard.reasons[0].code
    assert reason.rule_id == kind.value
    assert reason.params == {**hard.reasons[0].params, "soft": True}
    assert decision.alert is hard.alert  # never quieter than the hard rule would sound
    assert decision.alert is not AlertLevel.NONE


def test_soft_rule_whose_finding_allows_is_not_marked_soft() -> None:
    # Nothing is relaxed, so nothing is "soft" about it: the flag is the finding's own.
    decision = decide(resident(HealthStatus.HEALTH_MONITORING), passage(), default_rules_in_force())

    assert decision.reasons[0].params == {"until": None}


# --- effective dates ---------------------------------------------------------------------

FROM = datetime(2020, 1, 24, tzinfo=SHANGHAI)
TO = datetime(2020, 3, 1, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("now", "in_force"),
    [
        (FROM - TICK, False),
        (FROM, True),
        (TO - TICK, True),
        (TO, False),
        (TO + timedelta(days=400), False),
    ],
)
def test_rule_is_in_force_from_its_start_up_to_but_not_at_its_end(
    now: datetime, in_force: bool
) -> None:
    key_person_rule = rule(RuleKind.KEY_PERSON, effective_from=FROM, effective_to=TO)

    decision = decide(resident(HealthStatus.KEY_PERSON), passage(now=now), [key_person_rule])

    assert key_person_rule.in_force(now) is in_force
    assert decision.outcome is (Outcome.REVIEW if in_force else Outcome.ALLOW)
    assert decision.rule_ids == (("key_person",) if in_force else ())


@pytest.mark.parametrize("now", [FROM - timedelta(days=3650), NOW, TO + timedelta(days=3650)])
def test_rule_without_a_start_date_is_never_in_force(now: datetime) -> None:
    dormant = rule(RuleKind.KEY_PERSON, effective_from=None)

    decision = decide(resident(HealthStatus.KEY_PERSON), passage(now=now), [dormant])

    assert decision.outcome is Outcome.ALLOW
    assert decision.reasons == (Reason("registered"),)


def test_rule_without_an_end_date_stays_in_force() -> None:
    open_ended = rule(RuleKind.KEY_PERSON, effective_from=FROM)

    decision = decide(
        resident(HealthStatus.KEY_PERSON), passage(now=FROM + timedelta(days=3650)), [open_ended]
    )

    assert decision.outcome is Outcome.REVIEW


def test_default_rules_keep_quarantine_in_force_and_epidemic_rules_off() -> None:
    decision = decide(resident(HealthStatus.HOME_QUARANTINE), passage(), DEFAULT_RULES)

    assert decision.outcome is Outcome.DENY
    assert decision.reason_codes == ("quarantine_no_exit",)
    off = {rule.rule_id for rule in DEFAULT_RULES if rule.effective_from is None}
    assert off == {"household-quota", "curfew-out"}


def test_default_rules_modes() -> None:
    modes = {r.kind: r.mode for r in DEFAULT_RULES}

    assert modes[RuleKind.ANTI_PASSBACK] is RuleMode.SOFT
    assert modes[RuleKind.QUARANTINE] is RuleMode.HARD
    assert {r.kind for r in DEFAULT_RULES} == set(RuleKind)


def default_rules_in_force() -> list[RuleConfig]:
    """The default rule set, every rule in force since ``SINCE``."""
    return [_in_force(r) for r in DEFAULT_RULES]


def _in_force(config: RuleConfig) -> RuleConfig:
    return RuleConfig(config.rule_id, config.kind, config.mode, config.params, SINCE, None)
