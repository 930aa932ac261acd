"""Schemathesis against the app's own OpenAPI schema, for every ``/api/v1`` endpoint.

Generated requests (valid and invalid parameters, with a key holding every scope) must
never get a 5xx, and every answer must match what the schema says: status codes,
content types, bodies. Runs in CI with the rest of the tests, on both engines.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import CheckFunction
from schemathesis.core.result import Ok
from schemathesis.generation.case import Case
from schemathesis.specs.openapi.checks import positive_data_acceptance

from api.app import create_app
from gate.app.actor import Actor
from gate.app.api_keys import CreateApiKey, create_api_key
from gate.domain.api_scopes import ApiScope
from gate.runtime.bootstrap import Services, bootstrap, build_station
from gate.runtime.settings import HubSettings, Settings
from tests.api.test_office_support import Compound


@pytest.mark.slow
def test_every_api_v1_answer_matches_the_schema(compound: Compound) -> None:
    answers_match_the_schema(
        compound.services,
        compounds=(),
        expected={"/api/v1/passages", "/api/v1/registry/stats", "/api/v1/devices"},
    )


@pytest.mark.slow
def test_every_api_v1_answer_of_a_hub_matches_the_schema(settings: Settings) -> None:
    """Hub mode adds the ingest routes; the key pushes for and reads one compound."""
    hub = bootstrap(settings.model_copy(update={"hub": HubSettings(enabled=True)}))
    try:
        answers_match_the_schema(
            hub,
            compounds=("ruyi",),
            expected={"/api/v1/ingest", "/api/v1/ingest/cursor", "/api/v1/passages"},
        )
    finally:
        hub.close()


def answers_match_the_schema(
    services: Services, *, compounds: tuple[str, ...], expected: set[str]
) -> None:
    actor = Actor(name="admin", origin="test", at=datetime.now(UTC))
    key = create_api_key(
        CreateApiKey(
            name="schemathesis",
            scopes=tuple(scope.value for scope in ApiScope),
            compounds=compounds,
        ),
        actor=actor,
        units=services.units,
    ).text
    app = create_app(services, build_station(services))
    # From the app's own schema; requests go through one TestClient closed at the end, so
    # schemathesis's own ASGI client (and its event-loop thread) is never started.
    schema = schemathesis.openapi.from_dict(app.openapi()).include(path_regex="^/api/v1/")
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result  # an operation the schema cannot describe
        operations.append(result.ok())
    assert {operation.path for operation in operations} >= expected
    with TestClient(app) as client:
        for operation in operations:
            # Tracing, the report and the ingest refuse, with their own 422 codes, what the
            # schema cannot say: a document number with a wrong check digit, a window
            # ending before it starts, a day in the future, an item that is not a passage
            # of the key's compound. All else is still checked.
            semantic = operation.path.startswith(
                ("/api/v1/trace/", "/api/v1/reports/", "/api/v1/hub/", "/api/v1/ingest")
            )
            excluded: list[CheckFunction] = [positive_data_acceptance] if semantic else []

            @given(case=operation.as_strategy())
            @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
            def answers_as_documented(case: Case[Any]) -> None:
                request = case.as_transport_kwargs(
                    base_url="http://testserver", headers={"Authorization": f"Bearer {key}"}
                )
                request.pop("cookies", None)  # the API takes no cookies; httpx warns on them
                case.validate_response(client.request(**request), excluded_checks=excluded)  # noqa: B023 - run at once, in this iteration

            answers_as_documented()
