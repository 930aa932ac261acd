"""The shift report: counts, guard decisions, alerts and how they were handled, exports.

One day shift of passages (see ``test_report_support``) on two lanes; the report must
count the gate's own decisions, list each guard decision with its original, say who
handled each alert and when (or that nobody has), name the quarantined person who went
out, print cleanly, and export the same as XLSX with formula-looking text kept as text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from api.app import create_app
from api.web.report import WindowRejected, parse_moment, report_window, window_error
from gate.app.reports import check_window, shift_containing
from gate.domain.errors import ActionRefused
from gate.domain.status import LOCAL_TZ
from gate.runtime.bootstrap import Services, Station, build_station
from gate.runtime.settings import Settings
from tests.api.test_report_support import (
    ALL_NUMBERS,
    FORMULA,
    NEXT_SHIFT_QUERY,
    SHIFT_END,
    SHIFT_QUERY,
    SHIFT_START,
    Clock,
    Shift,
    app_client,
    audits,
    figure,
    page,
    populate,
    row,
    shift_of_passages,
    two_lane_settings,
)

FULL_NAMES = ("王小明", "李梅", "张三丰")


def wall(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    """A Beijing wall-clock time without its zone, as a spreadsheet cell holds it."""
    return datetime(year, month, day, hour, minute, tzinfo=LOCAL_TZ).replace(tzinfo=None)


def lane_counts(html: str, lane: str, direction: str) -> list[int]:
    """Allowed, review, denied and total of one lane and direction, as the page shows them."""
    found = re.search(rf'data-lane="{lane}" data-direction="{direction}">(.*?)</tr>', html, re.S)
    assert found, (lane, direction)
    return [int(n) for n in re.findall(r'<td class="num">(\d+)</td>', found.group(1))]


@pytest.fixture
def settings(tmp_path: Path, database_url: str, key_file: Path) -> Settings:
    """Two lanes, ``east`` and ``west``."""
    return two_lane_settings(tmp_path / "var", database_url, key_file)


@dataclass
class Reported:
    """A compound with a day shift of passages, and the station that made them."""

    services: Services
    station: Station
    shift: Shift


@pytest.fixture
def reported(services: Services) -> Reported:
    """The passages of the day shift of 2026-11-29, made by the gate on its own clock."""
    populate(services)
    clock = Clock(SHIFT_START)
    station = build_station(services, clock=clock)
    return Reported(services, station, shift_of_passages(station, clock))


@pytest.fixture
def guard(reported: Reported) -> Iterator[TestClient]:
    """A client signed in as the guard."""
    with app_client(reported.services, reported.station, "guard") as client:
        yield client


# --- the window ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("utc", "start_utc"),
    [
        (datetime(2026, 11, 29, 0, 0, tzinfo=UTC), datetime(2026, 11, 29, 0, 0, tzinfo=UTC)),
        (datetime(2026, 11, 29, 11, 59, tzinfo=UTC), datetime(2026, 11, 29, 0, 0, tzinfo=UTC)),
        (datetime(2026, 11, 29, 12, 0, tzinfo=UTC), datetime(2026, 11, 29, 12, 0, tzinfo=UTC)),
        (datetime(2026, 11, 29, 17, 0, tzinfo=UTC), datetime(2026, 11, 29, 12, 0, tzinfo=UTC)),
        (datetime(2026, 11, 28, 23, 59, tzinfo=UTC), datetime(2026, 11, 28, 12, 0, tzinfo=UTC)),
    ],
    ids=["08:00", "19:59", "20:00", "01:00 next day", "07:59"],
)
def test_the_current_shift_is_the_twelve_hours_around_now(
    utc: datetime, start_utc: datetime
) -> None:
    start, end = shift_containing(utc)
    assert start == start_utc
    assert (end - start).total_seconds() == 12 * 3600


def test_times_in_links_and_forms_are_local_unless_they_name_their_offset() -> None:
    expected = datetime(2026, 11, 29, 0, 0, tzinfo=UTC)
    assert parse_moment("2026-11-29T08:00") == expected
    assert parse_moment("2026-11-29 08:00") == expected
    assert parse_moment("2026-11-29T08:00:00+08:00") == expected
    assert parse_moment("2026-11-29T08:00:00 08:00") == expected  # "+" unescaped in a URL
    assert parse_moment("2026-11-29T00:00Z") == expected
    with pytest.raises(WindowRejected):
        parse_moment("yesterday")


def test_a_window_is_checked_and_a_lone_end_means_one_shift() -> None:
    at = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)
    assert report_window(None, None, at=at) == (SHIFT_START, SHIFT_END)
    assert report_window(None, "2026-11-29T20:00", at=at) == (SHIFT_START, SHIFT_END)
    assert report_window("2026-11-29T08:00", None, at=at) == (SHIFT_START, SHIFT_END)
    for start, end, code, message in (
        ("2026-11-29T20:00", "2026-11-29T08:00", "date_order", "report.error.order"),
        ("2026-10-01T08:00", "2026-11-29T08:00", "report_span", "report.error.span"),
    ):
        with pytest.raises(ActionRefused) as refused:
            check_window(*report_window(start, end, at=at))
        assert refused.value.code == code
        assert window_error("en", refused.value) == window_error(
            "en", WindowRejected(message, days=31)
        )


# --- the page --------------------------------------------------------------------------


def test_the_report_counts_the_gates_decisions_by_outcome_lane_and_direction(
    guard: TestClient,
) -> None:
    response = page(guard, f"/report?{SHIFT_QUERY}")
    assert response.status_code == 200
    html = response.text
    # In the shift: A in, B out (allowed); the quarantined neighbour out twice (denied);
    # the outsider in three times (review). Override rows and the 07:00 / 20:10 passages
    # are not the gate's decisions in this shift.
    assert (figure(html, "allow"), figure(html, "review"), figure(html, "deny")) == (2, 3, 2)
    assert figure(html, "guard-allow") == 1
    assert figure(html, "guard-deny") == 1
    assert figure(html, "unhandled") == 2
    assert lane_counts(html, "east", "in") == [1, 3, 0, 4]
    assert lane_counts(html, "west", "out") == [1, 0, 2, 3]
    assert "2026-11-29 08:00" in html
    assert "2026-11-29 20:00" in html


def test_each_alert_says_who_handled_it_when_and_how_or_that_nobody_has(
    guard: TestClient, reported: Reported
) -> None:
    shift = reported.shift
    html = page(guard, f"/report?{SHIFT_QUERY}").text
    admitted = row(html, f"p-{shift.quarantined_out}")
    assert 'class="handled"' in admitted
    assert f'href="#o-{shift.quarantined_admitted}"' in admitted
    assert "guard 11-29 10:06 放行" in admitted
    assert "就医" in admitted
    assert "张*丰" in admitted
    assert "1号楼1单元202" in admitted
    assert "不得外出" in admitted  # the gate's reason, in words
    refused = row(html, f"p-{shift.outsider_refused}")
    assert "guard 11-29 11:03 禁止" in refused
    assert "不予通行" in refused
    assert "外来人员" in refused  # no name for an outsider, only what the gate knew
    for waiting in (shift.outsider_waiting, shift.quarantined_again):
        assert 'class="unhandled"' in row(html, f"p-{waiting}")
        assert "未处理" in row(html, f"p-{waiting}")
    # Handled after the shift ended: still handled, by whom and when it was.
    late = row(html, f"p-{shift.late_outsider}")
    next_shift = f"/report?{NEXT_SHIFT_QUERY}#o-{shift.late_handling}"
    assert f'href="{next_shift}"' in late.replace("&amp;", "&")
    assert 'class="handled"' in late
    assert "11-29 20:10" in late


def test_guard_decisions_link_to_the_passage_they_decide(
    guard: TestClient, reported: Reported
) -> None:
    shift = reported.shift
    html = page(guard, f"/report?{SHIFT_QUERY}").text
    decision = row(html, f"o-{shift.quarantined_admitted}")
    assert f'href="#p-{shift.quarantined_out}"' in decision
    assert "医" in decision
    assert "&#34;" in decision
    assert f'id="o-{shift.late_handling}"' not in html  # decided in the next shift
    night = page(guard, f"/report?{NEXT_SHIFT_QUERY}").text
    late = row(night, f"o-{shift.late_handling}")
    assert f'href="/report?{SHIFT_QUERY}#p-{shift.late_outsider}"' in late.replace("&amp;", "&")
    assert "送货" in late
    assert "parcel for 101" in late


def test_the_quarantined_person_who_went_out_is_named_masked(
    guard: TestClient, reported: Reported
) -> None:
    html = page(guard, f"/report?{SHIFT_QUERY}").text
    section = html.split('id="quarantine-exits"')[1].split("</table>")[0]
    assert section.count("<tr>") == 2  # the heading and one exit
    assert "张*丰" in section
    assert "居家隔离" in section
    assert "门卫放行" in section
    assert f'href="#o-{reported.shift.quarantined_admitted}"' in section
    for name in FULL_NAMES:
        assert name not in html
    for doc_number in ALL_NUMBERS:
        assert doc_number not in html
        assert doc_number[-4:] not in html


def test_the_page_prints_without_its_controls(guard: TestClient) -> None:
    html = page(guard, f"/report?{SHIFT_QUERY}").text
    assert '<div class="rp-controls no-print">' in html
    assert "@media print" in html
    assert "data-print" in html  # page.js makes it print
    assert f'href="/report.xlsx?{SHIFT_QUERY.replace("&", "&amp;")}"' in html


def test_without_a_window_the_report_is_the_current_shift(guard: TestClient) -> None:
    start, end = shift_containing(datetime.now(UTC))
    html = page(guard, "/report").text
    assert f'name="start" value="{start.astimezone(LOCAL_TZ):%Y-%m-%dT%H:%M}"' in html
    assert f'name="end" value="{end.astimezone(LOCAL_TZ):%Y-%m-%dT%H:%M}"' in html


def test_a_bad_window_is_refused_with_the_reason(guard: TestClient) -> None:
    response = page(guard, "/report?start=2026-11-29T20:00&end=2026-11-29T08:00")
    assert response.status_code == 422
    assert "开始时间须早于结束时间" in response.text
    assert guard.get("/report.xlsx?start=soon").status_code == 422


def test_english_reads_the_same_report(guard: TestClient) -> None:
    guard.cookies.set("gate_lang", "en")
    html = page(guard, f"/report?{SHIFT_QUERY}").text
    assert "Shift report" in html
    assert "not handled" in html
    assert "Medical visit" in html


# --- the XLSX --------------------------------------------------------------------------


def test_the_xlsx_has_the_summary_decisions_and_alerts_in_local_time(
    guard: TestClient, reported: Reported
) -> None:
    shift = reported.shift
    response = guard.get(f"/report.xlsx?{SHIFT_QUERY}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert (
        "shift-report-20261129-0800-20261129-2000.xlsx" in response.headers["content-disposition"]
    )
    book = load_workbook(BytesIO(response.content))
    assert book.sheetnames == ["汇总", "人工处理", "告警", "隔离人员外出", "图表"]
    summary = {r[0]: r[1:] for r in book["汇总"].iter_rows(values_only=True) if r[0]}
    assert summary["自"][0] == wall(2026, 11, 29, 8, 0)  # wall-clock Beijing time
    assert summary["至"][0] == wall(2026, 11, 29, 20, 0)
    assert summary["east"][:5] == ("进", 1, 3, 0, 4)
    assert summary["west"][:5] == ("出", 1, 0, 2, 3)
    assert summary["全部通道"][:5] == (None, 2, 3, 2, 7)
    assert summary["人工放行"][0] == 1
    assert summary["人工禁止"][0] == 1
    assert summary["未处理"][0] == 2
    assert summary["隔离人员外出"][0] == 1

    alerts = list(book["告警"].iter_rows(values_only=True))
    assert len(alerts) == 1 + 5
    by_seq = {r[0]: r for r in alerts[1:]}
    assert by_seq[shift.quarantined_out][1] == wall(2026, 11, 29, 10, 0)
    assert by_seq[shift.quarantined_out][4:7] == ("张*丰", "1号楼1单元202", "禁止")
    assert by_seq[shift.quarantined_out][8:12] == (
        "是",
        "guard",
        wall(2026, 11, 29, 10, 6),
        "放行",
    )
    assert by_seq[shift.outsider_waiting][8] == "未处理"
    assert by_seq[shift.outsider_waiting][9:] == (None, None, None, None, None)

    decisions = list(book["人工处理"].iter_rows(values_only=True))
    assert [r[0] for r in decisions[1:]] == [shift.quarantined_admitted, shift.outsider_refusal]
    assert decisions[1][6] == shift.quarantined_out

    exits = list(book["隔离人员外出"].iter_rows(values_only=True))
    assert len(exits) == 2
    assert exits[1][3] == "张*丰"

    cells = [c for sheet in book for r in sheet.iter_rows(values_only=True) for c in r]
    text = " ".join(str(c) for c in cells if c is not None)
    for name in FULL_NAMES:
        assert name not in text
    for doc_number in ALL_NUMBERS:
        assert doc_number not in text


def test_a_formula_looking_note_stays_text_in_the_xlsx(guard: TestClient) -> None:
    book = load_workbook(BytesIO(guard.get(f"/report.xlsx?{SHIFT_QUERY}").content))
    sheet = book["人工处理"]
    note = sheet.cell(row=2, column=13)
    assert note.value == "'" + FORMULA
    assert note.data_type == "s"
    formulas = [c for s in book for r in s.iter_rows() for c in r if c.data_type == "f"]
    assert formulas == []


def test_every_export_is_audited_and_reading_the_page_is_not(
    guard: TestClient, reported: Reported
) -> None:
    page(guard, f"/report?{SHIFT_QUERY}")
    assert audits(reported.services, "report.export") == []
    guard.get(f"/report.xlsx?{SHIFT_QUERY}")
    guard.get(f"/report.xlsx?{NEXT_SHIFT_QUERY}")
    exported = audits(reported.services, "report.export")
    assert [event.actor for event in exported] == ["guard", "guard"]
    assert exported[0].target == f"report:{SHIFT_START.isoformat()}/{SHIFT_END.isoformat()}"
    assert exported[0].detail["format"] == "xlsx"
    assert exported[0].detail["alerts"] == 5
    assert exported[0].origin.startswith("web@")


# --- who may read it -------------------------------------------------------------------


@pytest.mark.parametrize("username", ["office", "auditor", "admin"])
def test_the_office_auditors_and_the_administrator_read_the_report(
    reported: Reported, username: str
) -> None:
    with app_client(reported.services, reported.station, username) as client:
        assert page(client, f"/report?{SHIFT_QUERY}").status_code == 200
        assert client.get(f"/report.xlsx?{SHIFT_QUERY}").status_code == 200


def test_a_building_head_is_refused_the_report_and_the_attempt_is_audited(
    reported: Reported,
) -> None:
    with app_client(reported.services, reported.station, "head") as client:
        assert page(client, f"/report?{SHIFT_QUERY}").status_code == 403
        assert client.get(f"/report.xlsx?{SHIFT_QUERY}").status_code == 403
    denied = audits(reported.services, "access.denied")
    assert [(event.actor, event.target) for event in denied] == [
        ("head", "permission:shift_report"),
        ("head", "permission:shift_report"),
    ]
    assert audits(reported.services, "report.export") == []


def test_nobody_signed_in_is_sent_to_sign_in(reported: Reported) -> None:
    with TestClient(create_app(reported.services, reported.station)) as client:
        response = client.get("/report", headers={"accept": "text/html"}, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login")
        assert client.get("/report.xlsx").status_code == 401


# --- the charts ------------------------------------------------------------------------


def test_the_charts_are_drawn_from_the_same_report_as_the_tables(
    guard: TestClient, reported: Reported
) -> None:
    html = guard.get(f"/report?{SHIFT_QUERY}").text
    section = html[html.index('id="h-charts"') : html.index('id="h-alerts"')]
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="rp-chart" id="chart-passages"' in section
    assert (
        '<svg xmlns="http://www.w3.org/2000/svg" class="rp-chart" id="chart-occupancy"' in section
    )
    bars = re.findall(
        r'data-outcome="(\w+)"><title>(\d\d:\d\d) (\w+) · \w+: (\d+)</title>', section
    )
    drawn = {
        (outcome, direction): 0 for outcome in ("allow", "review", "deny") for direction in "进出"
    }
    for outcome, _at, direction, count in bars:
        drawn[(outcome, direction)] += int(count)
    east, west = lane_counts(html, "east", "in"), lane_counts(html, "west", "out")
    assert [drawn[(o, "进")] for o in ("allow", "review", "deny")] == east[:3]
    assert [drawn[(o, "出")] for o in ("allow", "review", "deny")] == west[:3]
    assert ("review", "19:00", "进", "1") in bars  # the outsider at 19:50
    assert '<desc id="chart-passages-desc">08:00 至 20:00：进 4 人次，出 3 人次' in section


def test_the_xlsx_holds_native_charts_over_the_timeline(guard: TestClient) -> None:
    book = load_workbook(BytesIO(guard.get(f"/report.xlsx?{SHIFT_QUERY}").content))
    sheet = book["图表"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:7] == ("起", "进·放行", "进·待核", "进·拒绝", "出·放行", "出·待核", "出·拒绝")
    assert len(rows) == 1 + 12
    by_hour = {r[0]: r[1:7] for r in rows[1:]}
    assert by_hour["09:00"] == (1, 0, 0, -1, 0, 0)  # ways out drawn below the axis
    assert by_hour["10:00"] == (0, 0, 0, 0, 0, -1)
    assert by_hour["19:00"] == (0, 1, 0, 0, 0, 0)
    charts = sheet._charts
    assert [type(chart).__name__ for chart in charts] == ["BarChart", "LineChart"]
    bars, lines = charts
    assert bars.grouping == "stacked"
    assert len(bars.series) == 6
    assert len(lines.series) == 3
    assert lines.series[1].graphicalProperties.line.dashStyle == "dash"
