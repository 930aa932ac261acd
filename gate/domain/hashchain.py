"""The passage log's hash chain: each row's hash covers the previous hash and its content.

Pure: the canonical form is JSON with sorted keys, no whitespace, UTF-8. Editing a row in
the database (or deleting one) makes the digest disagree from that row on.

Two versions of the chain. Rows written before the chain was keyed (migration 0013) carry
``row_digest``, plain SHA-256: anyone who can write the database can recompute it, so it
only catches careless edits. Every row from the switch-over on carries
``keyed_row_digest``, HMAC-SHA-256 under the chain key, a file outside the database:
without the key a changed row cannot be given a hash that verifies. ``chain_key_id``
names a key without revealing it (the database records which key its chain is under).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

GENESIS = "0" * 64
_KEY_ID_LABEL = b"compound-gate passage chain key id v1"


def canonical(content: Mapping[str, Any]) -> str:
    """The one serialisation the hash is computed over."""
    return json.dumps(
        content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def row_digest(prev_hash: str, content: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the previous row's hash and this row's canonical content (unkeyed)."""
    return hashlib.sha256(f"{prev_hash}\n{canonical(content)}".encode()).hexdigest()


def keyed_row_digest(key: bytes, prev_hash: str, content: Mapping[str, Any]) -> str:
    """HMAC-SHA-256 (hex) under the chain key of what ``row_digest`` covers."""
    message = f"{prev_hash}\n{canonical(content)}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def chain_key_id(key: bytes) -> str:
    """A short public name of a chain key (an HMAC of a fixed label: reveals nothing)."""
    return hmac.new(key, _KEY_ID_LABEL, hashlib.sha256).hexdigest()[:16]
