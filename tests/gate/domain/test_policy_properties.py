"""Properties of ``decide()`` over generated people, passages and rule sets."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime, timedelta
from random import Random

from hypothesis import given, settings
from hypothesis import strategies as st

from gate.domain.model import (
    ALERT_SEVERITY,
    OUTCOME_SEVERITY,
    AlertLevel,
    Decision,
    Direction,
    Exemption,
    Identity,
    IdentityKind,
    Outcome,
    Outing,
    PassageContext,
    Presence,
    VisitWindow,
)
from gate.domain.people import HealthStatus, PersonKind
from gate.domain.policy import EVALUATORS, decide
from gate.domain.rules import RuleConfig, RuleKind, RuleMode
from tests.gate.domain.test_policy_builders import HOUR, NOW, SHANGHAI, SINCE, card, outsider

FAR_FUTURE = datetime(2030, 1, 1, tzinfo=SHANGHAI)
LONG_AGO = datetime(2019, 1, 1, tzinfo=SHANGHAI)
# Effective dates in force over every generated moment, and never in force over them.
IN_FORCE: list[tuple[datetime | None, datetime | None]] = [(SINCE, None), (SINCE, FAR_FUTURE)]
NOT_IN_FORCE: list[tuple[datetime | None, datetime | None]] = [
    (None, None),
    (None, FAR_FUTURE),
    (FAR_FUTURE, None),
    (LONG_AGO, SINCE),
]
BASELINE_CODES = {"registered", "visitor"}

PROPERTY = settings(deadline=None, max_examples=150)

# --- strategies --------------------------------------------------------------------------

moments = st.integers(-5 * 24 * 60, 5 * 24 * 60).map(lambda m: NOW + timedelta(minutes=m))
clock = st.sampled_from(["00:00", "05:00", "08:30", "12:00", "18:00", "23:00"])
names = st.sampled_from([*[k.value for k in RuleKind], "quota-a", "curfew-b", "nobody"])


@st.composite
def params_for(draw: st.DrawFn, kind: RuleKind) -> dict[str, str | int | float | None]:
    """Parameters a rule of ``kind`` may be configured with."""
    if kind is RuleKind.HOUSEHOLD_QUOTA:
        return {
            "persons": draw(st.integers(0, 3)),
            "period_hours": draw(st.sampled_from([1, 24, 48, 72.5])),
            "max_outside_hours": draw(st.sampled_from([None, 1, 12, 30])),
        }
    if kind is RuleKind.CURFEW:
        return {
            "direction": draw(st.sampled_from([None, "in", "out"])),
            "start": draw(clock),
            "end": draw(clock),
        }
    if kind is RuleKind.FEVER:
        return {"threshold": draw(st.sampled_from([37.0, 37.3, 38.0]))}
    return {}


@st.composite
def rules(draw: st.DrawFn, *, in_force: bool = True, mode: RuleMode | None = None) -> RuleConfig:
    """A rule in force over all generated moments, or one never in force over them."""
    kind = draw(st.sampled_from(RuleKind))
    rule_id = draw(st.sampled_from([kind.value, f"{kind.value}-2", "quota-a", "curfew-b"]))
    windows = IN_FORCE if in_force else NOT_IN_FORCE
    start, end = draw(st.sampled_from(windows))
    return RuleConfig(
        rule_id=rule_id,
        kind=kind,
        mode=mode or draw(st.sampled_from(RuleMode)),
        params=draw(params_for(kind)),
        effective_from=start,
        effective_to=end,
    )


rule_lists = st.lists(rules(), max_size=6)


@st.composite
def exemptions(draw: st.DrawFn) -> Exemption:
    """An exemption active or expired around the generated moments."""
    return Exemption(
        rule_ids=frozenset(draw(st.sets(names, min_size=1, max_size=3))),
        reason=draw(st.sampled_from(["hospital", "work", "duty"])),
        expires_at=draw(st.none() | moments),
    )


@st.composite
def known_people(draw: st.DrawFn) -> Identity:
    """A registered person or visitor, with whatever the registry may know of them."""
    kind = draw(st.sampled_from([IdentityKind.REGISTERED, IdentityKind.VISITOR]))
    visit = None
    if draw(st.booleans()):
        starts = draw(moments)
        visit = VisitWindow(starts, starts + draw(st.integers(1, 72)) * HOUR)
    valid_to = draw(st.none() | st.integers(-3, 3).map(lambda d: NOW.date() + timedelta(d)))
    return Identity(
        kind=kind,
        person_ref=draw(st.sampled_from(["p-1", None])),
        household_ref=draw(st.sampled_from(["h-1", None])),
        person_kind=draw(st.none() | st.sampled_from(PersonKind)),
        status=draw(st.sampled_from(HealthStatus)),
        exemptions=tuple(draw(st.lists(exemptions(), max_size=2))),
        visit=visit,
        document=draw(st.sampled_from([None, card(valid_to)])),
    )


strangers = st.booleans().map(lambda with_card: outsider(with_card=with_card))
people = known_people() | strangers


@st.composite
def outings(draw: st.DrawFn) -> Outing:
    """An outing of a household member some time around now."""
    left = draw(moments)
    back = draw(st.none() | st.integers(0, 80).map(lambda h: left + h * HOUR))
    return Outing(person_ref="p-2", left_at=left, returned_at=back)


@st.composite
def passages(draw: st.DrawFn) -> PassageContext:
    """A passage at a generated moment."""
    return PassageContext(
        lane="main",
        direction=draw(st.sampled_from(Direction)),
        now=draw(moments),
        temperature=draw(st.none() | st.integers(355, 395).map(lambda t: t / 10)),
        presence=draw(st.sampled_from(Presence)),
        household_outings=tuple(draw(st.lists(outings(), max_size=3))),
    )


# --- helpers -----------------------------------------------------------------------------


def severity(decision: Decision) -> int:
    return OUTCOME_SEVERITY[decision.outcome]


def loudness(decision: Decision) -> int:
    return ALERT_SEVERITY[decision.alert]


def exempted(identity: Identity, rule: RuleConfig, now: datetime) -> bool:
    """The test's own reading of "an active exemption names this rule"."""
    return any(
        (e.expires_at is None or now < e.expires_at)
        and (rule.rule_id in e.rule_ids or rule.kind.value in e.rule_ids)
        for e in identity.exemptions
    )


def without_baseline(decision: Decision) -> list[object]:
    return [r for r in decision.reasons if not (r.rule_id is None and r.code in BASELINE_CODES)]


# --- properties --------------------------------------------------------------------------


@PROPERTY
@given(people, passages(), st.lists(rules(in_force=True) | rules(in_force=False), max_size=8))
def test_barrier_opens_exactly_when_the_outcome_is_allow(
    identity: Identity, context: PassageContext, rule_set: list[RuleConfig]
) -> None:
    decision = decide(identity, context, rule_set)

    assert decision.opens_barrier is (decision.outcome is Outcome.ALLOW)
    assert decision.reasons  # there is always a reason to show
    assert set(decision.rule_ids) <= {r.rule_id for r in rule_set}


@PROPERTY
@given(people, passages(), rule_lists)
def test_decide_is_deterministic_and_takes_any_iterable(
    identity: Identity, context: PassageContext, rule_set: list[RuleConfig]
) -> None:
    first = decide(identity, context, rule_set)

    assert decide(identity, context, rule_set) == first
    assert decide(identity, context, tuple(rule_set)) == first
    assert decide(identity, context, iter(rule_set)) == first


@PROPERTY
@given(people, passages(), rule_lists)
def test_outcome_is_the_strictest_of_the_enforced_findings(
    identity: Identity, context: PassageContext, rule_set: list[RuleConfig]
) -> None:
    enforced = [Outcome.ALLOW]
    outsider_judged = False
    for rule in rule_set:
        finding = EVALUATORS[rule.kind](rule, identity, context)
        if finding is None:
            continue
        if finding.outcome is not Outcome.ALLOW and exempted(identity, rule, context.now):
            continue
        outsider_judged = outsider_judged or rule.kind is RuleKind.OUTSIDER
        if rule.mode is RuleMode.HARD:
            enforced.append(finding.outcome)
    if identity.kind is IdentityKind.OUTSIDER and not outsider_judged:
        enforced.append(Outcome.REVIEW)

    decision = decide(identity, context, rule_set)

    assert decision.outcome is max(enforced, key=OUTCOME_SEVERITY.__getitem__)


@PROPERTY
@given(known_people(), passages(), rule_lists)
def test_decision_is_the_sum_of_each_rule_decided_alone(
    identity: Identity, context: PassageContext, rule_set: list[RuleConfig]
) -> None:
    alone = [decide(identity, context, [rule]) for rule in rule_set]

    decision = decide(identity, context, rule_set)

    assert severity(decision) == max([0, *(severity(d) for d in alone)])
    assert loudness(decision) == max([0, *(loudness(d) for d in alone)])
    assert decision.rule_ids == tuple(i for d in alone for i in d.rule_ids)
    assert without_baseline(decision) == [r for d in alone for r in without_baseline(d)]


@PROPERTY
@given(known_people(), passages(), st.lists(rules(mode=RuleMode.SOFT), max_size=6))
def test_soft_rules_never_refuse_and_flag_what_they_relax(
    identity: Identity, context: PassageContext, rule_set: list[RuleConfig]
) -> None:
    decision = decide(identity, context, rule_set)

    assert decision.outcome is Outcome.ALLOW
    for rule in rule_set:
        hard = decide(identity, context, [dataclasses.replace(rule, mode=RuleMode.HARD)])
        if hard.outcome is not Outcome.ALLOW:
            assert loudness(decision) >= ALERT_SEVERITY[AlertLevel.NOTICE]
            assert any(
                r.rule_id == rule.rule_id and r.params.get("soft") is True for r in decision.reasons
            )


@PROPERTY
@given(strangers, passages(), st.lists(rules(mode=RuleMode.SOFT), max_size=5))
def test_outsider_under_soft_rules_is_reviewed_unless_a_soft_outsider_rule_lets_them_in(
    identity: Identity, context: PassageContext, rule_set: list[RuleConfig]
) -> None:
    decision = decide(identity, context, rule_set)

    judged = any(r.kind is RuleKind.OUTSIDER for r in rule_set)
    assert decision.outcome is (Outcome.ALLOW if judged else Outcome.REVIEW)
    assert decision.alert is AlertLevel.ALARM  # never silent


@PROPERTY
@given(people, passages(), rule_lists, rules(), st.integers(0, 6))
def test_adding_a_rule_never_makes_the_decision_less_strict(
    identity: Identity,
    context: PassageContext,
    rule_set: list[RuleConfig],
    extra: RuleConfig,
    position: int,
) -> None:
    # The one exception, by design: a soft outsider rule turns the outsider baseline
    # (review) into a flagged allow; see test_policy.py.
    soft_outsider = extra.kind is RuleKind.OUTSIDER and extra.mode is RuleMode.SOFT
    before = decide(identity, context, rule_set)

    after = decide(identity, context, _inserted(rule_set, extra, position))

    if not (identity.kind is IdentityKind.OUTSIDER and soft_outsider):
        assert severity(after) >= severity(before)
    assert loudness(after) >= loudness(before)
    assert set(before.rule_ids) <= set(after.rule_ids)


@PROPERTY
@given(people, passages(), rule_lists, st.lists(rules(in_force=False), min_size=1, max_size=4))
def test_rules_not_in_force_never_change_the_decision(
    identity: Identity,
    context: PassageContext,
    rule_set: list[RuleConfig],
    dormant: list[RuleConfig],
) -> None:
    mixed = list(rule_set)
    for i, rule in enumerate(dormant):
        mixed = _inserted(mixed, rule, i * 2)

    assert decide(identity, context, mixed) == decide(identity, context, rule_set)


@PROPERTY
@given(known_people(), passages(), rule_lists, st.sets(names, min_size=1), st.integers(0, 48))
def test_expired_exemptions_never_change_the_decision(
    identity: Identity,
    context: PassageContext,
    rule_set: list[RuleConfig],
    lifted: set[str],
    hours_ago: int,
) -> None:
    expired = Exemption(frozenset(lifted), "old", context.now - hours_ago * HOUR)
    with_expired = dataclasses.replace(identity, exemptions=(expired, *identity.exemptions))

    assert decide(with_expired, context, rule_set) == decide(identity, context, rule_set)


@PROPERTY
@given(people, passages(), rule_lists, st.randoms(use_true_random=False))
def test_rule_order_changes_only_the_order_of_reasons(
    identity: Identity, context: PassageContext, rule_set: list[RuleConfig], rnd: Random
) -> None:
    shuffled = list(rule_set)
    rnd.shuffle(shuffled)

    a, b = decide(identity, context, rule_set), decide(identity, context, shuffled)

    assert (a.outcome, a.alert, a.opens_barrier) == (b.outcome, b.alert, b.opens_barrier)
    assert sorted(map(repr, a.reasons)) == sorted(map(repr, b.reasons))
    assert sorted(a.rule_ids) == sorted(b.rule_ids)


@PROPERTY
@given(people, passages(), rule_lists)
def test_every_fired_rule_left_its_reason_and_exempted_rules_did_not_fire(
    identity: Identity, context: PassageContext, rule_set: list[RuleConfig]
) -> None:
    decision = decide(identity, context, rule_set)

    fired_reasons = [r for r in decision.reasons if r.rule_id and r.code != "exempted"]
    assert [r.rule_id for r in fired_reasons] == list(decision.rule_ids)
    for reason in decision.reasons:
        if reason.rule_id is None:
            assert reason.code in {*BASELINE_CODES, "outsider"}
        if reason.code == "exempted":
            assert reason.params["rule"] == reason.rule_id


@PROPERTY
@given(known_people(), passages(), rule_lists)
def test_an_exemption_naming_every_kind_lets_anyone_known_through(
    identity: Identity, context: PassageContext, rule_set: list[RuleConfig]
) -> None:
    everything = Exemption(frozenset(k.value for k in RuleKind), "duty", None)
    exempt = dataclasses.replace(identity, exemptions=(everything,))

    decision = decide(exempt, context, rule_set)

    assert decision.outcome is Outcome.ALLOW
    unexempt = dataclasses.replace(identity, exemptions=())
    refusing = [
        r.rule_id
        for r in rule_set
        if decide(unexempt, context, [dataclasses.replace(r, mode=RuleMode.HARD)]).outcome
        is not Outcome.ALLOW
    ]
    assert [r.rule_id for r in decision.reasons if r.code == "exempted"] == refusing
    baseline = "registered" if identity.kind is IdentityKind.REGISTERED else "visitor"
    if not decision.rule_ids:
        assert decision.reasons[0].code == baseline


@PROPERTY
@given(strangers, passages(), rule_lists)
def test_an_outsider_is_never_let_through_silently(
    identity: Identity, context: PassageContext, rule_set: list[RuleConfig]
) -> None:
    decision = decide(identity, context, rule_set)

    assert decision.alert is AlertLevel.ALARM
    assert decision.reason_codes.count("outsider") >= 1


def test_strategies_cover_every_outcome_and_identity_kind() -> None:
    # Guards the strategies themselves: a property that never sees a deny proves little.
    seen: set[tuple[str, str]] = set()

    @settings(deadline=None, max_examples=300, database=None, derandomize=True)
    @given(people, passages(), rule_lists)
    def collect(identity: Identity, context: PassageContext, rule_set: list[RuleConfig]) -> None:
        seen.add((identity.kind.value, decide(identity, context, rule_set).outcome.value))

    collect()

    assert {outcome for _, outcome in seen} == {o.value for o in Outcome}
    assert {kind for kind, _ in seen} == {k.value for k in IdentityKind}


def _inserted(rule_set: Sequence[RuleConfig], rule: RuleConfig, position: int) -> list[RuleConfig]:
    position = min(position, len(rule_set))
    return [*rule_set[:position], rule, *rule_set[position:]]
