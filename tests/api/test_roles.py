"""Every route of the app, tried as every role: allowed roles get through, the others get 403.

The table below classifies each route; a route that is not in it fails the test, so a new
page cannot ship without saying who may use it.
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.app import create_app
from gate.domain.api_scopes import STAFF_PERMISSION, ApiScope
from gate.domain.documents import DocumentType
from gate.domain.model import Credential, CredentialKind, Direction, DocumentRead
from gate.domain.roles import Permission, Role, allowed
from gate.runtime.bootstrap import Services, build_station
from registry.models import Household, Person
from tests.e2e.conftest import OUTSIDER, populate
from tests.gate.app.staff_builders import add_staff

PUBLIC = "public"
SIGNED_IN = "signed-in"

# (method, path) -> what it needs. Streams are checked for refusals only (an allowed
# request would stream for ever).
ROUTES: dict[tuple[str, str], str | Permission] = {
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("GET", "/lang/{code}"): PUBLIC,
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/metrics"): STAFF_PERMISSION[ApiScope.METRICS_READ],
    # The machine API: an API key with the scope, or staff with the scope's permission
    # (tests/api/test_api_keys.py tries the keys).
    ("GET", "/api/v1/registry/stats"): STAFF_PERMISSION[ApiScope.REGISTRY_READ],
    ("GET", "/api/v1/devices"): STAFF_PERMISSION[ApiScope.DEVICES_READ],
    ("GET", "/api/v1/passages"): STAFF_PERMISSION[ApiScope.PASSAGES_READ],
    ("PUT", "/api/v1/controls"): STAFF_PERMISSION[ApiScope.CONTROLS_WRITE],
    ("GET", "/api/v1/trace/person"): STAFF_PERMISSION[ApiScope.TRACE_READ],
    ("GET", "/api/v1/trace/window"): STAFF_PERMISSION[ApiScope.TRACE_READ],
    # Phones: no account; a one-time code or a long random link is the key.
    ("GET", "/pass/"): PUBLIC,
    ("GET", "/pass/enroll"): PUBLIC,
    ("POST", "/pass/enroll"): PUBLIC,
    ("GET", "/pass/sw.js"): PUBLIC,
    ("POST", "/pass/invite"): PUBLIC,  # needs the resident's pass
    ("GET", "/pass/here"): PUBLIC,
    ("POST", "/pass/here"): PUBLIC,  # needs the lane's place token and a pass
    ("GET", "/visit/pass"): PUBLIC,
    ("GET", "/visit/"): PUBLIC,
    ("POST", "/visit/"): PUBLIC,  # throttled per address
    ("GET", "/visit/status/{code}"): PUBLIC,
    ("GET", "/visit/status/{code}/json"): PUBLIC,
    ("GET", "/visit/host/{code}"): PUBLIC,
    ("POST", "/visit/host/{code}"): PUBLIC,  # needs the host's resident pass
    ("GET", "/"): SIGNED_IN,
    ("POST", "/logout"): SIGNED_IN,
    ("POST", "/unlock"): SIGNED_IN,
    ("GET", "/terminal"): Permission.TERMINAL,
    ("GET", "/terminal/state"): Permission.TERMINAL,
    ("GET", "/terminal/feed"): Permission.TERMINAL,
    ("POST", "/terminal/passages/{seq}/override"): Permission.OVERRIDE,
    ("POST", "/terminal/visitors"): Permission.REGISTER_VISITOR,
    ("POST", "/terminal/visit-requests/{ref}"): Permission.REGISTER_VISITOR,
    ("GET", "/terminal/place-codes"): Permission.TERMINAL,
    ("GET", "/terminal/face-snapshots/{ref}"): Permission.TERMINAL,
    ("GET", "/terminal/face-photos/{ref}"): Permission.TERMINAL,
    ("GET", "/terminal/search"): Permission.SEARCH_PERSONS,
    ("GET", "/office"): Permission.OFFICE,
    ("GET", "/office/buildings/{key}"): Permission.OFFICE,
    ("GET", "/office/buildings/{key}/plan"): Permission.OFFICE,
    ("GET", "/office/households/{ref}"): Permission.OFFICE,
    ("POST", "/office/persons"): Permission.OFFICE,
    ("GET", "/office/persons/{ref}"): Permission.OFFICE,
    ("POST", "/office/persons/{ref}"): Permission.OFFICE,
    ("POST", "/office/persons/{ref}/move-out"): Permission.OFFICE,
    ("POST", "/office/persons/{ref}/statuses"): Permission.OFFICE,
    ("POST", "/office/statuses/{record_id}/end"): Permission.OFFICE,
    ("POST", "/office/persons/{ref}/passes"): Permission.OFFICE,
    ("POST", "/office/persons/{ref}/passes/{pass_id}/enrollment"): Permission.OFFICE,
    ("POST", "/office/persons/{ref}/passes/{pass_id}/revoke"): Permission.OFFICE,
    ("POST", "/office/persons/{ref}/paper-pass"): Permission.OFFICE,
    ("POST", "/office/persons/{ref}/faces/consent"): Permission.OFFICE,
    ("POST", "/office/faces/photos"): Permission.OFFICE,
    ("POST", "/office/persons/{ref}/faces/capture"): Permission.OFFICE,
    ("POST", "/office/persons/{ref}/faces/withdraw"): Permission.OFFICE,
    ("GET", "/office/persons/{ref}/faces/{template_id}/photo"): Permission.OFFICE,
    ("GET", "/office/assessment"): Permission.IMPACT_ASSESSMENT,
    ("POST", "/office/assessment"): Permission.IMPACT_ASSESSMENT,
    ("GET", "/office/poster"): Permission.OFFICE,
    ("GET", "/office/round"): Permission.DAILY_ROUND,
    ("POST", "/office/round/temperature"): Permission.DAILY_ROUND,
    ("POST", "/office/round/needs"): Permission.DAILY_ROUND,
    ("POST", "/office/round/needs/{need_id}/resolve"): Permission.DAILY_ROUND,
    ("GET", "/office/exemptions"): Permission.MANAGE_RULES,
    ("POST", "/office/exemptions"): Permission.MANAGE_RULES,
    ("POST", "/office/exemptions/{exemption_id}/revoke"): Permission.MANAGE_RULES,
    ("GET", "/office/rules"): Permission.MANAGE_RULES,
    ("POST", "/office/rules/{rule_id}"): Permission.MANAGE_RULES,
    ("GET", "/office/import"): Permission.REGISTRY_IO,
    ("POST", "/office/import"): Permission.REGISTRY_IO,
    ("POST", "/office/import/mapping"): Permission.REGISTRY_IO,
    ("GET", "/office/import/template"): Permission.REGISTRY_IO,
    ("GET", "/office/export"): Permission.REGISTRY_IO,
    ("GET", "/report"): Permission.SHIFT_REPORT,
    ("GET", "/report.xlsx"): Permission.SHIFT_REPORT,
    ("GET", "/report/daily"): Permission.SHIFT_REPORT,
    ("GET", "/report/daily.xlsx"): Permission.SHIFT_REPORT,
    ("GET", "/api/v1/reports/daily"): STAFF_PERMISSION[ApiScope.REPORTS_READ],
    ("GET", "/audit"): Permission.AUDIT,
    ("GET", "/audit.csv"): Permission.AUDIT,
}
STREAMS = {("GET", "/terminal/feed")}
# Actions that end the caller's own session: tried last, by each role, on a fresh login.
SESSION_ENDING = {("POST", "/logout")}


@pytest.fixture
def app_and_refs(services: Services) -> tuple[object, dict[str, str]]:
    """The app over a populated registry, one account per role, refs to fill paths with."""
    populate(services)
    for role in Role:
        add_staff(
            services,
            role.value,
            role,
            "role-password",
            pin="1234",
            buildings=["1"] if role is Role.BUILDING_HEAD else [],
            units=["1/1"] if role is Role.UNIT_HEAD else [],
        )
    with services.database.session() as session:
        household = session.scalars(select(Household)).first()
        person = session.scalars(select(Person)).first()
        assert household is not None
        assert person is not None
        refs = {"household": household.ref, "person": person.ref}
    station = build_station(services)
    review = station.gate.pipeline.process(
        Credential(
            CredentialKind.ID_CARD, document=DocumentRead(DocumentType.RESIDENT_ID, OUTSIDER)
        ),
        lane="main",
        direction=Direction.IN,
    )
    assert review.record is not None
    refs["seq"] = str(review.record.seq)
    return create_app(services, station), refs


def fill(path: str, refs: dict[str, str]) -> str:
    values = {
        "seq": refs["seq"],
        "ref": refs["person"] if "persons" in path else refs["household"],
        "key": "1",
        "rule_id": "fever",
        "code": "en",
        "exemption_id": "999999",
        "record_id": "999999",
        "need_id": "999999",
        "template_id": "999999",
        "pass_id": "0123456789abcdef",
    }
    return re.sub(r"\{(\w+)\}", lambda match: values[match.group(1)], path)


def sign_in(client: TestClient, role: Role) -> str:
    response = client.post(
        "/login", data={"username": role.value, "password": "role-password"}, follow_redirects=False
    )
    assert response.status_code == 303, response.text
    page = client.get(response.headers["location"])
    found = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    assert found is not None, role
    return found.group(1)


def call(client: TestClient, method: str, path: str, token: str | None) -> int:
    headers = {"accept": "application/json"}
    if token:
        headers["X-CSRF-Token"] = token
    if method == "GET":
        return client.get(path, headers=headers, follow_redirects=False).status_code
    if method == "PUT":  # the district's control list: an empty one is refused with 422
        return client.put(path, headers=headers, json={"items": []}).status_code
    # Enough of a form to get past the role check; a building head's own building.
    own_room = {"building": "1", "unit": "1", "room": "101"}
    data = {"/unlock": {"pin": "1234"}}.get(path, own_room if path.startswith("/office") else {})
    return client.post(path, headers=headers, data=data, follow_redirects=False).status_code


def test_every_route_is_classified(app_and_refs: tuple[object, dict[str, str]]) -> None:
    app, _refs = app_and_refs
    schema = app.openapi()  # type: ignore[attr-defined]
    found = {
        (method.upper(), path)
        for path, operations in schema["paths"].items()
        for method in operations
    }
    assert found == set(ROUTES)


@pytest.mark.parametrize(
    "role", [None, *Role], ids=lambda role: role.value if role else "anonymous"
)
def test_each_role_reaches_exactly_what_its_permissions_allow(
    app_and_refs: tuple[object, dict[str, str]], role: Role | None
) -> None:
    app, refs = app_and_refs
    with TestClient(app) as client:  # type: ignore[arg-type]
        token = sign_in(client, role) if role else None
        for (method, path), need in ROUTES.items():
            if (method, path) in SESSION_ENDING:
                continue
            if need == PUBLIC:
                continue
            may = role is not None and (
                need == SIGNED_IN or allowed(role, need)  # type: ignore[arg-type]
            )
            if may and (method, path) in STREAMS:
                continue
            status = call(client, method, fill(path, refs), token)
            where = f"{role} {method} {path}"
            if role is None:
                assert status in (401, 303), where
            elif may:
                assert status not in (401, 403, 500), f"{where}: {status}"
            else:
                assert status == 403, f"{where}: {status}"
        if role is not None:
            assert call(client, "POST", "/logout", token) == 303
            assert (
                client.get("/terminal/state", headers={"accept": "application/json"}).status_code
                == 401
            )
