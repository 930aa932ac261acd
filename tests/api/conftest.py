"""Fixtures of the office page tests: the small compound and signed-in clients."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from gate.runtime.bootstrap import Services
from tests.api.test_office_support import Compound, app_client, populate, sign_in


@pytest.fixture
def compound(services: Services) -> Compound:
    """The small compound with its accounts."""
    return populate(services)


@pytest.fixture
def office(compound: Compound) -> Iterator[TestClient]:
    """A client signed in as the property office."""
    with app_client(compound.services) as client:
        sign_in(client, "office")
        yield client


@pytest.fixture
def head(compound: Compound) -> Iterator[TestClient]:
    """A client signed in as the building head of buildings 1 and 2."""
    with app_client(compound.services) as client:
        sign_in(client, "head")
        yield client
