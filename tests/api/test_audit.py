"""The audit log page: auditors and the administrator only, newest first, filters, paging.

Reading it is not audited; exporting it is. There is no route that edits or deletes an
event. A guard reaching for it gets 403 and leaves an audit row saying so.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.app import create_app
from gate.runtime.bootstrap import Services, Station, build_station
from registry.models import AuditEvent
from registry.service import audit
from tests.api.test_report_support import app_client, audits, page, populate

# From 2026-11-20 00:00 Beijing time, an hour apart: 120 events, then an import.
FIRST = datetime(2026, 11, 19, 16, 0, tzinfo=UTC)


@pytest.fixture
def station(services: Services) -> Station:
    """The compound, its accounts, 121 audit events, and a gate without devices."""
    populate(services)
    with services.database.session() as session:
        for index in range(120):
            audit(
                session,
                actor="office" if index % 3 else "head",
                origin="web@10.0.0.7",
                action="person.update" if index % 2 else "status.record",
                target=f"person:{index}",
                at=FIRST + timedelta(hours=index),
                detail={"index": index, "note": "到访 ok"},
            )
        audit(
            session,
            actor="office",
            origin="cli",
            action="registry.import",
            target='=HYPERLINK("http://evil.example")',
            at=FIRST + timedelta(hours=121),
            detail={"file": "+cmd.xlsx"},
        )
    return build_station(services)


@pytest.fixture
def auditor(services: Services, station: Station) -> Iterator[TestClient]:
    """A client signed in as the auditor."""
    with app_client(services, station, "auditor") as client:
        yield client


def ids(html: str) -> list[int]:
    """The event ids of a page, in the order shown."""
    return [int(found) for found in re.findall(r'<tr data-id="(\d+)">', html)]


def link(html: str, rel: str) -> str | None:
    """The href of the pager link ``rel`` ("prev": newer, "next": older)."""
    found = re.search(rf'rel="{rel}" href="([^"]+)"', html)
    return found.group(1).replace("&amp;", "&") if found else None


def event_count(services: Services) -> int:
    with services.database.session() as session:
        return session.scalar(select(func.count()).select_from(AuditEvent)) or 0


def test_the_log_reads_newest_first_in_pages_of_fifty(
    auditor: TestClient, services: Services
) -> None:
    total = event_count(services)
    first = page(auditor, "/audit")
    assert first.status_code == 200
    shown = ids(first.text)
    assert len(shown) == 50
    assert shown == sorted(shown, reverse=True)
    assert link(first.text, "prev") is None
    older = link(first.text, "next")
    assert older == f"/audit?before={shown[-1]}"
    second = page(auditor, older)
    rest = ids(second.text)
    assert rest == sorted(rest, reverse=True)
    assert rest[0] < shown[-1]
    seen = shown + rest
    while (older := link(second.text, "next")) is not None:
        second = page(auditor, older)
        seen += ids(second.text)
    assert len(seen) == len(set(seen)) == total
    # And back: the newer page of the second page is the first page.
    newer = link(page(auditor, f"/audit?before={shown[-1]}").text, "prev")
    assert newer == f"/audit?after={rest[0]}"
    assert ids(page(auditor, newer).text) == shown


def test_each_row_says_when_who_from_where_what_and_the_detail(auditor: TestClient) -> None:
    html = page(auditor, "/audit?action=status.record&actor=head").text
    found = re.search(r'<tr data-id="\d+">(.*?)</tr>', html, re.S)
    assert found
    cells = re.findall(r"<td[^>]*>(.*?)</td>", found.group(1), re.S)
    # The newest "status.record" by "head": index 114, 2026-11-24 18:00 Beijing time.
    assert cells == [
        "2026-11-24 18:00:00",
        "head",
        "web@10.0.0.7",
        "<code>status.record</code>",
        "person:114",
        "{&#34;index&#34;:114,&#34;note&#34;:&#34;到访 ok&#34;}",
    ]


def test_filters_by_action_prefix_actor_and_local_dates(
    auditor: TestClient, services: Services
) -> None:
    updates = ids(page(auditor, "/audit?action=person.&actor=head").text)
    assert len(updates) == 20
    assert ids(page(auditor, "/audit?action=person&actor=head").text) == updates
    assert ids(page(auditor, "/audit?action=person_").text) == []  # "_" is no wildcard
    assert ids(page(auditor, "/audit?action=%25").text) == []  # nor is "%"
    by_head = ids(page(auditor, "/audit?actor=head").text)
    assert len(by_head) == 40
    # 2026-11-21 in Beijing: events 24 to 47.
    day = page(auditor, "/audit?start=2026-11-21&end=2026-11-21&actor=office").text
    with services.database.session() as session:
        expected = [
            row.id
            for row in session.scalars(
                select(AuditEvent)
                .where(
                    AuditEvent.actor == "office",
                    AuditEvent.at >= FIRST + timedelta(hours=24),
                    AuditEvent.at < FIRST + timedelta(hours=48),
                )
                .order_by(AuditEvent.id.desc())
            )
        ]
    assert len(expected) == 16
    assert ids(day) == expected
    # Filters survive paging and go into the export link.
    assert 'name="actor" value="office"' in day
    assert "/audit.csv?actor=office&amp;start=2026-11-21&amp;end=2026-11-21" in day


def test_paging_keeps_the_filters(auditor: TestClient, services: Services) -> None:
    first = page(auditor, "/audit?actor=office&start=2026-11-20").text
    older = link(first, "next")
    assert older is not None
    assert older.startswith("/audit?actor=office&start=2026-11-20&before=")
    second = page(auditor, older).text
    assert len(ids(first)) == 50
    assert len(ids(second)) == 31  # 80 updates and statuses, and the import
    newer = link(second, "prev")
    assert newer is not None
    assert "actor=office" in newer
    assert ids(page(auditor, newer).text) == ids(first)
    assert "« " in second  # back to the newest


def test_a_bad_date_is_refused_with_the_reason(auditor: TestClient) -> None:
    response = page(auditor, "/audit?start=21.11.2026")
    assert response.status_code == 422
    assert "日期格式不正确" in response.text
    response = page(auditor, "/audit?start=2026-11-22&end=2026-11-21")
    assert response.status_code == 422
    assert auditor.get("/audit.csv?end=soon").status_code == 422


def test_reading_the_log_leaves_no_trace(auditor: TestClient, services: Services) -> None:
    before = event_count(services)
    page(auditor, "/audit")
    page(auditor, "/audit?action=person&before=30")
    assert event_count(services) == before


def test_the_csv_export_is_audited_filtered_and_neutralised(
    auditor: TestClient, services: Services
) -> None:
    response = auditor.get("/audit.csv?actor=office&action=registry.")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["id", "time", "actor", "origin", "action", "target", "detail"]
    assert len(rows) == 2
    assert rows[1][1] == "2026-11-25T01:00:00+08:00"
    assert rows[1][2:5] == ["office", "cli", "registry.import"]
    assert rows[1][5] == '\'=HYPERLINK("http://evil.example")'
    assert rows[1][6] == '{"file":"+cmd.xlsx"}'
    exported = audits(services, "audit.export")
    assert len(exported) == 1
    assert exported[0].actor == "auditor"
    assert exported[0].detail["actor"] == "office"
    assert exported[0].detail["action"] == "registry."
    # Unfiltered: every event, the export's own row first (it is written before the read).
    whole = auditor.get("/audit.csv").content.decode("utf-8-sig").splitlines()
    assert len(whole) == 1 + event_count(services)
    assert ",auditor,web@testclient,audit.export,audit_log," in whole[1]


def test_a_guard_asking_for_the_log_is_refused_and_audited(
    services: Services, station: Station
) -> None:
    with app_client(services, station, "guard") as client:
        response = page(client, "/audit")
        assert response.status_code == 403
        assert "没有权限" in response.text
        assert "person:" not in response.text
        assert client.get("/audit.csv").status_code == 403
    denied = audits(services, "access.denied")
    assert [(event.actor, event.target) for event in denied] == [
        ("guard", "permission:audit"),
        ("guard", "permission:audit"),
    ]
    assert denied[0].detail["path"] == "/audit"
    assert denied[1].detail["path"] == "/audit.csv"
    assert audits(services, "audit.export") == []


@pytest.mark.parametrize("username", ["office", "head"])
def test_other_roles_are_refused_too(services: Services, station: Station, username: str) -> None:
    with app_client(services, station, username) as client:
        assert page(client, "/audit").status_code == 403


def test_the_administrator_reads_the_log(services: Services, station: Station) -> None:
    with app_client(services, station, "admin") as client:
        assert len(ids(page(client, "/audit").text)) == 50


def test_the_log_has_no_route_that_changes_it(services: Services, station: Station) -> None:
    app = create_app(services, station)
    methods = {
        method
        for route in app.routes
        if getattr(route, "path", "").startswith("/audit")
        for method in getattr(route, "methods", set())
    }
    assert methods <= {"GET", "HEAD"}
    with app_client(services, station, "auditor") as client:
        for method in ("POST", "PUT", "PATCH", "DELETE"):
            assert client.request(method, "/audit").status_code == 405
