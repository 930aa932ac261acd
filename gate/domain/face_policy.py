"""What a face changes in a decision: by default it names a candidate, it does not open.

A face is weaker evidence than a card or a signed pass (no liveness: a phone photo of a
resident looks like the resident), so by default every face passage goes to the guard
with the candidate pre-filled: a ``match`` as ``face_confirm``, an ``uncertain`` one as
``face_uncertain``, an unknown face as the outsider it is (``face_unknown`` added). Only
where a compound turned ``auto_open`` on does a ``match`` keep the rules' outcome and
open the barrier; it is still logged as a face (``face_match``), with its distance.

Never loosens: a rule's refusal (a quarantined candidate leaving) stays a refusal.
"""

from __future__ import annotations

from gate.domain.faces import FaceBand
from gate.domain.model import (
    ALERT_SEVERITY,
    OUTCOME_SEVERITY,
    AlertLevel,
    Credential,
    Decision,
    Outcome,
    ParamValue,
    Reason,
)

FACE_REASONS = {
    FaceBand.MATCH: "face_match",
    FaceBand.UNCERTAIN: "face_uncertain",
    FaceBand.UNKNOWN: "face_unknown",
}
FACE_CONFIRM = "face_confirm"  # a match that waits for the guard (auto-open off)
FACE_CODES = frozenset({*FACE_REASONS.values(), FACE_CONFIRM})


def with_face(decision: Decision, credential: Credential, *, auto_open: bool) -> Decision:
    """``decision`` for a face credential: the band's reason first, review unless allowed."""
    band = credential.face_band or FaceBand.UNKNOWN
    code = FACE_REASONS[band]
    floor = Outcome.ALLOW
    if band is FaceBand.MATCH and not auto_open:
        code, floor = FACE_CONFIRM, Outcome.REVIEW
    elif band is not FaceBand.MATCH:
        floor = Outcome.REVIEW
    params: dict[str, ParamValue] = {"band": band.value}
    if credential.face_distance is not None:
        params["distance"] = round(credential.face_distance, 3)
    if credential.face_margin is not None:
        params["margin"] = round(credential.face_margin, 3)
    outcome = max(decision.outcome, floor, key=OUTCOME_SEVERITY.__getitem__)
    alert = decision.alert
    if outcome is not Outcome.ALLOW:
        alert = max(alert, AlertLevel.NOTICE, key=ALERT_SEVERITY.__getitem__)
    return Decision(
        outcome=outcome,
        reasons=(Reason(code, params), *decision.reasons),
        alert=alert,
        rule_ids=decision.rule_ids,
        opens_barrier=decision.opens_barrier and outcome is Outcome.ALLOW,
    )


def face_reason(decision: Decision) -> Reason | None:
    """The reason ``with_face`` put first: the band, distance and margin of a face passage."""
    return next((r for r in decision.reasons if r.code in FACE_CODES), None)
