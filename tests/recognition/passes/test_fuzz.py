"""Random, mutated and truncated input thrown at verification: refused, never an exception."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gate.domain.base45 import ALPHABET
from recognition.passes import (
    PassCheck,
    PassKind,
    PassRefusal,
    PassRefused,
    b45decode,
    b45encode,
    verify_pass,
)
from tests.recognition.passes.helpers import NOW, RING, issue

FUZZ = settings(
    max_examples=400,
    deadline=timedelta(seconds=1),  # a hang or a blow-up fails the example
    suppress_health_check=[HealthCheck.too_slow],
)
TRUSTED = RING.trusted()
SECRETS = RING.step_secrets()
VALID = {
    kind: issue(kind, household=household).text_at(NOW)
    for kind, household in [
        (PassKind.RESIDENT, True),
        (PassKind.VISITOR, False),
        (PassKind.INVITE, True),
        (PassKind.ESCORTED_EXIT, False),
    ]
}


def verify(text: str) -> PassCheck:
    return verify_pass(text, keys=TRUSTED, now=NOW, step_secrets=SECRETS)


@FUZZ
@given(st.text(max_size=600))
def test_any_text_is_refused(text: str) -> None:
    assert isinstance(verify(text), PassRefused)


@FUZZ
@given(st.text(alphabet=ALPHABET, max_size=250))
def test_any_base45_text_is_refused(text: str) -> None:
    assert isinstance(verify(text), PassRefused)


@FUZZ
@given(st.binary(max_size=200))
def test_any_bytes_are_refused_before_the_window(data: bytes) -> None:
    result = verify(b45encode(data))
    assert isinstance(result, PassRefused)
    assert result.reason in (
        PassRefusal.MALFORMED,
        PassRefusal.UNKNOWN_KEY,
        PassRefusal.BAD_SIGNATURE,
    )


@FUZZ
@given(
    kind=st.sampled_from(PassKind),
    flips=st.lists(st.integers(min_value=0), min_size=1, max_size=8),
)
def test_flipped_bits_never_verify(kind: PassKind, flips: list[int]) -> None:
    data = bytearray(b45decode(VALID[kind]))
    for bit in flips:
        bit %= len(data) * 8
        data[bit // 8] ^= 1 << (bit % 8)
    mutated = b45encode(bytes(data))
    assert verify(mutated).valid is (mutated == VALID[kind])


@FUZZ
@given(
    kind=st.sampled_from(PassKind),
    cut=st.integers(min_value=0),
    insert=st.binary(max_size=8),
)
def test_spliced_bytes_never_verify(kind: PassKind, cut: int, insert: bytes) -> None:
    data = b45decode(VALID[kind])
    cut %= len(data)
    mutated = b45encode(data[:cut] + insert + data[cut + len(insert) // 2 :])
    assert verify(mutated).valid is (mutated == VALID[kind])


@FUZZ
@given(kind=st.sampled_from(PassKind), size=st.integers(min_value=0))
def test_truncated_text_is_malformed(kind: PassKind, size: int) -> None:
    text = VALID[kind]
    result = verify(text[: size % len(text)])
    assert isinstance(result, PassRefused)
    assert result.reason is PassRefusal.MALFORMED


@FUZZ
@given(kind=st.sampled_from(PassKind), index=st.integers(min_value=0), char=st.characters())
def test_a_replaced_character_never_verifies(kind: PassKind, index: int, char: str) -> None:
    text = VALID[kind]
    index %= len(text)
    mutated = text[:index] + char + text[index + 1 :]
    assert verify(mutated).valid is (mutated == text)
