"""Plain values of staff accounts and web sessions, as the stores and the screens see them.

No secret travels in them: password and PIN hashes and the session token's hash stay in
``registry/``; the cookie token itself is handed out once, when a session opens.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from gate.domain.roles import Role


@dataclass(frozen=True)
class AccountOnFile:
    """A staff account as stored: who, which role, and its lockout and revocation state."""

    id: int
    username: str
    display_name: str
    role: Role
    building_keys: tuple[str, ...]
    revoked: bool
    failed_logins: int
    locked_until: datetime | None
    session_version: int  # goes up when the account is revoked or changed
    unit_keys: tuple[str, ...] = ()  # a unit head's units, "building/unit"


@dataclass(frozen=True)
class SessionOnFile:
    """A web session as stored, with its account."""

    id: int
    account: AccountOnFile
    session_version: int  # the account's version when it opened
    csrf_token: str
    origin: str  # where it was opened
    created_at: datetime  # the sign-in: the session's absolute lifetime counts from here
    last_active_at: datetime
    locked: bool
    ended: bool


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
    unit_keys: tuple[str, ...] = ()  # a unit head's units, "building/unit"


@dataclass(frozen=True)
class SignedIn:
    """A sign-in that succeeded: the cookie token (shown once) and the account."""

    token: str
    account: AccountOnFile
