"""The staff use cases, called directly: accounts, sign-in and lockout, sessions and idle lock.

A refused creation writes nothing; a refused sign-in or unlock is committed all the same
(failure count, lockout, audit row), because the request that carries it fails.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from gate.app.actor import Actor
from gate.app.staff import (
    LOCKOUT,
    MAX_FAILURES,
    CreateStaff,
    LoginRefused,
    SignIn,
    UnlockSession,
    create_staff,
    end_session,
    record_denial,
    resolve_session,
    revoke_staff,
    sign_in,
    unlock_session,
)
from gate.domain.errors import ActionRefused, NotFound
from gate.domain.roles import Role
from gate.runtime.bootstrap import Services
from registry.models import AuditEvent, StaffAccount

NOW = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)
ADMIN = Actor("admin", "cli@gatebox", NOW)
IDLE = timedelta(minutes=5)
PASSWORD = "guard-password"


def at(minutes: float, name: str = "guard1", origin: str = "web@10.0.0.5") -> Actor:
    """Whoever sends a request ``minutes`` after ``NOW``."""
    return Actor(name, origin, NOW + timedelta(minutes=minutes))


def audit_rows(services: Services) -> list[tuple[str, str, str, str]]:
    with services.database.session() as session:
        return [
            (event.action, event.actor, event.origin, event.target)
            for event in session.scalars(select(AuditEvent).order_by(AuditEvent.id))
        ]


def stored(services: Services, username: str) -> StaffAccount | None:
    with services.database.session() as session:
        return session.scalar(select(StaffAccount).where(StaffAccount.username == username))


def add_guard(services: Services, pin: str | None = "2468") -> None:
    command = CreateStaff("guard1", Role.GUARD, PASSWORD, display_name="王师傅", pin=pin)
    create_staff(command, actor=ADMIN, units=services.units)


@pytest.mark.parametrize(
    ("command", "code"),
    [
        (CreateStaff("  ", Role.GUARD, PASSWORD), "required"),
        (CreateStaff("x" * 65, Role.GUARD, PASSWORD), "too_long"),
        (CreateStaff("guard2", Role.GUARD, "short"), "password_short"),
        (CreateStaff("guard2", Role.GUARD, PASSWORD, pin="12a4"), "pin_format"),
        (CreateStaff("guard2", Role.GUARD, PASSWORD, pin="123"), "pin_format"),
        (CreateStaff("head", Role.BUILDING_HEAD, PASSWORD, building_keys=(" ",)), "required"),
        (CreateStaff("guard1", Role.OFFICE, PASSWORD), "username_taken"),
    ],
    ids=["no name", "long name", "short password", "pin letters", "pin short", "head", "taken"],
)
def test_a_refused_account_names_its_code_and_writes_nothing(
    services: Services, command: CreateStaff, code: str
) -> None:
    add_guard(services)
    before = audit_rows(services)
    with pytest.raises(ActionRefused) as refused:
        create_staff(command, actor=ADMIN, units=services.units)
    assert refused.value.code == code
    assert audit_rows(services) == before
    assert stored(services, "guard2") is None


def test_an_account_is_created_once_and_audited_in_the_creators_name(services: Services) -> None:
    command = CreateStaff(" head1 ", Role.BUILDING_HEAD, PASSWORD, building_keys=("2", "1", "2"))
    account = create_staff(command, actor=ADMIN, units=services.units)
    assert (account.username, account.display_name) == ("head1", "head1")
    assert account.building_keys == ("1", "2")
    assert audit_rows(services) == [("account.create", "admin", "cli@gatebox", "account:head1")]
    row = stored(services, "head1")
    assert row is not None
    assert PASSWORD not in row.password_hash


def test_a_sign_in_opens_a_session_that_the_cookie_token_finds(services: Services) -> None:
    add_guard(services)
    signed_in = sign_in(SignIn(" guard1", PASSWORD), actor=at(0), units=services.units)
    assert signed_in.account.role is Role.GUARD
    active = resolve_session(signed_in.token, idle_lock=IDLE, actor=at(1), units=services.units)
    assert active is not None
    assert (active.username, active.display_name, active.locked) == ("guard1", "王师傅", False)
    assert active.csrf_token
    assert audit_rows(services)[-1] == ("login", "guard1", "web@10.0.0.5", "account:guard1")
    assert resolve_session("forged", idle_lock=IDLE, actor=at(1), units=services.units) is None


def test_wrong_passwords_are_counted_and_lock_the_account_even_though_they_fail(
    services: Services,
) -> None:
    add_guard(services)
    for attempt in range(MAX_FAILURES):
        with pytest.raises(LoginRefused) as refused:
            sign_in(SignIn("guard1", "nope-nope"), actor=at(attempt), units=services.units)
        assert refused.value.reason == "bad_credentials"
    row = stored(services, "guard1")
    assert row is not None
    assert row.failed_logins == MAX_FAILURES
    assert row.locked_until == NOW + timedelta(minutes=MAX_FAILURES - 1) + LOCKOUT
    with pytest.raises(LoginRefused) as locked:
        sign_in(SignIn("guard1", PASSWORD), actor=at(10), units=services.units)
    assert locked.value.reason == "locked"
    refusals = [row for row in audit_rows(services) if row[0] == "login.refused"]
    assert len(refusals) == MAX_FAILURES + 1
    # After the lockout the right password opens again and clears the count.
    sign_in(SignIn("guard1", PASSWORD), actor=at(30), units=services.units)
    row = stored(services, "guard1")
    assert row is not None
    assert (row.failed_logins, row.locked_until) == (0, None)


def test_an_unknown_name_is_refused_like_a_wrong_password_and_audited_as_typed(
    services: Services,
) -> None:
    with pytest.raises(LoginRefused) as refused:
        sign_in(SignIn("nobody", PASSWORD), actor=at(0, name="nobody"), units=services.units)
    assert refused.value.reason == "bad_credentials"
    assert audit_rows(services) == [("login.refused", "nobody", "web@10.0.0.5", "account:nobody")]


def test_a_revoked_accounts_open_session_ends_at_its_next_request(services: Services) -> None:
    add_guard(services)
    token = sign_in(SignIn("guard1", PASSWORD), actor=at(0), units=services.units).token
    revoke_staff("guard1", actor=ADMIN, units=services.units)
    assert resolve_session(token, idle_lock=IDLE, actor=at(1, ""), units=services.units) is None
    refused = [row for row in audit_rows(services) if row[0] == "session.refused"]
    # In the account's name, from where the session was opened.
    assert refused == [("session.refused", "guard1", "web@10.0.0.5", "account:guard1")]
    assert resolve_session(token, idle_lock=IDLE, actor=at(2, ""), units=services.units) is None
    assert len([row for row in audit_rows(services) if row[0] == "session.refused"]) == 1
    with pytest.raises(LoginRefused) as again:
        sign_in(SignIn("guard1", PASSWORD), actor=at(3), units=services.units)
    assert again.value.reason == "revoked"
    with pytest.raises(NotFound):
        revoke_staff("nobody", actor=ADMIN, units=services.units)


def test_an_idle_session_locks_and_the_pin_opens_it_again(services: Services) -> None:
    add_guard(services)
    token = sign_in(SignIn("guard1", PASSWORD), actor=at(0), units=services.units).token
    # A background check does not keep the session awake.
    probe = resolve_session(token, idle_lock=IDLE, touch=False, actor=at(4), units=services.units)
    assert probe is not None
    assert not probe.locked
    idle = resolve_session(token, idle_lock=IDLE, actor=at(6), units=services.units)
    assert idle is not None
    assert idle.locked
    with pytest.raises(LoginRefused) as wrong:
        unlock_session(UnlockSession(idle.session_id, "0000"), actor=at(7), units=services.units)
    assert wrong.value.reason == "bad_pin"
    assert audit_rows(services)[-1][0] == "unlock.refused"
    row = stored(services, "guard1")
    assert row is not None
    assert row.failed_logins == 1
    unlock_session(UnlockSession(idle.session_id, "2468"), actor=at(8), units=services.units)
    active = resolve_session(token, idle_lock=IDLE, actor=at(9), units=services.units)
    assert active is not None
    assert not active.locked
    row = stored(services, "guard1")
    assert row is not None
    assert row.failed_logins == 0


def test_the_password_unlocks_too_and_five_wrong_pins_end_the_session(services: Services) -> None:
    add_guard(services, pin=None)
    token = sign_in(SignIn("guard1", PASSWORD), actor=at(0), units=services.units).token
    active = resolve_session(token, idle_lock=IDLE, actor=at(6), units=services.units)
    assert active is not None
    unlock = UnlockSession(active.session_id, "", password=PASSWORD)
    unlock_session(unlock, actor=at(7), units=services.units)
    for attempt in range(MAX_FAILURES):
        with pytest.raises(LoginRefused):
            unlock_session(
                UnlockSession(active.session_id, "1234"),
                actor=at(8 + attempt),
                units=services.units,
            )
    assert resolve_session(token, idle_lock=IDLE, actor=at(20), units=services.units) is None
    with pytest.raises(LoginRefused) as ended:
        unlock_session(unlock, actor=at(21), units=services.units)
    assert ended.value.reason == "no_session"


def test_signing_out_ends_the_session_and_a_denial_is_audited(services: Services) -> None:
    add_guard(services)
    token = sign_in(SignIn("guard1", PASSWORD), actor=at(0), units=services.units).token
    active = resolve_session(token, idle_lock=IDLE, actor=at(1), units=services.units)
    assert active is not None
    end_session(active.session_id, actor=at(2), units=services.units)
    assert resolve_session(token, idle_lock=IDLE, actor=at(3), units=services.units) is None
    record_denial("permission:audit", {"path": "/audit"}, actor=at(4), units=services.units)
    assert audit_rows(services)[-1] == (
        "access.denied",
        "guard1",
        "web@10.0.0.5",
        "permission:audit",
    )
