"""Anchors: signed checkpoints of the passage log's head, kept outside the database.

An anchor says "this compound's log had ``seq`` rows, the last one hashing to
``row_hash``, keyed from ``keyed_from`` under chain key ``chain_key_id``, at ``at``",
signed with the gate's anchor key (Ed25519). A log that ends before an anchor's ``seq``
was cut back; a row at an anchor's ``seq`` with another hash was rewritten.

After the retention job deleted the oldest rows, an anchor also says "rows 1 to
``purged_to`` were purged, the last of them hashing to ``purged_hash``" (the checkpoint
verification starts from). Those two fields are signed and written only when
``purged_to`` is above 0, so the anchors of a log never purged keep their first form. Pure: the
signature is made and checked by the adapter (``registry.log_anchors``); this module
holds the value, the exact bytes that are signed and the one JSON form.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

VERSION = 1
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_HEX16 = re.compile(r"^[0-9a-f]{16}$")
_HEX128 = re.compile(r"^[0-9a-f]{128}$")
_COMPOUND = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
_FIELDS = ("v", "n", "compound", "seq", "row_hash", "at", "keyed_from", "chain_key_id", "key")
_PURGE_FIELDS = ("purged_to", "purged_hash")


class AnchorInvalid(ValueError):
    """An anchor's text is not an anchor (wrong shape, field or type)."""


@dataclass(frozen=True)
class Anchor:
    """One signed checkpoint of the log's head (``signature`` empty until signed)."""

    n: int  # the anchor's own number, 1 for the first in the file
    compound: str
    seq: int  # rows in the log (0: none yet)
    row_hash: str  # the hash of row ``seq`` (the genesis value when there is none)
    at: str  # when the anchor was made, ISO-8601 UTC
    keyed_from: int  # the first row under the keyed chain
    chain_key_id: str
    key: str  # the signer's Ed25519 public key, hex (which key; trust comes from the file)
    signature: str = ""  # Ed25519 over ``message()``, hex
    v: int = VERSION
    purged_to: int = 0  # rows 1..purged_to deleted by retention (0: none)
    purged_hash: str = ""  # the hash of row ``purged_to`` (the next row's prev_hash)

    def _fields(self) -> dict[str, Any]:
        names = (*_FIELDS, *_PURGE_FIELDS) if self.purged_to > 0 else _FIELDS
        return {name: getattr(self, name) for name in names}

    def message(self) -> bytes:
        """The bytes the signature covers: every field but the signature, canonical JSON."""
        return json.dumps(self._fields(), sort_keys=True, separators=(",", ":")).encode("ascii")

    def signed(self, signature: str) -> Anchor:
        """This anchor with its signature."""
        return replace(self, signature=signature)

    def to_json(self) -> str:
        """One line of JSON (ASCII, no newline): the anchor file's and the feed's form."""
        data = self._fields()
        data["sig"] = self.signature
        return json.dumps(data, sort_keys=True, separators=(",", ":"))

    @classmethod
    def made(
        cls,
        *,
        n: int,
        compound: str,
        seq: int,
        row_hash: str,
        at: datetime,
        keyed_from: int,
        chain_key_id: str,
        key: str,
        purged_to: int = 0,
        purged_hash: str = "",
    ) -> Anchor:
        """An unsigned anchor of a head read at ``at`` (timezone-aware)."""
        if at.tzinfo is None:
            raise ValueError("an anchor's time is timezone-aware")
        if purged_to < 0 or (purged_to > 0 and not _HEX64.fullmatch(purged_hash)):
            raise ValueError("a purge checkpoint is a row number and that row's hash")
        return cls(
            n,
            compound,
            seq,
            row_hash,
            at.isoformat(),
            keyed_from,
            chain_key_id,
            key,
            purged_to=purged_to,
            purged_hash=purged_hash if purged_to > 0 else "",
        )


def parse_anchor(text: str | bytes | dict[str, Any]) -> Anchor:
    """An anchor from its JSON (``AnchorInvalid`` if it is not one); the signature unchecked."""
    try:
        data = json.loads(text) if isinstance(text, str | bytes) else text
    except (ValueError, UnicodeDecodeError) as exc:
        raise AnchorInvalid(f"not JSON: {exc}") from None
    purged = isinstance(data, dict) and "purged_to" in data
    expected = {*_FIELDS, *_PURGE_FIELDS, "sig"} if purged else {*_FIELDS, "sig"}
    if not isinstance(data, dict) or set(data) != expected:
        raise AnchorInvalid("not an anchor object")
    if purged and (
        type(data["purged_to"]) is not int
        or data["purged_to"] < 1
        or not isinstance(data["purged_hash"], str)
        or not _HEX64.fullmatch(data["purged_hash"])
    ):
        raise AnchorInvalid("purged_to and purged_hash are malformed")
    if data["v"] != VERSION:
        raise AnchorInvalid(f"unknown anchor version {data['v']!r}")
    ints = ("n", "seq", "keyed_from")
    if any(type(data[name]) is not int or data[name] < 0 for name in ints):
        raise AnchorInvalid("n, seq and keyed_from are non-negative integers")
    checks = (
        ("compound", _COMPOUND),
        ("row_hash", _HEX64),
        ("chain_key_id", _HEX16),
        ("key", _HEX64),
        ("sig", _HEX128),
    )
    for name, pattern in checks:
        if not isinstance(data[name], str) or not pattern.fullmatch(data[name]):
            raise AnchorInvalid(f"{name} is malformed")
    if not isinstance(data["at"], str):
        raise AnchorInvalid("at is malformed")
    try:
        at = datetime.fromisoformat(data["at"])
    except ValueError:
        raise AnchorInvalid("at is malformed") from None
    if at.tzinfo is None:
        raise AnchorInvalid("at has no time zone")
    return Anchor(
        n=data["n"],
        compound=data["compound"],
        seq=data["seq"],
        row_hash=data["row_hash"],
        at=data["at"],
        keyed_from=data["keyed_from"],
        chain_key_id=data["chain_key_id"],
        key=data["key"],
        signature=data["sig"],
        purged_to=data["purged_to"] if purged else 0,
        purged_hash=data["purged_hash"] if purged else "",
    )
