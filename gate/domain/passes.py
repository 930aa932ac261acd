"""QR passes as the gate sees them: what a pass claims, what a check of it found, its state.

The token format, the keys and the signature check are adapters (``recognition.passes``);
the gate core needs only the answers, so they are defined here:

- ``PassClaims``: what a genuine token says (pass id, kind, subject, household, window).
- ``PassValid`` / ``PassRefused``: what ``PassVerifier.verify`` found for a scanned text;
  a refusal has a ``PassRefusal`` code and, once the signature held, the claims.
- ``PassFacts``: what the registry holds of an issued pass (revoked, spent), loaded into
  the snapshot. Revocation and one-time consumption are decided there and in the log's
  transaction, not by the token.

``pass_text`` renders the text a pass's QR carries at a moment (what the phone page
computes every 30 s); it is here, pure, so that the emulated demo scanner shows the same
codes a phone would.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Literal, Protocol

from gate.domain import totp
from gate.domain.base45 import b45encode
from gate.domain.model import Decision, ParamValue


class PassKind(StrEnum):
    """What a pass lets its holder do; the value is the code in claims and logs."""

    RESIDENT = "resident"
    VISITOR = "visitor"
    INVITE = "invite"  # one-time: consumed by its passage
    ESCORTED_EXIT = "escorted_exit"  # one-time: a quarantined person's escorted trip


ONE_TIME_KINDS = frozenset({PassKind.INVITE, PassKind.ESCORTED_EXIT})
VISITOR_KINDS = frozenset({PassKind.VISITOR, PassKind.INVITE})  # the subject is a visit


@dataclass(frozen=True)
class PassClaims:
    """What a token says. Trust it only from a verification that returned it."""

    pass_id: str  # 16 lowercase hex digits
    kind: PassKind
    subject_ref: str  # canonical lowercase UUID: a person's, or a visit's for visitor kinds
    household_ref: str | None
    not_before: datetime
    not_after: datetime
    rotating: bool
    key_id: str  # 4 lowercase hex digits

    @property
    def one_time(self) -> bool:
        """True if the passage it lets through spends it."""
        return self.kind in ONE_TIME_KINDS


class PassRefusal(StrEnum):
    """Why a token was refused by its check; the value is the reason code."""

    MALFORMED = "malformed"
    UNKNOWN_KEY = "unknown_key"
    BAD_SIGNATURE = "bad_signature"
    WRONG_KIND = "wrong_kind"
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"
    NO_SECRET = "no_secret"  # noqa: S105 - a reason code, not a secret
    BAD_CODE = "bad_code"
    STALE_STEP = "stale_step"
    FUTURE_STEP = "future_step"


@dataclass(frozen=True)
class PassValid:
    """A genuine pass inside its window; ``step`` is the accepted time step if it rotates."""

    claims: PassClaims
    step: int | None = None

    @property
    def valid(self) -> Literal[True]:
        """Always true: tells the two results apart without ``isinstance``."""
        return True


@dataclass(frozen=True)
class PassRefused:
    """A refused token: the reason, its parameters, and the claims once the signature held."""

    reason: PassRefusal
    params: Mapping[str, ParamValue] = field(default_factory=dict)
    claims: PassClaims | None = None

    @property
    def valid(self) -> Literal[False]:
        """Always false."""
        return False


PassCheck = PassValid | PassRefused


class PassVerifier(Protocol):
    """Checks a scanned text offline: signature, key, window, rotating code."""

    def verify(self, text: str, *, now: datetime) -> PassCheck:
        """``PassValid`` or ``PassRefused`` for any text; never raises for bad input."""
        ...


class PassState(StrEnum):
    """Where an issued pass stands in the registry."""

    ACTIVE = "active"
    REVOKED = "revoked"
    SPENT = "spent"  # a one-time pass that let its passage through

    @classmethod
    def of(cls, *, revoked_at: datetime | None, used_at: datetime | None) -> PassState:
        """The state of a pass from when it was revoked and when it was spent (if ever)."""
        if revoked_at is not None:
            return cls.REVOKED
        return cls.SPENT if used_at is not None else cls.ACTIVE


@dataclass(frozen=True)
class PassFacts:
    """What the snapshot knows of one issued pass."""

    pass_id: str
    kind: PassKind
    subject_ref: str
    state: PassState = PassState.ACTIVE


class PassReason(StrEnum):
    """The reason codes a passage carries for its pass, beside the check's ``pass_*`` codes."""

    ACCEPTED = "qr_pass"  # an allowed passage: which pass let it through
    REVOKED = "pass_revoked"
    REPLAYED = "pass_replayed"  # a one-time pass shown again after it was spent
    UNKNOWN = "pass_unknown"  # genuinely signed, but not in this registry (restored backup?)
    SUBJECT_GONE = "pass_subject_gone"  # the person moved out, the visit was removed


REASON_PREFIX = "pass_"


def refusal_code(reason: PassRefusal) -> str:
    """The passage reason code of a token refused by its check (``pass_expired``)."""
    return REASON_PREFIX + reason.value


TAIL = struct.Struct(">HI")


def encode_tail(step: int, code: int) -> bytes:
    """The unsigned tail of a rotating token: the step modulo 2**16, then its code."""
    return TAIL.pack(step % totp.STEP_WRAP, code)


def pass_text(signed: bytes, secret: bytes | None, moment: datetime) -> str:
    """The QR text of a pass at ``moment``: what the phone page computes every 30 s.

    A rotating pass appends the time step and its TOTP code to the signed bytes; any other
    pass is its signed bytes alone, in base45.
    """
    if secret is None:
        return b45encode(signed)
    step = totp.step_at(moment)
    return b45encode(signed + encode_tail(step, totp.code(secret, step)))


def spent_passes(decision: Decision) -> list[str]:
    """The one-time passes an allowed decision spends (the log and the snapshot both ask)."""
    if not decision.opens_barrier:
        return []
    return [
        str(reason.params["pass_id"])
        for reason in decision.reasons
        if reason.code == PassReason.ACCEPTED and reason.params.get("one_time")
    ]
