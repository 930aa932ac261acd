"""The office imports its own spreadsheet in the real headless Chromium, mapping columns.

The sheet (built by ``tests.registry.office_sheets``) has headings we know for some
columns only: the upload writes nothing and shows the mapping step, pre-filled by the
guesses, with a masked preview. The office chooses the three missing columns, updates
the preview, looks, and imports; the page runs under its Content-Security-Policy. The
screenshots (``import-mapping.png``, ``import-mapping-done.png``) go to ``SCREENSHOTS``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page
from sqlalchemy import func, select

from api.app import create_app
from gate.domain.roles import Role
from gate.runtime.bootstrap import Services, build_station
from registry.models import AuditEvent, Person
from registry.service import add_building, get_or_create_compound
from tests.e2e.conftest import CHROMIUM, live_server, populate
from tests.e2e.test_browser import SCREENSHOTS
from tests.gate.app.staff_builders import add_staff
from tests.registry import office_sheets as sheets

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed"),
]


@dataclass
class LiveOffice:
    url: str
    services: Services


@pytest.fixture
def live_office(services: Services) -> Iterator[LiveOffice]:
    """The service with buildings 1 and 2 (units 1, 2) and an office account."""
    populate(services)
    with services.database.session() as session:
        compound = get_or_create_compound(session, code="ruyi", name="如意小区")
        add_building(session, compound=compound, label="2", units=["1", "2"])
    add_staff(services, "office1", Role.OFFICE, "office-password", name="物业小陈")
    with live_server(create_app(services, build_station(services)), "live-import") as url:
        yield LiveOffice(url, services)


@pytest.fixture
def office_page(browser: object, live_office: LiveOffice) -> Iterator[Page]:
    """The office signed in, in a page that keeps the service's CSP."""
    page: Page = browser.strict_page(viewport={"width": 1280, "height": 1000})  # type: ignore[attr-defined]
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text))
    page.goto(f"{live_office.url}/login")
    page.fill("input[name=username]", "office1")
    page.fill("input[name=password]", "office-password")
    page.click("button[type=submit]")
    page.wait_for_url("**/office")
    yield page
    assert not [text for text in violations if "Content Security Policy" in text]
    page.close()


def persons(services: Services) -> int:
    with services.database.session() as session:
        return int(session.scalar(select(func.count()).select_from(Person)) or 0)


def test_the_office_maps_its_columns_checks_the_preview_and_imports(
    office_page: Page, live_office: LiveOffice, tmp_path: Path
) -> None:
    page, services = office_page, live_office.services
    before = persons(services)
    page.goto(f"{live_office.url}/office/import")
    page.set_input_files("input[name=file]", str(sheets.unknown_headings(tmp_path)))
    page.click("form[action='/office/import'] button[type=submit]")
    page.wait_for_selector("#mapping-title")
    assert "表头没有全部识别" in page.inner_text(".mapping")
    # The guesses: 楼座 -> 楼栋, 单元, 性别, 电话; 房号, 姓名, 证件号码 are left to the office.
    assert [page.input_value(f"#col_{name}") for name in ("building", "unit", "sex", "phone")] == [
        "0",
        "1",
        "4",
        "6",
    ]
    assert [page.input_value(f"#col_{name}") for name in ("room", "name", "doc_number")] == [
        "",
        "",
        "",
    ]
    assert persons(services) == before

    page.select_option("#col_room", label="C · 户室编号")
    page.select_option("#col_name", label="D · 住户")
    page.select_option("#col_doc_number", label="F · 证件")
    page.click("button[value=preview]")
    page.wait_for_selector("table.preview")
    preview = page.inner_text("table.preview")
    assert "张三" in preview
    assert "**************" + sheets.ZHANG[-4:] in preview
    assert sheets.ZHANG not in page.content()
    assert page.input_value("#col_doc_number") == "5"  # the choice survives the preview
    assert persons(services) == before  # nothing written by looking
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("section.card").first.screenshot(path=str(SCREENSHOTS / "import-mapping.png"))

    page.click("button[value=import]")
    page.wait_for_selector(".flash.ok")
    assert "已导入 自定义表头.xlsx：共 3 行" in page.inner_text(".flash.ok")
    page.locator("section.card").first.screenshot(path=str(SCREENSHOTS / "import-mapping-done.png"))
    with services.database.session() as session:
        names = set(session.scalars(select(Person.name)))
        audit = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "registry.import")
        ).one()
    assert {"王小明", "李梅", "张三"} <= names
    mapped = audit.detail["mapped"]
    assert isinstance(mapped, dict)
    assert mapped["doc_number"] == 5
