"""API keys for machines: /api/v1 answers a key with the scope or a staff session, nobody else.

The key is shown once and only its hash is stored; every use is audited in the key's
name; a rotated or revoked key stops at once; a key over its rate gets 429 + Retry-After.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.app import create_app
from gate.app.actor import Actor
from gate.app.api_keys import (
    CreateApiKey,
    IssuedApiKey,
    create_api_key,
    revoke_api_key,
    rotate_api_key,
)
from gate.domain.api_scopes import ApiScope
from gate.domain.errors import ActionRefused
from gate.domain.roles import Role
from gate.runtime.bootstrap import Services, bootstrap
from gate.runtime.settings import ApiSettings, Settings
from registry.models import ApiKey, AuditEvent
from tests.e2e.test_cli_log import env_of
from tests.e2e.test_serve import gate
from tests.gate.app.staff_builders import add_staff

STATS = "/api/v1/registry/stats"
DEVICES = "/api/v1/devices"
API_ROUTES = (STATS, DEVICES)


def operator() -> Actor:
    return Actor("operator", "cli@test", datetime.now(UTC))


def new_key(services: Services, name: str, *scopes: str) -> IssuedApiKey:
    return create_api_key(CreateApiKey(name, scopes), actor=operator(), units=services.units)


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def key_rows(services: Services) -> list[ApiKey]:
    with services.database.session() as session:
        return list(session.scalars(select(ApiKey).order_by(ApiKey.id)))


def audit_rows(services: Services, *actions: str) -> list[AuditEvent]:
    with services.database.session() as session:
        return list(
            session.scalars(
                select(AuditEvent).where(AuditEvent.action.in_(actions)).order_by(AuditEvent.id)
            )
        )


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services), follow_redirects=False) as test_client:
        yield test_client


def test_anonymous_callers_get_401_with_a_bearer_challenge(client: TestClient) -> None:
    for path in API_ROUTES:
        for headers in ({}, {"Authorization": "Basic dXNlcjpwdw=="}, {"Authorization": "Bearer"}):
            response = client.get(path, headers=headers)
            assert response.status_code == 401, (path, headers)
            assert response.headers["www-authenticate"] == "Bearer"
            assert response.json()["code"] in ("api_key_required", "api_key_invalid")
            assert "persons" not in response.text
    unknown = client.get(STATS, headers=bearer("gk_0123abcd_" + "x" * 43))
    assert unknown.status_code == 401
    assert unknown.json()["code"] == "api_key_invalid"


def test_healthz_stays_public_and_carries_no_counts(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert set(response.json()) == {"status", "database", "schema_revision"}


def test_a_key_reaches_the_routes_of_its_scopes_only(
    services: Services, client: TestClient
) -> None:
    issued = new_key(services, "district", "registry:read")
    answered = client.get(STATS, headers=bearer(issued.text))
    assert answered.status_code == 200
    assert answered.json()["persons"] == 0
    refused = client.get(DEVICES, headers=bearer(issued.text))
    assert refused.status_code == 403
    assert refused.json() == {
        "detail": "该 API 密钥没有 devices:read 权限",
        "code": "api_scope_missing",
    }
    both = new_key(services, "monitor", "devices:read", "registry:read")
    assert client.get(DEVICES, headers=bearer(both.text)).json() == []
    # The refusal is audited too, in the key's name.
    denied = audit_rows(services, "access.denied")
    assert [(row.actor, row.target, row.detail["scope"]) for row in denied] == [
        ("district", DEVICES, "devices:read")
    ]


def test_the_key_is_shown_once_and_only_its_hash_is_stored(services: Services) -> None:
    issued = new_key(services, "district", "passages:read")
    assert issued.text.startswith(issued.key.prefix + "_")
    assert len(issued.text) > 50
    assert issued.text not in repr(issued)
    (row,) = key_rows(services)
    assert row.key_hash == hashlib.sha256(issued.text.encode()).hexdigest()
    assert row.prefix == issued.key.prefix
    assert len(row.prefix) == 11
    assert row.scopes == ["passages:read"]
    stored = " ".join(str(value) for value in vars(row).values())
    secret = issued.text.removeprefix(row.prefix + "_")
    assert secret not in stored
    with services.database.session() as session:
        audited = json.dumps([(a.target, a.detail) for a in session.scalars(select(AuditEvent))])
    assert secret not in audited
    assert "apikey:district" in audited


def test_every_call_is_audited_with_the_key_name_and_sets_last_used(
    services: Services, client: TestClient
) -> None:
    issued = new_key(services, "district", "registry:read")
    assert key_rows(services)[0].last_used_at is None
    for _ in range(3):
        assert client.get(STATS, headers=bearer(issued.text)).status_code == 200
    calls = audit_rows(services, "api.call")
    assert [(row.actor, row.target) for row in calls] == [("district", STATS)] * 3
    assert all(row.origin.startswith("api@") for row in calls)
    assert calls[0].detail == {"key": issued.key.prefix, "scope": "registry:read"}
    assert key_rows(services)[0].last_used_at is not None


def test_a_revoked_key_and_a_rotated_key_stop_at_once(
    services: Services, client: TestClient
) -> None:
    issued = new_key(services, "district", "registry:read")
    assert client.get(STATS, headers=bearer(issued.text)).status_code == 200
    rotated = rotate_api_key("district", actor=operator(), units=services.units)
    assert rotated.key.scopes == (ApiScope.REGISTRY_READ,)
    old = client.get(STATS, headers=bearer(issued.text))
    assert old.status_code == 401
    assert old.headers["www-authenticate"] == "Bearer"
    assert client.get(STATS, headers=bearer(rotated.text)).status_code == 200
    revoke_api_key("district", actor=operator(), units=services.units)
    assert client.get(STATS, headers=bearer(rotated.text)).status_code == 401
    # The name is free again once no live key carries it.
    assert new_key(services, "district", "devices:read").key.name == "district"
    assert [row.revoked_at is not None for row in key_rows(services)] == [True, True, False]
    actions = [row.action for row in audit_rows(services, "apikey.rotate", "apikey.revoke")]
    assert actions == ["apikey.rotate", "apikey.revoke"]


def test_bad_names_and_unknown_scopes_are_refused_with_their_codes(services: Services) -> None:
    with pytest.raises(ActionRefused) as unknown:
        new_key(services, "district", "passages:read", "passages:write")
    assert unknown.value.code == "api_scope_unknown"
    assert "passages:write" in str(unknown.value)
    assert "devices:read" in str(unknown.value)
    with pytest.raises(ActionRefused) as none:
        new_key(services, "district")
    assert none.value.code == "api_scope_required"
    with pytest.raises(ActionRefused) as spaced:
        new_key(services, "district platform", "passages:read")
    assert spaced.value.code == "api_key_name"
    new_key(services, "district", "passages:read")
    with pytest.raises(ActionRefused) as taken:
        new_key(services, "district", "reports:read")
    assert taken.value.code == "api_key_name_taken"
    with pytest.raises(ActionRefused) as missing:
        rotate_api_key("nobody", actor=operator(), units=services.units)
    assert missing.value.code == "api_key_unknown"
    assert len(key_rows(services)) == 1


def test_staff_sessions_reach_the_routes_their_permission_maps_to(services: Services) -> None:
    add_staff(services, "office", Role.OFFICE, "role-password")
    add_staff(services, "guard", Role.GUARD, "role-password")
    with TestClient(create_app(services), follow_redirects=False) as office:
        office.post("/login", data={"username": "office", "password": "role-password"})
        assert office.get(STATS).status_code == 200
        assert office.get(DEVICES).status_code == 403
    with TestClient(create_app(services), follow_redirects=False) as guard:
        guard.post("/login", data={"username": "guard", "password": "role-password"})
        assert guard.get(STATS).status_code == 403
        assert guard.get(DEVICES).status_code == 200


@pytest.fixture
def limited(settings: Settings) -> Iterator[Services]:
    built = bootstrap(settings.model_copy(update={"api": ApiSettings(requests_per_minute=3)}))
    yield built
    built.close()


def test_a_key_over_its_rate_gets_429_with_retry_after(limited: Services) -> None:
    busy = new_key(limited, "busy", "registry:read")
    quiet = new_key(limited, "quiet", "registry:read")
    with TestClient(create_app(limited)) as client:
        assert [client.get(STATS, headers=bearer(busy.text)).status_code for _ in range(3)] == [
            200
        ] * 3
        over = client.get(STATS, headers=bearer(busy.text))
        assert over.status_code == 429
        assert 1 <= int(over.headers["retry-after"]) <= 60
        assert over.json()["code"] == "api_rate_limited"
        # Per key: another key is not held up; a refused request writes nothing.
        assert client.get(STATS, headers=bearer(quiet.text)).status_code == 200
    calls = audit_rows(limited, "api.call")
    assert [row.actor for row in calls] == ["busy"] * 3 + ["quiet"]


def test_the_gate_command_creates_lists_rotates_and_revokes_keys(services: Services) -> None:
    env = env_of(services)
    created = gate(
        env, "apikey", "create", "--name", "district", "--scope", "passages:read",
        "--scope", "registry:read",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip().splitlines()[-1].split()[-1]
    with TestClient(create_app(services)) as client:
        assert client.get(STATS, headers=bearer(key)).status_code == 200
    listed = gate(env, "apikey", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    (line,) = json.loads(listed.stdout)
    assert line["name"] == "district"
    assert line["scopes"] == ["passages:read", "registry:read"]
    assert line["last_used_at"] is not None
    assert line["revoked_at"] is None
    assert key not in listed.stdout
    assert key.startswith(line["prefix"])
    assert "district" in gate(env, "apikey", "list").stdout
    rotated = gate(env, "apikey", "rotate", "district")
    assert rotated.returncode == 0, rotated.stderr
    new = rotated.stdout.strip().splitlines()[-1].split()[-1]
    assert new != key
    revoked = gate(env, "apikey", "revoke", "district")
    assert revoked.returncode == 0, revoked.stderr
    with TestClient(create_app(services)) as client:
        assert client.get(STATS, headers=bearer(key)).status_code == 401
        assert client.get(STATS, headers=bearer(new)).status_code == 401
    unknown = gate(env, "apikey", "create", "--name", "x", "--scope", "everything")
    assert unknown.returncode == 1
    assert unknown.stderr.startswith("error: api scope unknown")
    assert "Traceback" not in unknown.stderr
    states = [entry["revoked_at"] is not None for entry in json.loads(
        gate(env, "apikey", "list", "--json").stdout
    )]  # fmt: skip
    assert states == [True, True]
