"""Sessions end: an absolute lifetime, Secure cookies behind TLS, no sign-in from another site.

The idle lock (PIN) is for a guard stepping away within a shift; past ``[web]
session_hours`` after the sign-in the PIN no longer opens the session, only a full
sign-in does. The session cookie is Secure whenever the browser reached the service over
TLS (directly, or through a configured proxy saying ``X-Forwarded-Proto: https``). A
sign-in form posted from another site is refused; one without an ``Origin`` header (a
script, not a browser) is judged by the other signs a browser sends.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.app import create_app
from gate.domain.roles import Role
from gate.runtime.bootstrap import Services, build_station
from gate.runtime.settings import Settings
from registry.models import AuditEvent, WebSession
from tests.gate.app.staff_builders import add_staff

PASSWORD = "guard-password"
RIGHT = {"username": "guard", "password": PASSWORD}


@pytest.fixture
def app(services: Services) -> FastAPI:
    """The pages (no lanes) with the guard's account."""
    add_staff(services, "guard", Role.GUARD, PASSWORD, name="夜班", pin="2468")
    return create_app(services)


@pytest.fixture
def terminal(services: Services, app: FastAPI) -> Iterator[TestClient]:
    """A browser at the terminal, lanes running."""
    with TestClient(
        create_app(services, build_station(services)), follow_redirects=False
    ) as client:
        yield client


def age_sessions(services: Services, by: timedelta) -> None:
    """Move every session's sign-in and last activity ``by`` into the past."""
    with services.database.session() as session:
        for row in session.scalars(select(WebSession)):
            row.created_at -= by
            row.last_active_at -= by
        session.commit()


def locked_page_token(client: TestClient) -> str:
    page = client.get("/terminal", headers={"accept": "text/html"})
    assert page.status_code == 423, page.text
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)


def test_past_its_lifetime_a_session_needs_a_full_sign_in_not_the_pin(
    services: Services, terminal: TestClient
) -> None:
    assert terminal.post("/login", data=RIGHT).status_code == 303
    # Within a shift: idle-locked, and the PIN opens it again.
    age_sessions(services, timedelta(hours=13))
    token = locked_page_token(terminal)
    unlocked = terminal.post("/unlock", data={"pin": "2468", "csrf_token": token})
    assert unlocked.status_code == 303
    assert terminal.get("/terminal/state").status_code == 200
    # Just past a shift plus its margin (14 h since the sign-in): a full sign-in only.
    age_sessions(services, timedelta(hours=2))
    page = terminal.get("/terminal", headers={"accept": "text/html"})
    assert page.status_code == 303
    assert page.headers["location"].startswith("/login")
    revived = terminal.post("/unlock", data={"pin": "2468", "csrf_token": token})
    assert revived.status_code == 401
    assert terminal.get("/terminal/state").status_code == 401
    # A full sign-in works.
    assert terminal.post("/login", data=RIGHT).status_code == 303
    assert terminal.get("/terminal/state").status_code == 200
    with services.database.session() as session:
        actions = list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    assert "session.expired" in actions


def test_a_session_idle_for_61_days_is_not_revived_by_the_pin(
    services: Services, terminal: TestClient
) -> None:
    assert terminal.post("/login", data=RIGHT).status_code == 303
    page = terminal.get("/terminal", headers={"accept": "text/html"})
    token = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    assert token is not None
    age_sessions(services, timedelta(days=61))
    revived = terminal.post("/unlock", data={"pin": "2468", "csrf_token": token.group(1)})
    assert revived.status_code == 401
    assert terminal.get("/terminal/state").status_code == 401


def test_the_session_lifetime_is_configured_in_web_and_bounds_the_cookie(
    services: Services, settings: Settings
) -> None:
    web = settings.web.model_copy(update={"session_hours": 10.0})
    services = dataclasses.replace(services, settings=settings.model_copy(update={"web": web}))
    add_staff(services, "guard", Role.GUARD, PASSWORD)
    with TestClient(create_app(services), follow_redirects=False) as client:
        signed_in = client.post("/login", data=RIGHT)
    assert signed_in.status_code == 303
    assert "Max-Age=36000" in signed_in.headers["set-cookie"]


def session_cookie(response: Any) -> str:
    cookies = [
        value for value in response.headers.get_list("set-cookie") if "gate_session=" in value
    ]
    assert len(cookies) == 1, response.headers
    return str(cookies[0])


@pytest.mark.parametrize(
    ("base_url", "peer", "headers", "secure"),
    [
        ("https://gate.example", "10.0.0.5", {"Origin": "https://gate.example"}, True),
        (
            "http://gate.example",
            "127.0.0.1",
            {"X-Forwarded-Proto": "https", "Origin": "https://gate.example"},
            True,
        ),
        ("http://gate.example", "10.0.0.9", {"X-Forwarded-Proto": "https"}, False),
        ("http://127.0.0.1:8000", "127.0.0.1", {}, False),
    ],
    ids=["tls", "behind a configured proxy", "forged by a non-proxy", "plain http demo"],
)
def test_cookies_are_secure_by_default_when_the_browser_came_over_tls(
    app: FastAPI, base_url: str, peer: str, headers: dict[str, str], secure: bool
) -> None:
    client = TestClient(app, base_url=base_url, client=(peer, 50000), follow_redirects=False)
    signed_in = client.post("/login", data=RIGHT, headers=headers)
    assert signed_in.status_code == 303
    assert ("; secure" in session_cookie(signed_in).lower()) is secure


@pytest.mark.parametrize(
    ("headers", "accepted"),
    [
        ({"Origin": "http://testserver"}, True),
        ({}, True),  # no Origin: a script or an old browser, not a cross-site form
        ({"Origin": "https://evil.example"}, False),
        ({"Origin": "null"}, False),
        ({"Origin": "http://testserver:8443"}, False),
        ({"Sec-Fetch-Site": "cross-site"}, False),  # a browser that left Origin out
        ({"Referer": "https://evil.example/login"}, False),
        ({"Sec-Fetch-Site": "same-origin", "Referer": "http://testserver/login"}, True),
    ],
    ids=[
        "same origin",
        "no origin",
        "other site",
        "opaque origin",
        "other port",
        "fetch metadata cross-site",
        "other site's referer",
        "same-origin fetch metadata",
    ],
)
def test_a_sign_in_posted_from_another_site_is_refused(
    services: Services, app: FastAPI, headers: dict[str, str], accepted: bool
) -> None:
    client = TestClient(app, follow_redirects=False)
    client.cookies.set("gate_lang", "en")
    response = client.post("/login", data=RIGHT, headers=headers)
    if accepted:
        assert response.status_code == 303
        return
    assert response.status_code == 403
    assert "gate_session=" not in response.headers.get("set-cookie", "")
    assert "sign-in page" in response.text
