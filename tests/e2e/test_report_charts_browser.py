"""The report pages' charts in a real Chromium: drawn, readable, printed on paper.

The demo compound plays yesterday through the real pipeline; the daily report and the
day shift's report must show both SVG charts under the page's policy (no script), in
Chinese and in English, and print them on A4.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from api.app import create_app
from gate.domain.roles import Role
from gate.runtime.bootstrap import Services, build_station
from tests.e2e.conftest import CHROMIUM, live_server
from tests.e2e.demo_day import demo_day
from tests.e2e.test_browser import SCREENSHOTS
from tests.gate.app.staff_builders import add_staff

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed"),
]


@pytest.fixture
def office_page(browser: object, services: Services) -> Iterator[tuple[object, str, str]]:
    day = demo_day(services, scale=0.3).isoformat()
    add_staff(services, "office1", Role.OFFICE, "office-password", name="周主任")
    station = build_station(services)
    with live_server(create_app(services, station), "charts") as url:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})  # type: ignore[attr-defined]
        violations: list[str] = []
        page.on(
            "console", lambda m: violations.append(m.text) if "Content Security" in m.text else None
        )
        page.goto(f"{url}/login")
        page.fill("input[name=username]", "office1")
        page.fill("input[name=password]", "office-password")
        page.click("button[type=submit]")
        page.wait_for_load_state()
        yield page, url, day
        assert violations == []
        page.close()


def test_the_daily_and_shift_reports_show_their_charts_on_screen_and_on_paper(
    office_page: tuple[object, str, str],
) -> None:
    page, url, day = office_page
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.goto(f"{url}/report/daily?date={day}")  # type: ignore[attr-defined]
    bars = page.locator("#chart-passages rect[data-outcome]")  # type: ignore[attr-defined]
    assert bars.count() > 20
    assert page.locator("#chart-passages title").first.text_content().startswith("各时段通行")  # type: ignore[attr-defined]
    box = page.locator("#chart-passages").bounding_box()  # type: ignore[attr-defined]
    assert box["width"] > 900
    assert box["height"] > 250
    page.locator("#h-charts").scroll_into_view_if_needed()  # type: ignore[attr-defined]
    page.locator("section.rp-charts").screenshot(path=str(SCREENSHOTS / "daily-charts.png"))  # type: ignore[attr-defined]
    page.emulate_media(media="print")  # type: ignore[attr-defined]
    page.locator("section.rp-charts").screenshot(path=str(SCREENSHOTS / "daily-charts-print.png"))  # type: ignore[attr-defined]
    page.pdf(path=str(SCREENSHOTS / "daily-report.pdf"), format="A4", landscape=True)  # type: ignore[attr-defined]
    page.emulate_media(media="screen")  # type: ignore[attr-defined]

    page.goto(f"{url}/report?start={day}T08:00&end={day}T20:00")  # type: ignore[attr-defined]
    assert page.locator("#chart-passages rect[data-outcome]").count() > 10  # type: ignore[attr-defined]
    assert page.locator('#chart-occupancy path[data-series="inside"]').count() == 1  # type: ignore[attr-defined]
    page.locator("section.rp-charts").screenshot(path=str(SCREENSHOTS / "shift-charts.png"))  # type: ignore[attr-defined]

    page.goto(f"{url}/lang/en")  # type: ignore[attr-defined]
    page.goto(f"{url}/report/daily?date={day}")  # type: ignore[attr-defined]
    legend = page.locator("#chart-passages .rp-legend").text_content()  # type: ignore[attr-defined]
    assert "Review (diagonal)" in legend
    page.locator("section.rp-charts").screenshot(path=str(SCREENSHOTS / "daily-charts-en.png"))  # type: ignore[attr-defined]
