"""Tracing on the hub: ``/api/v1/trace/*`` over the passages the compounds' gates pushed.

The same rule as at a gate (a purpose, at most 31 days, audited), read from the hub's
passages of the key's compounds: a key of compound A never sees B's rows, ``compound``
narrows a key of several to one, a person is named by the feed's pseudonym.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.app import create_app
from gate.runtime.bootstrap import Services, bootstrap
from gate.runtime.settings import HubSettings, Settings
from registry.models import AuditEvent
from tests.api.test_hub import bearer, key_for, push
from tests.hub_items import START, feed_item

PERSON, WINDOW = "/api/v1/trace/person", "/api/v1/trace/window"
PURPOSE = "确诊病例密接排查（区疾控 2026-118）"
P, Q = "a1" * 12, "b2" * 12  # pseudonyms as the compounds' feeds give them
DAY = {"from": "2026-11-29", "to": "2026-11-29", "purpose": PURPOSE}


@pytest.fixture
def hub(settings: Settings) -> Iterator[Services]:
    built = bootstrap(settings.model_copy(update={"hub": HubSettings(enabled=True)}))
    yield built
    built.close()


@pytest.fixture
def client(hub: Services) -> Iterator[TestClient]:
    with TestClient(create_app(hub)) as test_client:
        yield test_client


def _load(hub: Services, client: TestClient) -> None:
    """Compound A: P, Q, P; compound B: Q, P (B's passages a little later each)."""
    for compound, people, shift in (("compound-a", (P, Q, P), 0), ("compound-b", (Q, P), 30)):
        key = key_for(hub, f"edge-{compound}", compound)
        items = [
            feed_item(compound, seq, at=START + timedelta(minutes=10 * seq + shift), person=who)
            for seq, who in enumerate(people, start=1)
        ]
        assert push(client, key, {"compound_id": compound, "items": items}).status_code == 200


def _audits(hub: Services) -> list[AuditEvent]:
    with hub.database.session() as session:
        return list(
            session.scalars(
                select(AuditEvent)
                .where(AuditEvent.action.in_(("trace.person", "trace.window")))
                .order_by(AuditEvent.id)
            )
        )


def test_a_key_of_one_compound_traces_only_that_compound(hub: Services, client: TestClient) -> None:
    _load(hub, client)
    key_a = bearer(key_for(hub, "district-a", "compound-a", scopes=("trace:read",)))
    window = client.get(WINDOW, params=DAY, headers=key_a)
    assert window.status_code == 200, window.text
    body = window.json()
    assert [(i["compound_id"], i["seq"], i["person"]) for i in body["items"]] == [
        ("compound-a", 1, P),
        ("compound-a", 2, Q),
        ("compound-a", 3, P),
    ]
    assert body["count"] == 3
    assert body["truncated"] is False
    assert all(isinstance(item["hub_seq"], int) for item in body["items"])
    person = client.get(PERSON, params={**DAY, "person": P}, headers=key_a).json()
    assert [(i["compound_id"], i["seq"]) for i in person["items"]] == [
        ("compound-a", 1),
        ("compound-a", 3),
    ]
    for path, extra in ((WINDOW, {}), (PERSON, {"person": P})):
        other = client.get(path, params={**DAY, **extra, "compound": "compound-b"}, headers=key_a)
        assert other.status_code == 403
        assert other.json()["code"] == "hub_compound_refused"
    audits = _audits(hub)
    assert [(a.action, a.detail["count"]) for a in audits] == [
        ("trace.window", 3),
        ("trace.person", 2),
    ]
    assert all(a.detail["compounds"] == ["compound-a"] for a in audits)
    assert all(a.detail["purpose"] == PURPOSE and a.actor == "district-a" for a in audits)
    assert audits[1].target == f"pseudonym:{P}"


def test_a_key_of_several_compounds_traces_across_them_in_time_order(
    hub: Services, client: TestClient
) -> None:
    _load(hub, client)
    both = bearer(key_for(hub, "district", "compound-a", "compound-b", scopes=("trace:read",)))
    window = client.get(WINDOW, params=DAY, headers=both).json()
    assert [(i["compound_id"], i["seq"]) for i in window["items"]] == [
        ("compound-a", 1),  # 02:10
        ("compound-a", 2),  # 02:20
        ("compound-a", 3),  # 02:30
        ("compound-b", 1),  # 02:40
        ("compound-b", 2),  # 02:50
    ]
    # Who was at the gates within the hour of P's passages at compound B (with whom).
    narrow = client.get(
        WINDOW,
        params={"from": "2026-11-29T10:35", "to": "2026-11-29T11:00", "purpose": PURPOSE},
        headers=both,
    ).json()
    assert [(i["compound_id"], i["person"]) for i in narrow["items"]] == [
        ("compound-b", Q),
        ("compound-b", P),
    ]
    person = client.get(PERSON, params={**DAY, "person": P}, headers=both).json()
    assert [(i["compound_id"], i["seq"]) for i in person["items"]] == [
        ("compound-a", 1),
        ("compound-a", 3),
        ("compound-b", 2),
    ]
    only_b = client.get(
        PERSON, params={**DAY, "person": P, "compound": "compound-b"}, headers=both
    ).json()
    assert [(i["compound_id"], i["seq"]) for i in only_b["items"]] == [("compound-b", 2)]
    assert _audits(hub)[-1].detail["compounds"] == ["compound-b"]
    nobody = client.get(PERSON, params={**DAY, "person": "c3" * 12}, headers=both).json()
    assert nobody["items"] == []


def test_the_rule_is_the_gates_and_the_hub_names_people_by_pseudonym(
    hub: Services, client: TestClient
) -> None:
    _load(hub, client)
    key_a = bearer(key_for(hub, "district-a", "compound-a", scopes=("trace:read",)))
    no_purpose = client.get(
        WINDOW, params={"from": "2026-11-29", "to": "2026-11-29"}, headers=key_a
    )
    assert no_purpose.json()["code"] == "trace_purpose_required"
    too_long = client.get(
        WINDOW, params={"from": "2026-10-01", "to": "2026-11-29", "purpose": PURPOSE}, headers=key_a
    )
    assert too_long.json()["code"] == "trace_window_too_long"
    document = client.get(PERSON, params={**DAY, "document": "150102198001010035"}, headers=key_a)
    assert document.status_code == 422
    assert document.json()["code"] == "hub_trace_document"
    nobody = client.get(PERSON, params=DAY, headers=key_a)
    assert nobody.json()["code"] == "trace_person_required"
    assert _audits(hub) == []
    # Without trace:read: 403, as at a gate.
    reader = bearer(key_for(hub, "feed-only", "compound-a", scopes=("passages:read",)))
    assert client.get(WINDOW, params=DAY, headers=reader).status_code == 403


def test_a_key_bound_to_no_compound_traces_the_hubs_own_log(
    hub: Services, client: TestClient
) -> None:
    _load(hub, client)
    own = bearer(key_for(hub, "ours", scopes=("trace:read",)))
    window = client.get(WINDOW, params=DAY, headers=own)
    assert window.status_code == 200, window.text
    assert window.json()["items"] == []  # the hub's own log is empty
    assert client.get(PERSON, params={**DAY, "person": P}, headers=own).json()["code"] == (
        "trace_document_required"
    )
    other = client.get(WINDOW, params={**DAY, "compound": "compound-a"}, headers=own)
    assert other.status_code == 403
