"""``gate.app.api_key_ports.ApiKeyStore`` on the registry database: hashes, never keys."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from gate.app.actor import Actor
from gate.app.api_key_ports import ApiKeyOnFile
from gate.domain.api_scopes import ApiScope
from registry.models import ApiKey

_KNOWN = frozenset(scope.value for scope in ApiScope)  # a scope no longer known grants nothing


def _on_file(row: ApiKey) -> ApiKeyOnFile:
    return ApiKeyOnFile(
        id=row.id,
        name=row.name,
        prefix=row.prefix,
        scopes=tuple(ApiScope(scope) for scope in row.scopes if scope in _KNOWN),
        created_at=row.created_at,
        created_by=row.created_by,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
        compounds=tuple(row.compounds or ()),
    )


class SqlApiKeyStore:
    """``ApiKeyStore``: one row per key."""

    def __init__(self, session: Session, actor: Actor) -> None:
        self._session, self._actor = session, actor

    def add(
        self,
        *,
        name: str,
        prefix: str,
        key_hash: str,
        scopes: Sequence[ApiScope],
        compounds: Sequence[str] = (),
    ) -> ApiKeyOnFile:
        """Store a new key's hash."""
        row = ApiKey(
            name=name,
            prefix=prefix,
            key_hash=key_hash,
            scopes=[scope.value for scope in scopes],
            compounds=list(compounds),
            created_by=self._actor.name,
            created_at=self._actor.at,
        )
        self._session.add(row)
        self._session.flush()
        return _on_file(row)

    def active(self, name: str) -> ApiKeyOnFile | None:
        """The key ``name`` that is not revoked."""
        row = self._session.scalars(
            select(ApiKey).where(ApiKey.name == name, ApiKey.revoked_at.is_(None))
        ).first()
        return _on_file(row) if row is not None else None

    def by_hash(self, key_hash: str) -> ApiKeyOnFile | None:
        """The key with this hash."""
        row = self._session.scalars(select(ApiKey).where(ApiKey.key_hash == key_hash)).first()
        return _on_file(row) if row is not None else None

    def all(self) -> Sequence[ApiKeyOnFile]:
        """Every key by name, oldest first."""
        rows = self._session.scalars(select(ApiKey).order_by(ApiKey.name, ApiKey.id))
        return [_on_file(row) for row in rows]

    def revoke(self, key_id: int) -> None:
        """Mark the key revoked by the actor, now."""
        self._session.execute(
            update(ApiKey)
            .where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None))
            .values(revoked_at=self._actor.at, revoked_by=self._actor.name)
        )

    def mark_used(self, key_id: int) -> bool:
        """Set the last use to now, if the key is live."""
        result = self._session.execute(
            update(ApiKey)
            .where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None))
            .values(last_used_at=self._actor.at)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]
