"""``gate.app.pass_ports.PassStore`` on the registry database: issued passes, enrollment codes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from gate.app.actor import Actor
from gate.app.pass_ports import PassOnFile, SignedPass
from gate.domain.errors import NotFound
from gate.domain.passes import PassClaims, PassState
from registry.models import IssuedPass, PassEnrollment


class SqlPassStore:
    """``PassStore``: one row per signed pass, one per enrollment code (hashed)."""

    def __init__(self, session: Session, actor: Actor) -> None:
        self._session, self._actor = session, actor

    def add(self, signed: SignedPass, *, note: str) -> None:
        """Record a signed pass."""
        claims = signed.claims
        self._session.add(
            IssuedPass(
                pass_id=claims.pass_id,
                kind=claims.kind,
                subject_ref=claims.subject_ref,
                household_ref=claims.household_ref,
                not_before=claims.not_before,
                not_after=claims.not_after,
                rotating=claims.rotating,
                key_id=claims.key_id,
                signed=signed.signed,
                note=note,
                issued_by=self._actor.name,
                issued_at=self._actor.at,
            )
        )
        self._session.flush()

    def get(self, pass_id: str) -> PassOnFile:
        """The pass ``pass_id``; ``NotFound``."""
        row = self._session.get(IssuedPass, pass_id)
        if row is None:
            raise NotFound("no such pass")
        return _on_file(row)

    def of_subject(self, subject_ref: str) -> Sequence[PassOnFile]:
        """A person's or a visit's passes, newest first."""
        rows = self._session.scalars(
            select(IssuedPass)
            .where(IssuedPass.subject_ref == subject_ref)
            .order_by(IssuedPass.issued_at.desc())
        )
        return [_on_file(row) for row in rows]

    def revoke(self, pass_id: str) -> None:
        """Mark the pass revoked by the actor, now."""
        self._session.execute(
            update(IssuedPass)
            .where(IssuedPass.pass_id == pass_id, IssuedPass.revoked_at.is_(None))
            .values(revoked_at=self._actor.at, revoked_by=self._actor.name)
        )

    def add_enrollment(self, pass_id: str, *, code_hash: str, expires_at: datetime) -> None:
        """Record a one-time enrollment code's hash."""
        self._session.add(
            PassEnrollment(
                code_hash=code_hash,
                pass_id=pass_id,
                expires_at=expires_at,
                created_by=self._actor.name,
                created_at=self._actor.at,
            )
        )
        self._session.flush()

    def take_enrollment(self, code_hash: str) -> str | None:
        """Spend the code if it is unused, unrevoked and unexpired (one statement)."""
        return self._session.scalar(
            update(PassEnrollment)
            .where(
                PassEnrollment.code_hash == code_hash,
                PassEnrollment.used_at.is_(None),
                PassEnrollment.revoked_at.is_(None),
                PassEnrollment.expires_at > self._actor.at,
            )
            .values(used_at=self._actor.at)
            .returning(PassEnrollment.pass_id)
        )

    def revoke_enrollments(self, pass_id: str) -> int:
        """Revoke the pass's unused codes; how many."""
        result = self._session.execute(
            update(PassEnrollment)
            .where(
                PassEnrollment.pass_id == pass_id,
                PassEnrollment.used_at.is_(None),
                PassEnrollment.revoked_at.is_(None),
            )
            .values(revoked_at=self._actor.at)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _on_file(row: IssuedPass) -> PassOnFile:
    state = PassState.of(revoked_at=row.revoked_at, used_at=row.used_at)
    claims = PassClaims(
        pass_id=row.pass_id,
        kind=row.kind,
        subject_ref=row.subject_ref,
        household_ref=row.household_ref,
        not_before=row.not_before,
        not_after=row.not_after,
        rotating=row.rotating,
        key_id=row.key_id,
    )
    return PassOnFile(
        claims=claims,
        signed=row.signed,
        state=state,
        note=row.note,
        issued_by=row.issued_by,
        issued_at=row.issued_at,
        used_at=row.used_at,
    )
