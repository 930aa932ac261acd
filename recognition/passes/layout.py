"""The binary layout of a pass token (version 1) and the claims it carries.

All integers big-endian::

    offset   bytes  field
    0        1      version (1)
    1        2      key id: the first two bytes of SHA-256 of the signer's raw public key
    3        1      header: bits 0-2 kind, bit 3 household present, bit 4 rotating,
                    bits 5-7 zero
    4        8      pass id (random, unique in the passes table)
    12       16     subject ref: the person's or the visitor's UUID
    28       16     household ref (UUID), only when bit 3 is set
    28|44    4      not before: minutes since 2020-01-01T00:00Z
    32|48    3      window length in minutes (1 .. 2**24-1, about 31.9 years)
    35|51    64     Ed25519 signature of SIGNING_CONTEXT + the bytes before it
    99|115   2      time step modulo 2**16, only when rotating (not signed)
    101|117  4      TOTP code, only when rotating (not signed)

So a token is 99 bytes (149 base45 characters), 115 with a household (173), and 6 more
when it rotates (105 / 121 bytes, 158 / 182 characters).
"""

from __future__ import annotations

import hashlib
import struct
from datetime import UTC, datetime, timedelta
from typing import NamedTuple
from uuid import UUID

from gate.domain.errors import GateError
from gate.domain.passes import TAIL, PassClaims, PassKind

VERSION = 1
SIGNING_CONTEXT = b"compound-gate pass token\n"  # never sent; keeps the key to this one use
EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
MAX_WINDOW_MINUTES = (1 << 24) - 1
PASS_ID_BYTES = 8
SIGNATURE_BYTES = 64
TAIL_BYTES = TAIL.size

_HEAD = struct.Struct(">BHB")  # version, key id, header
_HOUSEHOLD, _ROTATING, _KIND_MASK, _RESERVED = 0x08, 0x10, 0x07, 0xE0
_FIXED = _HEAD.size + PASS_ID_BYTES + 16 + 4 + 3  # body without a household: 35 bytes
_KINDS = (PassKind.RESIDENT, PassKind.VISITOR, PassKind.INVITE, PassKind.ESCORTED_EXIT)
_KIND_CODES = {kind: number for number, kind in enumerate(_KINDS)}


class PassNotEncodable(GateError, ValueError):
    """A pass that the layout cannot carry (a bad ref, an empty or too long window)."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


class MalformedToken(ValueError):
    """Bytes that are not a token of this layout; ``detail`` says which part is wrong."""

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(detail)


class Token(NamedTuple):
    """A token split into its parts, nothing checked but the structure."""

    key_id: int
    body: bytes  # what the signature covers, after SIGNING_CONTEXT
    signature: bytes
    step_low: int | None
    code: int | None


def key_id_of(public_raw: bytes) -> int:
    """The key id of a raw 32-byte Ed25519 public key."""
    return int.from_bytes(hashlib.sha256(public_raw).digest()[:2], "big")


def minutes_since_epoch(moment: datetime) -> int:
    """Whole minutes from ``EPOCH`` to an aware moment, rounded down."""
    if moment.tzinfo is None:
        raise ValueError("a naive datetime; pass an aware UTC moment")
    return int((moment - EPOCH).total_seconds() // 60)


def encode_body(claims: PassClaims) -> bytes:
    """The unsigned body of a token; ``PassNotEncodable`` where a claim does not fit."""
    start = minutes_since_epoch(claims.not_before)
    length = minutes_since_epoch(claims.not_after) - start
    if not 0 <= start < 1 << 32:
        raise PassNotEncodable("not_before", "before 2020 or too far ahead")
    if not 1 <= length <= MAX_WINDOW_MINUTES:
        raise PassNotEncodable("not_after", f"the window must be 1 to {MAX_WINDOW_MINUTES} min")
    pass_id = _hex(claims.pass_id, PASS_ID_BYTES, "pass_id")
    key_id = int.from_bytes(_hex(claims.key_id, 2, "key_id"), "big")
    header = _KIND_CODES[claims.kind]
    header |= _HOUSEHOLD if claims.household_ref is not None else 0
    header |= _ROTATING if claims.rotating else 0
    parts = [_HEAD.pack(VERSION, key_id, header), pass_id, _uuid_bytes(claims.subject_ref)]
    if claims.household_ref is not None:
        parts.append(_uuid_bytes(claims.household_ref, "household_ref"))
    parts += [start.to_bytes(4, "big"), length.to_bytes(3, "big")]
    return b"".join(parts)


def split(data: bytes) -> Token:
    """Split token bytes into their parts; ``MalformedToken`` if the structure is wrong."""
    if len(data) < _HEAD.size:
        raise MalformedToken("truncated")
    version, key_id, header = _HEAD.unpack_from(data)
    if version != VERSION:
        raise MalformedToken("version")
    if header & _RESERVED or (header & _KIND_MASK) >= len(_KINDS):
        raise MalformedToken("header")
    body_end = _FIXED + (16 if header & _HOUSEHOLD else 0)
    sig_end = body_end + SIGNATURE_BYTES
    rotating = bool(header & _ROTATING)
    expected = sig_end + (TAIL_BYTES if rotating else 0)
    if len(data) != expected:
        raise MalformedToken("truncated" if len(data) < expected else "length")
    body = data[:body_end]
    step_low = code = None
    if rotating:
        step_low, code = TAIL.unpack_from(data, sig_end)
    return Token(key_id, body, data[body_end:sig_end], step_low, code)


def signed_message(body: bytes) -> bytes:
    """What the signature of a body covers."""
    return SIGNING_CONTEXT + body


def claims_of(body: bytes) -> PassClaims:
    """The claims in a token's body (as ``split`` returns it)."""
    header = body[3]
    household = None
    offset = 28
    if header & _HOUSEHOLD:
        household = _uuid_text(body[28:44])
        offset = 44
    start = int.from_bytes(body[offset : offset + 4], "big")
    length = int.from_bytes(body[offset + 4 : offset + 7], "big")
    not_before = EPOCH + timedelta(minutes=start)
    return PassClaims(
        pass_id=body[4:12].hex(),
        kind=_KINDS[header & _KIND_MASK],
        subject_ref=_uuid_text(body[12:28]),
        household_ref=household,
        not_before=not_before,
        not_after=not_before + timedelta(minutes=length),
        rotating=bool(header & _ROTATING),
        key_id=body[1:3].hex(),
    )


def _hex(text: str, size: int, field: str) -> bytes:
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise PassNotEncodable(field, "not hex") from None
    if len(raw) != size:
        raise PassNotEncodable(field, f"{size} bytes expected")
    return raw


def _uuid_bytes(ref: str, field: str = "subject_ref") -> bytes:
    try:
        return UUID(ref).bytes
    except (ValueError, TypeError, AttributeError):
        raise PassNotEncodable(field, "not a UUID") from None


def _uuid_text(raw: bytes) -> str:
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
