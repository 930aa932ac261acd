"""Staff accounts and web sessions: create and revoke, sign in, resolve, unlock, sign out.

Validated here, once: a user name of 1 to 64 characters that nobody has, a password of
at least ``MIN_PASSWORD`` characters, a PIN of 4 to 8 digits, buildings for a building
head.

Wrong passwords never lock an account (anyone could lock the night guard out): they are
counted per account and source by a ``LoginThrottle``, and a source that failed too often
waits. Every refusal of a sign-in -- wrong password, unknown name, a waiting source, a
disabled account with a wrong password -- costs one password check and tells the screen
the same thing (``LoginRefused.told``); only the audit row says which it was. Five wrong
PINs end the session: a full sign-in again.

A session lives ``lifetime`` (a shift and a margin) from its sign-in, however active;
idle for ``idle_lock`` it locks and the PIN opens it within that lifetime, never after.

A refused sign-in or unlock is *committed* before ``LoginRefused`` is raised: the failure
count and the audit row must survive the failed request. A session cookie carries a
random token (the store keeps its hash); every request re-checks the account through
``session_version``, so a revoked guard's open terminal stops at its next click.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from gate.app.actor import Actor, unit_pair
from gate.app.ports import UnitOfWork, UnitOfWorkFactory
from gate.app.staff_values import AccountOnFile, ActiveSession, SessionOnFile, SignedIn
from gate.app.throttle import LoginThrottle
from gate.domain.errors import ActionRefused, NotFound
from gate.domain.places import building_key, unit_key
from gate.domain.roles import Role

MIN_PASSWORD = 8
MAX_USERNAME = 64
MAX_DISPLAY_NAME = 100
MAX_FAILURES = 5  # wrong PINs before a session ends
SESSION_LIFETIME = timedelta(hours=14)  # a 12-hour shift and a margin; ``[web] session_hours``


class LoginRefused(ActionRefused):
    """A sign-in or unlock that did not succeed.

    ``reason`` says why, for the audit log; ``told`` is what the screen may say: the same
    for every refused sign-in except a disabled account's right password.
    """

    def __init__(self, reason: str, told: str = "bad_credentials") -> None:
        super().__init__(f"login_{reason}")
        self.reason, self.told = reason, told


@dataclass(frozen=True)
class CreateStaff:
    """A new account; ``building_keys`` are the buildings a building head looks after."""

    username: str
    role: Role
    password: str
    display_name: str = ""  # empty: the user name
    pin: str | None = None
    building_keys: tuple[str, ...] = ()
    unit_keys: tuple[str, ...] = ()  # a unit head's units, "building/unit" ("1/2")


def _unit_keys(keys: tuple[str, ...]) -> list[str]:
    """Unit keys in canonical form (``1号楼/2单元`` -> ``1/2``); ``ActionRefused`` if not one."""
    found = set()
    for key in keys:
        if not key.strip():
            continue
        try:
            building, unit = unit_pair(key)
        except ValueError:
            raise ActionRefused("unit_key_format", key=key[:40]) from None
        found.add(f"{building_key(building)}/{unit_key(unit)}")
    return sorted(found)


def create_staff(command: CreateStaff, *, actor: Actor, units: UnitOfWorkFactory) -> AccountOnFile:
    """Store the account (``ActionRefused`` says what was wrong); audited."""
    username = command.username.strip()
    display_name = command.display_name.strip() or username
    keys = sorted({key.strip() for key in command.building_keys if key.strip()})
    unit_keys = _unit_keys(command.unit_keys)
    if command.role is Role.UNIT_HEAD:
        if not unit_keys:
            raise ActionRefused("required", field="unit_keys")
        # A unit head sees the buildings of their units, and only those units in them.
        keys = sorted({unit_pair(key)[0] for key in unit_keys})
    elif unit_keys:
        raise ActionRefused("unit_keys_unit_head")
    if not username:
        raise ActionRefused("required", field="username")
    if len(username) > MAX_USERNAME:
        raise ActionRefused("too_long", field="username", limit=MAX_USERNAME)
    if len(display_name) > MAX_DISPLAY_NAME:
        raise ActionRefused("too_long", field="display_name", limit=MAX_DISPLAY_NAME)
    if len(command.password) < MIN_PASSWORD:
        raise ActionRefused("password_short", limit=MIN_PASSWORD)
    if command.pin is not None and not (command.pin.isdigit() and 4 <= len(command.pin) <= 8):
        raise ActionRefused("pin_format")
    if command.role is Role.BUILDING_HEAD and not keys:
        raise ActionRefused("required", field="building_keys")
    with units(actor) as uow:
        if uow.staff.account(username) is not None:
            raise ActionRefused("username_taken", username=username)
        account = uow.staff.add(
            username=username,
            display_name=display_name,
            role=command.role,
            password=command.password,
            pin=command.pin,
            building_keys=keys,
            unit_keys=unit_keys,
        )
        uow.audit(
            "account.create",
            f"account:{username}",
            {
                "role": command.role.value,
                "buildings": list(account.building_keys),
                **({"units": list(account.unit_keys)} if account.unit_keys else {}),
            },
        )
        uow.commit()
    return account


def revoke_staff(username: str, *, actor: Actor, units: UnitOfWorkFactory) -> None:
    """Disable an account (``NotFound``); its open sessions end at their next request."""
    with units(actor) as uow:
        account = uow.staff.account(username)
        if account is None:
            raise NotFound(f"no account {username!r}")
        uow.staff.revoke(account.id)
        uow.audit("account.revoke", f"account:{username}")
        uow.commit()


@dataclass(frozen=True)
class SignIn:
    """A user name and password typed at the sign-in form."""

    username: str
    password: str


def sign_in(
    command: SignIn,
    *,
    source: str,
    throttle: LoginThrottle,
    actor: Actor,
    units: UnitOfWorkFactory,
) -> SignedIn:
    """Check the password and open a session, or raise ``LoginRefused``; audited either way.

    The actor is whoever typed: named by the user name they typed, from their address;
    ``source`` is that address as the throttle counts it.
    """
    username = command.username.strip()
    name = username[:MAX_USERNAME]
    waiting = throttle.waiting(name, source)
    with units(actor) as uow:
        account = uow.staff.account(username)
        # One password check whatever happens next: no refusal is faster than another.
        matches = uow.staff.password_matches(account, command.password)
        reason, told = None, "bad_credentials"
        if waiting:
            reason = "throttled"
        elif account is None:
            reason = "unknown_user"
        elif not matches:
            reason = "bad_password"
        elif account.revoked:
            reason = told = "revoked"  # only to whoever knows the password
        if reason in ("unknown_user", "bad_password"):
            throttle.failed(name, source)
        if reason is not None:
            uow.audit("login.refused", f"account:{name}", {"reason": reason})
            uow.commit()
            raise LoginRefused(reason, told)
        assert account is not None
        uow.staff.set_failures(account.id, failed_logins=0, locked_until=None)
        token = uow.staff.open_session(account)
        uow.audit("login", f"account:{username}")
        uow.commit()
    throttle.succeeded(name, source)
    return SignedIn(token=token, account=account)


def _count_failure(uow: UnitOfWork, account: AccountOnFile) -> bool:
    """One more wrong PIN; True if that makes ``MAX_FAILURES`` (the session must end).

    The account is never locked: whoever walks up to an idle terminal must not be able
    to keep its guard from signing in again.
    """
    failures = account.failed_logins + 1
    uow.staff.set_failures(account.id, failed_logins=failures, locked_until=None)
    return failures >= MAX_FAILURES


def resolve_session(
    token: str,
    *,
    idle_lock: timedelta,
    lifetime: timedelta = SESSION_LIFETIME,
    touch: bool = True,
    actor: Actor,
    units: UnitOfWorkFactory,
) -> ActiveSession | None:
    """The session behind a cookie token, or None if it is unknown, ended or outdated.

    A session idle longer than ``idle_lock`` is locked: it stays valid but needs the PIN.
    One older than ``lifetime`` (since its sign-in) is ended: a full sign-in only.
    ``touch`` marks it active now (a page view; not a background check).
    """
    with units(actor) as uow:
        found = uow.staff.session(token)
        if found is None or found.ended:
            return None
        account = found.account
        expired = actor.at - found.created_at > lifetime
        outdated = expired or account.revoked or found.session_version != account.session_version
        locked = found.locked or actor.at - found.last_active_at > idle_lock
        if not outdated and (locked != found.locked or (touch and not locked)):
            uow.staff.mark_session(found.id, locked=locked, touched=touch and not locked)
            uow.commit()
    if outdated:
        _refuse_session(found, actor=actor, units=units)
        return None
    return ActiveSession(
        session_id=found.id,
        account_id=account.id,
        username=account.username,
        display_name=account.display_name,
        role=account.role,
        building_keys=account.building_keys,
        unit_keys=account.unit_keys,
        csrf_token=found.csrf_token,
        locked=locked,
    )


def _refuse_session(found: SessionOnFile, *, actor: Actor, units: UnitOfWorkFactory) -> None:
    """End an outdated or expired session; audited in the account's name, from its origin."""
    account = found.account
    owner = dataclasses.replace(actor, name=account.username, origin=found.origin)
    with units(owner) as uow:
        if account.revoked or found.session_version != account.session_version:
            reason = "revoked" if account.revoked else "account changed"
            uow.staff.end_session(found.id)
            uow.audit("session.refused", f"account:{account.username}", {"reason": reason})
        else:
            _expire(uow, found)
        uow.commit()


def _expire(uow: UnitOfWork, found: SessionOnFile) -> None:
    """End a session past its lifetime (the caller commits)."""
    uow.staff.end_session(found.id)
    uow.audit(
        "session.expired",
        f"account:{found.account.username}",
        {"signed_in_at": found.created_at.isoformat()},
    )


@dataclass(frozen=True)
class UnlockSession:
    """Re-open an idle-locked session with the PIN, or the password."""

    session_id: int
    pin: str
    password: str | None = None


def unlock_session(
    command: UnlockSession,
    *,
    lifetime: timedelta = SESSION_LIFETIME,
    actor: Actor,
    units: UnitOfWorkFactory,
) -> None:
    """Unlock, or raise ``LoginRefused`` (too many wrong PINs also end the session).

    A session past its ``lifetime`` is not unlocked by anything: sign in again.
    """
    with units(actor) as uow:
        found = uow.staff.session_by_id(command.session_id)
        if found is None or found.ended:
            raise LoginRefused("no_session")
        if actor.at - found.created_at > lifetime:
            _expire(uow, found)
            uow.commit()
            raise LoginRefused("no_session")
        account = found.account
        ok = uow.staff.pin_matches(account, command.pin) or (
            command.password is not None and uow.staff.password_matches(account, command.password)
        )
        if not ok:
            if _count_failure(uow, account):
                uow.staff.end_session(found.id)  # too many wrong PINs: back to a full login
            uow.audit("unlock.refused", f"account:{account.username}")
            uow.commit()
            raise LoginRefused("bad_pin")
        uow.staff.set_failures(account.id, failed_logins=0, locked_until=None)
        uow.staff.mark_session(found.id, locked=False, touched=True)
        uow.commit()


def end_session(session_id: int, *, actor: Actor, units: UnitOfWorkFactory) -> None:
    """Sign out."""
    with units(actor) as uow:
        uow.staff.end_session(session_id)
        uow.commit()


def record_denial(
    target: str, detail: Mapping[str, Any], *, actor: Actor, units: UnitOfWorkFactory
) -> None:
    """Audit an attempt the actor's role or form did not allow (``access.denied``)."""
    with units(actor) as uow:
        uow.audit("access.denied", target, detail)
        uow.commit()
