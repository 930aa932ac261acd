"""The daily report over a small scripted day, played through the real pipeline.

The gate's clock walks through 2026-11-29 (Asia/Shanghai) with a passage just before the
day and one just after; the report must count the day and nothing else, on both engines.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from io import BytesIO
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from api.web.report_xlsx import daily_export_name, daily_workbook
from gate.app.actor import Actor
from gate.app.report_values import DailyReport
from gate.app.reports import daily_report, export_daily_report
from gate.app.visitors import RegisterVisitor, register_visitor
from gate.domain.documents import DocumentType
from gate.domain.errors import ActionRefused
from gate.domain.model import Direction, Outcome
from gate.domain.people import HealthStatus
from gate.domain.status import LOCAL_TZ
from registry.models import AuditEvent
from tests.e2e.conftest import OUTSIDER, QUARANTINED, RESIDENT_A, RESIDENT_B, GateUnderTest
from tests.e2e.test_cli_log import env_of
from tests.e2e.test_serve import gate

DAY = date(2026, 11, 29)
SHEETS = ["汇总", "按小时", "按结果", "访客", "隔离人员", "人工处理", "在内人数", "图表"]


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """A Beijing wall-clock moment in November 2026, in UTC."""
    return datetime(2026, 11, day, hour, minute, tzinfo=LOCAL_TZ).astimezone(UTC)


def play_the_day(gate: GateUnderTest) -> None:
    """Ten passages: one the evening before, the day itself, one after midnight."""
    clock, pipeline = gate.clock, gate.gate.pipeline
    clock.now = local(28, 23, 50)
    assert gate.card(RESIDENT_A, Direction.OUT).decision.outcome is Outcome.ALLOW
    clock.now = local(29, 0, 10)
    assert gate.card(RESIDENT_A, Direction.IN).decision.outcome is Outcome.ALLOW
    clock.now = local(29, 10, 0)
    assert gate.card(RESIDENT_B, Direction.OUT).decision.outcome is Outcome.ALLOW
    clock.now = local(29, 10, 30)
    refused = gate.card(QUARANTINED, Direction.OUT)
    assert refused.decision.outcome is Outcome.DENY
    assert refused.record is not None
    clock.now = local(29, 10, 32)
    pipeline.override(
        refused.record.seq,
        outcome=Outcome.ALLOW,
        reason_code="other",
        text="=去医院，社区开具证明",
        guard="王师傅",
    )
    clock.now = local(29, 11, 0)
    swipe = gate.card(OUTSIDER, Direction.IN)
    assert swipe.decision.outcome is Outcome.REVIEW
    assert swipe.record is not None
    clock.now = local(29, 11, 1)
    register_visitor(
        RegisterVisitor(
            "赵六",
            DocumentType.RESIDENT_ID,
            OUTSIDER,
            "1-1-101",
            "探望父母",
            admit_seq=swipe.record.seq,
        ),
        actor=Actor("王师傅", "test", clock.now),
        units=gate.services.units,
        pipeline=pipeline,
    )
    clock.now = local(29, 14, 0)
    assert gate.card(OUTSIDER, Direction.OUT).decision.outcome is Outcome.ALLOW
    clock.now = local(29, 15, 0)
    assert gate.card(QUARANTINED, Direction.IN).decision.outcome is Outcome.ALLOW
    clock.now = local(30, 0, 5)
    assert gate.card(RESIDENT_B, Direction.IN).decision.outcome is Outcome.ALLOW


def report_of(gate: GateUnderTest, day: date | str) -> DailyReport:
    return daily_report(
        day, actor=Actor("office", "test", gate.clock.now), units=gate.services.units
    )


def test_a_scripted_day_is_counted_by_hour_outcome_visitor_quarantine_and_presence(
    gate_under_test: GateUnderTest,
) -> None:
    play_the_day(gate_under_test)
    report = report_of(gate_under_test, DAY)

    assert (report.start, report.end) == (local(29, 0), local(30, 0))
    assert len(report.hours) == 24
    by_hour = {row.hour: (row.inbound, row.outbound) for row in report.hours if row.total}
    assert by_hour == {0: (1, 0), 10: (0, 2), 11: (1, 0), 14: (0, 1), 15: (1, 0)}
    outcomes = {row.outcome: (row.inbound, row.outbound) for row in report.outcomes}
    assert outcomes == {"allow": (2, 2), "review": (1, 0), "deny": (0, 1)}
    assert (report.totals.inbound, report.totals.outbound) == (3, 3)
    assert report.guard_decisions(Outcome.ALLOW) == 2

    assert (report.outsiders.inbound, report.outsiders.outbound, report.outsiders.persons) == (
        1,
        0,
        1,
    )
    assert (report.visitors.inbound, report.visitors.outbound, report.visitors.persons) == (
        0,
        1,
        1,
    )
    [host] = report.visitors_by_host
    assert (host.home, host.visitors, host.outbound) == ("1号楼1单元101", 1, 1)

    [quarantined] = report.quarantined
    assert quarantined.who.name == "张*丰"
    assert quarantined.who.home == "1号楼1单元202"
    assert quarantined.status is HealthStatus.HOME_QUARANTINE
    attempts = [(a.at, a.direction, a.outcome, a.final) for a in quarantined.attempts]
    assert attempts == [
        (local(29, 10, 30), "out", "deny", "allow"),
        (local(29, 15, 0), "in", "allow", "allow"),
    ]
    assert quarantined.attempts[0].handling is not None
    assert quarantined.attempts[0].handling.guard == "王师傅"
    assert quarantined.let_out == 1

    assert [line.decision.at for line in report.overrides] == [local(29, 10, 32), local(29, 11, 1)]

    occupancy = report.occupancy
    assert (occupancy.inside, occupancy.outside, occupancy.unknown) == (2, 1, 0)
    assert [(b.building, b.inside, b.outside) for b in occupancy.buildings] == [("1", 2, 1)]
    assert occupancy.quarantined_outside == 0


def test_the_day_before_counts_only_its_evening(gate_under_test: GateUnderTest) -> None:
    play_the_day(gate_under_test)
    report = report_of(gate_under_test, "2026-11-28")
    assert [(row.hour, row.outbound) for row in report.hours if row.total] == [(23, 1)]
    # The residents were registered on the 29th: nobody lived here yet at the 28th's end.
    assert report.occupancy.total == 0
    assert report.overrides == ()


def test_a_day_without_passages_gives_zeros(gate_under_test: GateUnderTest) -> None:
    report = report_of(gate_under_test, "2026-11-29")
    assert [row.total for row in report.hours] == [0] * 24
    assert [(row.outcome, row.total) for row in report.outcomes] == [
        ("allow", 0),
        ("review", 0),
        ("deny", 0),
    ]
    assert report.outsiders.total == report.visitors.total == report.visitors.persons == 0
    assert report.visitors_by_host == ()
    assert report.overrides == ()
    [quarantined] = report.quarantined  # in quarantine, never at the gate
    assert quarantined.attempts == ()
    assert (report.occupancy.inside, report.occupancy.unknown) == (0, 3)
    workbook = load_workbook(BytesIO(workbook_of(report)))
    assert workbook.sheetnames == SHEETS
    assert workbook["按小时"]["B25"].value == 0  # the total row under 24 hours


def test_the_charts_timeline_agrees_with_the_tables_of_the_day(
    gate_under_test: GateUnderTest,
) -> None:
    play_the_day(gate_under_test)
    report = report_of(gate_under_test, DAY)
    buckets = report.timeline.buckets
    assert len(buckets) == 24
    assert [(b.total_in, b.total_out) for b in buckets] == [
        (h.inbound, h.outbound) for h in report.hours
    ]
    for outcome in report.outcomes:
        assert sum(b.inbound[outcome.outcome] for b in buckets) == outcome.inbound
        assert sum(b.outbound[outcome.outcome] for b in buckets) == outcome.outbound
    points = report.timeline.occupancy
    assert len(points) == 25
    assert (points[0].at, points[-1].at) == (report.start, report.end)
    occupancy = report.occupancy
    last = points[-1]
    assert (last.inside, last.outside, last.unknown) == (
        occupancy.inside,
        occupancy.outside,
        occupancy.unknown,
    )


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("29.11.2026", "report_date"),
        ("2026-11-31", "report_date"),
        ("", "report_date"),
        ("2026-11-30", "report_date_future"),
    ],
)
def test_a_bad_or_future_day_is_refused(
    gate_under_test: GateUnderTest, text: str, code: str
) -> None:
    with pytest.raises(ActionRefused) as refused:
        report_of(gate_under_test, text)
    assert refused.value.code == code


def workbook_of(report: DailyReport, lang: str = "zh") -> bytes:
    """The report's workbook as the office would download it."""
    return daily_workbook(
        report,
        lang=lang,
        compound="如意小区",
        generated_at=datetime(2026, 11, 30, 1, 0, tzinfo=UTC),
        generated_by="office",
    )


def test_an_export_writes_one_audit_row_and_a_workbook_of_the_forms(
    gate_under_test: GateUnderTest,
) -> None:
    play_the_day(gate_under_test)
    services = gate_under_test.services
    with services.database.session() as session:
        before = session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1))

    def write(report: DailyReport) -> tuple[bytes, str]:
        return workbook_of(report), daily_export_name(report)

    content, name = export_daily_report(
        DAY,
        file_format="xlsx",
        write=write,
        actor=Actor("office", "cli@test", gate_under_test.clock.now),
        units=services.units,
    )
    assert name == "daily-report-20261129.xlsx"
    with services.database.session() as session:
        rows = session.scalars(
            select(AuditEvent).where(AuditEvent.id > (before or 0)).order_by(AuditEvent.id)
        ).all()
    assert [(row.action, row.target, row.actor) for row in rows] == [
        ("report.daily.export", "report:daily:2026-11-29", "office")
    ]
    assert rows[0].detail["passages"] == 6
    assert rows[0].detail["quarantine_let_out"] == 1

    workbook = load_workbook(BytesIO(content))
    assert workbook.sheetnames == SHEETS
    headings = {title: [c.value for c in workbook[title][1]] for title in SHEETS[1:]}
    assert headings["按小时"] == ["时段", "进入人次", "外出人次", "合计"]
    assert headings["按结果"] == ["结果", "进入人次", "外出人次", "合计"]
    assert headings["访客"][:2] == ["被访住户", "访客人数"]
    assert headings["隔离人员"][:5] == ["人员", "住址", "状态", "隔离开始", "隔离结束"]
    assert headings["在内人数"] == ["楼栋", "在内", "外出", "未知", "合计"]
    hours = workbook["按小时"]
    assert [hours.cell(row, 1).value for row in (2, 25, 26)] == [
        "00:00-01:00",
        "23:00-24:00",
        "合计",
    ]
    assert [c.value for c in hours[12]] == ["10:00-11:00", 0, 2, 2]
    quarantine = workbook["隔离人员"]
    assert [c.value for c in quarantine[2]][:5] == [
        "张*丰",
        "1号楼1单元202",
        "居家隔离",
        "2026-11-20",
        "2026-12-03",
    ]
    assert workbook["在内人数"]["A2"].value == "1号楼"
    # A guard's note that looks like a formula stays text.
    notes = [c.value for c in workbook["人工处理"]["M"]]
    assert "'=去医院，社区开具证明" in notes
    for row in workbook["隔离人员"].iter_rows(values_only=True):
        assert "张三丰" not in row

    english = load_workbook(BytesIO(workbook_of(report_of(gate_under_test, DAY), "en")))
    assert english.sheetnames[1:] == [
        "By hour",
        "By outcome",
        "Visitors",
        "Quarantined persons",
        "Guard decisions",
        "Occupancy",
        "Charts",
    ]
    charts = workbook["图表"]
    assert [type(chart).__name__ for chart in charts._charts] == ["BarChart", "LineChart"]
    assert charts.max_row == 1 + 24


def test_gate_report_daily_writes_the_workbook_audited_and_refuses_a_bad_date(
    gate_under_test: GateUnderTest, tmp_path: Path
) -> None:
    play_the_day(gate_under_test)
    services = gate_under_test.services
    env = {**env_of(services), "GATE_OPERATOR": "周主任"}
    out = tmp_path / "日报.xlsx"
    done = gate(env, "report", "daily", "--date", "2026-11-29", str(out))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("2026-11-29: 6 passages (3 in, 3 out), 2 guard decisions")
    assert load_workbook(out).sheetnames == SHEETS
    with services.database.session() as session:
        [event] = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "report.daily.export")
        ).all()
    assert (event.actor, event.origin.startswith("cli@")) == ("周主任", True)
    english = gate(env, "report", "daily", "--date", "2026-11-29", "--lang", "en", str(out))
    assert english.returncode == 0, english.stderr
    assert load_workbook(out).sheetnames[1] == "By hour"
    for bad in (
        ("--date", "29/11/2026", str(out)),
        ("--date", "2999-01-01", str(out)),
        ("--date", "2026-11-29", str(tmp_path / "report.csv")),
    ):
        refused = gate(env, "report", "daily", *bad)
        assert refused.returncode == 1
        assert refused.stderr.startswith("error: report "), refused.stderr
        assert "Traceback" not in refused.stderr
    with services.database.session() as session:
        exports = session.scalars(
            select(AuditEvent.id).where(AuditEvent.action == "report.daily.export")
        ).all()
    assert len(exports) == 2  # the refusals wrote no export row
