"""Verify a pass token offline: a typed answer for any text, never an exception.

Checks run in this order, the first that fails gives the reason code:

    malformed      not base45, or the bytes are not a token: ``detail`` is base45,
                   truncated, version, header or length (bytes after the end)
    unknown_key    signed by a key that is neither the current nor the previous one
    bad_signature  the signature does not hold: a flipped bit, an edited body
    wrong_kind     a genuine pass of a kind the caller does not take here
    not_yet_valid  before its window (``not_before``)
    expired        at or after the end of its window (``not_after``)
    no_secret      a rotating pass whose step secret this gate does not know
    bad_code       the rotating code does not match its step: forged or corrupted
    stale_step     a genuine code more than one step old: a screenshot (``steps`` behind)
    future_step    a genuine code more than one step ahead: the phone's clock is fast

Revocation and one-time consumption are checked later, against the snapshot and in the
passage's log transaction; a refusal after the signature held carries the claims too, so
the log can say which pass was refused.
"""

from __future__ import annotations

import functools
import hmac
from collections.abc import Callable, Collection, Iterable
from datetime import datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from gate.domain import totp
from gate.domain.base45 import Base45Error, b45decode
from gate.domain.passes import PassCheck, PassClaims, PassKind, PassRefusal, PassRefused, PassValid
from recognition.passes.layout import (
    MalformedToken,
    claims_of,
    key_id_of,
    signed_message,
    split,
)

MAX_TEXT_CHARS = 512  # the longest token is 182; anything far longer is not read at all
ALL_KINDS: frozenset[PassKind] = frozenset(PassKind)

StepSecretLookup = Callable[[PassClaims], bytes | None]
"""The per-pass step secret of a rotating pass (verified claims in), None if unknown."""


class TrustedKeys:
    """The public keys a gate accepts, by key id. Immutable; checked tokens are memoised.

    A phone held to a scanner is read again and again, and a rotating pass keeps its signed
    part for its whole life: the memo (keyed on the exact body and signature, so it cannot
    change an answer) spares the Ed25519 verification and the decoding for those repeats.
    """

    def __init__(self, public_keys: Iterable[bytes], *, memo_size: int = 4096) -> None:
        keys: dict[int, Ed25519PublicKey] = {}
        for raw in public_keys:
            key_id = key_id_of(raw)
            if key_id in keys:
                raise ValueError(f"two public keys share the key id {key_id:04x}")
            keys[key_id] = Ed25519PublicKey.from_public_bytes(raw)
        self._keys = keys
        self._check = functools.lru_cache(maxsize=memo_size)(self._claims_if_signed)

    @property
    def key_ids(self) -> tuple[str, ...]:
        """The ids of the accepted keys, as claims spell them."""
        return tuple(f"{key_id:04x}" for key_id in self._keys)

    def __contains__(self, key_id: object) -> bool:
        return key_id in self._keys

    def __repr__(self) -> str:
        return f"TrustedKeys({', '.join(self.key_ids)})"

    def signed_claims(self, body: bytes, signature: bytes) -> PassClaims | None:
        """The claims of ``body`` if ``signature`` is an accepted key's, else None."""
        return self._check(body, signature)

    def _claims_if_signed(self, body: bytes, signature: bytes) -> PassClaims | None:
        key = self._keys.get(int.from_bytes(body[1:3], "big"))
        if key is None:
            return None
        try:
            key.verify(signature, signed_message(body))
        except InvalidSignature:
            return None
        return claims_of(body)


def verify_pass(
    text: str,
    *,
    keys: TrustedKeys,
    now: datetime,
    step_secrets: StepSecretLookup | None = None,
    kinds: Collection[PassKind] = ALL_KINDS,
) -> PassCheck:
    """Check a scanned text at ``now``: ``PassValid`` or ``PassRefused``, never an exception.

    ``step_secrets`` finds a rotating pass's step secret; without it rotating passes are
    refused (``no_secret``). ``kinds`` are the kinds this caller takes.
    """
    if now.tzinfo is None:
        raise ValueError("a naive datetime; pass an aware UTC moment")
    if not isinstance(text, str) or len(text) > MAX_TEXT_CHARS:
        return _malformed("length")
    try:
        token = split(b45decode(text))
    except Base45Error:
        return _malformed("base45")
    except MalformedToken as exc:
        return _malformed(exc.detail)
    if token.key_id not in keys:
        return PassRefused(PassRefusal.UNKNOWN_KEY, {"key_id": f"{token.key_id:04x}"})
    claims = keys.signed_claims(token.body, token.signature)
    if claims is None:
        return PassRefused(PassRefusal.BAD_SIGNATURE, {"key_id": f"{token.key_id:04x}"})
    if claims.kind not in kinds:
        return PassRefused(PassRefusal.WRONG_KIND, {"kind": claims.kind.value}, claims)
    if now < claims.not_before:
        return _refused(PassRefusal.NOT_YET_VALID, claims, not_before=claims.not_before)
    if now >= claims.not_after:
        return _refused(PassRefusal.EXPIRED, claims, not_after=claims.not_after)
    if token.step_low is None or token.code is None:
        return PassValid(claims)
    secret = step_secrets(claims) if step_secrets is not None else None
    if secret is None:
        return PassRefused(PassRefusal.NO_SECRET, {}, claims)
    now_step = totp.step_at(now)
    step = totp.expand_step(token.step_low, now_step)
    expected = totp.code(secret, step).to_bytes(4, "big")
    if not hmac.compare_digest(expected, token.code.to_bytes(4, "big")):
        return PassRefused(PassRefusal.BAD_CODE, {}, claims)
    if step < now_step - totp.DRIFT_STEPS:
        return PassRefused(PassRefusal.STALE_STEP, {"steps": now_step - step}, claims)
    if step > now_step + totp.DRIFT_STEPS:
        return PassRefused(PassRefusal.FUTURE_STEP, {"steps": step - now_step}, claims)
    return PassValid(claims, step)


def _malformed(detail: str) -> PassRefused:
    return PassRefused(PassRefusal.MALFORMED, {"detail": detail})


def _refused(reason: PassRefusal, claims: PassClaims, **moments: datetime) -> PassRefused:
    return PassRefused(reason, {name: at.isoformat() for name, at in moments.items()}, claims)
