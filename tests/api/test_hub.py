"""Hub mode: edges push batches of feed items; the hub stores each once and serves them.

A batch sent twice is stored once; a gap is 409 with where to resume; a key bound to one
compound can neither push, nor read the cursor or the rows of another; a malformed item
is 422 naming its index and field, and nothing of the batch is stored.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from api.app import create_app
from gate.app.actor import Actor
from gate.app.api_keys import CreateApiKey, create_api_key
from gate.domain.errors import ActionRefused
from gate.runtime.bootstrap import Services, bootstrap
from gate.runtime.settings import HubSettings, Settings
from registry.hub_models import HubPassage
from registry.models import AuditEvent
from tests.hub_items import batch, feed_item

INGEST, CURSOR, FEED = "/api/v1/ingest", "/api/v1/ingest/cursor", "/api/v1/passages"


def operator() -> Actor:
    return Actor("operator", "cli@test", datetime.now(UTC))


def key_for(services: Services, name: str, *compounds: str, scopes: tuple[str, ...] = ()) -> str:
    scopes = scopes or ("passages:push", "passages:read")
    command = CreateApiKey(name, scopes, compounds=compounds)
    return create_api_key(command, actor=operator(), units=services.units).text


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def hub(settings: Settings) -> Iterator[Services]:
    built = bootstrap(settings.model_copy(update={"hub": HubSettings(enabled=True)}))
    yield built
    built.close()


@pytest.fixture
def client(hub: Services) -> Iterator[TestClient]:
    with TestClient(create_app(hub)) as test_client:
        yield test_client


def push(client: TestClient, key: str, body: Any) -> Any:
    return client.post(INGEST, content=orjson.dumps(body), headers=bearer(key))


def stored(services: Services) -> int:
    with services.database.session() as session:
        return int(session.scalar(select(func.count()).select_from(HubPassage)) or 0)


def test_a_batch_sent_twice_is_stored_once(hub: Services, client: TestClient) -> None:
    key = key_for(hub, "edge-ruyi", "ruyi")
    body = batch("ruyi", 1, 3)
    body["items"][1]["replayed"] = True
    first = push(client, key, body)
    assert first.status_code == 200, first.text
    assert first.json() == {"accepted": 3, "duplicates": 0, "acknowledged_seq": 3}
    again = push(client, key, body)
    assert again.json() == {"accepted": 0, "duplicates": 3, "acknowledged_seq": 3}
    # An overlapping batch: the held items are duplicates, the new one is stored.
    overlap = {"compound_id": "ruyi", "items": [*body["items"][2:], feed_item("ruyi", 4)]}
    assert push(client, key, overlap).json() == {
        "accepted": 1,
        "duplicates": 1,
        "acknowledged_seq": 4,
    }
    assert stored(hub) == 4
    page = client.get(FEED, headers=bearer(key)).json()
    items = page["items"]
    assert [item["seq"] for item in items] == [1, 2, 3, 4]
    assert [item["uuid"] for item in items[:3]] == [item["uuid"] for item in body["items"]]
    assert [item["replayed"] for item in items] == [False, True, False, False]
    # received_at is the hub's clock, not the edge's.
    sent = body["items"][0]["received_at"]
    assert items[0]["received_at"] != sent
    received = datetime.fromisoformat(items[0]["received_at"])
    assert abs(received - datetime.now(UTC)) < timedelta(minutes=1)
    assert items[0]["at_utc"] == body["items"][0]["at_utc"]
    hub_seqs = [item["hub_seq"] for item in items]
    assert hub_seqs == sorted(hub_seqs)
    assert page["next_cursor"] == f"v1.{hub_seqs[-1]}"
    assert (
        client.get(FEED, params={"after": page["next_cursor"]}, headers=bearer(key)).json()["items"]
        == []
    )
    assert client.get(CURSOR, params={"compound_id": "ruyi"}, headers=bearer(key)).json() == {
        "compound_id": "ruyi",
        "last_seq": 4,
    }
    with hub.database.session() as session:
        audits = session.scalars(
            select(AuditEvent.detail).where(AuditEvent.action == "hub.ingest")
        ).all()
    assert [audit["accepted"] for audit in audits] == [3, 0, 1]


def test_a_gap_is_409_with_where_to_resume(hub: Services, client: TestClient) -> None:
    key = key_for(hub, "edge-ruyi", "ruyi")
    assert (
        client.get(CURSOR, params={"compound_id": "ruyi"}, headers=bearer(key)).json()["last_seq"]
        == 0
    )
    early = push(client, key, batch("ruyi", 2, 2))
    assert early.status_code == 409
    assert early.json()["expected_after"] == 0
    assert push(client, key, batch("ruyi", 1, 3)).status_code == 200
    gap = push(client, key, batch("ruyi", 5, 2))
    assert gap.status_code == 409
    assert gap.json()["expected_after"] == 3
    assert gap.json()["code"] == "hub_gap"
    assert stored(hub) == 3
    assert push(client, key, batch("ruyi", 4, 3)).json()["acknowledged_seq"] == 6


def test_a_key_of_one_compound_neither_pushes_nor_reads_another(
    hub: Services, client: TestClient
) -> None:
    key_a = key_for(hub, "edge-a", "compound-a")
    key_b = key_for(hub, "edge-b", "compound-b")
    assert push(client, key_a, batch("compound-a", 1, 2)).status_code == 200
    assert push(client, key_b, batch("compound-b", 1, 3)).status_code == 200
    refused = push(client, key_a, batch("compound-b", 4, 1))
    assert refused.status_code == 403
    assert refused.json()["code"] == "hub_compound_refused"
    # An item of another compound in A's own batch: refused, nothing of it stored.
    mixed = batch("compound-a", 3, 2)
    mixed["items"][1]["compound_id"] = "compound-b"
    assert push(client, key_a, mixed).status_code == 403
    cursor_b = client.get(CURSOR, params={"compound_id": "compound-b"}, headers=bearer(key_a))
    assert cursor_b.status_code == 403
    own = client.get(FEED, headers=bearer(key_a)).json()["items"]
    assert {item["compound_id"] for item in own} == {"compound-a"}
    assert len(own) == 2
    other = client.get(FEED, params={"compound": "compound-b"}, headers=bearer(key_a))
    assert other.status_code == 403
    assert stored(hub) == 5
    # A key of two compounds reads both, or one of them.
    both = key_for(hub, "district", "compound-a", "compound-b", scopes=("passages:read",))
    assert len(client.get(FEED, headers=bearer(both)).json()["items"]) == 5
    only_b = client.get(FEED, params={"compound": "compound-b"}, headers=bearer(both)).json()
    assert [item["seq"] for item in only_b["items"]] == [1, 2, 3]
    lines = client.get(FEED, headers={**bearer(both), "Accept": "application/x-ndjson"})
    ndjson = [orjson.loads(line) for line in lines.content.splitlines()]
    assert [item["hub_seq"] for item in ndjson] == sorted(item["hub_seq"] for item in ndjson)
    assert len(ndjson) == 5
    # A key without the push scope may read, not push.
    assert push(client, both, batch("compound-a", 3, 1)).status_code == 403


def test_a_key_without_compounds_reads_this_gates_own_log(
    hub: Services, client: TestClient
) -> None:
    edge = key_for(hub, "edge-a", "compound-a")
    assert push(client, edge, batch("compound-a", 1, 2)).status_code == 200
    own = key_for(hub, "ours", scopes=("passages:read", "passages:push"))
    assert client.get(FEED, headers=bearer(own)).json()["items"] == []  # our log is empty
    assert push(client, own, batch("compound-a", 3, 1)).status_code == 403
    assert client.post(INGEST, content=b"{}").status_code == 401
    assert push(client, "gk_00000000_" + "x" * 43, batch("compound-a", 3, 1)).status_code == 401


@pytest.mark.parametrize(
    ("change", "index", "field"),
    [
        (lambda items: items[1].pop("uuid"), 1, "uuid"),
        (lambda items: items[2].update(seq="3"), 2, "seq"),
        (lambda items: items[0].update(at_utc="yesterday"), 0, "at_utc"),
        (lambda items: items[1].update(colour="red"), 1, "colour"),
        (lambda items: items[2].update(seq=1), 2, "seq"),  # out of order
        (lambda items: items[0].update(replayed=1), 0, "replayed"),
        (lambda items: items[1].update(uuid="aaaaaaaa-bbbb-cccc-dddd-eeeeeeeee,ee"), 1, "uuid"),
    ],
)
def test_a_malformed_item_is_422_naming_it_and_stores_nothing(
    hub: Services, client: TestClient, change: Any, index: int, field: str
) -> None:
    key = key_for(hub, "edge-ruyi", "ruyi")
    body = batch("ruyi", 1, 3)
    change(body["items"])
    refused = push(client, key, body)
    assert refused.status_code == 422, refused.text
    assert (refused.json()["index"], refused.json()["field"]) == (index, field)
    assert stored(hub) == 0


def test_malformed_bodies_and_oversized_batches(hub: Services, client: TestClient) -> None:
    key = key_for(hub, "edge-ruyi", "ruyi")
    bad = client.post(INGEST, content=b"{not json", headers=bearer(key))
    assert bad.status_code == 422
    assert push(client, key, {"compound_id": "ruyi"}).json()["field"] == "items"
    assert push(client, key, []).status_code == 422
    empty = push(client, key, {"compound_id": "ruyi", "items": []})
    assert empty.json() == {"accepted": 0, "duplicates": 0, "acknowledged_seq": 0}
    item = feed_item("ruyi", 1)
    large = {"compound_id": "ruyi", "items": [dict(item, seq=n) for n in range(1, 5002)]}
    assert push(client, key, large).status_code == 413
    assert stored(hub) == 0


def test_without_hub_mode_there_is_no_ingest(services: Services) -> None:
    with TestClient(create_app(services)) as client:
        key = key_for(services, "edge-ruyi", "ruyi")
        assert push(client, key, batch("ruyi", 1, 1)).status_code == 404


def test_keys_name_valid_compounds(services: Services) -> None:
    with pytest.raises(ActionRefused) as refused:
        key_for(services, "edge", "Not A Code")
    assert refused.value.code == "api_key_compound"
    assert key_for(services, "edge", "ruyi", "ruyi")  # repeated: kept once


@pytest.mark.postgres
def test_postgres_partitions_by_month_on_demand(
    settings: Settings, hub: Services, client: TestClient
) -> None:
    if hub.database.dialect != "postgresql":
        pytest.skip("partitioning is PostgreSQL's")
    key = key_for(hub, "edge-ruyi", "ruyi")
    now = datetime.now(UTC).replace(day=10, hour=1, microsecond=0)
    earlier = (now.replace(day=1) - timedelta(days=1)).replace(day=10)
    far = now.replace(year=now.year + 5)  # beyond the months made: the DEFAULT partition
    items = [
        feed_item("ruyi", 1, at=earlier),
        feed_item("ruyi", 2, at=now),
        feed_item("ruyi", 3, at=far),
    ]
    assert push(client, key, {"compound_id": "ruyi", "items": items}).status_code == 200
    with hub.database.engine.connect() as connection:
        rows = connection.execute(
            text("SELECT tableoid::regclass::text, seq FROM hub_passages ORDER BY seq")
        ).all()
    assert rows == [
        (f"hub_partitions.hub_passages_{earlier:%Y%m}", 1),
        (f"hub_partitions.hub_passages_{now:%Y%m}", 2),
        ("hub_partitions.hub_passages_default", 3),
    ]
    # Sent again: duplicates, though the rows live in different partitions.
    again = push(client, key, {"compound_id": "ruyi", "items": items})
    assert again.json()["duplicates"] == 3


def test_daily_counts_per_compound(hub: Services, client: TestClient) -> None:
    key_a = key_for(hub, "edge-a", "compound-a")
    key_b = key_for(hub, "edge-b", "compound-b")
    day = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
    late = feed_item("compound-a", 3, at=day + timedelta(hours=15), replayed=True)  # next day
    body_a = {
        "compound_id": "compound-a",
        "items": [feed_item("compound-a", 1, at=day), feed_item("compound-a", 2, at=day), late],
    }
    assert push(client, key_a, body_a).status_code == 200
    assert push(client, key_b, batch("compound-b", 1, 1, at=day, replayed=True)).status_code == 200
    reader = key_for(hub, "district", "compound-a", "compound-b", scopes=("passages:read",))
    counts = client.get("/api/v1/hub/daily", params={"date": "2026-11-29"}, headers=bearer(reader))
    assert counts.json() == {
        "date": "2026-11-29",
        "compounds": [
            {"compound_id": "compound-a", "passages": 2, "replayed": 0},
            {"compound_id": "compound-b", "passages": 1, "replayed": 1},
        ],
    }
    only_a = client.get(
        "/api/v1/hub/daily", params={"date": "2026-11-30"}, headers=bearer(key_a)
    ).json()
    # The late passage is the next local day's; key A reads its own compound only.
    assert only_a["compounds"] == [{"compound_id": "compound-a", "passages": 1, "replayed": 1}]


def test_an_unknown_key_with_braces_is_a_plain_422(hub: Services, client: TestClient) -> None:
    """Found by schemathesis: the key's name went into the message template (500)."""
    key = key_for(hub, "edge-ruyi", "ruyi")
    body = batch("ruyi", 1, 1)
    body["{"] = 1
    refused = push(client, key, body)
    assert refused.status_code == 422
    assert refused.json()["field"] == "{"
    item = batch("ruyi", 1, 1)
    item["items"][0]["a{b}"] = 1
    assert push(client, key, item).json()["field"] == "a{b}"


def test_an_item_with_a_masked_document_is_refused_and_nothing_stored(
    hub: Services, client: TestClient
) -> None:
    # The hub holds no document data: a reader without the masked-documents scope could
    # otherwise be handed what an edge (wrongly) pushed.
    key = key_for(hub, "edge-ruyi", "ruyi")
    body = batch("ruyi", 1, 2)
    body["items"][1]["document_masked"] = "**************002X"
    refused = push(client, key, body)
    assert refused.status_code == 422
    assert refused.json()["field"] == "document_masked"
    assert push(client, key, batch("ruyi", 1, 2)).status_code == 200  # nothing half-stored
