"""The app factory serves health and registry stats from the services it is given."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient

from api.app import create_app
from gate.app.actor import Actor
from gate.app.api_keys import CreateApiKey, create_api_key
from gate.runtime.bootstrap import Services
from registry.service import add_building, get_or_create_compound


def test_healthz_reports_the_schema_revision(services: Services) -> None:
    with TestClient(create_app(services)) as client:
        response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["schema_revision"] == services.database.head_revision()
    assert body["database"] == services.database.dialect


def test_registry_stats_counts_what_is_there(services: Services) -> None:
    with services.database.session() as session:
        compound = get_or_create_compound(session, code="ruyi", name="如意小区")
        add_building(session, compound=compound, label="1号楼", units=["1", "2", "3"])
    issued = create_api_key(
        CreateApiKey("stats", ("registry:read",)),
        actor=Actor("test", "test", datetime.now(UTC)),
        units=services.units,
    )
    with TestClient(create_app(services)) as client:
        response = client.get(
            "/api/v1/registry/stats", headers={"Authorization": f"Bearer {issued.text}"}
        )
    assert response.status_code == 200
    assert response.json() == {
        "buildings": 1,
        "units": 3,
        "households": 0,
        "persons": 0,
        "quarantined_persons": 0,
        "quarantined_households": 0,
    }
