"""The terminal's endpoints refuse what they must, change nothing, and say so in the audit log."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.app import create_app
from gate.app.actor import Actor
from gate.app.exemptions import AddExemption, add_exemption
from gate.app.staff import revoke_staff
from gate.domain.documents import DocumentType
from gate.domain.model import Credential, CredentialKind, Direction, DocumentRead
from gate.domain.roles import Role
from gate.runtime.bootstrap import Services, build_station
from registry.models import AuditEvent, Passage
from tests.e2e.conftest import OUTSIDER, QUARANTINED, RESIDENT_A, populate
from tests.gate.app.staff_builders import add_staff


@pytest.fixture
def guard_client(services: Services) -> Iterator[tuple[TestClient, object, str]]:
    populate(services)
    add_guard(services, "guard1", "王师傅")
    station = build_station(services)
    with TestClient(create_app(services, station)) as client:
        client.post("/login", data={"username": "guard1", "password": "guard-password"})
        page = client.get("/terminal")
        token = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
        assert token is not None
        yield client, station, token.group(1)


def add_guard(services: Services, username: str, name: str, pin: str | None = None) -> None:
    add_staff(services, username, Role.GUARD, "guard-password", name=name, pin=pin)


def outsider_review(station: object) -> int:
    result = station.gate.pipeline.process(  # type: ignore[attr-defined]
        Credential(
            CredentialKind.ID_CARD, document=DocumentRead(DocumentType.RESIDENT_ID, OUTSIDER)
        ),
        lane="main",
        direction=Direction.IN,
    )
    return int(result.record.seq)


def post_override(client: TestClient, seq: int, text: str, token: str | None) -> Any:
    headers = {"X-CSRF-Token": token} if token else {}
    body = {"outcome": "allow", "reason_code": "identity_confirmed", "text": text}
    return client.post(f"/terminal/passages/{seq}/override", json=body, headers=headers)


def audit_actions(services: Services) -> list[str]:
    with services.database.session() as session:
        return [
            event.action for event in session.scalars(select(AuditEvent).order_by(AuditEvent.id))
        ]


def overrides(services: Services) -> list[Passage]:
    with services.database.session() as session:
        return list(session.scalars(select(Passage).where(Passage.overrides_seq.is_not(None))))


def test_an_override_without_its_csrf_token_is_refused_and_audited(
    services: Services, guard_client: tuple[TestClient, object, str]
) -> None:
    client, station, _token = guard_client
    seq = outsider_review(station)
    response = post_override(client, seq, "ok", None)
    assert response.status_code == 403
    assert overrides(services) == []
    assert "access.denied" in audit_actions(services)


def test_an_override_with_an_empty_reason_is_refused_and_audited(
    services: Services, guard_client: tuple[TestClient, object, str]
) -> None:
    client, station, token = guard_client
    seq = outsider_review(station)
    response = post_override(client, seq, "   ", token)
    assert response.status_code == 409
    # The guard reads the refusal in their language, never the exception's English text.
    assert response.json()["detail"] == "请填写说明（不超过 500 个字）"
    client.cookies.set("gate_lang", "en")
    again = post_override(client, seq, "", token)
    assert again.json()["detail"] == "Write a note (at most 500 characters)"
    client.cookies.set("gate_lang", "zh")
    assert overrides(services) == []
    assert audit_actions(services).count("action.refused") == 2
    done = post_override(client, seq, "业主确认", token)
    assert done.status_code == 200
    assert done.json()["overrides_seq"] == seq
    assert "passage.override" in audit_actions(services)


def test_a_revoked_guards_open_session_stops_at_the_next_request(
    services: Services, guard_client: tuple[TestClient, object, str]
) -> None:
    client, station, token = guard_client
    assert client.get("/terminal/state").status_code == 200
    revoke_staff("guard1", actor=Actor("admin", "test", datetime.now(UTC)), units=services.units)
    seq = outsider_review(station)
    refused = post_override(client, seq, "ok", token)
    assert refused.status_code == 401
    assert client.get("/terminal/state").status_code == 401
    assert overrides(services) == []
    assert "session.refused" in audit_actions(services)


def test_a_5_mb_field_is_refused_before_it_is_read(
    services: Services, guard_client: tuple[TestClient, object, str]
) -> None:
    client, station, token = guard_client
    seq = outsider_review(station)
    response = client.post(
        f"/terminal/passages/{seq}/override",
        content=b'{"outcome":"allow","reason_code":"other","text":"' + b"x" * 5_000_000 + b'"}',
        headers={"X-CSRF-Token": token, "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert overrides(services) == []


def test_an_idle_terminal_locks_and_the_guards_pin_opens_it_again(services: Services) -> None:
    populate(services)
    add_guard(services, "guard2", "夜班", pin="2468")
    app = create_app(services, build_station(services))
    with TestClient(app) as client:
        client.post("/login", data={"username": "guard2", "password": "guard-password"})
        page = client.get("/terminal")
        found = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
        assert found is not None
        token = found.group(1)
        # Short only while idling: a loaded machine must not lock the session between the
        # login and the first page, nor between the unlock and the check after it.
        app.state.web.idle_lock = timedelta(milliseconds=300)
        time.sleep(0.4)
        assert client.get("/terminal/state").status_code == 423
        app.state.web.idle_lock = timedelta(minutes=10)  # the lock is stored: it stays
        locked_page = client.get("/terminal", headers={"accept": "text/html"})
        assert locked_page.status_code == 423
        assert 'name="pin"' in locked_page.text
        wrong = client.post("/unlock", data={"pin": "0000", "csrf_token": token})
        assert wrong.status_code == 401
        assert client.get("/terminal/state").status_code == 423
        right = client.post(
            "/unlock", data={"pin": "2468", "csrf_token": token}, follow_redirects=False
        )
        assert right.status_code == 303
        assert client.get("/terminal/state").status_code == 200
    assert "unlock.refused" in audit_actions(services)


def test_five_wrong_passwords_hold_back_that_machine_and_every_attempt_is_audited(
    services: Services,
) -> None:
    add_guard(services, "guard3", "早班")
    with TestClient(create_app(services, build_station(services))) as client:
        for _attempt in range(5):
            wrong = client.post("/login", data={"username": "guard3", "password": "nope-nope"})
            assert wrong.status_code == 401
        right = client.post("/login", data={"username": "guard3", "password": "guard-password"})
        assert right.status_code == 401  # this machine waits (tests/api/test_login_security.py)
        assert "用户名或密码错误" in right.text
    actions = audit_actions(services)
    assert actions.count("login.refused") == 6
    assert "login" not in actions


def test_terminal_requests_build_no_engine_of_their_own(
    services: Services, guard_client: tuple[TestClient, object, str]
) -> None:
    client, station, _token = guard_client
    outsider_review(station)
    client.get("/terminal/state")  # warm: anything built once is built now
    engines = services.database.engine_count
    for _ in range(25):
        assert client.get("/terminal/state").status_code == 200
        assert client.get("/terminal/search", params={"q": "王"}).status_code == 200
    assert services.database.engine_count == engines


def test_an_allowed_passage_never_asks_the_guard_for_action(
    services: Services, guard_client: tuple[TestClient, object, str]
) -> None:
    client, station, token = guard_client
    resident = station.gate.pipeline.process(  # type: ignore[attr-defined]
        Credential(
            CredentialKind.ID_CARD, document=DocumentRead(DocumentType.RESIDENT_ID, RESIDENT_A)
        ),
        lane="main",
        direction=Direction.OUT,
    )
    review = outsider_review(station)
    state = client.get("/terminal/state").json()
    recent = {item["seq"]: item for item in state["recent"]}
    assert recent[resident.record.seq]["outcome"] == "allow"
    assert recent[resident.record.seq]["needs_action"] is False
    assert recent[review]["needs_action"] is True
    assert [item["seq"] for item in state["alerts"]] == [review]
    decided = post_override(client, review, "业主确认", token).json()
    assert decided["needs_action"] is False
    after = client.get("/terminal/state").json()
    assert after["alerts"] == []
    assert not any(item["needs_action"] for item in after["recent"])


def test_search_does_not_list_a_spent_one_time_pass(
    services: Services, guard_client: tuple[TestClient, object, str]
) -> None:
    client, station, _token = guard_client
    add_exemption(
        AddExemption(
            ("quarantine",),
            "就医（陪同）",
            ends_at=datetime.now(UTC) + timedelta(hours=6),
            single_use=True,
            doc_number=QUARANTINED,
        ),
        actor=Actor("head1", "test", datetime.now(UTC)),
        units=services.units,
    )
    station.gate.snapshots.reload()  # type: ignore[attr-defined]
    (listed,) = client.get("/terminal/search", params={"q": "张三丰"}).json()["results"]
    assert listed["exemptions"] == [{"rules": ["quarantine"], "reason": "就医（陪同）"}]

    def out() -> Any:
        return station.gate.pipeline.process(  # type: ignore[attr-defined]
            Credential(
                CredentialKind.ID_CARD, document=DocumentRead(DocumentType.RESIDENT_ID, QUARANTINED)
            ),
            lane="main",
            direction=Direction.OUT,
        )

    assert out().decision.outcome.value == "allow"  # the pass is spent by this passage
    assert out().decision.outcome.value == "deny"
    (found,) = client.get("/terminal/search", params={"q": "张三丰"}).json()["results"]
    assert found["exemptions"] == []
    assert [p["outcome"] for p in found["today"]] == ["放行", "禁止"]
