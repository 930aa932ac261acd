"""District feed items in the standard shape, as an edge pushes them to the hub."""

from __future__ import annotations

import uuid as uuids
from datetime import UTC, datetime, timedelta
from typing import Any

from gate.domain.status import LOCAL_TZ

START = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)


def feed_item(compound: str, seq: int, at: datetime | None = None, **fields: Any) -> dict[str, Any]:
    """One standard item of ``compound``'s passage ``seq`` (a fresh uuid unless given)."""
    moment = at or START + timedelta(seconds=seq)
    local = moment.astimezone(LOCAL_TZ)
    item: dict[str, Any] = {
        "uuid": str(uuids.uuid4()),
        "seq": seq,
        "serial": seq,
        "compound_id": compound,
        "lane": "main",
        "direction": "out",
        "direction_code": "2",
        "open_type": "100501",
        "credential_kind": "id_card",
        "manual": False,
        "at_utc": moment.isoformat(),
        "at_local": local.isoformat(),
        "local_time": local.strftime("%Y%m%d%H%M%S"),
        "event_time": local.isoformat(),
        "received_at": local.isoformat(),
        "replayed": False,
        "identity_kind": "registered",
        "person": "person:0123456789abcdef01234567",
        "household": "household:0123456789abcdef01234567",
        "address": {
            "province": "内蒙古自治区",
            "city": "呼和浩特市",
            "district": "新城区",
            "street": "东街街道",
            "community": "如意社区",
            "compound": "如意小区",
            "building": "1",
            "unit": "1",
            "floor": "1",
            "room": "101",
            "house_code": f"{compound}-1-1-101",
        },
        "outcome": "allow",
        "reasons": ["registered"],
        "rule_ids": [],
        "decided_by": "auto",
        "overrides_seq": None,
        "temperature": None,
    }
    item.update(fields)
    return item


def batch(compound: str, first: int, count: int, **fields: Any) -> dict[str, Any]:
    """A push body: ``count`` items of ``compound`` from ``seq`` ``first`` on."""
    return {
        "compound_id": compound,
        "items": [feed_item(compound, seq, **fields) for seq in range(first, first + count)],
    }
