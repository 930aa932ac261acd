"""Every route of the app, tried with a district key of each scope, at a gate and at a hub.

``tests/api/test_roles.py`` tries every route as every staff role; this file does the same
for machines. At a gate, a key with one scope reaches the routes of that scope and no
other (403 ``api_scope_missing``), and no staff page at all, whatever its scopes; an
unknown, revoked or rotated-away key reaches nothing (401). At a hub, a key bound to one
compound reads, pushes and traces only that compound: asking for another is 403
``hub_compound_refused``, and no answer carries another compound's passages.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from httpx2 import Response

from api.app import create_app
from gate.app.actor import Actor
from gate.app.api_keys import CreateApiKey, create_api_key, revoke_api_key, rotate_api_key
from gate.domain.api_scopes import STAFF_PERMISSION, ApiScope
from gate.runtime.bootstrap import Services, bootstrap
from gate.runtime.settings import HubSettings, Settings
from tests.api.test_roles import PUBLIC, ROUTES
from tests.hub_items import batch

Route = tuple[str, str]

# The routes a key may open, and the scope each needs. Everything else in ROUTES is a
# public page or a staff page, which no key opens.
MACHINE: dict[Route, ApiScope] = {
    ("GET", "/metrics"): ApiScope.METRICS_READ,
    ("GET", "/api/v1/registry/stats"): ApiScope.REGISTRY_READ,
    ("GET", "/api/v1/devices"): ApiScope.DEVICES_READ,
    ("GET", "/api/v1/passages"): ApiScope.PASSAGES_READ,
    ("PUT", "/api/v1/controls"): ApiScope.CONTROLS_WRITE,
    ("GET", "/api/v1/trace/person"): ApiScope.TRACE_READ,
    ("GET", "/api/v1/trace/window"): ApiScope.TRACE_READ,
    ("GET", "/api/v1/reports/daily"): ApiScope.REPORTS_READ,
}
# Routes that exist only with [hub] enabled.
HUB_ONLY: dict[Route, ApiScope] = {
    ("POST", "/api/v1/ingest"): ApiScope.PASSAGES_PUSH,
    ("GET", "/api/v1/ingest/cursor"): ApiScope.PASSAGES_PUSH,
    ("GET", "/api/v1/hub/daily"): ApiScope.PASSAGES_READ,
}
HUB_ROUTES = {**MACHINE, **HUB_ONLY}
DAY = "2026-11-29"  # the day of tests.hub_items' passages (START, Beijing time)
PURPOSE = "密接排查 access matrix"
PERSON = "person:0123456789abcdef01234567"  # every hub item's pseudonym
OWN, OTHER = "compound-a", "compound-b"


def operator() -> Actor:
    return Actor("operator", "cli@test", datetime.now(UTC))


def new_key(services: Services, name: str, *scopes: str, compounds: tuple[str, ...] = ()) -> str:
    command = CreateApiKey(name, scopes, compounds=compounds)
    return create_api_key(command, actor=operator(), units=services.units).text


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", "accept": "application/json"}


def schema_routes(app: Any) -> set[Route]:
    return {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }


def fill(path: str) -> str:
    """Path parameters a page would be asked with (the key is refused before they matter)."""
    return re.sub(r"\{(\w+)\}", lambda match: "1" if match.group(1) != "code" else "en", path)


def call(
    client: TestClient, route: Route, headers: dict[str, str], compound: str | None = None
) -> Response:
    """One request on ``route`` that passes its validation when the caller may make it.

    ``compound`` names the compound asked for on a hub (the query's or the pushed batch's).
    """
    method, path = route
    params: dict[str, str] = {}
    if path == "/api/v1/trace/window":
        params = {"from": DAY, "to": DAY, "purpose": PURPOSE}
    elif path == "/api/v1/trace/person":
        params = {"from": DAY, "to": DAY, "purpose": PURPOSE, "person": PERSON}
    elif path in ("/api/v1/reports/daily", "/api/v1/hub/daily"):
        params = {"date": DAY}
    if compound is not None and path != "/api/v1/hub/daily":
        params["compound_id" if path == "/api/v1/ingest/cursor" else "compound"] = compound
    if path == "/api/v1/ingest/cursor" and compound is None:
        params["compound_id"] = OWN
    if method == "GET":
        return client.get(fill(path), params=params, headers=headers, follow_redirects=False)
    if method == "PUT":  # an empty control list: 422 once the key is let in
        return client.put(path, json={"items": []}, headers=headers)
    if path == "/api/v1/ingest":
        body = batch(compound or OWN, 3, 1)
        return client.post(path, content=orjson.dumps(body), headers=headers)
    return client.post(fill(path), data={}, headers=headers, follow_redirects=False)


# --- at a gate ----------------------------------------------------------------------------


@pytest.fixture
def gate_app(services: Services) -> Any:
    return create_app(services)


def test_every_route_is_classified_for_keys(gate_app: Any, settings: Settings) -> None:
    found = schema_routes(gate_app)
    assert found == set(ROUTES)
    # A key opens exactly the routes a staff member reaches through a scope's permission.
    for route, scope in MACHINE.items():
        assert ROUTES[route] == STAFF_PERMISSION[scope], route
    hub = bootstrap(settings.model_copy(update={"hub": HubSettings(enabled=True)}))
    try:
        assert schema_routes(create_app(hub)) == set(ROUTES) | set(HUB_ONLY)
    finally:
        hub.close()
    assert set(HUB_ROUTES.values()) | {ApiScope.PASSAGES_READ_MASKED_DOCUMENTS} == set(ApiScope)


@pytest.mark.parametrize("scope", list(ApiScope), ids=str)
def test_a_key_of_one_scope_reaches_that_scopes_routes_and_nothing_else(
    services: Services, gate_app: Any, scope: ApiScope
) -> None:
    key = new_key(services, "district", scope.value)
    with TestClient(gate_app) as client:
        for route, need in ROUTES.items():
            if need == PUBLIC:
                continue
            answer = call(client, route, bearer(key))
            where = f"{scope} {route}: {answer.status_code} {answer.text[:200]}"
            assert answer.status_code < 500, where
            if route not in MACHINE:  # a staff page: a key is no session
                assert answer.status_code in (401, 303), where
            elif MACHINE[route] is scope:
                assert answer.status_code not in (401, 403, 429), where
            else:
                assert answer.status_code == 403, where
                assert answer.json()["code"] == "api_scope_missing", where


def test_a_key_with_every_scope_opens_no_staff_page(services: Services, gate_app: Any) -> None:
    key = new_key(services, "everything", *(scope.value for scope in ApiScope))
    with TestClient(gate_app) as client:
        for route, need in ROUTES.items():
            if need == PUBLIC:
                continue
            answer = call(client, route, bearer(key))
            where = f"{route}: {answer.status_code}"
            if route in MACHINE:
                assert answer.status_code not in (401, 403, 429), where
                assert answer.status_code < 500, where
            else:
                assert answer.status_code in (401, 303), where


def test_unknown_revoked_and_rotated_away_keys_reach_no_route(
    services: Services, gate_app: Any
) -> None:
    every = tuple(scope.value for scope in ApiScope)
    revoked = create_api_key(CreateApiKey("revoked", every), actor=operator(), units=services.units)
    revoke_api_key("revoked", actor=operator(), units=services.units)
    rotated = create_api_key(CreateApiKey("rotated", every), actor=operator(), units=services.units)
    rotate_api_key("rotated", actor=operator(), units=services.units)
    valid = new_key(services, "valid", *every)
    forged = valid[:-4] + ("AAAA" if not valid.endswith("AAAA") else "BBBB")
    keys = {"revoked": revoked.text, "rotated away": rotated.text, "forged": forged}
    with TestClient(gate_app) as client:
        for label, key in keys.items():
            for route in MACHINE:
                answer = call(client, route, bearer(key))
                assert answer.status_code == 401, (label, route, answer.status_code)
                assert answer.headers["www-authenticate"] == "Bearer"
                assert answer.json()["code"] == "api_key_invalid", (label, route)
        for route in MACHINE:  # no key, a malformed header
            for headers in ({}, {"Authorization": "Basic eDp5"}, {"Authorization": "Bearer "}):
                answer = call(client, route, {**headers, "accept": "application/json"})
                assert answer.status_code == 401, (route, headers)


# --- at a hub -----------------------------------------------------------------------------


@pytest.fixture
def hub(settings: Settings) -> Iterator[Services]:
    built = bootstrap(settings.model_copy(update={"hub": HubSettings(enabled=True)}))
    yield built
    built.close()


OTHERS_DATA: list[str] = []  # what only compound B's passages hold: uuids, house code


@pytest.fixture
def hub_client(hub: Services) -> Iterator[TestClient]:
    """A hub holding two passages of compound A and three of compound B."""
    with TestClient(create_app(hub)) as client:
        for compound, count in ((OWN, 2), (OTHER, 3)):
            edge = new_key(hub, f"edge-{compound}", "passages:push", compounds=(compound,))
            body = batch(compound, 1, count)
            pushed = client.post("/api/v1/ingest", content=orjson.dumps(body), headers=bearer(edge))
            assert pushed.status_code == 200, pushed.text
        OTHERS_DATA[:] = [item["uuid"] for item in body["items"]] + [f"{OTHER}-1-1-101"]
        yield client


def carries_others_data(answer: Response) -> bool:
    """Whether an answer holds any of compound B's passages (a refusal may name B)."""
    return any(needle in answer.text for needle in OTHERS_DATA) or (
        '"compound_id":"compound-b"' in answer.text.replace(" ", "")
        and "hub_compound_refused" not in answer.text
    )


@pytest.mark.parametrize("scope", list(ApiScope), ids=str)
def test_a_key_bound_to_one_compound_never_reaches_anothers_data(
    hub: Services, hub_client: TestClient, scope: ApiScope
) -> None:
    key = new_key(hub, "district-a", scope.value, compounds=(OWN,))
    for route, need in HUB_ROUTES.items():
        own = call(hub_client, route, bearer(key))
        other = call(hub_client, route, bearer(key), compound=OTHER)
        for answer in (own, other):
            where = f"{scope} {route}: {answer.status_code} {answer.text[:200]}"
            assert answer.status_code < 500, where
            assert not carries_others_data(answer), where
        if need is not scope:
            for answer in (own, other):
                assert answer.status_code == 403, route
                assert answer.json()["code"] == "api_scope_missing", route
            continue
        assert own.status_code not in (401, 403, 429), f"{route}: {own.text[:200]}"
        compound_routes = set(HUB_ROUTES) - {
            ("GET", "/metrics"),
            ("GET", "/api/v1/registry/stats"),
            ("GET", "/api/v1/devices"),
            ("PUT", "/api/v1/controls"),
            ("GET", "/api/v1/hub/daily"),  # no compound parameter: the key's compounds only
        }
        if route in compound_routes:
            assert other.status_code == 403, f"{route}: {other.status_code} {other.text[:200]}"
            assert other.json()["code"] == "hub_compound_refused", route


def feed(client: TestClient, key: str, accept: str, **params: str) -> Response:
    answer = client.get(
        "/api/v1/passages", params=params, headers={**bearer(key), "accept": accept}
    )
    assert answer.status_code == 200, answer.text
    return answer


def test_each_read_answers_the_keys_compound_and_a_key_of_both_sees_both(
    hub: Services, hub_client: TestClient
) -> None:
    reader = ApiScope.PASSAGES_READ.value
    only_a = new_key(hub, "district-a", reader, "reports:read", "trace:read", compounds=(OWN,))
    both = new_key(hub, "district", reader, "reports:read", "trace:read", compounds=(OWN, OTHER))
    for accept in ("application/json", "application/x-ndjson", "text/csv"):
        for params in ({}, {"profile": "viid"}):
            own = feed(hub_client, only_a, accept, **params)
            assert not carries_others_data(own), (accept, params)
            assert OTHER not in own.text, (accept, params)
            assert OWN in own.text, (accept, params)
            seen = feed(hub_client, both, accept, **params).text
            assert OWN in seen, (accept, params)
            assert all(needle in seen for needle in OTHERS_DATA), (accept, params)
    items = orjson.loads(feed(hub_client, only_a, "application/json").text)["items"]
    assert [(item["compound_id"], item["seq"]) for item in items] == [(OWN, 1), (OWN, 2)]
    daily = call(hub_client, ("GET", "/api/v1/hub/daily"), bearer(only_a)).json()
    assert [row["compound_id"] for row in daily["compounds"]] == [OWN]
    report = call(hub_client, ("GET", "/api/v1/reports/daily"), bearer(only_a)).json()
    assert [row["compound_id"] for row in report["compounds"]] == [OWN]
    for path in ("/api/v1/trace/window", "/api/v1/trace/person"):
        traced = call(hub_client, ("GET", path), bearer(only_a)).json()
        assert {item["compound_id"] for item in traced["items"]} == {OWN}, path
        assert traced["count"] == 2, path
        wide = call(hub_client, ("GET", path), bearer(both)).json()
        assert wide["count"] == 5, path
    # The edge of A may neither push for B nor see where B's edge stands.
    edge_a = new_key(hub, "edge-a-2", "passages:push", compounds=(OWN,))
    assert call(hub_client, ("POST", "/api/v1/ingest"), bearer(edge_a), OTHER).status_code == 403
    cursor = call(hub_client, ("GET", "/api/v1/ingest/cursor"), bearer(edge_a), OTHER)
    assert cursor.status_code == 403
    assert not carries_others_data(cursor)
