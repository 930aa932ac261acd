"""The open-set bands, the track vote and what a face changes in a decision (pure)."""

from __future__ import annotations

import pytest

from gate.domain.face_policy import with_face
from gate.domain.faces import (
    FaceBand,
    FaceMatch,
    FaceThresholds,
    FaceVerdict,
    PersonDistance,
    band_of,
    vote,
)
from gate.domain.model import AlertLevel, Credential, CredentialKind, Decision, Outcome, Reason

LIMITS = FaceThresholds(strict=0.45, loose=0.55, margin=0.06)


def match(best: float, second: float | None = None) -> FaceMatch:
    others = (PersonDistance("p2", second),) if second is not None else ()
    return FaceMatch(PersonDistance("p1", best), others)


@pytest.mark.parametrize(
    ("found", "band", "person"),
    [
        (None, FaceBand.UNKNOWN, None),  # an empty gallery knows nobody
        (match(0.30), FaceBand.MATCH, "p1"),  # one person enrolled: no margin to ask for
        (match(0.30, 0.50), FaceBand.MATCH, "p1"),
        (match(0.45, 0.51), FaceBand.MATCH, "p1"),  # at both limits
        (match(0.30, 0.34), FaceBand.UNCERTAIN, "p1"),  # two look-alikes: the guard decides
        (match(0.46), FaceBand.UNCERTAIN, "p1"),
        (match(0.55), FaceBand.UNCERTAIN, "p1"),
        (match(0.56), FaceBand.UNKNOWN, None),  # the nearest resident is not named
    ],
)
def test_bands(found: FaceMatch | None, band: FaceBand, person: str | None) -> None:
    verdict = band_of(found, LIMITS)
    assert (verdict.band, verdict.person_ref) == (band, person)


def test_thresholds_refuse_nonsense() -> None:
    with pytest.raises(ValueError, match="strict <= loose"):
        FaceThresholds(strict=0.6, loose=0.5)
    with pytest.raises(ValueError, match="margin"):
        FaceThresholds(margin=-0.1)


M1 = FaceVerdict(FaceBand.MATCH, "p1", 0.30)
M1_FAR = FaceVerdict(FaceBand.MATCH, "p1", 0.40)
M2 = FaceVerdict(FaceBand.MATCH, "p2", 0.35)
U1 = FaceVerdict(FaceBand.UNCERTAIN, "p1", 0.50)
UNKNOWN = FaceVerdict(FaceBand.UNKNOWN, None, 0.70)


@pytest.mark.parametrize(
    ("verdicts", "band", "person", "distance"),
    [
        ([M1_FAR, M1], FaceBand.MATCH, "p1", 0.30),
        ([M1, M1_FAR, U1], FaceBand.MATCH, "p1", 0.30),  # a majority, nobody else named
        ([M1, U1, UNKNOWN], FaceBand.UNCERTAIN, "p1", 0.30),  # no majority of matches
        ([M1, M2], FaceBand.UNCERTAIN, "p1", 0.30),  # two people named: never a match
        ([UNKNOWN, UNKNOWN], FaceBand.UNKNOWN, None, 0.70),
        ([UNKNOWN, U1], FaceBand.UNCERTAIN, "p1", 0.50),
    ],
)
def test_a_track_votes(
    verdicts: list[FaceVerdict], band: FaceBand, person: str | None, distance: float
) -> None:
    result = vote(verdicts)
    assert (result.band, result.person_ref, result.distance) == (band, person, distance)


def test_a_vote_needs_a_verdict() -> None:
    with pytest.raises(ValueError, match="at least one"):
        vote([])


ALLOWED = Decision(Outcome.ALLOW, (), AlertLevel.NONE, (), opens_barrier=True)
DENIED = Decision(
    Outcome.DENY, (Reason("quarantine_no_exit"),), AlertLevel.ALARM, ("q",), opens_barrier=False
)


def seen(band: FaceBand, distance: float | None = 0.3) -> Credential:
    return Credential(CredentialKind.FACE, person_ref="p1", face_distance=distance, face_band=band)


@pytest.mark.parametrize(
    ("band", "auto_open", "outcome", "code", "opens"),
    [
        (FaceBand.MATCH, False, Outcome.REVIEW, "face_confirm", False),
        (FaceBand.MATCH, True, Outcome.ALLOW, "face_match", True),
        (FaceBand.UNCERTAIN, True, Outcome.REVIEW, "face_uncertain", False),
        (FaceBand.UNKNOWN, True, Outcome.REVIEW, "face_unknown", False),
    ],
)
def test_a_face_opens_only_as_a_match_where_auto_open_is_on(
    band: FaceBand, auto_open: bool, outcome: Outcome, code: str, opens: bool
) -> None:
    decision = with_face(ALLOWED, seen(band), auto_open=auto_open)
    assert decision.outcome is outcome
    assert decision.reasons[0].code == code
    assert decision.reasons[0].params["band"] == band.value
    assert decision.opens_barrier is opens
    assert decision.alert is (AlertLevel.NONE if opens else AlertLevel.NOTICE)


def test_a_face_keeps_a_refusal_and_its_alarm() -> None:
    decision = with_face(DENIED, seen(FaceBand.MATCH), auto_open=True)
    assert decision.outcome is Outcome.DENY
    assert decision.alert is AlertLevel.ALARM
    assert decision.reason_codes == ("face_match", "quarantine_no_exit")
    assert decision.rule_ids == ("q",)
    assert not decision.opens_barrier
