"""Every bad token of issue 9 refused with its own reason; clock drift; windows; kinds."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from recognition.passes import (
    PassKind,
    PassRefusal,
    PassRefused,
    PassValid,
    TrustedKeys,
    b45decode,
    b45encode,
    verify_pass,
)
from recognition.passes.layout import SIGNATURE_BYTES
from tests.recognition.passes.helpers import NOW, OTHER_RING, RING, STEP, flip, issue, ring_of

TRUSTED = RING.trusted()
SECRETS = RING.step_secrets()


def check(text: str, **options: object) -> PassValid | PassRefused:
    arguments: dict[str, object] = {"keys": TRUSTED, "now": NOW, "step_secrets": SECRETS}
    arguments.update(options)
    return verify_pass(text, **arguments)  # type: ignore[arg-type]


def refusal(text: str, **options: object) -> PassRefused:
    result = check(text, **options)
    assert isinstance(result, PassRefused), result
    return result


def test_a_valid_pass_is_valid() -> None:
    issued = issue(PassKind.VISITOR)
    result = check(issued.text_at(NOW))
    assert isinstance(result, PassValid)
    assert result.valid is True
    assert (result.claims.pass_id, result.claims.kind) == (issued.claims.pass_id, PassKind.VISITOR)


# --- a flipped bit ---------------------------------------------------------------------


@pytest.mark.parametrize("household", [False, True])
def test_every_flipped_bit_is_refused_for_what_it_hit(household: bool) -> None:
    text = issue(PassKind.VISITOR, household=household).text_at(NOW)
    size = len(b45decode(text))
    for bit in range(size * 8):
        result = refusal(flip(text, bit))
        byte = bit // 8
        if byte == 0:
            assert result.reason is PassRefusal.MALFORMED, bit
            assert result.params == {"detail": "version"}
        elif byte in (1, 2):
            assert result.reason is PassRefusal.UNKNOWN_KEY, bit  # no other key one bit away
        elif byte == 3:  # the header: another kind is a different body, the rest no token
            assert result.reason in (PassRefusal.MALFORMED, PassRefusal.BAD_SIGNATURE), bit
        else:
            assert result.reason is PassRefusal.BAD_SIGNATURE, bit
            assert result.claims is None  # nothing of an unsigned body is handed on


def test_every_flipped_bit_of_a_rotating_code_is_refused() -> None:
    text = issue(PassKind.RESIDENT).text_at(NOW)
    signed_bits = (len(b45decode(text)) - 6) * 8
    for bit in range(signed_bits, signed_bits + 48):
        result = refusal(flip(text, bit))
        assert result.reason is PassRefusal.BAD_CODE, bit
        assert result.claims is not None  # the signature held: the log can name the pass


def test_a_changed_character_is_refused() -> None:
    text = issue(PassKind.INVITE).text_at(NOW)
    for index in range(len(text)):
        changed = text[:index] + ("0" if text[index] != "0" else "1") + text[index + 1 :]
        assert not check(changed).valid, index


def test_a_signature_from_another_pass_is_refused() -> None:
    first, second = issue(PassKind.VISITOR), issue(PassKind.VISITOR)
    spliced = first.signed[:-SIGNATURE_BYTES] + second.signed[-SIGNATURE_BYTES:]
    assert refusal(b45encode(spliced)).reason is PassRefusal.BAD_SIGNATURE


# --- a truncated token, bad text -------------------------------------------------------


@pytest.mark.parametrize("kind", [PassKind.VISITOR, PassKind.RESIDENT])
def test_every_truncation_is_malformed(kind: PassKind) -> None:
    text = issue(kind, household=True).text_at(NOW)
    data = b45decode(text)
    for size in range(len(data)):
        result = refusal(b45encode(data[:size]))
        assert result.reason is PassRefusal.MALFORMED, size
        assert result.params["detail"] in ("truncated", "version"), size  # 0 bytes: "truncated"
    for size in range(len(text)):
        assert refusal(text[:size]).reason is PassRefusal.MALFORMED, size


def test_bytes_after_the_end_are_malformed() -> None:
    for kind in (PassKind.VISITOR, PassKind.RESIDENT):
        data = b45decode(issue(kind).text_at(NOW))
        result = refusal(b45encode(data + b"\x00"))
        assert (result.reason, result.params) == (PassRefusal.MALFORMED, {"detail": "length"})


def test_a_non_rotating_pass_with_a_code_appended_is_malformed() -> None:
    data = b45decode(issue(PassKind.VISITOR).text_at(NOW))
    code = b45decode(issue(PassKind.RESIDENT).text_at(NOW))[-6:]
    assert refusal(b45encode(data + code)).params == {"detail": "length"}


def test_a_rotating_pass_without_its_code_is_malformed() -> None:
    issued = issue(PassKind.RESIDENT)
    assert refusal(b45encode(issued.signed)).params == {"detail": "truncated"}


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("", "truncated"),
        ("HELLO", "base45"),  # 3n+2 characters but "LO" is above 255
        ("GGW", "base45"),
        ("not base45 at all", "base45"),
        ("<script>alert(1)</script>", "base45"),
        ("二维码", "base45"),
        ("A" * 10_000, "length"),
        ("00000000", "version"),
    ],
)
def test_text_that_is_no_token_is_malformed(text: str, detail: str) -> None:
    result = refusal(text)
    assert (result.reason, result.params) == (PassRefusal.MALFORMED, {"detail": detail})


def test_lower_case_and_padding_are_not_read_as_the_token() -> None:
    text = issue(PassKind.VISITOR).text_at(NOW)
    assert refusal(text.lower()).reason is PassRefusal.MALFORMED
    assert not check(" " + text).valid
    assert not check(text + "\r\n").valid


@pytest.mark.parametrize("value", [None, b"bytes", 42])
def test_a_value_that_is_not_text_is_malformed(value: object) -> None:
    assert refusal(value).reason is PassRefusal.MALFORMED  # type: ignore[arg-type]


def test_a_wrong_version_is_malformed() -> None:
    data = bytearray(b45decode(issue(PassKind.VISITOR).text_at(NOW)))
    for version in (0, 2, 255):
        data[0] = version
        assert refusal(b45encode(bytes(data))).params == {"detail": "version"}


def test_reserved_header_bits_and_unknown_kinds_are_malformed() -> None:
    data = bytearray(b45decode(issue(PassKind.VISITOR).text_at(NOW)))
    for header in (0x20, 0x40, 0x80, 0x04, 0x07):
        data[3] = header
        assert refusal(b45encode(bytes(data))).params == {"detail": "header"}, header


# --- keys ------------------------------------------------------------------------------


def test_a_token_of_another_key_is_an_unknown_key() -> None:
    text = issue(PassKind.VISITOR, ring=OTHER_RING).text_at(NOW)
    result = refusal(text)
    assert result.reason is PassRefusal.UNKNOWN_KEY
    assert result.params == {"key_id": f"{OTHER_RING.current.key_id:04x}"}
    assert result.claims is None


def test_the_previous_key_still_verifies() -> None:
    previous_only = ring_of("previous")
    assert previous_only.current.key_id == RING.keys[1].key_id
    result = check(issue(PassKind.VISITOR, ring=previous_only).text_at(NOW))
    assert isinstance(result, PassValid)


def test_a_rotating_pass_of_the_previous_key_still_rotates() -> None:
    issued = issue(PassKind.RESIDENT, ring=ring_of("previous"))
    assert isinstance(check(issued.text_at(NOW)), PassValid)


def test_a_bad_signature_stays_bad_when_checked_again() -> None:
    text = flip(issue(PassKind.VISITOR).text_at(NOW), 200)
    assert refusal(text).reason is refusal(text).reason is PassRefusal.BAD_SIGNATURE


def test_the_memo_does_not_change_answers() -> None:
    texts = [issue(kind).text_at(NOW) for kind in PassKind]
    texts += [flip(text, 300) for text in texts]
    bare = {"keys": RING.trusted(memo_size=0), "step_secrets": RING.step_secrets(memo_size=0)}
    for text in texts * 2:
        assert check(text) == check(text, **bare)


def test_a_memo_belongs_to_its_keys() -> None:
    text = issue(PassKind.VISITOR).text_at(NOW)
    assert check(text).valid
    assert refusal(text, keys=OTHER_RING.trusted()).reason is PassRefusal.UNKNOWN_KEY
    assert refusal(text, keys=TrustedKeys([])).reason is PassRefusal.UNKNOWN_KEY


def test_two_public_keys_with_one_id_are_refused() -> None:
    with pytest.raises(ValueError, match="key id"):
        TrustedKeys([RING.current.public_raw, RING.current.public_raw])


# --- the window ------------------------------------------------------------------------


def test_expired_and_not_yet_valid() -> None:
    issued = issue(PassKind.VISITOR, starts=NOW, valid_for=timedelta(hours=2))
    start, end = issued.claims.not_before, issued.claims.not_after
    text = issued.text_at(NOW)
    assert check(text, now=start).valid
    assert check(text, now=end - timedelta(microseconds=1)).valid
    early = refusal(text, now=start - timedelta(microseconds=1))
    assert (early.reason, early.params) == (
        PassRefusal.NOT_YET_VALID,
        {"not_before": start.isoformat()},
    )
    late = refusal(text, now=end)
    assert (late.reason, late.params) == (PassRefusal.EXPIRED, {"not_after": end.isoformat()})
    assert late.claims == issued.claims
    assert refusal(text, now=end + timedelta(days=400)).reason is PassRefusal.EXPIRED


def test_an_expired_resident_pass_is_expired_even_with_a_fresh_code() -> None:
    issued = issue(PassKind.RESIDENT, valid_for=timedelta(minutes=30))
    later = issued.claims.not_after + timedelta(minutes=1)
    assert refusal(issued.text_at(later), now=later).reason is PassRefusal.EXPIRED


def test_a_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="naive"):
        check(issue().text_at(NOW), now=NOW.replace(tzinfo=None))


# --- kinds -----------------------------------------------------------------------------


def test_a_kind_the_caller_does_not_take_is_the_wrong_kind() -> None:
    issued = issue(PassKind.VISITOR)
    result = refusal(issued.text_at(NOW), kinds={PassKind.INVITE, PassKind.ESCORTED_EXIT})
    assert (result.reason, result.params) == (PassRefusal.WRONG_KIND, {"kind": "visitor"})
    assert result.claims == issued.claims
    assert check(issued.text_at(NOW), kinds={PassKind.VISITOR}).valid


# --- the rotating code: drift, screenshots, forgeries ----------------------------------


@pytest.mark.parametrize("steps", [-1, 0, 1])
def test_one_step_of_drift_either_side_is_accepted(steps: int) -> None:
    issued = issue(PassKind.RESIDENT)
    result = check(issued.text_at(NOW + steps * STEP))
    assert isinstance(result, PassValid)
    assert result.step == int(NOW.timestamp()) // 30 + steps


def test_two_steps_behind_is_stale() -> None:
    issued = issue(PassKind.RESIDENT)
    result = refusal(issued.text_at(NOW - 2 * STEP))
    assert (result.reason, result.params) == (PassRefusal.STALE_STEP, {"steps": 2})
    assert result.claims == issued.claims


def test_two_steps_ahead_is_in_the_future() -> None:
    result = refusal(issue(PassKind.RESIDENT).text_at(NOW + 2 * STEP))
    assert (result.reason, result.params) == (PassRefusal.FUTURE_STEP, {"steps": 2})


def test_a_resident_code_from_three_minutes_ago_is_stale() -> None:
    result = refusal(issue(PassKind.RESIDENT, household=True).text_at(NOW - timedelta(minutes=3)))
    assert (result.reason, result.params) == (PassRefusal.STALE_STEP, {"steps": 6})


def test_a_screenshot_is_dead_a_minute_after_it_was_taken() -> None:
    issued = issue(PassKind.RESIDENT)
    for second in range(30):  # taken at any moment of a step
        taken = NOW.replace(second=0) + timedelta(seconds=second)
        screenshot = issued.text_at(taken)
        assert check(screenshot, now=taken + timedelta(seconds=29)).valid
        assert refusal(screenshot, now=taken + timedelta(seconds=60)).reason is (
            PassRefusal.STALE_STEP
        )


def test_a_screenshot_from_days_ago_is_refused() -> None:
    issued = issue(PassKind.RESIDENT, valid_for=timedelta(days=365))
    for days in (1, 5, 22, 23, 45, 100):
        assert not check(issued.text_at(NOW - timedelta(days=days))).valid, days


def test_a_code_from_another_pass_is_a_bad_code() -> None:
    mine, theirs = issue(PassKind.RESIDENT), issue(PassKind.RESIDENT)
    their_tail = b45decode(theirs.text_at(NOW))[-6:]
    result = refusal(b45encode(mine.signed + their_tail))
    assert result.reason is PassRefusal.BAD_CODE
    assert result.claims == mine.claims


def test_an_unknown_step_secret_is_no_secret() -> None:
    text = issue(PassKind.RESIDENT).text_at(NOW)
    assert refusal(text, step_secrets=None).reason is PassRefusal.NO_SECRET
    assert refusal(text, step_secrets=lambda claims: None).reason is PassRefusal.NO_SECRET
    wrong = refusal(text, step_secrets=lambda claims: bytes(32))
    assert wrong.reason is PassRefusal.BAD_CODE


def test_verification_logs_nothing(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    text = issue(PassKind.RESIDENT, household=True).text_at(NOW)
    for candidate in (text, flip(text, 100), text[:50], "<script>", text.lower()):
        check(candidate)
    assert caplog.records == []
