"""A resident's phone inviting a visitor, and passing at the terminal's place code, in Chromium.

The whole service runs live (test_browser.py's ``live_gate``). The resident's phone (390 x
844) enrols a pass; it creates an invite, whose link opens on the visitor's phone as a QR
the gate lets in once. The guard's terminal shows the place code; its QR, read from a
screenshot, is the link the resident's phone opens to record a passage.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page
from sqlalchemy import select

from gate.domain.model import Credential, CredentialKind, Direction
from registry.models import Passage
from tests.e2e.conftest import CHROMIUM
from tests.e2e.test_browser import LiveGate, live_gate, signed_in_page
from tests.e2e.test_phone_pass_browser import PHONE, SCREENSHOTS, enrollment_code, read_qr

__all__ = ["live_gate"]  # the fixture, imported to be used here
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed"),
]


@pytest.fixture
def resident(browser: Browser, live_gate: LiveGate) -> Iterator[tuple[BrowserContext, Page]]:
    """A resident's phone with its pass enrolled and shown."""
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True)  # type: ignore[arg-type]
    page = context.new_page()
    code = enrollment_code(live_gate.services)
    page.goto(f"{live_gate.url}/pass/enroll?code={code}")
    page.click("#enroll-form button[type=submit]")
    # The click navigates: wait for the pass page itself, then for the pass drawn on it.
    page.wait_for_selector("#pass-qr svg")
    page.wait_for_function("document.getElementById('pass')?.dataset.state === 'shown'")
    yield context, page
    context.close()


def test_a_resident_invites_a_visitor_whose_phone_shows_a_one_time_pass(
    browser: Browser, live_gate: LiveGate, resident: tuple[BrowserContext, Page]
) -> None:
    _context, page = resident
    page.wait_for_selector("#invite-panel:not([hidden])")
    page.fill("#invite-form input[name=visitor_name]", "赵六")
    page.select_option("#invite-form select[name=hours]", "8")
    page.click("#invite-form button[type=submit]")
    page.wait_for_selector("#invite-result:not([hidden])")
    page.screenshot(path=str(_shot("phone-invite-created.png")), full_page=True)
    link = page.inner_text("#invite-link")
    assert "/visit/pass#" in link

    visitor = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True)  # type: ignore[arg-type]
    try:
        shown = visitor.new_page()
        shown.goto(link)
        shown.wait_for_function("document.getElementById('invite')?.dataset.state === 'shown'")
        assert shown.inner_text("#invite-name") == "赵*"
        text = read_qr(shown, "visitor-invite.png")
        assert text == shown.get_attribute("#invite-qr", "data-text")
    finally:
        visitor.close()
    pipeline = live_gate.station.gate.pipeline
    credential = Credential(CredentialKind.QR_PASS, code=text)
    first = pipeline.process(credential, lane="main", direction=Direction.IN)
    assert first.decision.outcome.value == "allow"
    again = pipeline.process(credential, lane="main", direction=Direction.IN)
    assert again.decision.reason_codes == ("pass_replayed",)


def test_the_place_code_on_the_terminal_records_the_residents_passage(
    browser: Browser, live_gate: LiveGate, resident: tuple[BrowserContext, Page]
) -> None:
    terminal = signed_in_page(browser, live_gate)
    try:
        terminal.click("#place-open")  # type: ignore[attr-defined]
        terminal.wait_for_selector("#place-codes figure svg")  # type: ignore[attr-defined]
        url = read_qr(terminal, "terminal-place-code.png")  # type: ignore[arg-type]
    finally:
        terminal.close()  # type: ignore[attr-defined]
    assert url.startswith(f"{live_gate.url}/pass/here?lane=main&t=")
    _context, page = resident
    page.goto(url)
    page.wait_for_function("document.getElementById('here')?.dataset.state !== 'sending'")
    page.screenshot(path=str(_shot("phone-place-code.png")))
    assert page.get_attribute("#here", "data-state") == "allow"
    assert page.inner_text("#here-verdict") == "已登记，请通行"
    with live_gate.services.database.session() as session:
        row = session.scalars(select(Passage).order_by(Passage.seq.desc())).first()
    assert row is not None
    assert (row.lane, row.credential_kind, row.outcome) == ("main", "qr_pass", "allow")


def test_a_place_code_opened_on_a_phone_without_a_pass_records_nothing(
    browser: Browser, live_gate: LiveGate
) -> None:
    context = browser.new_context(viewport=PHONE, is_mobile=True)  # type: ignore[arg-type]
    try:
        page = context.new_page()
        page.goto(f"{live_gate.url}/pass/here?lane=main&t=whatever")
        page.wait_for_function("document.getElementById('here')?.dataset.state === 'no_pass'")
        assert "没有住户通行码" in page.inner_text("#here-verdict")
    finally:
        context.close()
    with live_gate.services.database.session() as session:
        assert session.scalars(select(Passage)).first() is None


def _shot(name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / name
