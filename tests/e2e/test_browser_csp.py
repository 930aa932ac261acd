"""The pages work under their own Content-Security-Policy, in the real browser.

Every other browser test's page bypasses the policy so that its probes may evaluate
strings; here the policy holds, and any violation the browser reports fails the test.
"""

from __future__ import annotations

from typing import Any

import pytest

from gate.domain.model import Direction
from tests.e2e.conftest import CHROMIUM, OUTSIDER
from tests.e2e.test_browser import LiveGate, card_passage, live_gate

__all__ = ["live_gate"]
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed"),
]


def policy_violations(page: Any) -> list[str]:
    """What the browser reports refusing under the page's policy, as it happens."""
    seen: list[str] = []

    def note(message: Any) -> None:
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            seen.append(message.text)

    page.on("console", note)
    return seen


def test_the_terminal_runs_under_its_policy_with_no_violation(
    browser: object, live_gate: LiveGate
) -> None:
    page = browser.strict_page(viewport={"width": 1400, "height": 900})  # type: ignore[attr-defined]
    violations = policy_violations(page)
    page.goto(f"{live_gate.url}/login")
    page.fill("input[name=username]", "guard1")
    page.fill("input[name=password]", "guard-password")
    page.click("button[type=submit]")
    page.wait_for_url("**/terminal")
    page.wait_for_selector("body[data-live=on]", timeout=10_000)
    seq = card_passage(live_gate, OUTSIDER, Direction.IN, name="赵六")
    # The feed (terminal.js, its texts from the JSON block) works: the alert comes up.
    page.wait_for_selector(f'#alerts li[data-seq="{seq}"] button.admit', timeout=5_000)
    assert "放行" in page.inner_text(f'#alerts li[data-seq="{seq}"]')
    page.close()
    assert violations == []


def test_the_public_phone_pages_run_under_their_policy(
    browser: object, live_gate: LiveGate
) -> None:
    page = browser.strict_page(viewport={"width": 390, "height": 844})  # type: ignore[attr-defined]
    violations = policy_violations(page)
    for path in ("/pass/", "/pass/enroll", "/visit"):
        page.goto(f"{live_gate.url}{path}")
        page.wait_for_load_state("networkidle")
    page.close()
    assert violations == []
