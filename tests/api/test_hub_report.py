"""The daily report across compounds on the hub: ``GET /api/v1/reports/daily``.

The gate's counts (by hour, by outcome, guard decisions, outsiders, visitors) and the
hub's (by credential kind, denials by reason, replayed), per compound and all together,
for the compounds of the key only; ``compound`` narrows a key of several to one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from gate.domain.roles import Role
from gate.runtime.bootstrap import Services, bootstrap
from gate.runtime.settings import HubSettings, Settings
from tests.api.test_hub import bearer, key_for, push
from tests.api.test_office_support import PASSWORD
from tests.gate.app.staff_builders import add_staff
from tests.hub_items import feed_item

DAILY = "/api/v1/reports/daily"
NINE = datetime(2026, 11, 29, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai


@pytest.fixture
def hub(settings: Settings) -> Iterator[Services]:
    built = bootstrap(settings.model_copy(update={"hub": HubSettings(enabled=True)}))
    yield built
    built.close()


@pytest.fixture
def client(hub: Services) -> Iterator[TestClient]:
    with TestClient(create_app(hub)) as test_client:
        yield test_client


def _items(compound: str) -> list[dict[str, Any]]:
    """A: a resident in by card, a denied outsider, a visitor (twice), a guard's override."""

    def at(minutes: int) -> datetime:
        return NINE + timedelta(minutes=minutes)

    visitor = {"identity_kind": "visitor", "person": "v1" * 12, "credential_kind": "qr_pass"}
    return [
        feed_item(compound, 1, at=at(0), direction="in", direction_code="1"),
        feed_item(
            compound,
            2,
            at=at(5),
            identity_kind="outsider",
            person=None,
            household=None,
            address=None,
            outcome="deny",
            reasons=["not_registered", "other"],
        ),
        feed_item(compound, 3, at=at(70), direction="in", direction_code="1", **visitor),
        feed_item(compound, 4, at=at(80), replayed=True, **visitor),
        feed_item(
            compound,
            5,
            at=at(81),
            outcome="allow",
            decided_by="guard",
            overrides_seq=2,
            reasons=["guard_override"],
        ),
        feed_item(compound, 6, at=at(60 * 24), direction="in", direction_code="1"),  # next day
    ]


def _load(hub: Services, client: TestClient) -> None:
    for compound, items in (("compound-a", _items("compound-a")), ("compound-b", None)):
        key = key_for(hub, f"edge-{compound}", compound)
        body = items or [
            feed_item(compound, 1, at=NINE, outcome="deny", reasons=["quarantine_no_exit"])
        ]
        assert push(client, key, {"compound_id": compound, "items": body}).status_code == 200


def test_the_daily_report_of_each_compound_and_all(hub: Services, client: TestClient) -> None:
    _load(hub, client)
    both = key_for(hub, "district", "compound-a", "compound-b", scopes=("reports:read",))
    answer = client.get(DAILY, params={"date": "2026-11-29"}, headers=bearer(both))
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert (report["date"], report["start"], report["end"]) == (
        "2026-11-29",
        "2026-11-29T00:00:00+08:00",
        "2026-11-30T00:00:00+08:00",
    )
    a, b = report["compounds"]
    assert (a["compound_id"], b["compound_id"]) == ("compound-a", "compound-b")
    # The guard's override row is a guard decision, not a passage; the next day's is out.
    assert a["passages"] == {"in": 2, "out": 2, "total": 4}
    assert len(a["by_hour"]) == 24
    hours = {row["hour"]: row for row in a["by_hour"] if row["total"]}
    assert hours == {
        9: {"hour": 9, "in": 1, "out": 1, "total": 2},
        10: {"hour": 10, "in": 1, "out": 1, "total": 2},
    }
    assert a["by_outcome"] == {
        "allow": {"in": 2, "out": 1, "total": 3},
        "review": {"in": 0, "out": 0, "total": 0},
        "deny": {"in": 0, "out": 1, "total": 1},
    }
    assert a["guard_decisions"] == {"allow": 1, "deny": 0}
    assert a["by_credential_kind"] == {
        "id_card": {"in": 1, "out": 1, "total": 2},
        "qr_pass": {"in": 1, "out": 1, "total": 2},
    }
    assert a["refusals_by_reason"] == {"not_registered": 1}
    assert a["outsiders"] == {"in": 0, "out": 1, "persons": None}
    assert a["visitors"] == {"in": 1, "out": 1, "persons": 1}
    assert a["replayed"] == 1
    assert b["passages"]["total"] == 1
    assert b["refusals_by_reason"] == {"quarantine_no_exit": 1}
    together = report["all"]
    assert "compound_id" not in together
    assert together["passages"]["total"] == 5
    assert together["refusals_by_reason"] == {"not_registered": 1, "quarantine_no_exit": 1}
    assert together["by_outcome"]["deny"]["total"] == 2
    # The edge's daily report has these keys too, with the same meaning.
    assert {"passages", "by_hour", "by_outcome", "guard_decisions", "outsiders", "visitors"} <= (
        a.keys()
    )


def test_a_key_reads_only_its_compounds(hub: Services, client: TestClient) -> None:
    _load(hub, client)
    key_a = bearer(key_for(hub, "district-a", "compound-a", scopes=("reports:read",)))
    own = client.get(DAILY, params={"date": "2026-11-29"}, headers=key_a).json()
    assert [day["compound_id"] for day in own["compounds"]] == ["compound-a"]
    assert own["all"]["passages"]["total"] == 4
    other = client.get(
        DAILY, params={"date": "2026-11-29", "compound": "compound-b"}, headers=key_a
    )
    assert other.status_code == 403
    assert other.json()["code"] == "hub_compound_refused"
    both = bearer(key_for(hub, "district", "compound-a", "compound-b", scopes=("reports:read",)))
    only_b = client.get(
        DAILY, params={"date": "2026-11-29", "compound": "compound-b"}, headers=both
    )
    assert [day["compound_id"] for day in only_b.json()["compounds"]] == ["compound-b"]
    empty = client.get(DAILY, params={"date": "2026-11-28"}, headers=both).json()
    assert empty["compounds"] == []
    assert empty["all"]["passages"]["total"] == 0
    future = client.get(DAILY, params={"date": "2099-01-01"}, headers=both)
    assert future.status_code == 422
    assert future.json()["code"] == "report_date_future"
    feed_only = bearer(key_for(hub, "feed", "compound-a", scopes=("passages:read",)))
    assert client.get(DAILY, params={"date": "2026-11-29"}, headers=feed_only).status_code == 403


def test_a_key_bound_to_no_compound_reads_the_hubs_own_report(
    hub: Services, client: TestClient
) -> None:
    _load(hub, client)
    own = bearer(key_for(hub, "ours", scopes=("reports:read",)))
    report = client.get(DAILY, params={"date": "2026-11-29"}, headers=own).json()
    assert "compounds" not in report
    assert report["passages"]["total"] == 0  # the hub's own log is empty
    assert "occupancy" in report
    other = client.get(DAILY, params={"date": "2026-11-29", "compound": "compound-a"}, headers=own)
    assert other.status_code == 403


def test_the_hubs_staff_read_every_compounds_day_on_the_report_page(
    hub: Services, client: TestClient
) -> None:
    """The hub's own log is empty: its daily page is the report across compounds."""
    _load(hub, client)
    add_staff(hub, "district-office", Role.OFFICE, PASSWORD)
    signed = client.post(
        "/login",
        data={"username": "district-office", "password": PASSWORD},
        follow_redirects=False,
    )
    assert signed.status_code == 303, signed.text
    page = client.get("/report/daily", params={"date": "2026-11-29"})
    assert page.status_code == 200, page.text
    html = page.text
    assert "各小区出入日报" in html
    rows = dict(re.findall(r'<tr data-compound="([^"]*)">(.*?)</tr>', html, re.S))
    assert set(rows) == {"compound-a", "compound-b", ""}  # "" is the row of all together

    def numbers(row: str) -> list[int]:
        return [int(n) for n in re.findall(r'<td class="num"[^>]*>(\d+)</td>', row)]

    # in, out, allow, review, deny, guard allowed, guard denied, visitors, outsiders, sent again
    assert numbers(rows["compound-a"]) == [2, 2, 3, 0, 1, 1, 0, 2, 1, 1]
    assert numbers(rows["compound-b"])[4] == 1  # its one denial
    assert numbers(rows[""])[:5] == [2, 3, 3, 0, 2]
    assert 'data-reason="quarantine_no_exit"' in html
    assert 'data-reason="not_registered"' in html
    future = client.get("/report/daily", params={"date": "2999-01-01"})
    assert future.status_code == 422
    assert "各小区出入日报" in future.text
    client.get("/lang/en")
    english = client.get("/report/daily", params={"date": "2026-11-29"})
    assert "Daily report across compounds" in english.text
    assert "All (2 compounds)" in english.text
