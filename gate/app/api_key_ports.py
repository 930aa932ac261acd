"""What the API-key use cases need: the stored keys (hashes only) and how one reads back.

The key text itself is handed out once, by ``create_api_key`` or ``rotate_api_key``; the
store keeps its SHA-256 and a short prefix (the key's first characters, not secret) that
lists and audit rows show. Like every store it validates and audits nothing; "now" is
the actor's time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from gate.domain.api_scopes import ApiScope


@dataclass(frozen=True)
class ApiKeyOnFile:
    """A machine's key as stored: its name, prefix, scopes and when it was made, used, ended."""

    id: int
    name: str
    prefix: str
    scopes: tuple[ApiScope, ...]
    created_at: datetime
    created_by: str
    last_used_at: datetime | None
    revoked_at: datetime | None
    compounds: tuple[str, ...] = ()  # the compounds it pushes for and reads (hub); none: ours

    @property
    def revoked(self) -> bool:
        """True once revoked (or replaced by a rotation)."""
        return self.revoked_at is not None


class ApiKeyStore(Protocol):
    """API keys: one row per key; a rotation revokes one row and adds the next."""

    def add(
        self,
        *,
        name: str,
        prefix: str,
        key_hash: str,
        scopes: Sequence[ApiScope],
        compounds: Sequence[str] = (),
    ) -> ApiKeyOnFile:
        """Store a new key (its hash), bound to ``compounds``, created by the actor, now."""
        ...

    def active(self, name: str) -> ApiKeyOnFile | None:
        """The key called ``name`` that is not revoked, or None."""
        ...

    def by_hash(self, key_hash: str) -> ApiKeyOnFile | None:
        """The key whose text hashes to ``key_hash`` (revoked or not), or None."""
        ...

    def all(self) -> Sequence[ApiKeyOnFile]:
        """Every key, revoked ones too, by name and then oldest first."""
        ...

    def revoke(self, key_id: int) -> None:
        """Mark the key revoked by the actor, now."""
        ...

    def mark_used(self, key_id: int) -> bool:
        """Set the key's last use to now; False if it is revoked (nothing changed)."""
        ...
