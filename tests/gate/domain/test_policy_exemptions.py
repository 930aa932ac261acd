"""``decide()`` and exemptions: what they lift, by rule id or kind, and when they expire."""

from __future__ import annotations

from datetime import datetime

import pytest

from gate.domain.model import AlertLevel, Direction, Exemption, Outcome, Presence, Reason
from gate.domain.people import HealthStatus
from gate.domain.policy import decide
from gate.domain.rules import RuleKind
from tests.gate.domain.test_policy_builders import (
    HOUR,
    NOW,
    TICK,
    at,
    exemption,
    outing,
    passage,
    resident,
    rule,
    soft,
)

QUARANTINE = rule(RuleKind.QUARANTINE, rule_id="quarantine-2020")
CURFEW = rule(RuleKind.CURFEW, rule_id="curfew-out", direction="out")


@pytest.mark.parametrize("name", ["quarantine-2020", "quarantine"], ids=["by-id", "by-kind"])
def test_active_exemption_lifts_the_named_rule(name: str) -> None:
    person = resident(HealthStatus.HOME_QUARANTINE, exemptions=(exemption(name),))

    decision = decide(person, passage(), [QUARANTINE])

    assert decision.outcome is Outcome.ALLOW
    assert decision.opens_barrier is True
    assert decision.rule_ids == ()
    assert decision.reasons == (
        Reason("registered"),
        Reason("exempted", {"rule": "quarantine-2020", "exemption": "hospital"}, "quarantine-2020"),
    )


@pytest.mark.parametrize(
    ("expires_at", "active"),
    [(None, True), (NOW + TICK, True), (NOW, False), (NOW - HOUR, False)],
)
def test_exemption_lifts_nothing_from_its_expiry_on(
    expires_at: datetime | None, active: bool
) -> None:
    person = resident(
        HealthStatus.HOME_QUARANTINE, exemptions=(exemption("quarantine", expires_at=expires_at),)
    )

    decision = decide(person, passage(), [QUARANTINE])

    if active:
        assert decision.outcome is Outcome.ALLOW
        assert "exempted" in decision.reason_codes
    else:
        assert decision.outcome is Outcome.DENY
        assert decision.reason_codes == ("quarantine_no_exit",)
        assert decision.rule_ids == ("quarantine-2020",)


def test_exemption_lifts_only_the_rules_it_names() -> None:
    person = resident(HealthStatus.HOME_QUARANTINE, exemptions=(exemption("curfew-out"),))

    decision = decide(person, passage(now=at(23, 30)), [QUARANTINE, CURFEW])

    assert decision.outcome is Outcome.DENY
    assert decision.rule_ids == ("quarantine-2020",)
    assert decision.reason_codes == ("quarantine_no_exit", "exempted")
    assert decision.reasons[1].rule_id == "curfew-out"


def test_exemption_naming_another_rule_id_of_the_same_kind_lifts_nothing() -> None:
    person = resident(exemptions=(exemption("curfew-in"),))

    decision = decide(person, passage(now=at(23, 30)), [CURFEW])

    assert decision.outcome is Outcome.DENY
    assert decision.reason_codes == ("curfew",)


def test_one_exemption_may_lift_several_rules_and_the_first_active_one_names_the_reason() -> None:
    person = resident(
        HealthStatus.HOME_QUARANTINE,
        exemptions=(
            exemption("quarantine", reason="old", expires_at=NOW - HOUR),
            exemption("quarantine", "curfew", reason="night shift"),
        ),
    )

    decision = decide(person, passage(now=at(23, 30)), [QUARANTINE, CURFEW])

    assert decision.outcome is Outcome.ALLOW
    assert [r.params["exemption"] for r in decision.reasons[1:]] == ["night shift"] * 2


def test_exemption_for_a_rule_that_does_not_fire_leaves_no_trace() -> None:
    person = resident(exemptions=(exemption("quarantine"),))

    decision = decide(person, passage(), [QUARANTINE])

    assert decision.reasons == (Reason("registered"),)


def test_exemption_also_lifts_a_soft_rule_and_its_flag() -> None:
    person = resident(exemptions=(exemption("anti_passback", reason="guard on duty"),))

    decision = decide(person, passage(presence=Presence.OUTSIDE), [soft(RuleKind.ANTI_PASSBACK)])

    assert decision.alert is AlertLevel.NONE
    assert decision.reason_codes == ("registered", "exempted")


def test_exemption_does_not_silence_a_flag_that_refuses_nothing() -> None:
    # Chosen reading: an exemption lifts what a rule enforces; the guard still hears that a
    # quarantined person is coming back in.
    person = resident(HealthStatus.HOME_QUARANTINE, exemptions=(exemption("quarantine"),))

    decision = decide(person, passage(Direction.IN), [QUARANTINE])

    assert decision.outcome is Outcome.ALLOW
    assert decision.alert is AlertLevel.ALARM
    assert decision.reason_codes == ("quarantine_returning",)


def test_exemption_does_not_lift_another_household_members_quota_slot() -> None:
    person = resident(exemptions=(exemption("fever"),))
    context = passage(outings=(outing(NOW - HOUR),))

    decision = decide(person, context, [rule(RuleKind.HOUSEHOLD_QUOTA)])

    assert decision.outcome is Outcome.DENY


def test_a_lifted_hard_refusal_still_tells_the_guard_and_names_a_single_use_pass() -> None:
    hospital = Exemption(
        frozenset({"quarantine"}), "就医（陪同）", NOW + HOUR, exemption_id=7, single_use=True
    )
    person = resident(HealthStatus.HOME_QUARANTINE, exemptions=(hospital,))

    decision = decide(person, passage(), [QUARANTINE])

    assert decision.outcome is Outcome.ALLOW
    assert decision.alert is AlertLevel.NOTICE
    (lifted,) = [r for r in decision.reasons if r.code == "exempted"]
    assert lifted.params == {
        "rule": "quarantine-2020",
        "exemption": "就医（陪同）",
        "exemption_id": 7,
        "single_use": True,
    }
