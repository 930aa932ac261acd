"""Hostile input at the pages: each answer is a clean 4xx in the page's language, never a 500.

The named cases of issue 13 (a non-ASCII CSRF token, ids past 64 bits, days at the ends of
the calendar, a mangled ``Last-Event-ID``) one by one; ``test_fuzz_pages.py`` then throws
hostile values at every route as every role.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.i18n import t
from gate.domain.roles import Role
from tests.api.test_roles import app_and_refs, sign_in

__all__ = ["app_and_refs"]  # the fixture, used by name below

HUGE = str(2**70)


@pytest.fixture
def admin(app_and_refs: tuple[object, dict[str, str]]) -> Iterator[tuple[TestClient, str, str]]:
    """A client signed in as the admin (who may do everything), its CSRF token, a seq."""
    app, refs = app_and_refs
    with TestClient(app, raise_server_exceptions=False) as client:  # type: ignore[arg-type]
        token = sign_in(client, Role.ADMIN)
        yield client, token, refs["seq"]


def _english(client: TestClient) -> None:
    client.cookies.set("gate_lang", "en")


CSRF_POSTS = [
    ("/logout", {}),
    ("/unlock", {"pin": "1234"}),
    ("/terminal/visitors", {"name": "x"}),
]
OVERRIDE = {"outcome": "allow", "reason_code": "resident_known", "text": "ok"}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_non_ascii_csrf_token_is_refused_in_the_pages_language(
    admin: tuple[TestClient, str, str], lang: str
) -> None:
    client, _token, seq = admin
    if lang == "en":
        _english(client)
    for path, data in CSRF_POSTS:
        for field, header in (({"csrf_token": "令牌²"}, None), ({}, "²"), ({}, "é" * 40)):
            headers = {b"X-CSRF-Token": header.encode()} if header else {}
            response = client.post(path, data={**data, **field}, headers=headers)
            assert response.status_code == 403, (path, response.text)
            assert response.json()["detail"] == t(lang, "error.csrf")
    response = client.post(
        f"/terminal/passages/{seq}/override",
        json=OVERRIDE,
        headers={b"X-CSRF-Token": "é²".encode()},
    )
    assert response.status_code == 403, response.text
    assert response.json()["detail"] == t(lang, "error.csrf")


ID_PATHS = [
    "/terminal/passages/{id}/override",
    "/office/statuses/{id}/end",
    "/office/round/needs/{id}/resolve",
    "/office/exemptions/{id}/revoke",
]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_id_past_64_bits_is_a_clean_422(admin: tuple[TestClient, str, str], lang: str) -> None:
    client, token, _seq = admin
    if lang == "en":
        _english(client)
    for path in ID_PATHS:
        for value in (HUGE, str(2**63), "-" + HUGE, "²", "0"):
            response = client.post(
                path.format(id=value), json=OVERRIDE, headers={"X-CSRF-Token": token}
            )
            assert response.status_code == 422, (path, value, response.text)
            assert response.json()["detail"] == t(lang, "error.bad_input")
    page = client.get(f"/audit?before={HUGE}", headers={"accept": "text/html"})
    assert page.status_code == 422
    assert t(lang, "error.bad_input") in page.text


REPORT_WINDOWS = [
    "start=9999-12-31T23:59",
    "end=0001-01-01T00:00",
    "start=0001-01-01T00:00",
    "end=9999-12-31T23:59",
    "start=0001-01-01T00:00%2B14:00",
    "start=0001-01-01T00:00&end=9999-12-31T23:59",
]
AUDIT_QUERIES = [
    "start=9999-12-31",
    "end=9999-12-31",
    "start=0001-01-01",
    "end=0001-01-01",
    "start=0001-01-01&end=9999-12-31",
    f"before={HUGE}",
    f"after={HUGE}",
]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_reports_at_the_ends_of_the_calendar_are_a_clean_422(
    admin: tuple[TestClient, str, str], lang: str
) -> None:
    client, _token, _seq = admin
    if lang == "en":
        _english(client)
    for path in ("/report", "/report.xlsx"):
        for query in REPORT_WINDOWS:
            response = client.get(f"{path}?{query}")
            assert response.status_code == 422, (path, query, response.text)
            assert t(lang, "report.error.out_of_range", first=1900, last=2999) in response.text
    for path in ("/audit", "/audit.csv"):
        for query in AUDIT_QUERIES if path == "/audit" else AUDIT_QUERIES[:5]:
            response = client.get(f"{path}?{query}")
            assert response.status_code == 422, (path, query, response.text)
    for path in ("/report/daily", "/report/daily.xlsx", "/api/v1/reports/daily"):
        for day in ("9999-12-31", "0001-01-01"):
            response = client.get(f"{path}?date={day}")
            assert 400 <= response.status_code < 500, (path, day, response.text)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_mangled_feed_cursor_is_a_clean_4xx(
    admin: tuple[TestClient, str, str], lang: str
) -> None:
    client, _token, _seq = admin
    if lang == "en":
        _english(client)
    for query, header in [
        ("", "²"),
        ("", HUGE),
        ("", "-1"),
        (f"?after={HUGE}", None),
        ("?after=-1", None),
        ("?after=²", None),
    ]:
        headers = {b"Last-Event-ID": header.encode()} if header else {}
        response = client.get(f"/terminal/feed{query}", headers=headers)
        assert response.status_code == 422, (query, header, response.text)
        assert response.json()["detail"] == t(lang, "error.bad_input")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_nul_character_in_any_text_is_a_clean_422(
    admin: tuple[TestClient, str, str], lang: str
) -> None:
    client, token, _seq = admin
    if lang == "en":
        _english(client)
    form = {"csrf_token": token, "name": "a\x00b", "building": "1", "unit": "1", "room": "101"}
    for response in (
        client.get("/terminal/search", params={"q": "王\x00"}),
        client.get("/office/exemptions", params={"q": "a\x00"}),
        client.post("/office/persons", data=form),
        client.post("/login", data={"username": "guard\x00", "password": "x"}),
        client.post(
            "/terminal/passages/1/override",
            json={**OVERRIDE, "text": "ok\x00"},
            headers={"X-CSRF-Token": token},
        ),
        client.get("/office/persons/a%00b"),
    ):
        assert response.status_code == 422, (response.request.url, response.text)
        assert response.json()["detail"] == t(lang, "error.bad_input")
    assert client.get("/terminal/search", params={"q": "王"}).status_code == 200
