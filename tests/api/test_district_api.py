"""``GET /api/v1/passages`` over HTTP: the cursor contract, the three media types, the keys.

Passages go through the real pipeline; the district pulls with an API key. JSON pages
chain by ``next_cursor`` to every row once; NDJSON streams the same items; CSV carries
the cursor in a header; a key without ``passages:read`` is refused; the VIID profile
wraps items as list objects.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

from fastapi.testclient import TestClient

from gate.app.actor import Actor
from gate.app.api_keys import CreateApiKey, create_api_key
from gate.domain.documents import DocumentType
from gate.domain.model import Credential, CredentialKind, Direction, DocumentRead
from gate.runtime.bootstrap import Services, build_gate
from tests.api.test_office_support import QUARANTINED, RESIDENT_A, RESIDENT_B, Compound, app_client


def _key(services: Services, *scopes: str) -> str:
    actor = Actor(name="admin", origin="test", at=datetime.now(UTC))
    issued = create_api_key(
        CreateApiKey(
            name=f"district-{len(scopes)}-{scopes[0] if scopes else 'none'}".replace(":", "-"),
            scopes=scopes,
        ),
        actor=actor,
        units=services.units,
    )
    return issued.text


def _passages(services: Services, count: int) -> None:
    gate = build_gate(services)
    people = (RESIDENT_A, RESIDENT_B, QUARANTINED)
    for index in range(count):
        credential = Credential(
            CredentialKind.ID_CARD,
            document=DocumentRead(DocumentType.RESIDENT_ID, people[index % 3]),
        )
        direction = Direction.OUT if (index // 3) % 2 == 0 else Direction.IN
        gate.pipeline.process(credential, lane="main", direction=direction)


def _get(client: TestClient, key: str, path: str, accept: str = "application/json") -> object:
    return client.get(path, headers={"Authorization": f"Bearer {key}", "Accept": accept})


def test_json_pages_chain_by_cursor_to_every_row_once(compound: Compound) -> None:
    _passages(compound.services, 23)
    key = _key(compound.services, "passages:read")
    seen: list[int] = []
    with app_client(compound.services) as client:
        cursor = None
        while True:
            query = f"/api/v1/passages?limit=5{f'&after={cursor}' if cursor else ''}"
            answer = _get(client, key, query)
            assert answer.status_code == 200, answer.text  # type: ignore[attr-defined]
            body = answer.json()  # type: ignore[attr-defined]
            if not body["items"]:
                assert body["next_cursor"] == cursor
                break
            seen += [item["seq"] for item in body["items"]]
            cursor = body["next_cursor"]
            assert answer.headers["x-next-cursor"] == cursor  # type: ignore[attr-defined]
        _passages(compound.services, 2)
        more = _get(client, key, f"/api/v1/passages?after={cursor}").json()  # type: ignore[attr-defined]
    assert seen == list(range(1, 24))
    assert [item["seq"] for item in more["items"]] == [24, 25]
    item = more["items"][0]
    assert item["open_type"] == "100501"
    assert item["address"]["province"] == "内蒙古自治区"
    assert RESIDENT_A not in json.dumps(more)


def test_ndjson_streams_the_same_items_and_csv_carries_the_cursor(compound: Compound) -> None:
    _passages(compound.services, 12)
    key = _key(compound.services, "passages:read")
    with app_client(compound.services) as client:
        pages = _get(client, key, "/api/v1/passages?limit=100").json()["items"]  # type: ignore[attr-defined]
        streamed = _get(client, key, "/api/v1/passages?limit=100", "application/x-ndjson")
        assert streamed.headers["content-type"].startswith("application/x-ndjson")  # type: ignore[attr-defined]
        lines = [json.loads(line) for line in streamed.text.splitlines()]  # type: ignore[attr-defined]
        table = _get(client, key, "/api/v1/passages?limit=4", "text/csv")
        viid = _get(client, key, "/api/v1/passages?limit=2&profile=viid").json()  # type: ignore[attr-defined]
    assert lines == pages
    rows = list(csv.reader(io.StringIO(table.text)))  # type: ignore[attr-defined]
    assert rows[0][:3] == ["seq", "uuid", "compound_id"]
    assert [row[0] for row in rows[1:]] == ["1", "2", "3", "4"]
    assert table.headers["x-next-cursor"] == "v1.4"  # type: ignore[attr-defined]
    objects = viid["AccessRecordListObject"]["AccessRecordObject"]
    assert [obj["SerialNo"] for obj in objects] == [1, 2]
    assert objects[0]["CommunityID"] == "ruyi"
    assert viid["next_cursor"] == "v1.2"


def test_the_feed_needs_a_key_with_its_scope_and_a_good_cursor(compound: Compound) -> None:
    other = _key(compound.services, "devices:read")
    key = _key(compound.services, "passages:read")
    with app_client(compound.services) as client:
        assert client.get("/api/v1/passages").status_code == 401
        assert _get(client, other, "/api/v1/passages").status_code == 403  # type: ignore[attr-defined]
        bad = _get(client, key, "/api/v1/passages?after=42")
        assert bad.status_code == 422  # type: ignore[attr-defined]
        assert _get(client, key, "/api/v1/passages?limit=0").status_code == 422  # type: ignore[attr-defined]
