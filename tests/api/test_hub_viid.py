"""``profile=viid`` on the hub: the edge's GA/T 1400-style objects, made from stored items.

The mapping from a standard item is the edge encoder's (checked against it on passages
of every kind), the compound is the item's own, the cursor and NDJSON work as for the
standard profile, and a key still reads only its compounds.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from gate.app.district_feed import (
    CompoundAddress,
    FeedRow,
    Place,
    standard_item,
    viid_item,
    viid_of_standard,
)
from gate.runtime.bootstrap import Services, bootstrap
from gate.runtime.settings import HubSettings, Settings
from tests.api.test_hub import bearer, key_for, push
from tests.hub_items import batch, feed_item

FEED = "/api/v1/passages"
COMPOUND = CompoundAddress(
    "ruyi", "如意小区", "内蒙古自治区", "呼和浩特市", "新城区", "东街街道", "如意社区"
)


def _pseudonym(kind: str, ref: str) -> str:
    return f"{kind[:1]}{ref}".ljust(24, "0")[:24]


def _rows() -> Iterator[FeedRow]:
    at = datetime(2026, 11, 29, 2, 0, 7, 250_000, tzinfo=UTC)
    kinds = itertools.product(
        ("id_card", "manual", "face", "qr_pass"),
        (("registered", "p1", "h1", Place("3", "2", "502")), ("outsider", None, None, None)),
        (
            ("allow", True, "auto", None),
            ("deny", False, "auto", None),
            ("allow", True, "guard:7", 4),
        ),
    )
    for seq, (credential, (kind, person, household, place), decision) in enumerate(kinds, 1):
        outcome, opens, decided_by, overrides = decision
        yield FeedRow(
            seq=seq,
            uuid=f"00000000-0000-4000-8000-{seq:012d}",
            at=at + timedelta(hours=seq),
            lane="in" if seq % 2 else "out",
            direction="in" if seq % 2 else "out",
            credential_kind=credential,
            identity_kind=kind,
            person_ref=person,
            household_ref=household,
            outcome=outcome,
            opens_barrier=opens,
            reason_codes=["registered"] if outcome == "allow" else ["not_registered", "x"],
            rule_ids=[] if outcome == "allow" else ["registry"],
            decided_by=decided_by,
            overrides_seq=overrides,
            temperature=36.6 if seq % 3 else None,
            place=place,
        )


def test_the_viid_mapping_of_a_standard_item_is_the_edges() -> None:
    for row in _rows():
        standard = standard_item(row, COMPOUND, _pseudonym)
        assert viid_of_standard(standard) == viid_item(row, COMPOUND, _pseudonym), row.seq
        assert list(viid_of_standard(standard)) == list(viid_item(row, COMPOUND, _pseudonym))


def test_the_masked_document_goes_under_extension_when_the_item_has_it() -> None:
    item = feed_item("ruyi", 1, document_masked="**************002X", document_type="resident_id")
    extension = viid_of_standard(item)["Extension"]
    assert (extension["DocumentMasked"], extension["DocumentType"]) == (
        "**************002X",
        "resident_id",
    )
    assert "DocumentMasked" not in viid_of_standard(feed_item("ruyi", 1))["Extension"]


@pytest.fixture
def hub(settings: Settings) -> Iterator[Services]:
    built = bootstrap(settings.model_copy(update={"hub": HubSettings(enabled=True)}))
    yield built
    built.close()


@pytest.fixture
def client(hub: Services) -> Iterator[TestClient]:
    with TestClient(create_app(hub)) as test_client:
        yield test_client


def test_the_hub_serves_viid_pages_of_the_keys_compounds(hub: Services, client: TestClient) -> None:
    key_a = key_for(hub, "edge-a", "compound-a")
    key_b = key_for(hub, "edge-b", "compound-b")
    pushed = batch("compound-a", 1, 3)
    assert push(client, key_a, pushed).status_code == 200
    assert push(client, key_b, batch("compound-b", 1, 2)).status_code == 200
    page = client.get(FEED, params={"profile": "viid", "limit": 2}, headers=bearer(key_a))
    assert page.status_code == 200, page.text
    body = page.json()
    objects = body["AccessRecordListObject"]["AccessRecordObject"]
    assert [o["RecordID"] for o in objects] == [i["uuid"] for i in pushed["items"][:2]]
    first = objects[0]
    assert first["CommunityID"] == "compound-a"
    assert first["DeviceID"] == "compound-a-main"
    assert first["SerialNo"] == 1
    assert first["HouseID"] == "compound-a-1-1-101"
    standard = client.get(FEED, params={"limit": 2}, headers=bearer(key_a)).json()["items"]
    assert body["next_cursor"] == f"v1.{standard[-1]['hub_seq']}"
    assert [o["Extension"]["HubSerialNo"] for o in objects] == [i["hub_seq"] for i in standard]
    for viid, item in zip(objects, standard, strict=True):
        hub_seq = viid["Extension"].pop("HubSerialNo")
        assert hub_seq == item.pop("hub_seq")
        assert viid == viid_of_standard(item)
    rest = client.get(
        FEED, params={"profile": "viid", "after": body["next_cursor"]}, headers=bearer(key_a)
    ).json()
    assert [o["SerialNo"] for o in rest["AccessRecordListObject"]["AccessRecordObject"]] == [3]
    lines = client.get(
        FEED,
        params={"profile": "viid"},
        headers={**bearer(key_a), "Accept": "application/x-ndjson"},
    )
    ndjson = [orjson.loads(line) for line in lines.content.splitlines()]
    assert [(o["CommunityID"], o["SerialNo"]) for o in ndjson] == [
        ("compound-a", n) for n in (1, 2, 3)
    ]
    other = client.get(
        FEED, params={"profile": "viid", "compound": "compound-b"}, headers=bearer(key_a)
    )
    assert other.status_code == 403
    # CSV is always the standard columns.
    csv = client.get(
        FEED, params={"profile": "viid"}, headers={**bearer(key_a), "Accept": "text/csv"}
    )
    assert csv.text.splitlines()[0].startswith("hub_seq,seq,uuid,compound_id")
