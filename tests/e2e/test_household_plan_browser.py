"""The household plan of a demo building in a real Chromium: on screen, and on one A4 page.

The demo compound with yesterday played through the gate: flats with quarantine and its
end, monitoring, temperatures not yet taken today, residents outside now; a click on a
cell opens the household; the print is a single A4 sheet.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from api.app import create_app
from gate.app.actor import Actor
from gate.app.people import MoveOut, StartStatus, move_out, start_status
from gate.domain.model import Credential, CredentialKind, Direction
from gate.domain.people import HealthStatus, LegalBasis
from gate.domain.roles import Role
from gate.domain.status import local_date
from gate.runtime.bootstrap import Services, build_station
from registry.models import Building, Household, Person, StatusRecord, Unit
from registry.simulation_cards import registered_cards
from tests.e2e.conftest import CHROMIUM, live_server
from tests.e2e.demo_day import demo_day
from tests.e2e.test_browser import SCREENSHOTS
from tests.gate.app.staff_builders import add_staff

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed"),
]


def this_morning(services: Services) -> None:
    """In building 1 now: three residents went out, a flat emptied, one under monitoring."""
    with services.database.session() as session:
        rows = session.execute(
            select(Person.ref, Household.room, Unit.key)
            .join(Household, Person.household_id == Household.id)
            .join(Unit, Household.unit_id == Unit.id)
            .join(Building, Unit.building_id == Building.id)
            .where(Building.key == "1", Person.moved_out_at.is_(None))
            .order_by(Unit.key, Household.room, Person.id)
        ).all()
        with_status = set(session.scalars(select(Person.ref).join(StatusRecord)))
    flats: dict[tuple[str, str], list[str]] = {}
    for ref, room, unit in rows:
        flats.setdefault((unit, room), []).append(ref)
    homes = list(flats.values())
    office = Actor("office", "test", datetime.now(UTC))
    for ref in homes[-1]:
        move_out(MoveOut(ref), actor=office, units=services.units)
    today = local_date(datetime.now(UTC))
    healthy = next(home for home in homes[3:] if not with_status.intersection(home))
    start_status(
        StartStatus(
            healthy[0],
            HealthStatus.HEALTH_MONITORING,
            today - timedelta(days=2),
            today + timedelta(days=11),
            LegalBasis.PUBLIC_HEALTH_EMERGENCY,
        ),
        actor=office,
        units=services.units,
    )
    cards = registered_cards(services.database, services.cipher)
    station = build_station(services)
    for home in (homes[0], homes[5], homes[8]):
        credential = Credential(CredentialKind.ID_CARD, document=cards[home[0]])
        station.gate.pipeline.process(credential, lane="main", direction=Direction.OUT)


@pytest.fixture
def head_page(browser: Any, services: Services) -> Iterator[tuple[Any, str]]:
    demo_day(services, scale=0.15)
    this_morning(services)
    add_staff(services, "head1", Role.BUILDING_HEAD, "head-password", buildings=["1"])
    station = build_station(services)
    with live_server(create_app(services, station), "plan") as url:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        violations: list[str] = []
        page.on(
            "console",
            lambda m: violations.append(m.text) if "Content Security" in m.text else None,
        )
        page.goto(f"{url}/login")
        page.fill("input[name=username]", "head1")
        page.fill("input[name=password]", "head-password")
        page.click("button[type=submit]")
        page.wait_for_load_state()
        yield page, url
        assert violations == []
        page.close()


def test_the_plan_of_a_demo_building_on_screen_on_paper_and_a_click_opens_the_household(
    head_page: tuple[Any, str],
) -> None:
    page, url = head_page
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.goto(f"{url}/office/buildings/1")
    page.click("#plan-link")
    page.wait_for_url("**/office/buildings/1/plan")
    cells = page.locator("#plan td.flat[data-room]")
    assert cells.count() >= 40  # 4 or 5 units, 6 floors, 2 doors
    assert page.locator("#plan tbody tr").first.get_attribute("data-floor") == "6"
    marks = set(" ".join(cells.evaluate_all("els => els.map(e => e.dataset.marks)")).split())
    assert {"outside", "temperature", "monitoring", "vacant"} <= marks, marks
    totals = page.locator("#plan-totals").inner_text()
    assert re.search(r"\d+户 · 隔离\d+户", totals), totals
    page.screenshot(path=str(SCREENSHOTS / "household-plan.png"), full_page=True)

    page.emulate_media(media="print")
    page.screenshot(path=str(SCREENSHOTS / "household-plan-print.png"), full_page=True)
    pdf = page.pdf(format="A4", prefer_css_page_size=True, print_background=True)
    (SCREENSHOTS / "household-plan.pdf").write_bytes(pdf)
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1  # one A4 sheet per building
    page.emulate_media(media="screen")

    first = cells.first
    room = first.get_attribute("data-room")
    first.locator("a").click()
    page.wait_for_url("**/office/households/*")
    assert room.split("-")[1] in page.locator("h1").inner_text()

    refused = page.goto(f"{url}/office/buildings/2/plan")
    assert refused.status == 403
