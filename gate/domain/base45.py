"""Base45 (RFC 9285): bytes as text for the alphanumeric mode of a QR code.

Two bytes become three characters of the 45 that alphanumeric mode holds, least
significant first; a last odd byte becomes two. The encoding is canonical: every text
that decodes has exactly one byte string, so equal bytes mean equal text.
"""

from __future__ import annotations

import struct

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_INVALID = 0xFF
# ASCII code -> digit value, _INVALID for a character outside the alphabet.
_DIGITS = bytes(
    ALPHABET.index(chr(code)) if chr(code) in ALPHABET else _INVALID for code in range(256)
)


class Base45Error(ValueError):
    """Text that is not base45: a character outside the alphabet, a bad length or value."""


def b45encode(data: bytes) -> str:
    """Encode bytes as base45 text."""
    chars: list[str] = []
    full = len(data) - len(data) % 2
    for value in struct.unpack(f">{full // 2}H", data[:full]):
        value, c = divmod(value, 45)
        e, d = divmod(value, 45)
        chars += (ALPHABET[c], ALPHABET[d], ALPHABET[e])
    if full < len(data):
        d, c = divmod(data[-1], 45)
        chars += (ALPHABET[c], ALPHABET[d])
    return "".join(chars)


def b45decode(text: str) -> bytes:
    """Decode base45 text; ``Base45Error`` if it is not canonical base45."""
    if not text.isascii():
        raise Base45Error("a character outside the base45 alphabet")
    digits = text.encode("ascii").translate(_DIGITS)
    if _INVALID in digits:
        raise Base45Error("a character outside the base45 alphabet")
    triples, rest = divmod(len(digits), 3)
    if rest == 1:
        raise Base45Error("a length of 3n+1 characters")
    # Every triple at once, without a Python loop (the gate decodes each scan): the three
    # digit columns go into 32-bit lanes of one integer each, and c + 45d + 2025e of all
    # lanes is one sum; a lane never carries into the next (at most 91,124 < 2**17), and
    # its third byte from the right is non-zero only where the triple exceeds 65,535.
    full = 3 * triples
    lanes = bytearray(4 * triples)
    lanes[3::4] = digits[0:full:3]
    c = int.from_bytes(lanes, "big")
    lanes[3::4] = digits[1:full:3]
    d = int.from_bytes(lanes, "big")
    lanes[3::4] = digits[2:full:3]
    e = int.from_bytes(lanes, "big")
    values = (c + 45 * d + 2025 * e).to_bytes(4 * triples, "big")
    if values[1::4].count(0) != triples:
        raise Base45Error("a triple above 65535")
    out = bytearray(2 * triples + rest // 2)
    out[0 : 2 * triples : 2] = values[2::4]
    out[1 : 2 * triples : 2] = values[3::4]
    if rest:
        last = digits[-2] + 45 * digits[-1]
        if last > 0xFF:
            raise Base45Error("a final pair above 255")
        out[-1] = last
    return bytes(out)
