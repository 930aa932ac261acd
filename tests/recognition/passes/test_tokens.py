"""Issuing passes: the layout's sizes, round trips of every claim, what cannot be encoded."""

from __future__ import annotations

import struct
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gate.domain import totp
from gate.domain.base45 import ALPHABET
from recognition.passes import (
    PassKind,
    PassNotEncodable,
    PassValid,
    b45decode,
    b45encode,
    issue_pass,
    render,
    verify_pass,
)
from recognition.passes.keyring import _usable
from recognition.passes.layout import EPOCH, MAX_WINDOW_MINUTES, VERSION
from tests.recognition.passes.helpers import HOUSEHOLD, NOW, RING, SUBJECT, issue

TRUSTED = RING.trusted()
SECRETS = RING.step_secrets()


@pytest.mark.parametrize(
    ("household", "rotating", "size", "chars"),
    [
        (False, False, 99, 149),
        (True, False, 115, 173),
        (False, True, 105, 158),
        (True, True, 121, 182),
    ],
)
def test_sizes(household: bool, rotating: bool, size: int, chars: int) -> None:
    issued = issue(PassKind.VISITOR, household=household, rotating=rotating)
    text = issued.text_at(NOW)
    assert (len(b45decode(text)), len(text)) == (size, chars)
    assert set(text) <= set(ALPHABET)


@pytest.mark.parametrize("kind", list(PassKind))
@pytest.mark.parametrize("household", [False, True])
def test_every_kind_round_trips(kind: PassKind, household: bool) -> None:
    issued = issue(kind, household=household)
    result = verify_pass(issued.text_at(NOW), keys=TRUSTED, now=NOW, step_secrets=SECRETS)
    assert isinstance(result, PassValid)
    assert result.claims == issued.claims
    assert result.claims.kind is kind
    assert result.claims.subject_ref == SUBJECT
    assert result.claims.household_ref == (HOUSEHOLD if household else None)
    assert result.claims.rotating is (kind is PassKind.RESIDENT)
    assert result.claims.key_id == f"{RING.current.key_id:04x}"


def test_refs_come_back_canonical() -> None:
    issued = issue_pass(
        key=RING.current,
        kind=PassKind.VISITOR,
        subject_ref="{" + SUBJECT.upper() + "}",
        household_ref=HOUSEHOLD.replace("-", ""),
        not_before=NOW,
        not_after=NOW + timedelta(hours=1),
    )
    assert (issued.claims.subject_ref, issued.claims.household_ref) == (SUBJECT, HOUSEHOLD)


def test_times_are_rounded_down_to_the_minute() -> None:
    issued = issue(
        starts=datetime(2026, 3, 1, 8, 3, 27, 500, tzinfo=UTC), valid_for=timedelta(hours=2)
    )
    assert issued.claims.not_before == datetime(2026, 3, 1, 8, 3, tzinfo=UTC)
    assert issued.claims.not_after == datetime(2026, 3, 1, 10, 3, tzinfo=UTC)


def test_pass_ids_are_random_and_can_be_given() -> None:
    assert issue().claims.pass_id != issue().claims.pass_id
    given_id = issue_pass(
        key=RING.current,
        kind=PassKind.INVITE,
        subject_ref=SUBJECT,
        not_before=NOW,
        not_after=NOW + timedelta(hours=1),
        pass_id="00112233445566ff",
    )
    assert given_id.claims.pass_id == "00112233445566ff"


def test_a_non_rotating_pass_shows_the_same_text_always() -> None:
    issued = issue(PassKind.VISITOR)
    assert issued.secret is None
    assert (
        issued.text_at(NOW)
        == issued.text_at(NOW + timedelta(minutes=10))
        == b45encode(issued.signed)
    )


def test_a_rotating_pass_changes_every_step() -> None:
    issued = issue(PassKind.RESIDENT)
    texts = {issued.text_at(NOW + index * timedelta(seconds=30)) for index in range(10)}
    assert len(texts) == 10
    assert issued.text_at(NOW) == issued.text_at(NOW + timedelta(seconds=19))  # same step


def test_the_phone_needs_only_the_signed_bytes_and_the_secret() -> None:
    # What the phone page does, written out from the module docstring: the gate accepts it.
    issued = issue(PassKind.RESIDENT, household=True)
    assert issued.secret is not None
    phone_clock = NOW + timedelta(seconds=7)
    step = int(phone_clock.timestamp()) // 30
    tail = struct.pack(">HI", step % 65536, totp.code(issued.secret, step))
    text = b45encode(issued.signed + tail)
    assert text == render(issued.signed, issued.secret, phone_clock) == issued.text_at(phone_clock)
    result = verify_pass(text, keys=TRUSTED, now=NOW, step_secrets=SECRETS)
    assert isinstance(result, PassValid)
    assert result.step == step


def test_the_gate_derives_the_secret_the_phone_was_given() -> None:
    issued = issue(PassKind.RESIDENT)
    assert SECRETS(issued.claims) == issued.secret
    assert issue(PassKind.RESIDENT).secret != issued.secret  # one secret per pass


def test_a_paper_pass_for_a_resident_does_not_rotate() -> None:
    issued = issue(PassKind.RESIDENT, rotating=False)
    result = verify_pass(issued.text_at(NOW), keys=TRUSTED, now=NOW)
    assert isinstance(result, PassValid)
    assert result.claims.rotating is False
    assert result.step is None


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"subject_ref": "not-a-uuid"}, "subject_ref"),
        ({"subject_ref": "12345"}, "subject_ref"),
        ({"household_ref": "room 3-2-301"}, "household_ref"),
        ({"not_after": NOW}, "not_after"),  # an empty window
        ({"not_after": NOW + timedelta(seconds=40)}, "not_after"),  # empty once rounded
        ({"not_after": NOW - timedelta(hours=1)}, "not_after"),
        ({"not_after": NOW + timedelta(minutes=MAX_WINDOW_MINUTES + 1)}, "not_after"),
        ({"not_before": EPOCH - timedelta(minutes=1)}, "not_before"),
        ({"pass_id": "0011"}, "pass_id"),
        ({"pass_id": "not hex at all!!"}, "pass_id"),
    ],
)
def test_what_the_layout_cannot_carry_is_refused(changes: dict[str, object], field: str) -> None:
    arguments: dict[str, object] = {
        "kind": PassKind.VISITOR,
        "subject_ref": SUBJECT,
        "not_before": NOW,
        "not_after": NOW + timedelta(hours=1),
    }
    arguments.update(changes)
    with pytest.raises(PassNotEncodable) as caught:
        issue_pass(key=RING.current, **arguments)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_naive_times_are_a_programming_error() -> None:
    with pytest.raises(ValueError, match="naive"):
        issue(starts=datetime(2026, 3, 1, 8, 0))  # noqa: DTZ001 - the point of the test


def test_the_issued_pass_hides_its_secret() -> None:
    issued = issue(PassKind.RESIDENT)
    assert issued.secret is not None
    assert issued.secret.hex() not in repr(issued)
    assert repr(issued) == f"IssuedPass({issued.claims.pass_id}, resident)"


def test_no_key_id_the_ring_makes_starts_a_token_with_a_space() -> None:
    leading_space = {
        key_id
        for key_id in range(1 << 16)
        if b45encode(bytes((VERSION,)) + key_id.to_bytes(2, "big")).startswith(" ")
    }
    assert leading_space  # the rule has something to do
    seed = bytes(range(32))
    assert not any(_usable(seed, key_id, taken=set()) for key_id in leading_space)
    assert not _usable(seed, 0x1234, taken={0x1234})  # nor the id of a key it keeps
    assert not _usable(bytes(32), 0x1234, taken=set())  # nor a placeholder seed


@settings(max_examples=200)
@given(
    kind=st.sampled_from(PassKind),
    subject=st.uuids(),
    household=st.none() | st.uuids(),
    start_minute=st.integers(min_value=0, max_value=80 * 525_600),
    length=st.integers(min_value=1, max_value=MAX_WINDOW_MINUTES),
    rotating=st.booleans(),
    pass_id=st.binary(min_size=8, max_size=8),
)
def test_any_claims_round_trip(
    kind: PassKind,
    subject: object,
    household: object,
    start_minute: int,
    length: int,
    rotating: bool,
    pass_id: bytes,
) -> None:
    not_before = EPOCH + timedelta(minutes=start_minute)
    issued = issue_pass(
        key=RING.current,
        kind=kind,
        subject_ref=str(subject),
        household_ref=None if household is None else str(household),
        not_before=not_before,
        not_after=not_before + timedelta(minutes=length),
        rotating=rotating,
        pass_id=pass_id.hex(),
    )
    inside = not_before + timedelta(minutes=length) / 2
    result = verify_pass(issued.text_at(inside), keys=TRUSTED, now=inside, step_secrets=SECRETS)
    assert isinstance(result, PassValid)
    assert result.claims == issued.claims
    assert (result.claims.subject_ref, result.claims.pass_id) == (str(subject), pass_id.hex())
    assert result.claims.not_after - result.claims.not_before == timedelta(minutes=length)
