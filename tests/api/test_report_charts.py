"""The report charts' SVG: well-formed, titled and described, legible without colour."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from api.i18n import t
from api.web.report_charts import occupancy_chart, passages_chart
from gate.app.report_timeline import TimelineTally, occupancy_over
from gate.app.report_values import Timeline
from gate.domain.status import LOCAL_TZ

SVG = "{http://www.w3.org/2000/svg}"


def local(hour: int, minute: int = 0) -> datetime:
    return datetime(2020, 2, 1, hour, minute, tzinfo=LOCAL_TZ).astimezone(UTC)


def a_shift() -> Timeline:
    tally = TimelineTally(local(8), local(20))
    for _ in range(5):
        tally.passage(at=local(8, 10), direction="out", outcome="allow")
    tally.passage(at=local(9, 10), direction="in", outcome="review")
    tally.passage(at=local(9, 20), direction="out", outcome="deny")
    edges = tally.edges
    points = occupancy_over(
        edges,
        residents=[("a", local(0), None), ("b", local(0), None)],
        before={"a": (1, "in"), "b": (2, "in")},
        passages=[(local(8, 10), 3, "a", "out")],
    )
    return Timeline(tally.buckets(), points)


def parse(markup: str) -> ET.Element:
    return ET.fromstring(markup)  # noqa: S314  our own output


def test_the_passages_chart_has_title_desc_legend_and_one_bar_per_outcome_and_bucket() -> None:
    svg = parse(passages_chart(a_shift(), lambda key, **p: t("zh", key, **p)))
    assert svg.get("role") == "img"
    assert svg.findtext(f"{SVG}title") == "各时段通行（进、出，按判定结果）"
    desc = svg.findtext(f"{SVG}desc") or ""
    assert "进 1 人次，出 6 人次" in desc
    assert "最忙 08:00（5 人次）" in desc
    bars = [r for r in svg.iter(f"{SVG}rect") if r.get("data-outcome")]
    assert [b.get("data-outcome") for b in bars] == ["allow", "review", "deny"]
    # Not colour alone: review and deny are patterns, and the legend says which.
    assert {b.get("fill") for b in bars[1:]} == {
        "url(#chart-passages-review)",
        "url(#chart-passages-deny)",
    }
    texts = [el.text for el in svg.iter(f"{SVG}text")]
    assert "待核（斜线）" in texts
    assert "拒绝（网格）" in texts
    assert "↑ 进" in texts
    assert "时（北京时间）" in texts
    assert "人次" in texts
    assert [f"{h:02d}" for h in range(8, 20)] == [x for x in texts if x and x.isdigit()][-12:]


def test_the_charts_speak_english_on_the_english_page() -> None:
    english = parse(passages_chart(a_shift(), lambda key, **p: t("en", key, **p)))
    assert english.findtext(f"{SVG}title") == "Passages by hour (in, out, by outcome)"
    texts = [el.text for el in english.iter(f"{SVG}text")]
    assert "Review (diagonal)" in texts
    assert "Hour (Beijing time)" in texts


def test_the_occupancy_chart_draws_inside_and_outside_at_each_edge() -> None:
    svg = parse(occupancy_chart(a_shift(), lambda key, **p: t("en", key, **p)))
    desc = svg.findtext(f"{SVG}desc") or ""
    assert desc.startswith("2 inside at 08:00, 1 at 20:00")
    series = {p.get("data-series"): p for p in svg.iter(f"{SVG}path")}
    assert set(series) == {"inside", "outside", "unknown"}
    assert series["outside"].get("stroke-dasharray")  # dashed, not only another colour
    assert len(series["inside"].get("d", "").split("L")) == 13
    marks = [c for c in svg.iter(f"{SVG}circle") if c.find(f"{SVG}title") is not None]
    assert [c.findtext(f"{SVG}title") for c in marks][:2] == ["08:00 Inside: 2", "09:00 Inside: 1"]
    assert len(marks) == 13


def test_an_empty_window_still_draws_a_described_chart() -> None:
    tally = TimelineTally(local(8), local(20))
    svg = parse(passages_chart(Timeline(tally.buckets(), ()), lambda key, **p: t("en", key, **p)))
    assert svg.findtext(f"{SVG}desc") == "08:00 to 20:00: no passages."
    occupancy = parse(occupancy_chart(Timeline(), lambda key, **p: t("en", key, **p)))
    assert occupancy.findtext(f"{SVG}title") == "Persons inside over the day"
