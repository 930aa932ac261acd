"""The pure ``decide()``: what each kind of rule finds, and how findings combine.

The rules themselves (kinds, modes, parameters, defaults) are in ``gate.domain.rules``.
A rule has an id, a kind, parameters, effective dates and a mode: **hard** enforces its
effect (deny or review), **soft** lets the person through and flags the passage for the
guard. Rules not in force at ``context.now`` are skipped; an exemption lifts the rules it
names until it expires. Where several rules fire the strictest outcome wins and every
reason is kept. An outsider is never let through silently: without an ``outsider`` rule
in force they still go to review.

No I/O and no clock here: the time comes in ``PassageContext.now``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

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
    ParamValue,
    PassageContext,
    Presence,
    Reason,
)
from gate.domain.people import FEVER_FROM, QUARANTINE_STATUSES, HealthStatus, PersonKind
from gate.domain.rules import RuleConfig, RuleKind, RuleMode
from gate.domain.status import LOCAL_TZ


@dataclass(frozen=True)
class Finding:
    """What one rule says: the outcome it would enforce, how loud, and why."""

    outcome: Outcome
    alert: AlertLevel
    code: str
    params: Mapping[str, ParamValue] = field(default_factory=dict)


Evaluator = Callable[[RuleConfig, Identity, PassageContext], Finding | None]


def decide(identity: Identity, context: PassageContext, rules: Iterable[RuleConfig]) -> Decision:
    """Decide one passage from who it is, the moment, and the rules in force."""
    outcome, alert = Outcome.ALLOW, AlertLevel.NONE
    reasons: list[Reason] = []
    fired: list[str] = []
    outsider_judged = False
    for rule in rules:
        if not rule.in_force(context.now):
            continue
        finding = EVALUATORS[rule.kind](rule, identity, context)
        if finding is None:
            continue
        exemption = _exemption_for(rule, identity, context.now)
        if exemption is not None and finding.outcome is not Outcome.ALLOW:
            params: dict[str, ParamValue] = {"rule": rule.rule_id, "exemption": exemption.reason}
            if exemption.single_use:
                # The log consumes a single-use pass (a hospital visit) with the passage.
                params |= {"exemption_id": exemption.exemption_id, "single_use": True}
            reasons.append(Reason("exempted", params, rule.rule_id))
            if rule.mode is RuleMode.HARD:
                # A lifted refusal still tells the guard (quarantined, leaving for hospital);
                # a lifted soft rule is silenced, which is what exempting it is for.
                alert = max(alert, AlertLevel.NOTICE, key=ALERT_SEVERITY.__getitem__)
            continue
        if rule.kind is RuleKind.OUTSIDER:
            # Only a rule that really judged the outsider replaces the baseline review;
            # an exemption cannot let an outsider through silently.
            outsider_judged = True
        fired.append(rule.rule_id)
        enforced = rule.mode is RuleMode.HARD or finding.outcome is Outcome.ALLOW
        effect = finding.outcome if enforced else Outcome.ALLOW
        loudness = finding.alert if enforced else _at_least_notice(finding.alert)
        found = dict(finding.params) if enforced else {**finding.params, "soft": True}
        reasons.append(Reason(finding.code, found, rule.rule_id))
        outcome = max(outcome, effect, key=OUTCOME_SEVERITY.__getitem__)
        alert = max(alert, loudness, key=ALERT_SEVERITY.__getitem__)
    if identity.kind is IdentityKind.OUTSIDER and not outsider_judged:
        reasons.append(Reason("outsider"))
        outcome = max(outcome, Outcome.REVIEW, key=OUTCOME_SEVERITY.__getitem__)
        alert = AlertLevel.ALARM
    if not reasons or all(reason.code == "exempted" for reason in reasons):
        reasons.insert(
            0, Reason("registered" if identity.kind is IdentityKind.REGISTERED else "visitor")
        )
    return Decision(
        outcome=outcome,
        reasons=tuple(reasons),
        alert=alert,
        rule_ids=tuple(fired),
        opens_barrier=outcome is Outcome.ALLOW,
    )


def _at_least_notice(alert: AlertLevel) -> AlertLevel:
    return alert if alert is not AlertLevel.NONE else AlertLevel.NOTICE


def _exemption_for(rule: RuleConfig, identity: Identity, now: datetime) -> Exemption | None:
    for exemption in identity.exemptions:
        if exemption.expires_at is not None and exemption.expires_at <= now:
            continue
        if rule.rule_id in exemption.rule_ids or rule.kind.value in exemption.rule_ids:
            return exemption
    return None


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


# --- the rules --------------------------------------------------------------------------


def _quarantine(rule: RuleConfig, identity: Identity, context: PassageContext) -> Finding | None:
    if identity.status not in QUARANTINE_STATUSES:
        return None
    params = {"status": identity.status.value, "until": _iso(identity.status_until)}
    if context.direction is Direction.OUT:
        return Finding(Outcome.DENY, AlertLevel.ALARM, "quarantine_no_exit", params)
    # Coming back in is allowed (they belong inside), but the guard must know they were out.
    return Finding(Outcome.ALLOW, AlertLevel.ALARM, "quarantine_returning", params)


def _health_monitoring(
    rule: RuleConfig, identity: Identity, context: PassageContext
) -> Finding | None:
    if identity.status is not HealthStatus.HEALTH_MONITORING:
        return None
    return Finding(
        Outcome.ALLOW,
        AlertLevel.NOTICE,
        "health_monitoring",
        {"until": _iso(identity.status_until)},
    )


def _key_person(rule: RuleConfig, identity: Identity, context: PassageContext) -> Finding | None:
    if identity.status is not HealthStatus.KEY_PERSON:
        return None
    return Finding(Outcome.REVIEW, AlertLevel.ALARM, "key_person")


def _outsider(rule: RuleConfig, identity: Identity, context: PassageContext) -> Finding | None:
    if identity.kind is not IdentityKind.OUTSIDER:
        return None
    return Finding(
        Outcome.REVIEW, AlertLevel.ALARM, "outsider", {"card_read": identity.document is not None}
    )


def _visitor_window(
    rule: RuleConfig, identity: Identity, context: PassageContext
) -> Finding | None:
    if identity.kind is not IdentityKind.VISITOR:
        return None
    visit = identity.visit
    # A visitor without a window holds no valid pass: treat them as outside any window.
    starts_at = visit.starts_at if visit else None
    ends_at = visit.ends_at if visit else None
    params = {"from": _iso(starts_at), "until": _iso(ends_at)}
    if starts_at is not None and ends_at is not None and starts_at <= context.now < ends_at:
        return Finding(Outcome.ALLOW, AlertLevel.NONE, "visitor", params)
    # Leaving outside the window is always allowed; arriving outside it goes to the guard.
    if context.direction is Direction.OUT:
        late = ends_at is not None and context.now >= ends_at
        code = "visitor_overstay" if late else "visitor_outside_window"
        return Finding(Outcome.ALLOW, AlertLevel.NOTICE, code, params)
    return Finding(Outcome.REVIEW, AlertLevel.ALARM, "visitor_outside_window", params)


def _household_quota(
    rule: RuleConfig, identity: Identity, context: PassageContext
) -> Finding | None:
    if (
        context.direction is not Direction.OUT
        or identity.kind is not IdentityKind.REGISTERED
        or identity.household_ref is None
        or identity.person_kind is PersonKind.STAFF
    ):
        return None
    allowed = int(_number(rule.params.get("persons"), 1))
    period = timedelta(hours=_number(rule.params.get("period_hours"), 48))
    limit = rule.params.get("max_outside_hours")
    max_outside = timedelta(hours=float(limit)) if isinstance(limit, (int, float)) else None
    # Each outing holds a slot for one period; one that overran the time limit also
    # forfeits the next period's outing, so it holds its slot for two.
    held: list[tuple[datetime, bool]] = []  # (when the slot frees, held by an overrun)
    for outing in context.household_outings:
        if outing.left_at > context.now:
            continue
        overran = _overran(outing, max_outside, context.now)
        release = outing.left_at + period * (2 if overran else 1)
        if release > context.now:
            held.append((release, overran))
    held.sort()
    if len(held) < allowed:
        return None
    # A quota of zero (or less) never frees a slot.
    next_at = held[len(held) - allowed][0].isoformat() if allowed > 0 else None
    return Finding(
        Outcome.DENY,
        AlertLevel.NOTICE,
        "household_quota",
        {
            "used": len(held),
            "allowed": allowed,
            "period_hours": period.total_seconds() / 3600,
            "next_at": next_at,
            # Only an overrun that still holds a slot is why the passage is refused.
            "forfeited": any(overran for _, overran in held),
        },
    )


def _overran(outing: Outing, max_outside: timedelta | None, now: datetime) -> bool:
    if max_outside is None:
        return False
    # As of ``now``: a return recorded after ``now`` had not happened yet.
    back = min(outing.returned_at, now) if outing.returned_at is not None else now
    return back - outing.left_at > max_outside


def _curfew(rule: RuleConfig, identity: Identity, context: PassageContext) -> Finding | None:
    direction = rule.params.get("direction")
    if direction not in (None, context.direction.value):
        return None
    start = time.fromisoformat(str(rule.params.get("start", "23:00")))
    end = time.fromisoformat(str(rule.params.get("end", "05:00")))
    local = context.now.astimezone(LOCAL_TZ).time()
    inside = start <= local < end if start <= end else (local >= start or local < end)
    if not inside:
        return None
    return Finding(
        Outcome.DENY,
        AlertLevel.NOTICE,
        "curfew",
        {"start": start.strftime("%H:%M"), "end": end.strftime("%H:%M"), "direction": direction},
    )


def _fever(rule: RuleConfig, identity: Identity, context: PassageContext) -> Finding | None:
    threshold = _number(rule.params.get("threshold"), FEVER_FROM)
    if context.temperature is None or context.temperature < threshold:
        return None
    return Finding(
        Outcome.REVIEW,
        AlertLevel.ALARM,
        "fever",
        {"temperature": context.temperature, "threshold": threshold, "recheck": True},
    )


def _anti_passback(rule: RuleConfig, identity: Identity, context: PassageContext) -> Finding | None:
    expected = Presence.INSIDE if context.direction is Direction.OUT else Presence.OUTSIDE
    if identity.person_ref is None or context.presence in (Presence.UNKNOWN, expected):
        return None
    return Finding(
        Outcome.DENY, AlertLevel.NOTICE, "passback", {"presence": context.presence.value}
    )


def _card_expired(rule: RuleConfig, identity: Identity, context: PassageContext) -> Finding | None:
    document = identity.document
    if document is None or document.valid_to is None:
        return None
    today = context.now.astimezone(LOCAL_TZ).date()
    if document.valid_to >= today:
        return None
    return Finding(
        Outcome.REVIEW,
        AlertLevel.NOTICE,
        "card_expired",
        {"valid_to": document.valid_to.isoformat()},
    )


def _number(value: ParamValue, default: float) -> float:
    return (
        float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else default
    )


EVALUATORS: dict[RuleKind, Evaluator] = {
    RuleKind.QUARANTINE: _quarantine,
    RuleKind.HEALTH_MONITORING: _health_monitoring,
    RuleKind.KEY_PERSON: _key_person,
    RuleKind.OUTSIDER: _outsider,
    RuleKind.VISITOR_WINDOW: _visitor_window,
    RuleKind.HOUSEHOLD_QUOTA: _household_quota,
    RuleKind.CURFEW: _curfew,
    RuleKind.FEVER: _fever,
    RuleKind.ANTI_PASSBACK: _anti_passback,
    RuleKind.CARD_EXPIRED: _card_expired,
}
