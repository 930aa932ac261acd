"""The report pages' charts as SVG, drawn on the server from the report's ``Timeline``.

Pure: a timeline and a message lookup in, markup out; no script runs on the page. Each
chart is an ``<svg role="img">`` with a ``<title>`` and a ``<desc>`` that says in words
what it shows, axis labels and a legend in the page's language. Outcomes differ by fill
pattern as well as colour (solid, diagonal lines, grid) and lines by dash and marker, so
the charts read on a black-and-white print; text is ``currentColor`` (white on the dark
screen, black on paper).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from html import escape

from markupsafe import Markup

from gate.app.report_timeline import OUTCOMES
from gate.app.report_values import Timeline
from gate.domain.status import LOCAL_TZ

Text = Callable[..., str]

WIDTH = 960
HEIGHT = 340
LEFT, RIGHT, TOP, BOTTOM = 84, 16, 44, 44
COLOURS = {"allow": "#2e7d32", "review": "#f9a825", "deny": "#c62828"}
INK = "currentColor"


_STEPS = (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8)


def _nice_max(value: int) -> int:
    """The smallest whole 1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 x 10^n at or above ``value`` (>= 1)."""
    scale = 1
    while True:
        for factor in _STEPS:
            top = factor * scale
            if top >= value and top == int(top):
                return max(int(top), 1)
        scale *= 10


def _ticks(top: int) -> list[int]:
    """0 to ``top`` in two to five even whole steps."""
    for parts in (5, 4, 3, 2):
        if top % parts == 0:
            return list(range(0, top + 1, top // parts))
    return [0, top]


def _label(moment: datetime, hourly: bool) -> str:
    local = moment.astimezone(LOCAL_TZ)
    return f"{local:%H}" if hourly else f"{local:%m-%d}"


def _when(moment: datetime, hourly: bool) -> str:
    local = moment.astimezone(LOCAL_TZ)
    return f"{local:%H:%M}" if hourly else f"{local:%m-%d}"


def _text(x: float, y: float, content: str, *, anchor: str = "middle", **attrs: str) -> str:
    extra = "".join(f' {name.replace("_", "-")}="{value}"' for name, value in attrs.items())
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{INK}"{extra}>'
        f"{escape(content)}</text>"
    )


def _defs(prefix: str) -> str:
    """Fill patterns: review as diagonal lines, deny as a grid, over the outcome's colour."""
    review, deny = COLOURS["review"], COLOURS["deny"]
    return (
        "<defs>"
        f'<pattern id="{prefix}-review" width="6" height="6" patternUnits="userSpaceOnUse"'
        ' patternTransform="rotate(45)">'
        f'<rect width="6" height="6" fill="{review}"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#000" stroke-width="2.2"/></pattern>'
        f'<pattern id="{prefix}-deny" width="6" height="6" patternUnits="userSpaceOnUse">'
        f'<rect width="6" height="6" fill="{deny}"/>'
        '<path d="M0 0H6M0 0V6" stroke="#fff" stroke-width="1.6"/></pattern>'
        "</defs>"
    )


def _fill(prefix: str, outcome: str) -> str:
    if outcome == "allow":
        return COLOURS["allow"]
    return f"url(#{prefix}-{outcome})"


def _open(prefix: str, title: str, desc: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="rp-chart" id="{prefix}" role="img"'
        f' viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" font-size="13"'
        f' font-family="sans-serif" aria-labelledby="{prefix}-title {prefix}-desc">'
        f'<title id="{prefix}-title">{escape(title)}</title>'
        f'<desc id="{prefix}-desc">{escape(desc)}</desc>'
    )


def _legend(items: Sequence[tuple[str, str]], *, y: float) -> str:
    """Swatches (a fill or a line's drawing) and their words, in a row at the top."""
    parts, x = [], float(LEFT)
    for swatch, words in items:
        parts.append(f'<g transform="translate({x:.1f},{y - 11:.1f})">{swatch}</g>')
        parts.append(_text(x + 22, y, words, anchor="start"))
        x += 34 + 13 * len(words) * (0.6 if words.isascii() else 1.0)
    return '<g class="rp-legend">' + "".join(parts) + "</g>"


def _axis_ticks(
    ticks: Sequence[int], y_of: Callable[[float], float], *, label: Callable[[int], str]
) -> list[str]:
    right = WIDTH - RIGHT
    parts = []
    for tick in ticks:
        y = y_of(tick)
        parts.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="{INK}"'
            ' stroke-opacity=".25" stroke-width="1"/>'
        )
        parts.append(_text(LEFT - 6, y + 4, label(tick), anchor="end"))
    return parts


def _x_labels(timeline: Timeline, x_of: Callable[[int], float], band: float) -> list[str]:
    hourly = timeline.hourly
    count = len(timeline.buckets)
    every = 1 if count <= 24 else 2 if count <= 48 else max(count // 16, 1)
    return [
        _text(x_of(i) + band / 2, HEIGHT - BOTTOM + 16, _label(bucket.start, hourly))
        for i, bucket in enumerate(timeline.buckets)
        if i % every == 0
    ]


def passages_chart(timeline: Timeline, t: Text, *, prefix: str = "chart-passages") -> Markup:
    """Stacked bars per bucket: ways in above the middle line, ways out below it."""
    buckets = timeline.buckets
    hourly = timeline.hourly
    start, end = (buckets[0].start, buckets[-1].end) if buckets else (None, None)
    span = {"start": _when(start, hourly), "end": _when(end, hourly)} if start and end else {}
    inbound = sum(b.total_in for b in buckets)
    outbound = sum(b.total_out for b in buckets)
    if inbound + outbound:
        busiest = max(buckets, key=lambda b: b.total_in + b.total_out)
        desc = t(
            "chart.passages.desc",
            **span,
            inbound=inbound,
            outbound=outbound,
            busiest=_when(busiest.start, hourly),
            count=busiest.total_in + busiest.total_out,
        )
    else:
        desc = t("chart.passages.empty", **span)
    title = t("chart.passages.title" if hourly else "chart.passages.title_days")
    top = _nice_max(max([b.total_in for b in buckets] + [b.total_out for b in buckets] + [1]))
    plot_h = HEIGHT - TOP - BOTTOM
    middle = TOP + plot_h / 2
    half = plot_h / 2 - 12  # room for the count above and below the tallest bars

    def y_in(value: float) -> float:
        return middle - value / top * half

    def y_out(value: float) -> float:
        return middle + value / top * half

    band = (WIDTH - LEFT - RIGHT) / max(len(buckets), 1)

    def x_of(index: int) -> float:
        return LEFT + index * band

    parts = [_open(prefix, title, desc), _defs(prefix)]
    swatches = [
        (
            f'<rect width="16" height="12" fill="{_fill(prefix, o)}" stroke="{INK}"/>',
            t(f"chart.legend.{o}"),
        )
        for o in OUTCOMES
    ]
    parts.append(_legend(swatches, y=18))
    ticks = _ticks(top)
    parts += _axis_ticks(ticks, y_in, label=str)
    parts += _axis_ticks([tick for tick in ticks if tick], y_out, label=str)
    for words, y in (
        (t("chart.in_up"), (TOP + middle) / 2),
        (t("chart.out_down"), middle + half / 2),
    ):
        parts.append(_text(6, y + 4, words, anchor="start", font_weight="bold"))
    bar = band * 0.72
    for index, bucket in enumerate(buckets):
        x = x_of(index) + (band - bar) / 2
        when = _when(bucket.start, hourly)
        for counts, y_of, sign, direction in (
            (bucket.inbound, y_in, -1, t("direction.in")),
            (bucket.outbound, y_out, 1, t("direction.out")),
        ):
            done = 0
            for outcome in OUTCOMES:
                count = counts.get(outcome, 0)
                if not count:
                    continue
                y0, y1 = y_of(done), y_of(done + count)
                done += count
                words = f"{when} {direction} · {t(f'outcome.{outcome}')}: {count}"
                parts.append(
                    f'<rect x="{x:.1f}" y="{min(y0, y1):.1f}" width="{bar:.1f}"'
                    f' height="{abs(y1 - y0):.1f}" fill="{_fill(prefix, outcome)}"'
                    f' stroke="{INK}" stroke-width=".6" data-outcome="{outcome}">'
                    f"<title>{escape(words)}</title></rect>"
                )
            if done:
                y = y_of(done) + (-4 if sign < 0 else 13)
                parts.append(_text(x + bar / 2, y, str(done), font_size="11"))
    parts.append(
        f'<line x1="{LEFT}" y1="{middle:.1f}" x2="{WIDTH - RIGHT}" y2="{middle:.1f}"'
        f' stroke="{INK}" stroke-width="1.5"/>'
    )
    parts += _x_labels(timeline, x_of, band)
    axis_x = t("chart.axis.hour" if hourly else "chart.axis.day")
    parts.append(_text((LEFT + WIDTH - RIGHT) / 2, HEIGHT - 6, axis_x))
    parts.append(_text(LEFT - 8, TOP - 12, t("chart.axis.passages"), anchor="end"))
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704  every text above is escaped


# How each occupancy series is drawn: line width, dash, marker (tag, size), marker fill.
_SERIES = (
    ("inside", "3", "", "circle", COLOURS["allow"]),
    ("outside", "2", "6 4", "square", COLOURS["review"]),
    ("unknown", "1.5", "1 3", "diamond", "#9e9e9e"),
)


def _marker(kind: str, x: float, y: float, fill: str, title: str = "") -> str:
    inner = f"<title>{escape(title)}</title>" if title else ""
    if kind == "circle":
        return (
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{fill}" stroke="{INK}">'
            f"{inner}</circle>"
        )
    if kind == "square":
        return (
            f'<rect x="{x - 3:.1f}" y="{y - 3:.1f}" width="6" height="6" fill="{fill}"'
            f' stroke="{INK}">{inner}</rect>'
        )
    points = f"{x:.1f},{y - 4:.1f} {x + 4:.1f},{y:.1f} {x:.1f},{y + 4:.1f} {x - 4:.1f},{y:.1f}"
    return f'<polygon points="{points}" fill="{fill}" stroke="{INK}">{inner}</polygon>'


def occupancy_chart(timeline: Timeline, t: Text, *, prefix: str = "chart-occupancy") -> Markup:
    """Inside, outside and unknown at each bucket's edge: lines told apart by dash and marker."""
    points = timeline.occupancy
    hourly = timeline.hourly
    desc = ""
    if points:
        peak = max(points, key=lambda p: p.inside)
        low = min(points, key=lambda p: p.inside)
        desc = t(
            "chart.occupancy.desc",
            start=_when(points[0].at, hourly),
            end=_when(points[-1].at, hourly),
            first=points[0].inside,
            last=points[-1].inside,
            peak=peak.inside,
            peak_at=_when(peak.at, hourly),
            low=low.inside,
            low_at=_when(low.at, hourly),
            unknown=points[-1].unknown,
        )
    top = _nice_max(max([max(p.inside, p.outside, p.unknown) for p in points] + [1]))
    plot_h = HEIGHT - TOP - BOTTOM
    count = max(len(points) - 1, 1)
    width = WIDTH - LEFT - RIGHT

    def x_of(index: float) -> float:
        return LEFT + index / count * width

    def y_of(value: float) -> float:
        return TOP + plot_h - value / top * (plot_h - 8)

    parts = [_open(prefix, t("chart.occupancy.title"), desc)]
    swatches = []
    for name, line_width, dash, marker, fill in _SERIES:
        dashed = f' stroke-dasharray="{dash}"' if dash else ""
        swatches.append(
            (
                f'<line x1="0" y1="6" x2="16" y2="6" stroke="{INK}" stroke-width="{line_width}"'
                f"{dashed}/>" + _marker(marker, 8, 6, fill),
                t(f"chart.legend.{name}"),
            )
        )
    parts.append(_legend(swatches, y=18))
    parts += _axis_ticks(_ticks(top), y_of, label=str)
    parts.append(
        f'<line x1="{LEFT}" y1="{y_of(0):.1f}" x2="{WIDTH - RIGHT}" y2="{y_of(0):.1f}"'
        f' stroke="{INK}" stroke-width="1.5"/>'
    )
    for name, line_width, dash, marker, fill in _SERIES:
        path = " ".join(
            f"{'M' if i == 0 else 'L'}{x_of(i):.1f} {y_of(getattr(p, name)):.1f}"
            for i, p in enumerate(points)
        )
        dashed = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(
            f'<path d="{path}" fill="none" stroke="{INK}" stroke-width="{line_width}"{dashed}'
            f' data-series="{name}"/>'
        )
        words = t(f"daily.{name}")
        for i, point in enumerate(points):
            value = getattr(point, name)
            title = f"{_when(point.at, hourly)} {words}: {value}"
            parts.append(_marker(marker, x_of(i), y_of(value), fill, title))
        if points:
            last = getattr(points[-1], name)
            parts.append(_text(x_of(count) - 6, y_of(last) - 8, str(last), anchor="end"))
    every = 1 if len(points) <= 25 else 2 if len(points) <= 49 else max(len(points) // 16, 1)
    for i, point in enumerate(points):
        if i % every == 0 or i == len(points) - 1:
            parts.append(_text(x_of(i), HEIGHT - BOTTOM + 16, _label(point.at, hourly)))
    axis_x = t("chart.axis.hour" if hourly else "chart.axis.day")
    parts.append(_text((LEFT + WIDTH - RIGHT) / 2, HEIGHT - 6, axis_x))
    parts.append(_text(LEFT - 8, TOP - 12, t("chart.axis.persons"), anchor="end"))
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704  every text above is escaped
