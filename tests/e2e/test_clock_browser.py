"""The clock alarm as the guard sees it: a real NTP server 25 s ahead, the header's red line."""

from __future__ import annotations

import re

import pytest

from api.app import create_app
from gate.domain.roles import Role
from gate.runtime.bootstrap import Services, bootstrap, build_station
from tests.e2e.conftest import CHROMIUM, live_server, populate, same_gate
from tests.e2e.test_browser import SCREENSHOTS, LiveGate, signed_in_page
from tests.gate.app.staff_builders import add_staff
from tests.ntp_server import ntp_server

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed"),
]


def test_a_clock_off_by_more_than_the_threshold_is_a_red_line_until_it_is_right(
    browser: object, services: Services
) -> None:
    populate(services)
    add_staff(services, "guard1", Role.GUARD, "guard-password", name="王师傅", pin="1234")
    with ntp_server(offset=25.0) as ntp:
        settings = same_gate(services, clock={"ntp_server": ntp.address, "check_minutes": 0.01})
        clock_services = bootstrap(settings)
        station = build_station(clock_services)
        station.start()  # the station's own clock thread asks the server every 0.6 s
        try:
            with live_server(create_app(clock_services, station), "clock-gate") as url:
                page = signed_in_page(browser, LiveGate(url, clock_services, station))
                line = page.locator("#clock-off")  # type: ignore[attr-defined]
                line.wait_for(state="visible", timeout=10_000)
                text = line.inner_text()
                shown = rf"本机时钟慢了 25 秒（对照 ntp {re.escape(ntp.address)}，\d\d:\d\d）："
                assert re.match(shown, text), text
                assert text.endswith("通行记录时间不准，请校时")
                assert line.evaluate("e => getComputedStyle(e).backgroundColor") == (
                    page.locator("#upstream").evaluate(  # type: ignore[attr-defined]
                        "e => getComputedStyle(e).backgroundColor"
                    )
                )  # the upstream warning's red
                metrics = page.request.get(f"{url}/metrics").text()  # type: ignore[attr-defined]
                gauge = re.search(
                    rf'gate_clock_offset_seconds{{source="ntp {re.escape(ntp.address)}"}} (\S+)',
                    metrics,
                )
                assert gauge is not None, metrics
                assert float(gauge[1]) == pytest.approx(25.0, abs=0.1)
                SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(SCREENSHOTS / "terminal-clock-off.png"))  # type: ignore[attr-defined]
                ntp.offset = 0.2  # the time daemon has set the clock
                line.wait_for(state="hidden", timeout=10_000)
                page.close()  # type: ignore[attr-defined]
        finally:
            station.stop()
            clock_services.close()
