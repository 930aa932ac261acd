"""The API's schema and its docs page, served without any CDN (a gate box is offline)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.test_office_support import Compound, app_client


def test_the_docs_page_loads_swagger_ui_from_this_service(compound: Compound) -> None:
    with app_client(compound.services) as client:
        page = client.get("/docs")
        script = client.get("/docs-assets/swagger-ui-bundle.js")
        style = client.get("/docs-assets/swagger-ui.css")
    assert page.status_code == 200
    assert "/docs-assets/swagger-ui-bundle.js" in page.text
    assert "cdn" not in page.text.lower()
    # Every asset from this service (the page's only outside link is FastAPI's logo URL).
    assert "http://" not in page.text
    assert "https://" not in page.text.replace("https://fastapi.tiangolo.com", "")
    assert script.status_code == 200
    assert "SwaggerUIBundle" in script.text
    assert style.status_code == 200


def test_the_schema_documents_the_feed_with_its_errors(office: TestClient) -> None:
    schema = office.get("/openapi.json").json()
    feed = schema["paths"]["/api/v1/passages"]["get"]
    assert {"200", "401", "403", "422", "429"} <= set(feed["responses"])
    assert {"application/x-ndjson", "text/csv"} <= set(feed["responses"]["200"]["content"])
    assert {param["name"] for param in feed["parameters"]} >= {"after", "limit", "profile"}
