"""The paper pass in a real headless Chromium: the office prints one from the person page.

A live server runs in a thread (as in test_browser.py). The office signs in, opens the
person page and clicks "print paper pass"; the card's QR is read back from a screenshot
with zxing-cpp, must equal the page's data attribute and verify with the gate's own
verifier; under print media the top bar and the buttons are gone and the card stays.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
import zxingcpp
from playwright.sync_api import Browser, Page
from sqlalchemy import select

from api.app import create_app
from gate.domain.passes import PassValid
from gate.domain.roles import Role
from gate.runtime.bootstrap import Services
from registry.models import Person
from tests.e2e.conftest import CHROMIUM, live_server, populate
from tests.gate.app.staff_builders import add_staff

SCREENSHOTS = Path(
    os.environ.get("GATE_SCREENSHOTS") or Path(tempfile.gettempdir()) / "gate-screens"
)
MM = 96 / 25.4  # CSS pixels in a millimetre
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed"),
]


@pytest.fixture
def live_url(services: Services) -> Iterator[str]:
    """The web app on a free port over a populated registry and an office account."""
    populate(services)
    add_staff(services, "office1", Role.OFFICE, "office-password", name="物业小陈")
    with live_server(create_app(services), "live-paper") as url:
        yield url


@pytest.fixture
def office_page(browser: Browser, live_url: str) -> Iterator[Page]:
    """A desktop page signed in as the office."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, device_scale_factor=2)
    page = context.new_page()
    page.goto(f"{live_url}/login")
    page.fill("input[name=username]", "office1")
    page.fill("input[name=password]", "office-password")
    page.click("button[type=submit]")
    page.wait_for_url("**/office")
    yield page
    context.close()


def person_ref(services: Services, name: str) -> str:
    with services.database.session() as session:
        ref = session.scalar(select(Person.ref).where(Person.name == name))
    assert ref is not None
    return str(ref)


def read_qr(png: bytes) -> str:
    """The one QR code in a screenshot."""
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)
    assert image is not None
    found = zxingcpp.read_barcodes(
        image, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    )
    assert len(found) == 1, found
    return str(found[0].text)


def test_the_office_prints_a_paper_pass_the_gate_reads(
    office_page: Page, live_url: str, services: Services
) -> None:
    page = office_page
    ref = person_ref(services, "王小明")
    page.goto(f"{live_url}/office/persons/{ref}")
    assert page.input_value("#paper-pass select[name=days]") == "90"
    page.click("#paper-pass button[type=submit]")
    page.wait_for_selector("#paper-qr svg")
    assert page.url == f"{live_url}/office/persons/{ref}/paper-pass"
    assert page.inner_text("#paper-name") == "王*明"
    assert page.inner_text("#paper-home") == "1号楼1单元101"
    assert "出示给门岗扫码器" in page.inner_text("#paper-card")
    assert "丢失请到物业注销" in page.inner_text("#paper-card")
    assert "王小明" not in page.content()

    # The QR is at least 60 mm across (CSS millimetres are printed millimetres).
    box: dict[str, Any] = page.evaluate(
        "(() => { const r = document.querySelector('#paper-qr svg').getBoundingClientRect();"
        " return {width: r.width, height: r.height}; })()"
    )
    assert box["width"] >= 60 * MM
    assert box["width"] == pytest.approx(box["height"])

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    png = page.locator("#paper-card").screenshot(path=str(SCREENSHOTS / "paper-pass.png"))
    text = read_qr(png)
    attribute = page.get_attribute("#paper-qr", "data-pass-text")
    assert text == attribute
    pass_id = page.inner_text("#paper-id")
    check = services.pass_verifier.verify(text, now=datetime.now(UTC))
    assert isinstance(check, PassValid), check
    assert check.claims.pass_id == pass_id
    assert check.claims.rotating is False
    assert services.pass_verifier.verify(text, now=datetime.now(UTC) + timedelta(days=60)).valid

    # Print: the button calls window.print(); printed, only the card is left.
    # (A string that evaluates to a function is called by Playwright: wrap the stub.)
    page.evaluate(
        "() => { window.print = () => { window.__printed = (window.__printed || 0) + 1; }; }"
    )
    page.click("#paper-print")
    assert page.evaluate("window.__printed") == 1
    assert page.is_visible(".topbar")
    page.emulate_media(media="print")
    assert not page.is_visible(".topbar")
    assert not page.is_visible("#paper-print")
    assert not page.is_visible("#paper-tools")
    assert page.is_visible("#paper-card")
    assert page.is_visible("#paper-qr svg")
    printed = page.screenshot(path=str(SCREENSHOTS / "paper-pass-print.png"))
    assert read_qr(printed) == text
    page.emulate_media(media="screen")

    # Back on the person page the pass is listed, not rotating, and can be revoked there.
    page.click("#paper-tools a")
    row = page.locator(f'tr[data-pass="{pass_id}"]')
    assert row.get_attribute("data-rotating") == "false"
    assert "纸质" in row.inner_text()
    page.once("dialog", lambda dialog: dialog.accept())
    row.locator("button.danger").click()
    page.wait_for_selector(f'tr[data-pass="{pass_id}"]:not(.active)')
    assert "已注销" in page.locator(f'tr[data-pass="{pass_id}"]').inner_text()
    page.locator("#passes").screenshot(path=str(SCREENSHOTS / "paper-pass-person.png"))
