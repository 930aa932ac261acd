"""Fixed keys, refs and moments for the pass tests (no files: see test_keyring for those)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

from gate.domain.base45 import b45decode, b45encode
from recognition.passes import IssuedPass, KeyRing, PassKind, SigningKey, issue_pass

SUBJECT = "3f2f0b33-ef98-44b8-824c-5a640d157222"
HOUSEHOLD = "346779c9-71b4-441b-8916-26d4ec1257ce"
# 10 s into a 30 s step, so that moving the clock by whole steps never lands on a boundary
NOW = datetime(2026, 3, 1, 8, 0, 10, tzinfo=UTC)
STEP = timedelta(seconds=30)


def signing_key(label: str, generation: int = 1) -> SigningKey:
    """A key from a fixed seed, so every run signs the same bytes."""
    return SigningKey(generation, hashlib.sha256(label.encode()).digest())


def ring_of(*labels: str) -> KeyRing:
    """An in-memory ring, newest key first."""
    count = len(labels)
    keys = tuple(signing_key(label, count - index) for index, label in enumerate(labels))
    return KeyRing(Path("/nonexistent/pass-keys"), keys)


RING = ring_of("current", "previous")
OTHER_RING = ring_of("another compound")
assert not set(RING.trusted().key_ids) & set(OTHER_RING.trusted().key_ids)


def issue(
    kind: PassKind = PassKind.VISITOR,
    *,
    ring: KeyRing = RING,
    household: bool = False,
    rotating: bool | None = None,
    valid_for: timedelta = timedelta(hours=2),
    starts: datetime = NOW - timedelta(minutes=5),
) -> IssuedPass:
    """A pass of ``kind`` signed by the ring's current key, valid around ``NOW``."""
    return issue_pass(
        key=ring.current,
        kind=kind,
        subject_ref=SUBJECT,
        household_ref=HOUSEHOLD if household else None,
        not_before=starts,
        not_after=starts + valid_for,
        rotating=rotating,
    )


def flip(text: str, bit: int) -> str:
    """The token text with one bit of its bytes flipped."""
    data = bytearray(b45decode(text))
    data[bit // 8] ^= 0x80 >> (bit % 8)
    return b45encode(bytes(data))
