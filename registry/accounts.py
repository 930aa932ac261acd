"""Staff accounts and web sessions: argon2 passwords, lockout, revocation, idle lock.

A session cookie carries a random token; the database keeps only its SHA-256. Every
request re-checks the account (revoked? role changed?) through ``session_version``, so a
revoked guard's open terminal stops working at its next click.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from gate.domain.errors import GateError, NotFound
from gate.domain.roles import Role
from registry.models import StaffAccount, WebSession
from registry.service import audit

MIN_PASSWORD = 8
MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
_hasher = PasswordHasher()


class LoginRefused(GateError):
    """A login or unlock that did not succeed; ``reason`` says why (for the audit log)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class ActiveSession:
    """A valid session and its account, as a request sees it."""

    session_id: int
    account_id: int
    username: str
    display_name: str
    role: Role
    building_keys: tuple[str, ...]
    csrf_token: str
    locked: bool


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_account(
    session: Session,
    *,
    username: str,
    display_name: str,
    role: Role,
    password: str,
    now: datetime,
    actor: str,
    origin: str,
    pin: str | None = None,
    building_keys: list[str] | None = None,
) -> StaffAccount:
    """A new account; ``ValueError`` for a weak password or a taken name."""
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"a password has at least {MIN_PASSWORD} characters")
    if pin is not None and not (pin.isdigit() and 4 <= len(pin) <= 8):
        raise ValueError("a PIN is 4 to 8 digits")
    if session.scalar(select(StaffAccount).where(StaffAccount.username == username)):
        raise ValueError(f"the user name {username!r} is taken")
    account = StaffAccount(
        username=username,
        display_name=display_name,
        role=role.value,
        building_keys=sorted(building_keys or []),
        password_hash=_hasher.hash(password),
        pin_hash=_hasher.hash(pin) if pin else None,
        created_at=now,
    )
    session.add(account)
    session.flush()
    audit(
        session,
        actor=actor,
        origin=origin,
        action="account.create",
        target=f"account:{username}",
        at=now,
        detail={"role": role.value, "buildings": account.building_keys},
    )
    return account


def _verify(hashed: str | None, secret: str) -> bool:
    if hashed is None:
        return False
    try:
        return _hasher.verify(hashed, secret)
    except (VerificationError, InvalidHashError):
        return False


def authenticate(
    session: Session, *, username: str, password: str, now: datetime, origin: str
) -> StaffAccount:
    """The account if the password is right; ``LoginRefused`` otherwise (audited either way)."""
    account = session.scalar(select(StaffAccount).where(StaffAccount.username == username))
    reason = None
    if account is None:
        _hasher.hash(password)  # same cost as a real check: no user-name probing by timing
        reason = "bad_credentials"
    elif account.revoked_at is not None:
        reason = "revoked"
    elif account.locked_until is not None and account.locked_until > now:
        reason = "locked"
    elif not _verify(account.password_hash, password):
        account.failed_logins += 1
        if account.failed_logins >= MAX_FAILURES:
            account.locked_until = now + LOCKOUT
        reason = "bad_credentials"
    if reason is not None:
        audit(
            session,
            actor=username[:100],
            origin=origin,
            action="login.refused",
            target=f"account:{username[:64]}",
            at=now,
            detail={"reason": reason},
        )
        raise LoginRefused(reason)
    assert account is not None
    account.failed_logins = 0
    account.locked_until = None
    audit(
        session, actor=username, origin=origin, action="login", target=f"account:{username}", at=now
    )
    return account


def open_session(
    session: Session, *, account: StaffAccount, now: datetime, origin: str
) -> tuple[str, WebSession]:
    """A new session for ``account``; returns the cookie token (shown once) and the row."""
    token = secrets.token_urlsafe(32)
    row = WebSession(
        token_hash=_token_hash(token),
        account_id=account.id,
        session_version=account.session_version,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        last_active_at=now,
        origin=origin[:100],
    )
    session.add(row)
    session.flush()
    return token, row


def resolve_session(
    session: Session, *, token: str, now: datetime, idle_lock: timedelta, touch: bool = True
) -> ActiveSession | None:
    """The session behind a cookie token, or None if it is unknown, ended or outdated.

    A session idle longer than ``idle_lock`` is locked: it stays valid but needs the PIN.
    """
    row = session.scalar(select(WebSession).where(WebSession.token_hash == _token_hash(token)))
    if row is None or row.ended_at is not None:
        return None
    account = row.account
    if account.revoked_at is not None or row.session_version != account.session_version:
        row.ended_at = now
        audit(
            session,
            actor=account.username,
            origin=row.origin,
            action="session.refused",
            target=f"account:{account.username}",
            at=now,
            detail={"reason": "revoked" if account.revoked_at else "account changed"},
        )
        return None
    if now - row.last_active_at > idle_lock:
        row.locked = True
    if touch and not row.locked:
        row.last_active_at = now
    return ActiveSession(
        session_id=row.id,
        account_id=account.id,
        username=account.username,
        display_name=account.display_name,
        role=Role(account.role),
        building_keys=tuple(account.building_keys),
        csrf_token=row.csrf_token,
        locked=row.locked,
    )


def unlock_session(
    session: Session, *, session_id: int, pin: str, password: str | None, now: datetime, origin: str
) -> None:
    """Unlock an idle-locked session with the PIN (or the password); ``LoginRefused``."""
    row = session.get(WebSession, session_id)
    if row is None or row.ended_at is not None:
        raise LoginRefused("no_session")
    account = row.account
    ok = _verify(account.pin_hash, pin) or (
        password is not None and _verify(account.password_hash, password)
    )
    if not ok:
        account.failed_logins += 1
        if account.failed_logins >= MAX_FAILURES:
            account.locked_until = now + LOCKOUT
            row.ended_at = now  # too many wrong PINs: back to a full login
        audit(
            session,
            actor=account.username,
            origin=origin,
            action="unlock.refused",
            target=f"account:{account.username}",
            at=now,
        )
        raise LoginRefused("bad_pin")
    account.failed_logins = 0
    row.locked = False
    row.last_active_at = now


def end_session(session: Session, *, session_id: int, now: datetime) -> None:
    """Log out."""
    row = session.get(WebSession, session_id)
    if row is not None:
        row.ended_at = now


def revoke_account(
    session: Session, *, username: str, now: datetime, actor: str, origin: str
) -> None:
    """Disable an account; its open sessions end at their next request."""
    account = session.scalar(select(StaffAccount).where(StaffAccount.username == username))
    if account is None:
        raise NotFound(f"no account {username!r}")
    account.revoked_at = now
    account.session_version += 1
    audit(
        session,
        actor=actor,
        origin=origin,
        action="account.revoke",
        target=f"account:{username}",
        at=now,
    )
