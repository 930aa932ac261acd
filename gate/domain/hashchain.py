"""The passage log's hash chain: each row's hash covers the previous hash and its content.

Pure: the canonical form is JSON with sorted keys, no whitespace, UTF-8. Editing a row in
the database (or deleting one) makes ``row_digest`` disagree from that row on.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

GENESIS = "0" * 64


def canonical(content: Mapping[str, Any]) -> str:
    """The one serialisation the hash is computed over."""
    return json.dumps(
        content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def row_digest(prev_hash: str, content: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the previous row's hash and this row's canonical content."""
    return hashlib.sha256(f"{prev_hash}\n{canonical(content)}".encode()).hexdigest()
