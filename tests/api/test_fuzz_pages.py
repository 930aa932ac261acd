"""Hostile values at every route of the app, as every role: never a 5xx.

The routes come from the app's own router (its OpenAPI schema), so a new page is fuzzed
without being listed.
Each route gets, one value at a time, the same hostile text in every path parameter, every
query parameter, every form or JSON field (and an upload's content), with a good CSRF
token and then with a hostile one; ``Last-Event-ID`` carries it too. The quick test tries
one role with a few values; the slow one every role with every value (the JSON API's
schema is fuzzed by ``test_api_schemathesis.py``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gate.domain.roles import Role
from tests.api.test_roles import STREAMS, app_and_refs, sign_in

__all__ = ["app_and_refs"]  # the fixture, used by name below

HOSTILE = [
    str(2**70),
    "-" + str(2**63),
    "²",
    "令牌\u202e",
    "a\x00b",
    "9999-12-31",
    "0001-01-01",
    "9999-12-31T23:59",
    "0001-01-01T00:00+14:00",
    "x" * 3000,
    "",
    "%_%",
    "../../etc/passwd",
    "<script>1</script>",
]
QUICK = ["²", str(2**70), "a\x00b", "0001-01-01", "x" * 3000, ""]
# Routes that would stream for ever once past their checks, and the route that ends the
# session (fuzzed with a hostile token only, so it never succeeds).
SKIPPED = STREAMS
SESSION_ENDING = {("POST", "/logout")}
# The readiness probe answers 503 on purpose while the station is not running (as here).
NOT_READY = {("GET", "/readyz"): 503}


@dataclass(frozen=True)
class Route:
    """One operation of the app's schema and where each of its inputs goes."""

    method: str
    path: str
    query: tuple[str, ...]
    fields: tuple[str, ...]  # form fields or, if ``json_body``, the JSON object's keys
    files: tuple[str, ...]
    json_body: bool


def _properties(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    properties: dict[str, Any] = schema.get("properties", {})
    return properties


def routes(app: Any) -> list[Route]:
    """Every operation the app's router serves (its OpenAPI schema is built from it)."""
    schema = app.openapi()
    components = schema.get("components", {}).get("schemas", {})
    found = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if (method.upper(), path) in SKIPPED:
                continue
            query = tuple(p["name"] for p in operation.get("parameters", []) if p["in"] == "query")
            content = operation.get("requestBody", {}).get("content", {})
            fields: tuple[str, ...] = ()
            files: tuple[str, ...] = ()
            json_body = "application/json" in content
            for kind, body in content.items():
                properties = _properties(body.get("schema", {}), components)
                fields += tuple(
                    name
                    for name, spec in properties.items()
                    if kind == "application/json" or spec.get("format") != "binary"
                )
                files += tuple(
                    name
                    for name, spec in properties.items()
                    if kind != "application/json" and spec.get("format") == "binary"
                )
            found.append(Route(method.upper(), path, query, fields, files, json_body))
    return found


def _fill(path: str, value: str) -> str:
    # A path parameter cannot be empty or hold "/" (it would be another route): say "-".
    safe = value.replace("/", "-").replace("\x00", "-") or "-"
    return re.sub(r"\{(\w+)\}", lambda _m: safe.replace("%", "%25").replace("?", "%3F"), path)


def _send(client: TestClient, route: Route, value: str, token: str | None) -> tuple[int, str]:
    method, query, form, files, json_body = (
        route.method,
        route.query,
        route.fields,
        route.files,
        route.json_body,
    )
    headers: dict[bytes, bytes] = {
        b"accept": b"text/html,application/json",
        b"last-event-id": value.encode(),
    }
    if token is not None:
        headers[b"x-csrf-token"] = token.encode()
    url = _fill(route.path, value)
    query_values = dict.fromkeys(query, value)
    if method in ("GET", "DELETE"):
        response = client.request(method, url, params=query_values, headers=headers)
    elif json_body:
        body = dict.fromkeys(form, value)
        response = client.request(method, url, params=query_values, json=body, headers=headers)
    else:
        data = dict.fromkeys(form, value)
        if token is not None:
            data["csrf_token"] = token
        upload = {name: ("x.xlsx", value.encode(), "application/octet-stream") for name in files}
        response = client.request(
            method,
            url,
            params=query_values,
            data=data,
            files=upload or None,
            headers=headers,
            follow_redirects=False,
        )
    return response.status_code, url


def _fuzz(app: Any, roles: list[Role | None], values: list[str]) -> list[str]:
    """Every route x role x value (good and hostile token); the requests that got a 5xx."""
    failures: list[str] = []
    for role in roles:
        # Each role from its own address: the sign-in throttle never sees the others' tries.
        address = f"10.13.{roles.index(role)}.1"
        with TestClient(app, raise_server_exceptions=False, client=(address, 50000)) as client:
            token = sign_in(client, role) if role else None

            def fresh(client: TestClient = client, role: Role | None = role) -> str | None:
                return sign_in(client, role) if role else None

            for route in routes(app):
                method = route.method
                for value in values:
                    tokens = [value] if (method, route.path) in SESSION_ENDING else [token, value]
                    for sent in tokens if method != "GET" else [token]:
                        status, url = _send(client, route, value, sent)
                        if status >= 500 and NOT_READY.get((method, route.path)) != status:
                            failures.append(f"{role} {method} {url[:80]} {value[:20]!r}: {status}")
                        if status in (401, 423) and role is not None:
                            token = fresh()  # an unlock that failed, a sign-in form: again
    return failures


def test_hostile_values_at_every_route_as_the_admin_give_no_5xx(
    app_and_refs: tuple[object, dict[str, str]],
) -> None:
    app, _refs = app_and_refs
    failures = _fuzz(app, [Role.ADMIN, None], QUICK)
    assert not failures, "\n".join(failures)


@pytest.mark.slow
def test_hostile_values_at_every_route_as_every_role_give_no_5xx(
    app_and_refs: tuple[object, dict[str, str]],
) -> None:
    app, _refs = app_and_refs
    failures = _fuzz(app, [None, *Role], HOSTILE)
    assert not failures, "\n".join(failures)
