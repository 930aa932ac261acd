"""QR passes through the real pipeline and log, on each database engine.

A pass is issued by the use case (signed by the key ring in the test's data folder), its
text at a moment is what a phone would show, and the gate decides it like a card: the log
row says which pass and why. Every bad input of the issue has its own reason here.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from api.web.feed import feed_item
from devices.memory_barrier import RecordingBarrier
from gate.app.actor import Actor
from gate.app.pipeline import PassageResult
from gate.app.qr_passes import IssuePass, PassIssued, issue_pass, revoke_pass
from gate.domain.base45 import b45decode, b45encode
from gate.domain.model import AlertLevel, Credential, CredentialKind, Direction, Outcome
from gate.domain.passes import PassKind, pass_text
from gate.runtime.bootstrap import build_gate
from recognition.passes import issue_pass as sign_pass
from recognition.passes import open_key_ring
from registry.models import IssuedPass, Passage
from tests.e2e.conftest import RESIDENT_A, GateUnderTest


def _issue(under: GateUnderTest, command: IssuePass) -> PassIssued:
    actor = Actor(name="office", origin="test", at=under.clock.now)
    return issue_pass(
        command, actor=actor, units=under.services.units, signer=under.services.pass_signer
    )


def _show(under: GateUnderTest, text: str, direction: Direction = Direction.IN) -> PassageResult:
    credential = Credential(CredentialKind.QR_PASS, code=text)
    return under.gate.pipeline.process(credential, lane="main", direction=direction)


def _resident(under: GateUnderTest) -> PassIssued:
    return _issue(under, IssuePass(PassKind.RESIDENT, RESIDENT_A))


def _invite(under: GateUnderTest) -> PassIssued:
    """A four-hour one-time invite of 赵六 by RESIDENT_A's household."""
    return _issue(
        under, IssuePass(PassKind.INVITE, RESIDENT_A, timedelta(hours=4), visitor_name="赵六")
    )


def _reason(result: PassageResult) -> tuple[str, dict[str, object]]:
    first = result.decision.reasons[0]
    return first.code, dict(first.params)


def test_a_resident_code_on_the_phone_opens_the_barrier_and_the_row_names_the_pass(
    gate_under_test: GateUnderTest,
) -> None:
    issued = _resident(gate_under_test)
    result = _show(gate_under_test, issued.signed.text_at(gate_under_test.clock.now))
    assert result.decision.outcome is Outcome.ALLOW
    assert result.barrier_opened
    assert result.record is not None
    entry = result.record.entry
    assert entry.credential_kind is CredentialKind.QR_PASS
    assert entry.person_ref == issued.signed.claims.subject_ref
    codes = result.decision.reason_codes
    assert codes == ("registered", "qr_pass")
    assert result.decision.reasons[1].params == {
        "pass_id": issued.signed.claims.pass_id,
        "kind": "resident",
    }


@pytest.mark.parametrize("steps", [-1, 1])
def test_one_step_of_clock_drift_either_way_is_accepted(
    gate_under_test: GateUnderTest, steps: int
) -> None:
    issued = _resident(gate_under_test)
    shown_at = gate_under_test.clock.now + timedelta(seconds=30 * steps)
    result = _show(gate_under_test, issued.signed.text_at(shown_at))
    assert result.decision.outcome is Outcome.ALLOW


def test_a_screenshot_from_three_minutes_ago_is_refused_as_stale_and_alarms(
    gate_under_test: GateUnderTest,
) -> None:
    issued = _resident(gate_under_test)
    screenshot = issued.signed.text_at(gate_under_test.clock.now)
    gate_under_test.clock.advance(minutes=3)
    result = _show(gate_under_test, screenshot)
    assert result.decision.outcome is Outcome.DENY
    assert not result.barrier_opened
    code, params = _reason(result)
    assert code == "pass_stale_step"
    assert params["steps"] == 6
    assert params["pass_id"] == issued.signed.claims.pass_id
    assert result.decision.alert is AlertLevel.ALARM
    assert result.record is not None  # refused, and logged like any refusal


def test_a_phone_clock_two_steps_fast_is_refused_as_future(
    gate_under_test: GateUnderTest,
) -> None:
    issued = _resident(gate_under_test)
    result = _show(
        gate_under_test, issued.signed.text_at(gate_under_test.clock.now + timedelta(seconds=61))
    )
    assert _reason(result)[0] == "pass_future_step"


def test_a_flipped_bit_a_truncated_token_and_a_stray_qr_each_have_their_reason(
    gate_under_test: GateUnderTest,
) -> None:
    issued = _resident(gate_under_test)
    raw = bytearray(b45decode(issued.signed.text_at(gate_under_test.clock.now)))
    flipped = bytearray(raw)
    flipped[20] ^= 0x01  # inside the subject ref: the signature no longer holds
    code_flipped = bytearray(raw)
    code_flipped[-1] ^= 0x01  # the unsigned rotating code
    cases = {
        b45encode(bytes(flipped)): "pass_bad_signature",
        b45encode(bytes(code_flipped)): "pass_bad_code",
        b45encode(bytes(raw[:60])): "pass_malformed",
        "https://example.com/pay?id=42": "pass_malformed",
        "": "pass_malformed",
        "A" * 10_000: "pass_malformed",
    }
    for text, expected in cases.items():
        result = _show(gate_under_test, text)
        assert result.decision.outcome is Outcome.DENY, expected
        assert _reason(result)[0] == expected
        assert not result.barrier_opened
    assert gate_under_test.barrier.opened == []


def test_a_pass_signed_by_a_key_of_another_compound_is_refused_as_unknown_key(
    gate_under_test: GateUnderTest, tmp_path: Path
) -> None:
    issued = _resident(gate_under_test)
    claims = issued.signed.claims
    foreign = sign_pass(
        key=open_key_ring(tmp_path / "elsewhere").current,
        kind=PassKind.RESIDENT,
        subject_ref=claims.subject_ref,
        not_before=claims.not_before,
        not_after=claims.not_after,
        rotating=False,
    )
    result = _show(gate_under_test, foreign.text_at(gate_under_test.clock.now))
    assert _reason(result)[0] == "pass_unknown_key"


def test_expired_and_revoked_passes_are_refused_with_their_reasons(
    gate_under_test: GateUnderTest,
) -> None:
    short = _issue(gate_under_test, IssuePass(PassKind.RESIDENT, RESIDENT_A, timedelta(hours=1)))
    revoked = _resident(gate_under_test)
    actor = Actor(name="office", origin="test", at=gate_under_test.clock.now)
    revoke_pass(revoked.signed.claims.pass_id, actor=actor, units=gate_under_test.services.units)
    result = _show(gate_under_test, revoked.signed.text_at(gate_under_test.clock.now))
    assert _reason(result)[0] == "pass_revoked"
    assert result.decision.alert is AlertLevel.ALARM
    gate_under_test.clock.advance(hours=2)
    result = _show(gate_under_test, short.signed.text_at(gate_under_test.clock.now))
    assert _reason(result)[0] == "pass_expired"


def test_an_invite_lets_its_visitor_in_once_and_a_replay_is_refused(
    gate_under_test: GateUnderTest,
) -> None:
    invite = _invite(gate_under_test)
    text = invite.signed.text_at(gate_under_test.clock.now)
    first = _show(gate_under_test, text)
    assert first.decision.outcome is Outcome.ALLOW
    assert first.decision.reason_codes[-1] == "qr_pass"
    assert first.decision.reasons[-1].params["one_time"] is True
    assert first.event.visit is not None
    assert first.event.visit.name == "赵六"
    assert first.record is not None
    shown = feed_item(first.record, lang="zh", snapshot=gate_under_test.gate.snapshots.current())
    assert (shown["name"], shown["credential_text"]) == ("赵*", "扫码")  # an invite has no card
    replay = _show(gate_under_test, text)
    assert _reason(replay)[0] == "pass_replayed"
    assert not replay.barrier_opened
    with gate_under_test.services.database.session() as session:
        row = session.get(IssuedPass, invite.signed.claims.pass_id)
        assert row is not None
        assert first.record is not None
        assert row.used_seq == first.record.seq
    assert len(gate_under_test.barrier.opened) == 1


def test_an_invite_spent_at_another_gate_is_refused_here_though_our_snapshot_missed_it(
    gate_under_test: GateUnderTest,
) -> None:
    invite = _invite(gate_under_test)
    text = invite.signed.text_at(gate_under_test.clock.now)
    other_barrier = RecordingBarrier()
    other = build_gate(gate_under_test.services, barrier=other_barrier, clock=gate_under_test.clock)
    gate_under_test.gate.pipeline.reload_snapshot()  # both gates know the invite as unspent
    other.pipeline.reload_snapshot()
    assert _show(gate_under_test, text).decision.outcome is Outcome.ALLOW
    # The other gate's snapshot still says unspent: the log's transaction is what refuses.
    credential = Credential(CredentialKind.QR_PASS, code=text)
    replay = other.pipeline.process(credential, lane="main", direction=Direction.IN)
    assert replay.decision.reason_codes == ("pass_replayed",)
    assert other_barrier.opened == []
    with gate_under_test.services.database.session() as session:
        outcomes = session.scalars(select(Passage.outcome).order_by(Passage.seq)).all()
    assert outcomes == ["allow", "deny"]


def test_checking_a_pass_without_a_passage_spends_nothing(
    gate_under_test: GateUnderTest,
) -> None:
    invite = _invite(gate_under_test)
    text = invite.signed.text_at(gate_under_test.clock.now)
    for _ in range(3):
        checked = gate_under_test.gate.pipeline.check_pass(text)
        assert checked.valid
        assert checked.reason == "qr_pass"
    assert _show(gate_under_test, text).decision.outcome is Outcome.ALLOW
    checked = gate_under_test.gate.pipeline.check_pass(text)
    assert (checked.valid, checked.reason) == (False, "pass_replayed")


def test_a_visitor_pass_before_its_window_is_not_yet_valid(
    gate_under_test: GateUnderTest,
) -> None:
    printed = _issue(gate_under_test, IssuePass(PassKind.RESIDENT, RESIDENT_A, rotating=False))
    claims = printed.signed.claims
    key = open_key_ring(gate_under_test.services.settings.data_dir / "pass-keys").current
    later = sign_pass(
        key=key,
        kind=PassKind.RESIDENT,
        subject_ref=claims.subject_ref,
        not_before=gate_under_test.clock.now + timedelta(hours=1),
        not_after=gate_under_test.clock.now + timedelta(hours=2),
        rotating=False,
    )
    result = _show(gate_under_test, later.text_at(gate_under_test.clock.now))
    assert _reason(result)[0] == "pass_not_yet_valid"
    # The printed pass (no rotation) is good whenever it is shown inside its window.
    gate_under_test.clock.advance(days=30)
    text = pass_text(printed.signed.signed, None, datetime(2000, 1, 1, tzinfo=UTC))
    assert _show(gate_under_test, text).decision.outcome is Outcome.ALLOW
