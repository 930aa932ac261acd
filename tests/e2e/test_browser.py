"""The guard terminal in a real headless Chromium (Debian's build, driven by Playwright).

A live server runs in a thread on a free port over the test database; the tests act as a
guard would: watch the feed, hear an alert, decide with one key, register a visitor.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from api.app import create_app
from gate.app.actor import Actor
from gate.app.controls import ApplyControls, ControlRow, apply_controls
from gate.domain.documents import DocumentType
from gate.domain.model import Credential, CredentialKind, Direction, DocumentRead
from gate.domain.people import Sex
from gate.domain.roles import Role
from gate.domain.status import local_date
from gate.runtime.bootstrap import Services, Station, build_station
from registry.models import AuditEvent, Building, Household, Passage, Unit, Visitor
from registry.records import PersonRecord
from registry.service import RegistryWriter, add_building, get_or_create_compound
from tests.e2e.conftest import CHROMIUM, OUTSIDER, QUARANTINED, RESIDENT_A, live_server, populate
from tests.gate.app.staff_builders import add_staff
from tests.registry.builders import resident_number as number

# Screenshots go to $GATE_SCREENSHOTS (the README's come from there), else nowhere kept.
SCREENSHOTS = Path(
    os.environ.get("GATE_SCREENSHOTS") or Path(tempfile.gettempdir()) / "gate-screens"
)
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed"),
]


@dataclass
class LiveGate:
    url: str
    services: Services
    station: Station


@pytest.fixture
def live_gate(services: Services) -> Iterator[LiveGate]:
    """The whole service on a free port, a populated registry and a guard account."""
    populate(services)
    add_staff(services, "guard1", Role.GUARD, "guard-password", name="王师傅", pin="1234")
    station = build_station(services)
    with live_server(create_app(services, station), "live-gate") as url:
        yield LiveGate(url, services, station)


def signed_in_page(browser: object, live: LiveGate, language: str = "zh") -> object:
    page = browser.new_page(viewport={"width": 1600, "height": 900})  # type: ignore[attr-defined]
    page.goto(f"{live.url}/login")
    page.fill("input[name=username]", "guard1")
    page.fill("input[name=password]", "guard-password")
    page.click("button[type=submit]")
    page.wait_for_url("**/terminal")
    page.wait_for_function("document.body.dataset.live === 'on'", timeout=10_000)
    return page


def card_passage(live: LiveGate, number: str, direction: Direction, name: str | None = None) -> int:
    result = live.station.gate.pipeline.process(
        Credential(
            CredentialKind.ID_CARD,
            document=DocumentRead(DocumentType.RESIDENT_ID, number, name=name),
        ),
        lane="main",
        direction=direction,
    )
    assert result.record is not None
    return result.record.seq


def test_a_passage_from_another_process_appears_in_the_feed(
    browser: object, live_gate: LiveGate
) -> None:
    page = signed_in_page(browser, live_gate)
    settings = live_gate.services.settings
    env = {key: value for key, value in os.environ.items() if not key.startswith("GATE_")}
    env.update(
        GATE_DATA_DIR=str(settings.data_dir),
        GATE_DATABASE_URL=settings.effective_database_url,
        GATE_SECRETS__KEY_FILE=str(settings.secrets.key_file),
        GATE_LOG_LEVEL="WARNING",
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "gate",
            "passage",
            "--id-number",
            RESIDENT_A,
            "--direction",
            "out",
            "--json",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    committed = time.monotonic()
    seq = json.loads(done.stdout)["seq"]
    page.wait_for_selector(f'#feed li.passage[data-seq="{seq}"]', timeout=3_000)  # type: ignore[attr-defined]
    latency = time.monotonic() - committed
    print(f"passage {seq} on screen {latency * 1000:.0f} ms after the CLI committed it")
    row = page.locator(f'#feed li[data-seq="{seq}"]')  # type: ignore[attr-defined]
    assert "放行" in row.inner_text()
    assert "王*明" in row.inner_text()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "terminal-quiet.png"))  # type: ignore[attr-defined]
    page.close()  # type: ignore[attr-defined]


def test_a_review_sounds_until_the_guard_decides_and_the_decision_is_logged(
    browser: object, live_gate: LiveGate
) -> None:
    page = signed_in_page(browser, live_gate)
    assert page.evaluate("document.body.dataset.alarm") == "off"  # type: ignore[attr-defined]
    denied = card_passage(live_gate, QUARANTINED, Direction.OUT)
    review = card_passage(live_gate, OUTSIDER, Direction.IN, name="赵六")
    page.wait_for_selector(f'#alerts li[data-seq="{review}"]', timeout=3_000)  # type: ignore[attr-defined]
    page.wait_for_function("window.gateAlarm.beeps >= 1")  # type: ignore[attr-defined]
    assert page.evaluate("document.body.dataset.alarm") == "on"  # type: ignore[attr-defined]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "terminal-alert.png"))  # type: ignore[attr-defined]
    page.reload()  # type: ignore[attr-defined]
    page.wait_for_selector(f'#alerts li[data-seq="{review}"]')  # type: ignore[attr-defined]
    page.wait_for_selector(f'#alerts li[data-seq="{denied}"]')  # type: ignore[attr-defined]
    # Deny the quarantined person's exit for good: D, reason 'refused' preselected, a note.
    page.click(f'#alerts li[data-seq="{denied}"] .line')  # type: ignore[attr-defined]
    page.keyboard.press("d")  # type: ignore[attr-defined]
    page.fill("#override-text", "隔离期间不得外出，已通知楼栋长")  # type: ignore[attr-defined]
    page.keyboard.press("Enter")  # type: ignore[attr-defined]
    page.wait_for_selector(f'#alerts li[data-seq="{denied}"]', state="detached")  # type: ignore[attr-defined]
    # Admit the outsider: A, an empty note is refused on screen, then a note.
    page.click(f'#alerts li[data-seq="{review}"] .line')  # type: ignore[attr-defined]
    page.keyboard.press("a")  # type: ignore[attr-defined]
    page.keyboard.press("Enter")  # type: ignore[attr-defined]
    assert page.is_visible("#override-error")  # type: ignore[attr-defined]
    page.fill("#override-text", "业主电话确认，送药")  # type: ignore[attr-defined]
    page.keyboard.press("Enter")  # type: ignore[attr-defined]
    page.wait_for_selector(f'#alerts li[data-seq="{review}"]', state="detached")  # type: ignore[attr-defined]
    page.wait_for_function("document.body.dataset.alarm === 'off'")  # type: ignore[attr-defined]
    with live_gate.services.database.session() as session:
        overrides = {
            row.overrides_seq: row
            for row in session.scalars(select(Passage).where(Passage.overrides_seq.is_not(None)))
        }
    assert overrides[denied].outcome == "deny"
    assert overrides[denied].reasons[0]["params"]["code"] == "refused"
    assert overrides[review].outcome == "allow"
    assert overrides[review].reasons[0]["params"]["text"] == "业主电话确认，送药"
    assert overrides[review].decided_by == "guard:guard1"
    page.close()  # type: ignore[attr-defined]


def test_a_visitor_is_registered_from_the_swipe_and_let_in(
    browser: object, live_gate: LiveGate
) -> None:
    page = signed_in_page(browser, live_gate)
    review = card_passage(live_gate, OUTSIDER, Direction.IN, name="赵六")
    alert = f'#alerts li[data-seq="{review}"]'
    page.wait_for_selector(alert, timeout=3_000)  # type: ignore[attr-defined]
    page.click(f"{alert} .line")  # type: ignore[attr-defined]
    page.keyboard.press("v")  # type: ignore[attr-defined]
    assert page.input_value("#visitor-name") == "赵六"  # type: ignore[attr-defined]
    assert OUTSIDER not in page.content()  # type: ignore[attr-defined]
    page.fill("#visitor-host", "1-1-101")  # type: ignore[attr-defined]
    page.fill("#visitor-reason", "探望父母")  # type: ignore[attr-defined]
    page.keyboard.press("Enter")  # type: ignore[attr-defined]
    page.wait_for_selector(alert, state="detached")  # type: ignore[attr-defined]
    with live_gate.services.database.session() as session:
        visitor = session.scalars(select(Visitor)).one()
        admitted = session.scalars(select(Passage).where(Passage.overrides_seq == review)).one()
    assert (visitor.name, visitor.reason, visitor.registered_by) == ("赵六", "探望父母", "guard1")
    assert admitted.outcome == "allow"
    # The visitor's next swipe is recognised and passes inside the window.
    again = live_gate.station.gate.pipeline.process(
        Credential(
            CredentialKind.ID_CARD, document=DocumentRead(DocumentType.RESIDENT_ID, OUTSIDER)
        ),
        lane="main",
        direction=Direction.OUT,
    )
    assert again.decision.reason_codes == ("visitor",)
    page.close()  # type: ignore[attr-defined]


def test_the_english_switch_changes_the_whole_terminal(
    browser: object, live_gate: LiveGate
) -> None:
    page = signed_in_page(browser, live_gate)
    assert "通行记录" in page.inner_text("main")  # type: ignore[attr-defined]
    page.click("#lang-switch")  # type: ignore[attr-defined]
    page.wait_for_function("document.body.dataset.live === 'on'", timeout=10_000)  # type: ignore[attr-defined]
    seq = card_passage(live_gate, QUARANTINED, Direction.OUT)
    page.wait_for_selector(f'#alerts li[data-seq="{seq}"]', timeout=3_000)  # type: ignore[attr-defined]
    text = page.inner_text("main")  # type: ignore[attr-defined]
    assert "Passages" in text
    assert "In quarantine, may not leave" in text
    assert "通行记录" not in text
    page.close()  # type: ignore[attr-defined]


def test_a_district_list_change_appears_in_the_header_while_the_guard_watches(
    browser: object, live_gate: LiveGate
) -> None:
    page = signed_in_page(browser, live_gate)
    assert page.locator("#controls").is_hidden()  # type: ignore[attr-defined]
    district = Actor(name="district-controls", origin="test", at=datetime.now(UTC))
    today = local_date(district.at).isoformat()
    rows = [
        ControlRow("QX-9", RESIDENT_A, status="key_person", first_day=today),
        ControlRow("QX-10", OUTSIDER, status="home_quarantine", first_day=today),
    ]
    applied = apply_controls(ApplyControls(rows), actor=district, units=live_gate.services.units)
    assert applied.counts["added"] == 2, applied
    page.wait_for_selector("#controls:not([hidden])", timeout=10_000)  # type: ignore[attr-defined]
    text = page.inner_text("#controls")  # type: ignore[attr-defined]
    assert "区防控名单 24 小时内变更：2" in text
    assert "王*明 1号楼1单元101 → 重点人员" in text
    assert "未登记人员" in text
    assert RESIDENT_A not in text
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "terminal-controls.png"))  # type: ignore[attr-defined]
    page.close()  # type: ignore[attr-defined]


def test_a_building_head_sees_only_their_own_building(browser: object, live_gate: LiveGate) -> None:
    services = live_gate.services
    now = datetime.now(UTC)
    with services.database.session() as session:
        compound = get_or_create_compound(session, code="ruyi", name="如意小区")
        add_building(session, compound=compound, label="2", units=["1"])
        writer = RegistryWriter(
            session, cipher=services.cipher, compound=compound, now=now, recorded_by="test"
        )
        writer.apply(
            PersonRecord(
                name="钱多多",
                sex=Sex.FEMALE,
                doc_type=DocumentType.RESIDENT_ID,
                doc_number=number("19850505", "006"),
                building="2",
                unit="1",
                room="301",
            )
        )
        writer.flush()
        other_household = session.scalars(
            select(Household).join(Unit).join(Building).where(Building.key == "2")
        ).one()
        household_ref = other_household.ref
    add_staff(
        services,
        "head1",
        Role.BUILDING_HEAD,
        "head-password",
        name="李楼长",
        buildings=["1"],
        at=now,
    )
    page = browser.new_page(viewport={"width": 1400, "height": 900})  # type: ignore[attr-defined]
    page.goto(f"{live_gate.url}/login")
    page.fill("input[name=username]", "head1")
    page.fill("input[name=password]", "head-password")
    page.click("button[type=submit]")
    page.wait_for_url("**/office")
    overview = page.inner_text("main")
    assert "1号楼" in overview
    assert "2号楼" not in overview
    for path in ("/office/buildings/2", f"/office/households/{household_ref}"):
        response = page.goto(f"{live_gate.url}{path}")
        assert response.status == 403, path
        assert "没有权限" in page.inner_text("main")
        assert "钱" not in page.content()
    with services.database.session() as session:
        denied = session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "access.denied", AuditEvent.actor == "head1"
            )
        ).all()
    assert len(denied) >= 2
    page.close()
