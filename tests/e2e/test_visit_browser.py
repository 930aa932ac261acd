"""Visitor self-registration on phone-sized Chromium: the form, the host's phone, the guard.

A live server with a gate station runs in a thread (``live_gate`` from test_browser.py).
The visitor fills the poster form on a 390x844 phone and lands on the status page with
the host link; the host's phone, holding a resident pass of the visited flat (enrolled
as in test_phone_pass_browser.py), opens the link and confirms; the visitor's page then
draws the rotating visitor pass, which is read back from a screenshot with zxing-cpp and
let through by a gate built on the same registry. A phone without a pass decides
nothing; a guard approves a second request at the terminal with the A key.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page

from gate.domain.model import Credential, CredentialKind, Direction, Outcome
from gate.runtime.bootstrap import build_gate
from tests.e2e.conftest import CHROMIUM, OUTSIDER
from tests.e2e.test_browser import LiveGate, live_gate, signed_in_page
from tests.e2e.test_phone_pass_browser import (
    PHONE,
    SCREENSHOTS,
    enrollment_code,
    read_qr,
    read_shown_pass,
)
from tests.registry.builders import resident_number as number

__all__ = ["live_gate"]  # the fixture, used here under its own name

SECOND_VISITOR = number("19950505", "009")
LANE = "main"  # the only lane the test settings configure (GateSettings' default)
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed"),
]


@dataclass
class Phone:
    context: BrowserContext
    page: Page


@pytest.fixture
def phones(browser: Browser) -> Iterator[list[Phone]]:
    """Phones opened with ``open_phone``; closed after the test."""
    opened: list[Phone] = []
    yield opened
    for phone in opened:
        phone.context.close()


def open_phone(browser: Browser, phones: list[Phone]) -> Phone:
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True)  # type: ignore[arg-type]
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.extend(console_error(message)))
    phone = Phone(context, page)
    phone.page.js_errors = errors  # type: ignore[attr-defined]
    phones.append(phone)
    return phone


def console_error(message: ConsoleMessage) -> list[str]:
    """An error on the console, but not the browser's own asking for a favicon."""
    url = str(message.location.get("url", ""))
    if message.type != "error" or url.endswith("/favicon.ico"):
        return []
    return [f"{message.text} {url}"]


def js_errors(page: Page) -> list[str]:
    errors: list[str] = page.js_errors  # type: ignore[attr-defined]
    return errors


def screenshot(page: Page, name: str, *, full_page: bool = False) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=full_page)


def fits_the_phone(page: Page) -> None:
    """Nothing on the page is wider than the phone's screen."""
    width: int = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width} px wide"


def register(
    page: Page, url: str, *, name: str, number: str, reason: str, shot: str | None = None
) -> str:
    """Fill the poster form as a visitor; the status page's host link."""
    page.goto(f"{url}/visit/")
    assert "访客登记" in page.inner_text("h1")
    assert "个人信息处理说明" in page.inner_text("#pipl-notice")
    page.fill("input[name=name]", name)
    page.fill("input[name=phone]", "13800138000")
    page.select_option("select[name=doc_type]", "resident_id")
    page.fill("input[name=number]", number)
    page.fill("input[name=building]", "1")
    page.fill("input[name=unit]", "1")
    page.fill("input[name=room]", "101")
    page.fill("input[name=reason]", reason)
    fits_the_phone(page)
    if shot:
        screenshot(page, shot, full_page=True)
    # Without the consent box ticked the browser's own check keeps the form here.
    page.click("#visit-form button[type=submit]")
    assert page.evaluate("document.querySelector('input[name=consent]').validity.valueMissing")
    assert page.url == f"{url}/visit/"
    page.check("input[name=consent]")
    page.click("#visit-form button[type=submit]")
    page.wait_for_url(f"{url}/visit/status/**")
    page.wait_for_function("document.getElementById('visit')?.dataset.state === 'pending'")
    assert "等待住户确认" in page.inner_text("#visit-state")
    assert "#host=" not in page.url  # the host code is kept on the phone, out of the bar
    page.wait_for_selector("#host-qr svg")
    host_url = page.inner_text("#host-url").strip()
    assert host_url.startswith(f"{url}/visit/host/")
    return host_url


def wait_confirmed(page: Page) -> None:
    page.wait_for_function(
        "document.getElementById('visit')?.dataset.state === 'confirmed'", timeout=12_000
    )
    page.wait_for_selector("#pass-qr svg")
    page.wait_for_function("Boolean(document.getElementById('pass-qr')?.dataset.text)")
    assert "已确认" in page.inner_text("#visit-state")
    assert page.is_hidden("#host-link")


def the_gate_lets_in(live: LiveGate, text: str) -> None:
    gate = build_gate(live.services)
    result = gate.pipeline.process(
        Credential(CredentialKind.QR_PASS, code=text), lane=LANE, direction=Direction.IN
    )
    assert result.decision.outcome is Outcome.ALLOW, result.decision
    assert result.decision.reason_codes == ("visitor", "qr_pass")


def test_the_host_confirms_on_their_phone_and_the_visitor_gets_a_pass(
    browser: Browser, live_gate: LiveGate, phones: list[Phone]
) -> None:
    visitor = open_phone(browser, phones).page
    host_url = register(
        visitor,
        live_gate.url,
        name="赵六",
        number=OUTSIDER,
        reason="探望父母",
        shot="visit-form.png",
    )
    fits_the_phone(visitor)
    assert "王" not in visitor.inner_text("#visit-host")  # the flat, not the residents
    box = visitor.evaluate(
        "(() => { const r = document.querySelector('#host-qr svg').getBoundingClientRect();"
        " return {width: r.width, height: r.height}; })()"
    )
    assert box["width"] >= 150
    assert read_qr(visitor, "visit-pending.png") == host_url  # the host scans it off this phone

    # The host's phone holds a resident pass of 1-1-101.
    host = open_phone(browser, phones).page
    host.goto(f"{live_gate.url}/pass/enroll?code={enrollment_code(live_gate.services)}")
    host.click("#enroll-form button[type=submit]")
    host.wait_for_selector("#pass-qr svg")
    host.goto(host_url)
    assert host.inner_text("h1") == "确认访客"
    assert host.inner_text("#host-visitor") == "赵六"
    assert "探望父母" in host.inner_text("dl.visit")
    assert "2 小时" in host.inner_text("dl.visit")
    fits_the_phone(host)
    host.click("text=同意来访")
    host.wait_for_function("document.getElementById('host')?.dataset.status === 'confirmed'")
    assert "已同意" in host.inner_text("#host-state")
    assert host.is_disabled("#host-approve")
    screenshot(host, "visit-host.png", full_page=True)

    wait_confirmed(visitor)
    fits_the_phone(visitor)
    box = visitor.evaluate(
        "(() => { const r = document.querySelector('#pass-qr svg').getBoundingClientRect();"
        " return {width: r.width, height: r.height, bottom: r.bottom}; })()"
    )
    assert box["width"] >= 0.8 * PHONE["width"]
    assert box["width"] == pytest.approx(box["height"])
    assert box["bottom"] <= PHONE["height"]  # the whole code on screen, no scrolling
    # From now for the two hours asked for, to the minute (the end's date only past midnight).
    window = visitor.inner_text("#visit-window")
    assert re.fullmatch(r"\d\d/\d\d \d\d:\d\d – (\d\d/\d\d )?\d\d:\d\d", window), window
    text = read_shown_pass(visitor, "visit-confirmed.png")
    the_gate_lets_in(live_gate, text)
    assert js_errors(visitor) == []
    assert js_errors(host) == []


def test_a_phone_without_a_pass_decides_nothing(
    browser: Browser, live_gate: LiveGate, phones: list[Phone]
) -> None:
    visitor = open_phone(browser, phones).page
    host_url = register(visitor, live_gate.url, name="赵六", number=OUTSIDER, reason="送快递")
    stranger = open_phone(browser, phones).page
    stranger.goto(host_url)
    stranger.click("#host-approve")
    stranger.wait_for_selector("#host-state.bad")
    assert "本手机没有住户通行码" in stranger.inner_text("#host-state")
    assert stranger.get_attribute("#host", "data-status") == "pending"
    fits_the_phone(stranger)
    screenshot(stranger, "visit-host-no-pass.png", full_page=True)
    # Still pending, on a fresh look at both pages.
    stranger.reload()
    assert stranger.get_attribute("#host", "data-status") == "pending"
    visitor.reload()
    visitor.wait_for_function("document.getElementById('visit')?.dataset.state === 'pending'")
    assert js_errors(stranger) == []


def test_a_guard_approves_a_request_with_the_a_key(
    browser: Browser, live_gate: LiveGate, phones: list[Phone]
) -> None:
    visitor = open_phone(browser, phones).page
    register(visitor, live_gate.url, name="孙小红", number=SECOND_VISITOR, reason="维修水管")
    terminal: Page = signed_in_page(browser, live_gate)  # type: ignore[assignment]
    alert = "#alerts li.request"
    terminal.wait_for_selector(alert, timeout=8_000)  # the status event comes every 3 s
    row = terminal.inner_text(alert)
    assert "孙*红" in row
    assert "1-1-101" in row or "1号楼" in row, row
    assert "维修水管" in row
    assert terminal.evaluate("document.body.dataset.alarm") == "on"
    screenshot(terminal, "terminal-visit-request.png")
    terminal.keyboard.press("a")
    terminal.wait_for_selector(alert, state="detached")
    assert "孙*红" in terminal.inner_text("#feed li.note")
    wait_confirmed(visitor)
    text = read_qr(visitor, "visit-confirmed-guard.png")
    the_gate_lets_in(live_gate, text)
    # The request is gone for good: it does not come back with the next status event.
    terminal.wait_for_timeout(3_500)
    assert terminal.locator(alert).count() == 0
    terminal.close()
    assert js_errors(visitor) == []
