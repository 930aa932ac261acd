"""The rotating code against RFC 6238's SHA-256 vectors, and the step arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gate.domain import totp

RFC_SECRET = b"12345678901234567890123456789012"  # RFC 6238 Appendix B, SHA-256


@pytest.mark.parametrize(
    ("unix", "expected"),
    [
        (59, 46119246),
        (1111111109, 68084774),
        (1111111111, 67062674),
        (1234567890, 91819424),
        (2000000000, 90698825),
        (20000000000, 77737706),
    ],
)
def test_rfc_6238_sha256_vectors(unix: int, expected: int) -> None:
    moment = datetime.fromtimestamp(unix, UTC)
    assert totp.code(RFC_SECRET, totp.step_at(moment)) == expected


def test_step_is_thirty_seconds_from_the_unix_epoch() -> None:
    assert totp.step_at(datetime(1970, 1, 1, 0, 0, 29, tzinfo=UTC)) == 0
    assert totp.step_at(datetime(1970, 1, 1, 0, 0, 30, tzinfo=UTC)) == 1


def test_a_naive_moment_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="naive"):
        totp.step_at(datetime(2026, 3, 1, 8, 0))  # noqa: DTZ001 - the point of the test


@given(
    st.integers(min_value=40_000, max_value=10**9), st.integers(min_value=-32768, max_value=32767)
)
def test_expand_step_finds_the_step_within_half_a_wrap(near: int, delta: int) -> None:
    step = near + delta
    assert totp.expand_step(step % totp.STEP_WRAP, near) == step
