"""Masked document numbers in the feed: only for ``passages:read-masked-documents``.

A key with that scope (or a staff role with its permission, the audit one) gets
``document_masked`` and ``document_type`` in every item, null where the passage's
document is in no table; everyone else gets items without those fields. No item ever
carries a whole number.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient

from gate.app.actor import Actor
from gate.app.visitors import RegisterVisitor, register_visitor
from gate.domain.documents import DocumentType, masked_number
from gate.domain.model import Credential, CredentialKind, Direction, DocumentRead
from gate.domain.roles import Role
from gate.runtime.bootstrap import Services, build_gate
from tests.api.test_district_api import _get, _key
from tests.api.test_office_support import (
    NEWCOMER,
    PASSWORD,
    RESIDENT_A,
    Compound,
    app_client,
    sign_in,
)
from tests.gate.app.staff_builders import add_staff
from tests.registry.builders import resident_number as number

VISITOR = number("19880808", "016")
BOTH = ("passages:read", "passages:read-masked-documents")


def _card(services: Services, who: str, direction: Direction = Direction.IN) -> None:
    gate = build_gate(services)
    credential = Credential(
        CredentialKind.ID_CARD, document=DocumentRead(DocumentType.RESIDENT_ID, who)
    )
    gate.pipeline.process(credential, lane="main", direction=direction)


def _three_passages(services: Services) -> None:
    """A resident, an outsider (a number in no table) and a registered visitor."""
    _card(services, RESIDENT_A, Direction.OUT)
    _card(services, NEWCOMER)
    guard = Actor(name="guard", origin="test", at=datetime.now(UTC))
    register_visitor(
        RegisterVisitor("访客", DocumentType.RESIDENT_ID, VISITOR, "1-1-101", "探亲"),
        actor=guard,
        units=services.units,
    )
    _card(services, VISITOR)


def _items(client: TestClient, key: str, query: str = "") -> list[dict[str, Any]]:
    answer = _get(client, key, f"/api/v1/passages?limit=10{query}")
    assert answer.status_code == 200, answer.text  # type: ignore[attr-defined]
    body = answer.json()  # type: ignore[attr-defined]
    if "items" in body:
        items: list[dict[str, Any]] = body["items"]
        return items
    objects: list[dict[str, Any]] = body["AccessRecordListObject"]["AccessRecordObject"]
    return objects


def test_a_key_with_only_passages_read_never_sees_a_document(compound: Compound) -> None:
    _three_passages(compound.services)
    key = _key(compound.services, "passages:read")
    with app_client(compound.services) as client:
        items = _items(client, key)
        viid = _items(client, key, "&profile=viid")
        streamed = _get(client, key, "/api/v1/passages?limit=10", "application/x-ndjson")
    assert [item["identity_kind"] for item in items] == ["registered", "outsider", "visitor"]
    assert all("document_masked" not in item and "document_type" not in item for item in items)
    assert all("DocumentMasked" not in obj["Extension"] for obj in viid)
    text = json.dumps(items) + json.dumps(viid) + streamed.text  # type: ignore[attr-defined]
    for whole in (RESIDENT_A, NEWCOMER, VISITOR):
        assert whole not in text
        assert whole[-4:] not in text


def test_the_masked_scope_adds_the_masked_number_and_null_for_an_outsider(
    compound: Compound,
) -> None:
    _three_passages(compound.services)
    key = _key(compound.services, *BOTH)
    with app_client(compound.services) as client:
        items = _items(client, key)
        viid = _items(client, key, "&profile=viid")
        streamed = _get(client, key, "/api/v1/passages?limit=10", "application/x-ndjson")
        table = _get(client, key, "/api/v1/passages?limit=10", "text/csv")
    resident, outsider, visitor = items
    assert resident["document_masked"] == "*" * 14 + RESIDENT_A[-4:]
    assert resident["document_masked"] == masked_number(DocumentType.RESIDENT_ID, RESIDENT_A[-4:])
    assert resident["document_type"] == "resident_id"
    assert outsider["document_masked"] is None
    assert outsider["document_type"] is None
    assert visitor["document_masked"] == "*" * 14 + VISITOR[-4:]
    assert visitor["document_type"] == "resident_id"
    extensions = [obj["Extension"] for obj in viid]
    assert [ext["DocumentMasked"] for ext in extensions] == [
        item["document_masked"] for item in items
    ]
    assert [ext["DocumentType"] for ext in extensions] == ["resident_id", None, "resident_id"]
    lines = [json.loads(line) for line in streamed.text.splitlines()]  # type: ignore[attr-defined]
    assert lines == items
    rows = list(csv.reader(io.StringIO(table.text)))  # type: ignore[attr-defined]
    assert rows[0][-2:] == ["document_masked", "document_type"]
    assert [row[-2:] for row in rows[1:]] == [
        [resident["document_masked"], "resident_id"],
        ["", ""],
        [visitor["document_masked"], "resident_id"],
    ]
    text = json.dumps(items) + json.dumps(viid) + table.text  # type: ignore[attr-defined]
    for whole in (RESIDENT_A, NEWCOMER, VISITOR):
        assert whole not in text


def test_the_masked_scope_alone_does_not_open_the_feed(compound: Compound) -> None:
    key = _key(compound.services, "passages:read-masked-documents")
    with app_client(compound.services) as client:
        assert _get(client, key, "/api/v1/passages").status_code == 403  # type: ignore[attr-defined]


def test_staff_see_masked_numbers_only_with_the_audit_permission(compound: Compound) -> None:
    _three_passages(compound.services)
    add_staff(compound.services, "auditor", Role.AUDITOR, PASSWORD)
    seen: dict[str, dict[str, Any]] = {}
    for username in ("office", "auditor"):
        with app_client(compound.services) as client:
            sign_in(client, username)
            answer = client.get("/api/v1/passages?limit=1")
            assert answer.status_code == 200, answer.text
            seen[username] = answer.json()["items"][0]
    assert "document_masked" not in seen["office"]
    assert seen["auditor"]["document_masked"] == "*" * 14 + RESIDENT_A[-4:]
