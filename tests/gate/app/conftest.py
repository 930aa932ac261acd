"""Fixtures of the application-layer tests."""

from __future__ import annotations

import pytest

from gate.runtime.bootstrap import Services
from tests.api.test_office_support import Compound, populate


@pytest.fixture
def compound(services: Services) -> Compound:
    """The small compound of the office tests (see ``tests.gate.app.office_support``)."""
    return populate(services)
