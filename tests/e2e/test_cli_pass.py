"""`gate pass issue / verify / revoke / rotate-key`, run as the real command."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from gate.app.actor import Actor
from gate.app.visitors import RegisterVisitor, register_visitor
from gate.domain.documents import DocumentType
from gate.runtime.bootstrap import Services
from registry.models import AuditEvent, IssuedPass
from tests.e2e.conftest import OUTSIDER, RESIDENT_A, populate
from tests.e2e.test_cli_log import env_of
from tests.e2e.test_serve import gate
from tests.registry.builders import resident_number

VISITOR = resident_number("19950505", "012")


def _issue(env: dict[str, str], *args: str) -> dict[str, object]:
    done = gate(env, "pass", "issue", *args, "--json")
    assert done.returncode == 0, done.stderr
    issued: dict[str, object] = json.loads(done.stdout)
    return issued


def _verify(env: dict[str, str], token: str) -> tuple[int, dict[str, object]]:
    done = gate(env, "pass", "verify", token, "--json")
    assert done.stdout, f"exit {done.returncode}: {done.stderr}"  # a verdict, whatever it is
    return done.returncode, json.loads(done.stdout)


@pytest.mark.slow
def test_issue_verify_revoke_a_resident_pass_from_the_command_line(services: Services) -> None:
    populate(services)
    env = env_of(services)
    issued = _issue(env, "--person", RESIDENT_A, "--kind", "resident", "--valid-for", "2h")
    assert set(issued) >= {"pass_id", "token"}
    assert issued["rotating"] is True
    token = str(issued["token"])
    assert RESIDENT_A not in token
    code, verdict = _verify(env, token)
    assert (code, verdict["valid"], verdict["reason"]) == (0, True, "qr_pass")
    # Verifying spends nothing and logs no passage; an edited token is refused by reason.
    code, verdict = _verify(env, token[:-3] + ("000" if token[-3:] != "000" else "111"))
    assert code == 2
    assert verdict["valid"] is False
    assert verdict["reason"] in ("pass_bad_code", "pass_malformed")
    revoked = gate(env, "pass", "revoke", str(issued["pass_id"]))
    assert revoked.returncode == 0, revoked.stderr
    assert _verify(env, token)[1]["reason"] == "pass_revoked"
    again = gate(env, "pass", "revoke", str(issued["pass_id"]))
    assert again.returncode == 1
    assert again.stderr.startswith("error: pass already revoked")
    with services.database.session() as session:
        actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
        row = session.get(IssuedPass, str(issued["pass_id"]))
    assert row is not None
    assert row.revoked_at is not None
    assert "pass.issue" in actions
    assert "pass.revoke" in actions


@pytest.mark.slow
def test_an_invite_and_a_key_rotation_from_the_command_line(services: Services) -> None:
    populate(services)
    env = env_of(services)
    invite = _issue(
        env,
        "--person",
        RESIDENT_A,
        "--kind",
        "invite",
        "--visitor-name",
        "赵六",
        "--valid-for",
        "3h",
    )
    assert invite["kind"] == "invite"
    assert invite["rotating"] is False
    first_key = _issue(env, "--person", RESIDENT_A, "--kind", "resident", "--printed")
    assert gate(env, "pass", "rotate-key").returncode == 0
    # One rotation: the previous key still verifies.
    assert _verify(env, str(first_key["token"]))[1]["valid"] is True
    assert gate(env, "pass", "rotate-key").returncode == 0
    # Two: a pass of the retired key is refused for its key.
    code, verdict = _verify(env, str(first_key["token"]))
    assert (code, verdict["reason"]) == (2, "pass_unknown_key")
    assert _verify(env, str(invite["token"]))[1]["reason"] == "pass_unknown_key"
    keys = sorted(path.name for path in (Path(env["GATE_DATA_DIR"]) / "pass-keys").iterdir())
    assert keys == ["pass-key-0002.key", "pass-key-0003.key"]


@pytest.mark.slow
def test_a_visitor_pass_for_a_registered_visit_from_the_command_line(services: Services) -> None:
    """By the visitor's document number or the visit's ref; never past the visit's end."""
    populate(services)
    admin = Actor(name="guard", origin="test", at=datetime.now(UTC))
    visit = register_visitor(
        RegisterVisitor(
            name="赵六",
            doc_type=DocumentType.RESIDENT_ID,
            number=VISITOR,
            host="1-1-101",
            reason="探望父母",
            hours=2,
        ),
        actor=admin,
        units=services.units,
    ).visitor
    env = env_of(services)
    by_number = _issue(env, "--person", VISITOR, "--kind", "visitor")
    by_ref = _issue(env, "--person", visit.ref, "--kind", "visitor", "--valid-for", "7d")
    for issued in (by_number, by_ref):
        assert issued["kind"] == "visitor"
        assert issued["rotating"] is False  # a window, not a time step
        assert VISITOR not in str(issued["token"])
        code, verdict = _verify(env, str(issued["token"]))
        assert (code, verdict["valid"], verdict["reason"]) == (0, True, "qr_pass")
    with services.database.session() as session:
        rows = {row.pass_id: row for row in session.scalars(select(IssuedPass))}
    longest = rows[str(by_ref["pass_id"])]
    ends = longest.not_after.replace(tzinfo=longest.not_after.tzinfo or UTC)
    assert ends <= datetime.now(UTC) + timedelta(hours=2, minutes=1)  # the visit's end, not 7d
    nobody = gate(env, "pass", "issue", "--person", OUTSIDER, "--kind", "visitor")
    assert nobody.returncode == 1
    assert nobody.stderr.startswith("error: no such visit"), nobody.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--person", "nobody-here", "--kind", "resident"), "error: no such person"),
        (("--person", RESIDENT_A, "--kind", "boss"), "error: pass kind (kind=boss)"),
        (("--person", RESIDENT_A, "--valid-for", "forever"), "error: duration format"),
        (("--person", RESIDENT_A, "--valid-for", "1m"), "error: pass validity"),
        (("--person", RESIDENT_A, "--kind", "invite"), "error: pass visitor name"),
    ],
)
def test_gate_pass_issue_refuses_bad_input_on_one_line(
    services: Services, args: tuple[str, ...], expected: str
) -> None:
    populate(services)
    done = gate(env_of(services), "pass", "issue", *args)
    assert done.returncode == 1
    assert done.stderr.startswith(expected), done.stderr
    assert "Traceback" not in done.stderr
    with services.database.session() as session:
        assert session.scalars(select(IssuedPass)).all() == []


def test_gate_pass_verify_refuses_garbage_without_a_traceback(services: Services) -> None:
    populate(services)
    code, verdict = _verify(env_of(services), "not a pass at all")
    assert code == 2
    assert verdict == {"valid": False, "reason": "pass_malformed", "detail": "base45"}
    # Base45 has "-": a text that starts with it is the text, not an option (CI found it).
    code, verdict = _verify(env_of(services), "-A0$NOG5654LHQJPCJ2DAJ7D")
    assert code == 2
    assert verdict["reason"] == "pass_malformed"
