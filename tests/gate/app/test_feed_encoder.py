"""The feed encoder's lines: times in any zone, both engines' values, escaping (no database).

The encoder makes local times from the log's UTC text by an hour's prefix; these tests
hold it to ``datetime``'s answer in zones with whole-hour offsets, odd offsets and
daylight-saving changes, for text (SQLite) and datetimes (PostgreSQL) alike.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from gate.app.district_feed import (
    DIRECTION_CODE,
    OPEN_TYPE,
    CompoundAddress,
    Place,
    address,
    floor_of,
    house_code,
)
from gate.app.feed_encoder import FeedBatch, FeedEncoder, utc_text

COMPOUND = CompoundAddress(code="ru%yi", name="如意小区", province="内蒙古自治区")
ZONES = ("Asia/Shanghai", "Asia/Kathmandu", "America/St_Johns", "Europe/Berlin", "UTC")


def _encoder(zone: str, *, shape: str = "standard", documents: bool = False) -> FeedEncoder:
    return FeedEncoder(
        compound_code=COMPOUND.code,
        house_code=lambda b, u, r: house_code(COMPOUND, Place(b, u, r)),
        address=lambda b, u, r: address(COMPOUND, Place(b, u, r)) or {},
        floor_of=floor_of,
        pseudonym=lambda kind, ref: f"{kind}-{ref}",
        shape=shape,
        open_type=OPEN_TYPE,
        direction_code=DIRECTION_CODE,
        documents=documents,
        zone=ZoneInfo(zone),
    )


def _row(seq: int, at: Any, **values: Any) -> tuple[Any, ...]:
    row = {
        "uuid": f"uuid-{seq}",
        "lane": "main",
        "direction": "in",
        "credential_kind": "id_card",
        "identity_kind": "registered",
        "person_ref": "p1",
        "household_ref": "h1",
        "outcome": "allow",
        "opens_barrier": 1,
        "reasons": '[{"code": "registered", "params": {}, "rule_id": null}]',
        "rule_ids": "[]",
        "decided_by": "auto",
        "overrides_seq": None,
        "temperature": None,
        "document_hash": None,
        **values,
    }
    return (seq, row["uuid"], at, *list(row.values())[1:])


def _moments(zone: str) -> list[datetime]:
    """Random moments, the hours around the zone's offset changes, whole seconds too."""
    draw = random.Random(zone)  # noqa: S311 - test moments, not secrets
    start = datetime(2024, 1, 1, tzinfo=UTC)
    moments = [
        start + timedelta(seconds=draw.randrange(366 * 86400), microseconds=draw.randrange(10**6))
        for _ in range(300)
    ]
    info = ZoneInfo(zone)
    previous = start.astimezone(info).utcoffset()
    for hour in range(366 * 24):
        moment = start + timedelta(hours=hour)
        offset = moment.astimezone(info).utcoffset()
        if offset != previous:  # the change and the seconds either side of it
            moments += [moment + timedelta(seconds=delta) for delta in (-3601, -1, 0, 1, 1799)]
        previous = offset
    return [*moments, start, start + timedelta(hours=5, minutes=7)]


@pytest.mark.parametrize("zone", ZONES)
def test_times_match_datetime_in_any_zone_for_text_and_datetimes(zone: str) -> None:
    moments = _moments(zone)
    rows = [_row(i, utc_text(m)) for i, m in enumerate(moments)]
    rows += [_row(i, m.astimezone(ZoneInfo(zone))) for i, m in enumerate(moments)]  # a driver's
    encoder = _encoder(zone)
    viid = _encoder(zone, shape="viid")
    batch = FeedBatch(rows, {"h1": ("3", "2", "502")}, {})
    items = [json.loads(line) for line in encoder.lines(batch)]
    objects = [json.loads(line) for line in viid.lines(batch)]
    for item, obj, moment in zip(items, objects, moments + moments, strict=True):
        local = moment.astimezone(ZoneInfo(zone))
        assert item["at_utc"] == moment.isoformat()
        assert item["at_local"] == local.isoformat()
        assert item["event_time"] == item["received_at"] == local.isoformat()
        assert item["local_time"] == local.strftime("%Y%m%d%H%M%S")
        assert obj["OpenTime"] == item["local_time"]


def test_values_are_escaped_and_shaped_once_per_fragment() -> None:
    encoder = _encoder("Asia/Shanghai")
    at = "2026-11-29 02:00:00.000000"
    rows = [
        _row(1, at, lane='gate "b"', decided_by="guard:王", temperature=36.6, overrides_seq=7),
        _row(2, at, uuid='odd"uuid\\', person_ref=None, household_ref=None, opens_barrier=0),
    ]
    first, second = (json.loads(line) for line in encoder.lines(FeedBatch(rows, {}, {})))
    assert first["lane"] == 'gate "b"'
    assert first["decided_by"] == "guard"
    assert first["temperature"] == 36.6
    assert first["overrides_seq"] == 7
    assert first["compound_id"] == "ru%yi"
    assert first["household"] == "household-h1"
    assert first["address"] is None  # a household no longer on file: no place
    assert second["uuid"] == 'odd"uuid\\'
    assert second["person"] is None
    assert second["household"] is None
    assert "document_masked" not in first


def test_documents_are_masked_to_the_type_length_or_null() -> None:
    encoder = _encoder("Asia/Shanghai", documents=True)
    at = "2026-11-29 02:00:00.000000"
    rows = [
        _row(1, at),
        _row(2, at, person_ref=None, document_hash="h" * 64),
        _row(3, at, person_ref=None, document_hash="x" * 64),
    ]
    found = {"p1": "resident_id:002X", "h" * 64: "foreign_permanent_2017:1234"}
    items = [json.loads(line) for line in encoder.lines(FeedBatch(rows, {}, found))]
    assert [item["document_masked"] for item in items] == [
        "*" * 14 + "002X",
        "*" * 11 + "1234",
        None,
    ]
    assert [item["document_type"] for item in items] == [
        "resident_id",
        "foreign_permanent_2017",
        None,
    ]
