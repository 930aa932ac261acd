"""The resident's pass on a phone-sized Chromium: enrol by the link, show, go offline.

A live server runs in a thread (as in test_browser.py). The office's use cases issue a
pass and its enrollment code; the phone opens the link, confirms, and the page draws the
rotating QR, which is read back from a screenshot with zxing-cpp and checked by the
gate's own verifier. Then the phone loses its network: ``/pass/`` still opens from the
service worker's cache, and the code changes at the next 30 s step (fake clock).
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
from playwright.sync_api import Browser, BrowserContext, Page

from api.app import create_app
from gate.app.actor import Actor
from gate.app.qr_passes import IssuePass, create_enrollment, issue_pass
from gate.domain.passes import PassKind
from gate.runtime.bootstrap import Services
from tests.e2e.conftest import CHROMIUM, RESIDENT_A, live_server, populate

SCREENSHOTS = Path(
    os.environ.get("GATE_SCREENSHOTS") or Path(tempfile.gettempdir()) / "gate-screens"
)
PHONE = {"width": 390, "height": 844}
UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed"),
]


@pytest.fixture
def live_url(services: Services) -> Iterator[str]:
    """The web app on a free port over a populated registry (no devices)."""
    populate(services)
    with live_server(create_app(services), "live-phone") as url:
        yield url


def enrollment_code(services: Services) -> str:
    office = Actor(name="office", origin="test@local", at=datetime.now(UTC))
    issued = issue_pass(
        IssuePass(PassKind.RESIDENT, RESIDENT_A),
        actor=office,
        units=services.units,
        signer=services.pass_signer,
    )
    code = create_enrollment(issued.signed.claims.pass_id, actor=office, units=services.units)
    return code.code


def read_qr(page: Page, name: str) -> str:
    """Screenshot the page (kept as ``name``) and read its one QR code."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    png = page.screenshot(path=str(SCREENSHOTS / name))
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)
    assert image is not None
    found = zxingcpp.read_barcodes(
        image, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    )
    assert len(found) == 1, found
    return str(found[0].text)


def shown_text(page: Page) -> str:
    text: str = page.get_attribute("#pass-qr", "data-text") or ""
    return text


def read_shown_pass(page: Page, name: str) -> str:
    """The pass read off a screenshot, checked to be the code the page says it shows.

    A resident pass moves to a new time step every 30 s; when the step turned while the
    screenshot was taken, the screenshot may hold either code, so take it again.
    """
    for _ in range(3):
        before = shown_text(page)
        text = read_qr(page, name)
        if shown_text(page) == before:
            assert text == before
            return text
    raise AssertionError("the shown code changed during every screenshot")


def page_now(page: Page) -> datetime:
    millis: int = page.evaluate("Date.now()")
    return UNIX_EPOCH + timedelta(milliseconds=millis)


@pytest.fixture
def phone(browser: Browser) -> Iterator[tuple[BrowserContext, Page]]:
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True)  # type: ignore[arg-type]
    page = context.new_page()
    yield context, page
    context.close()


def test_enrol_show_and_use_offline(
    phone: tuple[BrowserContext, Page], live_url: str, services: Services
) -> None:
    context, page = phone
    code = enrollment_code(services)
    page.goto(f"{live_url}/pass/enroll?code={code}")
    assert "绑定手机通行码" in page.inner_text("h1")
    page.click("#enroll-form button[type=submit]")
    page.wait_for_selector("#pass-qr svg")
    page.wait_for_function("document.getElementById('pass')?.dataset.state === 'shown'")
    assert page.url == f"{live_url}/pass/"  # a reload opens the static page
    assert page.inner_text("#pass-name") == "王*明"
    assert "1" in page.inner_text("#pass-home")
    assert page.inner_text("#pass-net") == "在线"
    assert page.evaluate("localStorage.getItem('gate.pass') !== null")
    box: dict[str, Any] = page.evaluate(
        "(() => { const r = document.querySelector('#pass-qr svg').getBoundingClientRect();"
        " return {width: r.width, height: r.height}; })()"
    )
    assert box["width"] >= 0.8 * PHONE["width"]
    assert box["width"] == pytest.approx(box["height"])

    text = read_shown_pass(page, "phone-pass.png")
    check = services.pass_verifier.verify(text, now=datetime.now(UTC))
    assert check.valid, check

    # The service worker holds the page and its scripts; then the network goes.
    page.wait_for_function("document.getElementById('pass')?.dataset.sw === 'ready'")
    context.set_offline(True)
    failed: list[str] = []  # every script and style must come from the worker's cache
    page.on("requestfailed", lambda request: failed.append(request.url))
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.clock.install(time=datetime.now(UTC))
    page.reload()
    page.wait_for_function("document.getElementById('pass')?.dataset.state === 'shown'")
    assert page.inner_text("#pass-net") == "离线可用"
    assert page.inner_text("#pass-name") == "王*明"
    before = shown_text(page)
    assert before
    page.clock.run_for(31_000)
    after = shown_text(page)
    assert after != before
    offline_text = read_qr(page, "phone-pass-offline.png")
    assert offline_text == after
    assert services.pass_verifier.verify(offline_text, now=page_now(page)).valid
    assert [url for url in failed if "/static/" in url] == []
    assert errors == []


def test_a_used_code_shows_the_refusal_and_stores_nothing(
    phone: tuple[BrowserContext, Page], live_url: str, services: Services
) -> None:
    _context, page = phone
    code = enrollment_code(services)
    page.goto(f"{live_url}/pass/enroll?code={code}")
    page.click("#enroll-form button[type=submit]")
    page.wait_for_selector("#pass-qr svg")
    page.evaluate("localStorage.clear()")
    page.goto(f"{live_url}/pass/enroll?code={code}")
    page.click("#enroll-form button[type=submit]")
    page.wait_for_selector("#enroll-error")
    assert "绑定码无效" in page.inner_text("#enroll-error")
    assert page.evaluate("localStorage.getItem('gate.pass')") is None
    page.goto(f"{live_url}/pass/")
    page.wait_for_function("document.getElementById('pass')?.dataset.state === 'none'")
    assert page.is_visible("#pass-none")
