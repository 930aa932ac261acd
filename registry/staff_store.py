"""``StaffStore`` on SQLAlchemy: staff accounts and web sessions, argon2 and SHA-256.

Passwords and PINs are argon2 hashes; a session row keeps only the SHA-256 of its cookie
token. The rules (throttling, idle lock, lifetime, who may sign in) are in ``gate.app.staff``.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
import threading
from collections.abc import Sequence
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from gate.app.actor import Actor
from gate.app.staff_values import AccountOnFile, SessionOnFile
from gate.domain.roles import Role
from registry.models import StaffAccount, WebSession

_hasher = PasswordHasher()

# Each argon2 check takes its memory cost (64 MiB by default) for its duration, and the
# checks run in the web server's thread pool, in the process that also runs the lanes: 20
# sign-ins at once (or a burst of anonymous tries) took the process past 1 GB. Two at a
# time (the gate PC's cores) keep that at about 128 MiB; a third waits a few milliseconds.
_HASHING = threading.BoundedSemaphore(2)


@functools.cache
def _dummy_hash() -> str:
    """A hash of nothing anyone types: an unknown name costs the same check as a real one."""
    return _hash(secrets.token_urlsafe(32))


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _verify(hashed: str | None, secret: str) -> bool:
    if hashed is None:
        return False
    try:
        with _HASHING:
            return _hasher.verify(hashed, secret)
    except (VerificationError, InvalidHashError):
        return False


def _hash(secret: str) -> str:
    with _HASHING:
        return _hasher.hash(secret)


def _account(row: StaffAccount) -> AccountOnFile:
    return AccountOnFile(
        id=row.id,
        username=row.username,
        display_name=row.display_name,
        role=Role(row.role),
        building_keys=tuple(row.building_keys),
        unit_keys=tuple(row.unit_keys or ()),
        revoked=row.revoked_at is not None,
        failed_logins=row.failed_logins,
        locked_until=row.locked_until,
        session_version=row.session_version,
    )


def _session(row: WebSession) -> SessionOnFile:
    return SessionOnFile(
        id=row.id,
        account=_account(row.account),
        session_version=row.session_version,
        csrf_token=row.csrf_token,
        origin=row.origin,
        created_at=row.created_at,
        last_active_at=row.last_active_at,
        locked=row.locked,
        ended=row.ended_at is not None,
    )


class SqlStaffStore:
    """``StaffStore``."""

    def __init__(self, session: Session, actor: Actor) -> None:
        self._session, self._actor = session, actor

    def _row(self, username: str) -> StaffAccount | None:
        return self._session.scalar(select(StaffAccount).where(StaffAccount.username == username))

    def _get(self, account_id: int) -> StaffAccount:
        row = self._session.get(StaffAccount, account_id)
        assert row is not None
        return row

    def account(self, username: str) -> AccountOnFile | None:
        """The account named ``username``, or None."""
        row = self._row(username)
        return _account(row) if row is not None else None

    def add(
        self,
        *,
        username: str,
        display_name: str,
        role: Role,
        password: str,
        pin: str | None,
        building_keys: Sequence[str],
        unit_keys: Sequence[str] = (),
    ) -> AccountOnFile:
        """Store a new account with its secrets hashed."""
        row = StaffAccount(
            username=username,
            display_name=display_name,
            role=role.value,
            building_keys=sorted(building_keys),
            unit_keys=sorted(unit_keys),
            password_hash=_hash(password),
            pin_hash=_hash(pin) if pin else None,
            created_at=self._actor.at,
        )
        self._session.add(row)
        self._session.flush()
        return _account(row)

    def password_matches(self, account: AccountOnFile | None, password: str) -> bool:
        """True if ``password`` is the account's; the same hash work when there is none."""
        if account is None:
            _verify(_dummy_hash(), password)  # the cost of a real check, for no account
            return False
        return _verify(self._get(account.id).password_hash, password)

    def pin_matches(self, account: AccountOnFile, pin: str) -> bool:
        """True if ``pin`` is the account's PIN."""
        return _verify(self._get(account.id).pin_hash, pin)

    def set_failures(
        self, account_id: int, *, failed_logins: int, locked_until: datetime | None
    ) -> None:
        """Store the failure count and the lockout."""
        row = self._get(account_id)
        row.failed_logins, row.locked_until = failed_logins, locked_until

    def revoke(self, account_id: int) -> None:
        """Disable the account now; bump its session version."""
        row = self._get(account_id)
        row.revoked_at = self._actor.at
        row.session_version += 1

    def open_session(self, account: AccountOnFile) -> str:
        """A new session row; return the cookie token."""
        token = secrets.token_urlsafe(32)
        self._session.add(
            WebSession(
                token_hash=_token_hash(token),
                account_id=account.id,
                session_version=account.session_version,
                csrf_token=secrets.token_urlsafe(32),
                created_at=self._actor.at,
                last_active_at=self._actor.at,
                origin=self._actor.origin[:100],
            )
        )
        self._session.flush()
        return token

    def session(self, token: str) -> SessionOnFile | None:
        """The session behind a cookie token."""
        row = self._session.scalar(
            select(WebSession).where(WebSession.token_hash == _token_hash(token))
        )
        return _session(row) if row is not None else None

    def session_by_id(self, session_id: int) -> SessionOnFile | None:
        """The session ``session_id``."""
        row = self._session.get(WebSession, session_id)
        return _session(row) if row is not None else None

    def mark_session(self, session_id: int, *, locked: bool, touched: bool) -> None:
        """Lock or unlock; mark it active now if ``touched``."""
        row = self._session.get(WebSession, session_id)
        assert row is not None
        row.locked = locked
        if touched:
            row.last_active_at = self._actor.at

    def end_session(self, session_id: int) -> None:
        """End the session now (if it exists)."""
        row = self._session.get(WebSession, session_id)
        if row is not None and row.ended_at is None:
            row.ended_at = self._actor.at
