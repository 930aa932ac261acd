"""The staff use cases, called directly: accounts, sign-in and its throttle, sessions.

A refused creation writes nothing; a refused sign-in or unlock is committed all the same
(failure count, audit row), because the request that carries it fails.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from gate.app.actor import Actor
from gate.app.staff import (
    MAX_FAILURES,
    SESSION_LIFETIME,
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
from gate.app.staff_values import SignedIn
from gate.app.throttle import ACCOUNT_FAILURES, LOGIN_WINDOW, SOURCE_FAILURES, LoginThrottle
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


def login(
    services: Services,
    command: SignIn,
    actor: Actor,
    throttle: LoginThrottle | None = None,
) -> SignedIn:
    """``sign_in`` from the actor's address (``web@ADDRESS``), by default unthrottled."""
    return sign_in(
        command,
        source=actor.origin.removeprefix("web@"),
        throttle=throttle or LoginThrottle(),
        actor=actor,
        units=services.units,
    )


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
    signed_in = login(services, SignIn(" guard1", PASSWORD), at(0))
    assert signed_in.account.role is Role.GUARD
    active = resolve_session(signed_in.token, idle_lock=IDLE, actor=at(1), units=services.units)
    assert active is not None
    assert (active.username, active.display_name, active.locked) == ("guard1", "王师傅", False)
    assert active.csrf_token
    assert audit_rows(services)[-1] == ("login", "guard1", "web@10.0.0.5", "account:guard1")
    assert resolve_session("forged", idle_lock=IDLE, actor=at(1), units=services.units) is None


def test_wrong_passwords_hold_back_their_source_and_never_lock_the_account(
    services: Services,
) -> None:
    add_guard(services)
    clock = [0.0]
    throttle = LoginThrottle(monotonic=lambda: clock[0])
    for attempt in range(SOURCE_FAILURES):
        with pytest.raises(LoginRefused) as refused:
            login(services, SignIn("guard1", "nope-nope"), at(attempt), throttle)
        assert (refused.value.reason, refused.value.told) == ("bad_password", "bad_credentials")
    # That source now waits, even with the right password; it is told the same words.
    with pytest.raises(LoginRefused) as waiting:
        login(services, SignIn("guard1", PASSWORD), at(10), throttle)
    assert (waiting.value.reason, waiting.value.told) == ("throttled", "bad_credentials")
    # The account is not locked: another machine signs in.
    login(services, SignIn("guard1", PASSWORD), at(11, origin="web@10.0.0.6"), throttle)
    row = stored(services, "guard1")
    assert row is not None
    assert (row.failed_logins, row.locked_until) == (0, None)
    refusals = [row for row in audit_rows(services) if row[0] == "login.refused"]
    assert len(refusals) == SOURCE_FAILURES + 1
    # After the window the waiting source gets through again.
    clock[0] += LOGIN_WINDOW.total_seconds() + 1
    login(services, SignIn("guard1", PASSWORD), at(30), throttle)


def test_many_sources_hold_back_untrusted_ones_but_never_the_terminal() -> None:
    throttle = LoginThrottle(trusted=("127.0.0.1", "::1"))
    for number in range(ACCOUNT_FAILURES):
        assert not throttle.waiting("guard", f"10.0.1.{number}")
        throttle.failed("guard", f"10.0.1.{number}")
    assert throttle.waiting("guard", "10.0.2.1")
    assert not throttle.waiting("guard", "127.0.0.1")
    assert not throttle.waiting("guard", "::ffff:127.0.0.1")
    assert not throttle.waiting("head1", "10.0.2.1")  # other accounts are not affected
    assert not throttle.trusted("testclient")


def test_an_unknown_name_is_refused_like_a_wrong_password_and_audited_as_typed(
    services: Services,
) -> None:
    with pytest.raises(LoginRefused) as refused:
        login(services, SignIn("nobody", PASSWORD), at(0, name="nobody"))
    assert (refused.value.reason, refused.value.told) == ("unknown_user", "bad_credentials")
    assert audit_rows(services) == [("login.refused", "nobody", "web@10.0.0.5", "account:nobody")]


def test_a_revoked_accounts_open_session_ends_at_its_next_request(services: Services) -> None:
    add_guard(services)
    token = login(services, SignIn("guard1", PASSWORD), at(0)).token
    revoke_staff("guard1", actor=ADMIN, units=services.units)
    assert resolve_session(token, idle_lock=IDLE, actor=at(1, ""), units=services.units) is None
    refused = [row for row in audit_rows(services) if row[0] == "session.refused"]
    # In the account's name, from where the session was opened.
    assert refused == [("session.refused", "guard1", "web@10.0.0.5", "account:guard1")]
    assert resolve_session(token, idle_lock=IDLE, actor=at(2, ""), units=services.units) is None
    assert len([row for row in audit_rows(services) if row[0] == "session.refused"]) == 1
    with pytest.raises(LoginRefused) as again:
        login(services, SignIn("guard1", PASSWORD), at(3))
    assert (again.value.reason, again.value.told) == ("revoked", "revoked")
    # Without the password nothing says the name was ever an account.
    with pytest.raises(LoginRefused) as guessed:
        login(services, SignIn("guard1", "nope-nope"), at(3))
    assert (guessed.value.reason, guessed.value.told) == ("bad_password", "bad_credentials")
    with pytest.raises(NotFound):
        revoke_staff("nobody", actor=ADMIN, units=services.units)


def test_an_idle_session_locks_and_the_pin_opens_it_again(services: Services) -> None:
    add_guard(services)
    token = login(services, SignIn("guard1", PASSWORD), at(0)).token
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
    token = login(services, SignIn("guard1", PASSWORD), at(0)).token
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
    # Whoever typed the wrong PINs did not lock the guard out: a full sign-in works.
    login(services, SignIn("guard1", PASSWORD), at(22))


def test_a_session_ends_at_its_lifetime_and_no_pin_revives_it(services: Services) -> None:
    add_guard(services)
    token = login(services, SignIn("guard1", PASSWORD), at(0)).token
    hours = SESSION_LIFETIME.total_seconds() / 3600
    within = resolve_session(
        token, idle_lock=IDLE, actor=at(60 * (hours - 1)), units=services.units
    )
    assert within is not None
    assert within.locked
    past = at(60 * hours + 1)
    with pytest.raises(LoginRefused) as refused:
        unlock_session(UnlockSession(within.session_id, "2468"), actor=past, units=services.units)
    assert refused.value.reason == "no_session"
    assert resolve_session(token, idle_lock=IDLE, actor=past, units=services.units) is None
    assert [row[0] for row in audit_rows(services)].count("session.expired") == 1
    # A shorter configured lifetime ends it sooner, whatever the activity.
    token = login(services, SignIn("guard1", PASSWORD), at(0)).token
    short = timedelta(hours=2)
    for minute in range(0, 120, 4):
        active = resolve_session(
            token, idle_lock=IDLE, lifetime=short, actor=at(minute), units=services.units
        )
        assert active is not None
        assert not active.locked
    assert (
        resolve_session(token, idle_lock=IDLE, lifetime=short, actor=at(121), units=services.units)
        is None
    )


def test_signing_out_ends_the_session_and_a_denial_is_audited(services: Services) -> None:
    add_guard(services)
    token = login(services, SignIn("guard1", PASSWORD), at(0)).token
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
