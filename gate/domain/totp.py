"""The rotating code of a resident pass: TOTP (RFC 6238) over HMAC-SHA-256.

Steps of 30 s counted from the Unix epoch (T0 = 0, X = 30), eight digits, dynamic
truncation as in RFC 4226; the RFC's SHA-256 test vectors hold (tests). The phone
computes the same numbers from the pass secret, so the pages need only HMAC-SHA-256.
"""

from __future__ import annotations

import hmac
from datetime import datetime

STEP_SECONDS = 30
DIGITS = 8
DRIFT_STEPS = 1  # the current step and one either side are accepted
STEP_WRAP = 1 << 16  # the token carries the step modulo this (about 22.7 days of steps)
_MODULUS: int = 10**DIGITS


def step_at(moment: datetime) -> int:
    """The RFC 6238 time step ``T`` of an aware moment."""
    if moment.tzinfo is None:
        raise ValueError("a naive datetime; pass an aware UTC moment")
    return int(moment.timestamp()) // STEP_SECONDS


def code(secret: bytes, step: int) -> int:
    """The TOTP value of ``step`` (an int below ``10**DIGITS``)."""
    digest = hmac.digest(secret, step.to_bytes(8, "big"), "sha256")
    offset = digest[-1] & 0x0F
    return (int.from_bytes(digest[offset : offset + 4], "big") & 0x7FFFFFFF) % _MODULUS


def expand_step(low: int, near: int) -> int:
    """The step closest to ``near`` whose value modulo ``STEP_WRAP`` is ``low``."""
    delta = (low - near) % STEP_WRAP
    if delta >= STEP_WRAP // 2:
        delta -= STEP_WRAP
    return near + delta
