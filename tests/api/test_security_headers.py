"""Security headers on every response and a script-tight CSP on every page."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from tests.api.test_office_support import Compound, app_client

TEMPLATES = Path(__file__).resolve().parents[2] / "api" / "templates"


def test_every_page_forbids_inline_script_and_framing(compound: Compound) -> None:
    with app_client(compound.services) as client:
        check_headers(client)


def check_headers(client: TestClient) -> None:
    for path in ("/login", "/pass/", "/healthz", "/static/style.css"):
        answer = client.get(path)
        assert answer.headers["x-content-type-options"] == "nosniff", path
        assert answer.headers["referrer-policy"] == "same-origin", path
        assert answer.headers["x-frame-options"] == "DENY", path
    page = client.get("/login")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self';" in policy
    assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in policy
    assert "content-security-policy" not in client.get("/healthz").headers  # JSON: no page


def test_no_template_holds_inline_script_or_handlers() -> None:
    # An inline <script> or an on...= attribute would be refused by the browser under the
    # policy; the pages keep their script in /static (page.js, terminal.js, ...).
    for template in TEMPLATES.glob("*.html"):
        text = template.read_text()
        inline = re.findall(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", text)
        assert not inline, (template.name, inline)
        assert not re.search(r"\son[a-z]+=\"", text), template.name
