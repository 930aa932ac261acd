"""Fixtures of the registry tests."""

from __future__ import annotations

import pytest

from gate.runtime.bootstrap import Services
from registry.service import add_building, get_or_create_compound


@pytest.fixture
def registry(services: Services) -> Services:
    """Services on a compound with buildings 1-3, units 1-2 each."""
    with services.database.session() as session:
        compound = get_or_create_compound(session, code="ruyi", name="如意小区")
        for building in ("1", "2", "3"):
            add_building(session, compound=compound, label=building, units=["1", "2"])
    return services
