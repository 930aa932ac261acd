"""Face enrolment with consent on the office person page, in the real headless Chromium.

The office opens a resident's page: the face section shows the consent form (the notice
and its version) and no upload yet; consent is recorded; a blurred photo is refused with
its reason in Chinese; a real photo is uploaded and a second face captured from the lane
camera (a still camera holding another real photo), both enrolled in a worker process and
shown with their thumbnails; the screenshot is kept in ``SCREENSHOTS``. Withdrawal then
deletes both.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cv2
import pytest
from playwright.sync_api import Browser, Page
from sqlalchemy import func, select

from api.app import create_app
from gate.domain.device_ports import Frame
from gate.domain.roles import Role
from gate.runtime.bootstrap import Services, Station, build_station
from registry.models import FaceTemplate, Person
from tests.conftest import shared_data
from tests.e2e.conftest import CHROMIUM, live_server, populate
from tests.e2e.test_browser import SCREENSHOTS
from tests.face_assessment import record_assessment
from tests.gate.app.staff_builders import add_staff

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed"),
]
PHOTOS = "faces/ageitgey-face_recognition/examples"


class StillCamera:
    """A lane camera that always shows the same picture (a real photo, BGR)."""

    def __init__(self, path: Path) -> None:
        self.image = cv2.imread(str(path))

    def latest_frame(self) -> Frame | None:
        return Frame(self.image, datetime.now(UTC), 1, 0.0)

    def health(self) -> Any:
        raise NotImplementedError

    def close(self) -> None:
        pass


@dataclass
class LiveOffice:
    url: str
    services: Services
    station: Station


@pytest.fixture
def live_office(services: Services) -> Iterator[LiveOffice]:
    populate(services)
    record_assessment(services.units)
    add_staff(services, "office1", Role.OFFICE, "office-password", name="物业小陈")
    station = build_station(services)
    station.cameras["main"] = StillCamera(shared_data(f"{PHOTOS}/obama2.jpg"))
    with live_server(create_app(services, station), "live-faces-office") as url:
        yield LiveOffice(url, services, station)


@pytest.fixture
def office_page(browser: Browser, live_office: LiveOffice) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.goto(f"{live_office.url}/login")
    page.fill("input[name=username]", "office1")
    page.fill("input[name=password]", "office-password")
    page.click("button[type=submit]")
    page.wait_for_url("**/office")
    yield page
    context.close()


def templates(services: Services) -> int:
    with services.database.session() as session:
        return int(session.scalar(select(func.count()).select_from(FaceTemplate)) or 0)


def test_consent_then_upload_and_capture_on_the_person_page(
    office_page: Page, live_office: LiveOffice, tmp_path: Path
) -> None:
    services = live_office.services
    with services.database.session() as session:
        ref = session.scalar(select(Person.ref).where(Person.name == "王小明"))
    page = office_page
    page.goto(f"{live_office.url}/office/persons/{ref}")
    section = page.locator("#faces")
    assert "人脸识别" in section.inner_text()
    assert "告知（第 2026-01 版）" in section.inner_text()
    assert page.locator("#face-upload").count() == 0  # no photo before consent
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    section.screenshot(path=str(SCREENSHOTS / "office-face-consent.png"))

    page.fill("#face-consent-form input[name=consented_by]", "王小明本人")
    page.click("#face-consent-form button[type=submit]")
    page.wait_for_url("**done=face_consented**")
    assert "已同意：王小明本人" in page.locator("#face-consent").inner_text()

    blurred = tmp_path / "blurred.jpg"
    sharp = cv2.imread(str(shared_data(f"{PHOTOS}/obama.jpg")))
    assert sharp is not None
    cv2.imwrite(str(blurred), cv2.GaussianBlur(sharp, (0, 0), 6))
    page.set_input_files("#face-upload input[name=photo]", str(blurred))
    page.click("#face-upload button[type=submit]")
    page.wait_for_selector("#face-error")
    assert "照片模糊" in page.locator("#face-error").inner_text()
    assert templates(services) == 0

    page.set_input_files("#face-upload input[name=photo]", str(shared_data(f"{PHOTOS}/obama.jpg")))
    page.click("#face-upload button[type=submit]")
    page.wait_for_url("**done=face_enrolled**", timeout=30_000)
    page.click("form.face-capture button[type=submit]")
    page.wait_for_url("**done=face_enrolled**", timeout=30_000)
    assert templates(services) == 2
    thumbs = page.locator("#face-templates img")
    assert thumbs.count() == 2
    page.wait_for_function(
        "[...document.querySelectorAll('#face-templates img')]"
        ".every(i => i.complete && i.naturalWidth > 0)"
    )
    assert "摄像头" in page.locator("#face-templates").inner_text()
    section.screenshot(path=str(SCREENSHOTS / "office-face-enrolment.png"))

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#face-withdraw button[type=submit]")
    page.wait_for_url("**done=face_withdrawn**")
    assert templates(services) == 0
    assert page.locator("#face-consent-form").count() == 1  # a new consent may be given
