"""``GET /api/v1/trace/person`` and ``/trace/window``: tracing with a required purpose.

A resident's passages by their document, an outsider's by the document's keyed hash;
who passed in a window; each call audited with the caller and the purpose; refused
without a purpose, with a window over 31 days; the scope is enforced.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from gate.domain.model import Direction
from gate.domain.status import local_date
from gate.runtime.bootstrap import Services
from registry.models import AuditEvent
from tests.api.test_controls import key, swipe
from tests.api.test_office_support import RESIDENT_A, RESIDENT_B, Compound, app_client
from tests.e2e.conftest import OUTSIDER

PERSON = "/api/v1/trace/person"
WINDOW = "/api/v1/trace/window"
PURPOSE = "确诊病例密接排查（区疾控 2026-118）"


def day(offset: int = 0) -> str:
    return (local_date(datetime.now(UTC)) + timedelta(days=offset)).isoformat()


def trace_audits(services: Services) -> list[AuditEvent]:
    with services.database.session() as session:
        return list(
            session.scalars(
                select(AuditEvent)
                .where(AuditEvent.action.in_(("trace.person", "trace.window")))
                .order_by(AuditEvent.id)
            )
        )


def test_tracing_without_a_purpose_is_refused(compound: Compound) -> None:
    services = compound.services
    headers = key(services, "district-trace", "trace:read")
    with app_client(services) as client:
        for path in (
            f"{PERSON}?document={RESIDENT_A}",
            f"{PERSON}?document={RESIDENT_A}&purpose=%20%20",
            f"{WINDOW}?from={day(-1)}&to={day()}",
        ):
            answer = client.get(path, headers=headers)
            assert answer.status_code == 422, path
            assert answer.json()["code"] == "trace_purpose_required"
            assert answer.json()["detail"]
        too_long = client.get(
            f"{WINDOW}?from={day(-1)}&to={day()}&purpose={'x' * 201}", headers=headers
        )
        assert too_long.json()["code"] == "trace_purpose_too_long"
    assert trace_audits(services) == []


def test_a_persons_passages_are_traced_and_audited_with_the_purpose(compound: Compound) -> None:
    services = compound.services
    swipe(services, RESIDENT_A, Direction.OUT)
    swipe(services, RESIDENT_B, Direction.OUT)
    swipe(services, OUTSIDER, Direction.IN)
    swipe(services, RESIDENT_A, Direction.IN)
    headers = key(services, "district-trace", "trace:read")
    with app_client(services) as client:
        resident = client.get(
            PERSON, params={"document": RESIDENT_A, "purpose": PURPOSE}, headers=headers
        )
        outsider = client.get(
            PERSON,
            params={"document": OUTSIDER, "purpose": PURPOSE, "from": day(-1), "to": day()},
            headers=headers,
        )
    assert resident.status_code == 200, resident.text
    body = resident.json()
    assert [item["direction"] for item in body["items"]] == ["out", "in"]
    assert len({item["person"] for item in body["items"]}) == 1
    assert body["count"] == 2
    assert body["truncated"] is False
    assert RESIDENT_A not in json.dumps(body)
    (seen,) = outsider.json()["items"]
    assert seen["identity_kind"] == "outsider"
    assert seen["person"] is None
    audits = trace_audits(services)
    assert [audit.action for audit in audits] == ["trace.person", "trace.person"]
    assert all(audit.actor == "district-trace" for audit in audits)
    assert all(audit.detail["purpose"] == PURPOSE for audit in audits)
    assert audits[0].detail["registered"] is True
    assert audits[0].detail["count"] == 2
    assert audits[1].detail["registered"] is False
    assert audits[1].target.startswith("document:")
    assert OUTSIDER not in json.dumps([audit.detail for audit in audits])


def test_who_passed_in_a_window(compound: Compound) -> None:
    services = compound.services
    for number in (RESIDENT_A, RESIDENT_B, OUTSIDER):
        swipe(services, number)
    headers = key(services, "district-window", "trace:read")
    with app_client(services) as client:
        window = client.get(
            WINDOW, params={"from": day(-1), "to": day(), "purpose": PURPOSE}, headers=headers
        )
        empty = client.get(
            WINDOW, params={"from": day(-10), "to": day(-5), "purpose": PURPOSE}, headers=headers
        )
        too_long = client.get(
            WINDOW, params={"from": day(-40), "to": day(), "purpose": PURPOSE}, headers=headers
        )
        open_ended = client.get(
            WINDOW, params={"from": day(-1), "purpose": PURPOSE}, headers=headers
        )
        backwards = client.get(
            WINDOW, params={"from": day(), "to": day(-2), "purpose": PURPOSE}, headers=headers
        )
    assert window.status_code == 200, window.text
    assert [item["identity_kind"] for item in window.json()["items"]] == [
        "registered",
        "registered",
        "outsider",
    ]
    assert empty.json()["items"] == []
    assert too_long.status_code == 422
    assert too_long.json()["code"] == "trace_window_too_long"
    assert open_ended.json()["code"] == "trace_window_required"
    assert backwards.json()["code"] == "trace_window_order"
    audits = trace_audits(services)
    assert [(a.action, a.detail["count"]) for a in audits] == [
        ("trace.window", 3),
        ("trace.window", 0),
    ]
    assert audits[0].detail["purpose"] == PURPOSE


def test_the_scope_is_enforced(compound: Compound) -> None:
    services = compound.services
    controls_only = key(services, "district-controls", "controls:write")
    with app_client(services) as client:
        params = {"document": RESIDENT_A, "purpose": PURPOSE}
        assert client.get(PERSON, params=params).status_code == 401
        assert client.get(PERSON, params=params, headers=controls_only).status_code == 403
        window = {"from": day(-1), "to": day(), "purpose": PURPOSE}
        assert client.get(WINDOW, params=window, headers=controls_only).status_code == 403
    assert trace_audits(services) == []
