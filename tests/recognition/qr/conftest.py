"""Fixtures of the QR tests: zxing's blackbox photos and the rendered phone-screen set."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import shared_data
from tests.recognition.qr.frames import Photo, load_blackbox
from tests.recognition.qr.phone_screens import PhoneScreen, phone_screens

PHONE_SET_SIZE = 60


@pytest.fixture(scope="session")
def blackbox_root() -> Path:
    """../shared/data/qr/zxing-blackbox, or a skip saying it is absent."""
    return shared_data("qr/zxing-blackbox")


@pytest.fixture(scope="session")
def blackbox(blackbox_root: Path) -> list[Photo]:
    """zxing's 179 real photos and scans of printed QR codes, with their expected texts."""
    photos = load_blackbox(blackbox_root)
    assert len(photos) == 179, f"expected zxing's 179 blackbox images, found {len(photos)}"
    return photos


@pytest.fixture(scope="session")
def phone_set() -> list[PhoneScreen]:
    """The first frames of the default phone-screen set (rendered once per session)."""
    return list(phone_screens(PHONE_SET_SIZE))
