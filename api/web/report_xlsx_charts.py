"""The reports' charts as native Excel charts (openpyxl), over a sheet of the same timeline.

The sheet lists the report's ``Timeline`` bucket by bucket (the numbers the page's SVG
charts draw); a stacked bar chart of the ways in and out by outcome and a line chart of
the persons inside and outside refer to its cells, so Excel or LibreOffice draws them
and they follow any edit of the numbers.
"""

from __future__ import annotations

from typing import Any

from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.chart.shapes import GraphicalProperties
from openpyxl.drawing.fill import ColorChoice, PatternFillProperties
from openpyxl.drawing.line import LineProperties
from openpyxl.styles import Font

from api.web.report_text import ReportText
from gate.app.report_timeline import OUTCOMES
from gate.app.report_values import Timeline
from gate.domain.status import LOCAL_TZ

# Colour and a pattern per outcome (the SVG's solid, diagonal, grid), so prints tell them apart.
_FILLS = {"allow": ("2E7D32", None), "review": ("F9A825", "wdUpDiag"), "deny": ("C62828", "smGrid")}


def _label(timeline: Timeline, index: int) -> str:
    start = timeline.buckets[index].start.astimezone(LOCAL_TZ)
    return f"{start:%H:%M}" if timeline.hourly else f"{start:%m-%d}"


def _style_bar(series: Any, outcome: str) -> None:
    colour, pattern = _FILLS[outcome]
    series.graphicalProperties = GraphicalProperties(solidFill=colour)
    series.graphicalProperties.line = LineProperties(solidFill="000000", w=6350)
    if pattern:
        series.graphicalProperties.pattFill = PatternFillProperties(
            prst=pattern,
            fgClr=ColorChoice(srgbClr=colour),
            bgClr=ColorChoice(srgbClr="FFFFFF"),
        )


def charts_sheet(workbook: Any, text: ReportText, timeline: Timeline) -> None:
    """A sheet of the timeline's numbers with its two charts beside them."""
    sheet = workbook.create_sheet(text.t("chart.sheet"))
    heading = [
        text.t("chart.col.start"),
        *(text.t(f"chart.col.in_{o}") for o in OUTCOMES),
        *(text.t(f"chart.col.out_{o}") for o in OUTCOMES),
        text.t("chart.col.inside"),
        text.t("chart.col.outside"),
        text.t("chart.col.unknown"),
    ]
    sheet.append(heading)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    ends = timeline.occupancy[1:]
    for index, bucket in enumerate(timeline.buckets):
        point = ends[index] if index < len(ends) else None
        sheet.append(
            [
                _label(timeline, index),
                *(bucket.inbound.get(o, 0) for o in OUTCOMES),
                # Ways out below the axis, as on the page.
                *(-bucket.outbound.get(o, 0) for o in OUTCOMES),
                point.inside if point else None,
                point.outside if point else None,
                point.unknown if point else None,
            ]
        )
    sheet.column_dimensions["A"].width = 10
    for letter in "BCDEFGHIJ":
        sheet.column_dimensions[letter].width = 12
    sheet.freeze_panes = "A2"
    rows = len(timeline.buckets)
    if not rows:
        return
    categories = Reference(sheet, min_col=1, min_row=2, max_row=rows + 1)

    bars = BarChart()
    bars.type = "col"
    bars.grouping = "stacked"
    bars.overlap = 100
    bars.title = text.t("chart.passages.title" if timeline.hourly else "chart.passages.title_days")
    bars.y_axis.title = (
        f"{text.t('chart.axis.passages')} ({text.t('chart.in_up')} / {text.t('chart.out_down')})"
    )
    bars.x_axis.title = text.t("chart.axis.hour" if timeline.hourly else "chart.axis.day")
    bars.add_data(
        Reference(sheet, min_col=2, max_col=7, min_row=1, max_row=rows + 1), titles_from_data=True
    )
    bars.set_categories(categories)
    for series, outcome in zip(bars.series, OUTCOMES * 2, strict=True):
        _style_bar(series, outcome)
    bars.x_axis.delete = False
    bars.y_axis.delete = False
    bars.x_axis.tickLblPos = "low"
    bars.legend.position = "b"
    bars.width, bars.height = 24, 11
    sheet.add_chart(bars, "L2")

    lines = LineChart()
    lines.title = text.t("chart.occupancy.title")
    lines.y_axis.title = text.t("chart.axis.persons")
    lines.x_axis.title = text.t("chart.axis.hour" if timeline.hourly else "chart.axis.day")
    lines.add_data(
        Reference(sheet, min_col=8, max_col=10, min_row=1, max_row=rows + 1), titles_from_data=True
    )
    lines.set_categories(categories)
    inside, outside, unknown = lines.series
    inside.marker.symbol = "circle"
    inside.graphicalProperties.line.width = 28575
    outside.marker.symbol = "square"
    outside.graphicalProperties.line.dashStyle = "dash"
    unknown.marker.symbol = "diamond"
    unknown.graphicalProperties.line.dashStyle = "sysDot"
    lines.x_axis.delete = False
    lines.y_axis.delete = False
    lines.legend.position = "b"
    lines.width, lines.height = 24, 9
    sheet.add_chart(lines, "L25")
