"""The daily report's front ends: the page, its XLSX, ``GET /api/v1/reports/daily``.

One outsider's swipe today (through the real pipeline): the page, the export and the
JSON must all count it; a bad or future date is refused in the report's words; the API
answers a key with ``reports:read`` and staff with the shift-report permission, nobody else.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from io import BytesIO

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from api.web.report_xlsx import XLSX_TYPE
from gate.app.actor import Actor
from gate.app.api_keys import CreateApiKey, create_api_key
from gate.domain.documents import DocumentType
from gate.domain.model import Credential, CredentialKind, Direction, DocumentRead, Outcome
from gate.domain.status import LOCAL_TZ
from gate.runtime.bootstrap import Services, build_gate
from tests.api.test_office_support import Compound, app_client, sign_in
from tests.api.test_report_support import audits
from tests.e2e.conftest import OUTSIDER

API = "/api/v1/reports/daily"


def today() -> str:
    return datetime.now(LOCAL_TZ).date().isoformat()


@pytest.fixture
def swiped(compound: Compound) -> Services:
    """The compound with one outsider refused for review at the entry today."""
    gate = build_gate(compound.services)
    result = gate.pipeline.process(
        Credential(
            CredentialKind.ID_CARD, document=DocumentRead(DocumentType.RESIDENT_ID, OUTSIDER)
        ),
        lane="main",
        direction=Direction.IN,
    )
    assert result.decision.outcome is Outcome.REVIEW
    return compound.services


@pytest.fixture
def guard(swiped: Services) -> Iterator[TestClient]:
    with app_client(swiped) as client:
        sign_in(client, "guard")
        yield client


def key(services: Services, *scopes: str) -> dict[str, str]:
    issued = create_api_key(
        CreateApiKey("district-" + scopes[0].replace(":", "-"), scopes),
        actor=Actor("operator", "cli@test", datetime.now(UTC)),
        units=services.units,
    )
    return {"Authorization": f"Bearer {issued.text}"}


def test_the_page_counts_today_and_switches_language(guard: TestClient) -> None:
    page = guard.get("/report/daily")
    assert page.status_code == 200
    assert "出入日报" in page.text
    assert f'<strong id="daily-day">{today()}</strong>' in page.text
    assert '<span class="n" id="count-review">1</span>' in page.text
    assert '<span class="n" id="count-in">1</span>' in page.text
    assert f'href="/report/daily.xlsx?date={today()}"' in page.text
    same = guard.get("/report/daily", params={"date": today()})
    assert '<span class="n" id="count-review">1</span>' in same.text
    guard.get("/lang/en")
    assert "Daily report" in guard.get("/report/daily").text


@pytest.mark.parametrize(
    ("date", "words"),
    [("2026/11/29", "日期格式不正确（2026/11/29），请写成 2026-11-29"), ("tomorrow", None)],
)
def test_a_bad_date_is_refused_in_the_reports_words(
    guard: TestClient, date: str, words: str | None
) -> None:
    if words is None:
        date = (datetime.now(LOCAL_TZ).date() + timedelta(days=2)).isoformat()
        words = f"{date} 还没有到，只能查看今天及以前的日报"
    page = guard.get("/report/daily", params={"date": date})
    assert page.status_code == 422
    assert words in page.text
    assert f'<strong id="daily-day">{today()}</strong>' in page.text  # today shown instead
    export = guard.get("/report/daily.xlsx", params={"date": date})
    assert (export.status_code, export.text) == (422, words)
    answer = guard.get(API, params={"date": date})
    assert answer.status_code == 422
    assert answer.json()["detail"] == words
    assert answer.json()["code"] in ("report_date", "report_date_future")


def test_the_xlsx_export_is_audited_once(guard: TestClient, swiped: Services) -> None:
    response = guard.get("/report/daily.xlsx", params={"date": today()})
    assert response.status_code == 200
    assert response.headers["content-type"] == XLSX_TYPE
    day = today().replace("-", "")
    assert f'filename="daily-report-{day}.xlsx"' in response.headers["content-disposition"]
    workbook = load_workbook(BytesIO(response.content))
    assert workbook.sheetnames[1:] == [
        "按小时",
        "按结果",
        "访客",
        "隔离人员",
        "人工处理",
        "在内人数",
        "图表",
    ]
    [event] = audits(swiped, "report.daily.export")
    assert event.actor == "guard"
    assert event.detail["passages"] == 1


def test_the_api_answers_staff_and_keys_with_the_scope_only(
    guard: TestClient, swiped: Services
) -> None:
    as_staff = guard.get(API)
    assert as_staff.status_code == 200
    body = as_staff.json()
    assert body["date"] == today()
    assert body["by_outcome"]["review"] == {"in": 1, "out": 0, "total": 1}
    assert body["outsiders"] == {"in": 1, "out": 0, "persons": 1}
    assert len(body["by_hour"]) == 24
    assert sum(hour["in"] for hour in body["by_hour"]) == 1
    assert body["start"] == f"{today()}T00:00:00+08:00"
    assert OUTSIDER not in as_staff.text
    with app_client(swiped) as anonymous:
        assert anonymous.get(API).status_code == 401
        assert anonymous.get(API, headers=key(swiped, "passages:read")).status_code == 403
        with_key = anonymous.get(API, params={"date": today()}, headers=key(swiped, "reports:read"))
        assert with_key.status_code == 200
        assert with_key.json()["passages"]["total"] == 1
