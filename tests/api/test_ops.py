"""``/metrics`` and ``/readyz``: what an operator's monitoring reads, on a running station."""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from gate.app.actor import Actor
from gate.app.api_keys import CreateApiKey, create_api_key
from gate.app.simulation_run import SimulatedClock
from gate.domain.documents import DocumentType
from gate.domain.model import Credential, CredentialKind, Direction, DocumentRead
from gate.domain.status import start_of_local_day
from gate.runtime.bootstrap import Services, Station, bootstrap, build_station
from registry.simulation_cards import registered_cards
from tests.e2e.conftest import OUTSIDER, RESIDENT_A, populate, same_gate
from tests.e2e.demo_day import play_day, seed_for, yesterday


def key(services: Services, *scopes: str) -> str:
    actor = Actor(name="admin", origin="test", at=datetime.now(UTC))
    return create_api_key(
        CreateApiKey(name=f"scraper-{len(scopes)}", scopes=scopes),
        actor=actor,
        units=services.units,
    ).text


@pytest.fixture
def station(services: Services) -> Iterator[Station]:
    populate(services)
    built = build_station(services)
    yield built
    built.stop()


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample of the Prometheus text (labels in any order)."""
    for line in text.splitlines():
        found = re.match(rf"^{re.escape(name)}(?:\{{(.*)\}})? (\S+)$", line)
        if not found:
            continue
        have = dict(re.findall(r'(\w+)="([^"]*)"', found.group(1) or ""))
        if have == labels:
            return float(found.group(2))
    raise AssertionError(f"no sample {name}{labels} in:\n{text}")


def card(station: Station, number: str) -> None:
    station.gate.pipeline.process(
        Credential(CredentialKind.ID_CARD, document=DocumentRead(DocumentType.RESIDENT_ID, number)),
        lane="main",
        direction=Direction.IN,
    )


def test_metrics_count_and_time_passages_for_a_scraper_key(
    services: Services, station: Station
) -> None:
    client = TestClient(create_app(services, station))
    scraper = {"Authorization": f"Bearer {key(services, 'metrics:read')}"}
    card(station, RESIDENT_A)
    card(station, RESIDENT_A)
    card(station, OUTSIDER)  # review
    answer = client.get("/metrics", headers=scraper)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    text = answer.text
    assert sample(text, "gate_passages_total", credential_kind="id_card", outcome="allow") == 2
    assert sample(text, "gate_passages_total", credential_kind="id_card", outcome="review") == 1
    assert sample(text, "gate_decision_seconds_count", credential_kind="id_card") == 3
    assert sample(text, "gate_decision_seconds_bucket", credential_kind="id_card", le="+Inf") == 3
    assert sample(text, "gate_snapshot_age_seconds") < 60
    assert sample(text, "gate_face_templates") == 0
    # Counts only: no name, no document, no person ref.
    assert RESIDENT_A not in text
    assert "王" not in text


def test_metrics_need_the_scope(services: Services, station: Station) -> None:
    client = TestClient(create_app(services, station))
    assert client.get("/metrics").status_code == 401
    other = {"Authorization": f"Bearer {key(services, 'passages:read')}"}
    assert client.get("/metrics", headers=other).status_code == 403


def test_ready_when_the_database_answers_and_the_snapshot_is_current(
    services: Services, station: Station
) -> None:
    client = TestClient(create_app(services, station))
    answer = client.get("/readyz")
    assert answer.status_code == 200
    assert answer.json() == {
        "ready": True,
        "checks": {"database": "ok", "snapshot": "ok", "devices": "ok"},
    }


def test_not_ready_while_a_device_is_offline(services: Services) -> None:
    populate(services)
    settings = same_gate(
        services,
        gate={
            "lanes": [
                {"id": "main", "camera": {"type": "opencv", "source": "/nonexistent/lane.avi"}}
            ]
        },
    )
    camera_services = bootstrap(settings)
    station = build_station(camera_services)
    station.start()
    try:
        client = TestClient(create_app(camera_services, station))
        deadline = time.monotonic() + 10
        answer = client.get("/readyz")
        while answer.status_code == 200 and time.monotonic() < deadline:
            time.sleep(0.2)
            answer = client.get("/readyz")
        assert answer.status_code == 503
        assert answer.json()["checks"]["devices"] == {"offline": ["main/camera"]}
        assert "nonexistent" not in answer.text  # states, never sources
    finally:
        station.stop()
        camera_services.close()


def samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """Every sample of one metric: its labels (sorted pairs) -> value."""
    found: dict[tuple[tuple[str, str], ...], float] = {}
    for line in text.splitlines():
        matched = re.match(rf"^{re.escape(name)}\{{(.*)\}} (\S+)$", line)
        if matched:
            labels = tuple(sorted(re.findall(r'(\w+)="([^"]*)"', matched.group(1))))
            found[labels] = float(matched.group(2))
    return found


def test_metrics_after_a_simulated_day_add_up_to_its_passages(services: Services) -> None:
    """A day of the demo compound through the station's pipeline: /metrics agrees with it."""
    day = yesterday()
    seed_for(services, day)
    clock = SimulatedClock(start_of_local_day(day))
    station = build_station(services, clock=clock)
    try:
        client = TestClient(create_app(services, station))
        tally = play_day(services, station.gate, clock, day, scale=0.05)
        scraper = {"Authorization": f"Bearer {key(services, 'metrics:read')}"}
        text = client.get("/metrics", headers=scraper).text
    finally:
        station.stop()
    assert tally.passages > 100
    passages = samples(text, "gate_passages_total")
    assert sum(passages.values()) == tally.passages
    by_outcome: Counter[str] = Counter()
    by_kind: Counter[str] = Counter()
    for labels, value in passages.items():
        by_outcome[dict(labels)["outcome"]] += int(value)
        by_kind[dict(labels)["credential_kind"]] += int(value)
    assert by_outcome == tally.by_outcome
    assert set(by_kind) == set(tally.by_credential)  # card and QR passes both played
    # Every decision timed, in its credential kind's histogram.
    timed = samples(text, "gate_decision_seconds_count")
    assert {dict(labels)["credential_kind"]: int(v) for labels, v in timed.items()} == by_kind
    # Counts only: no resident's document number or name in the exposition.
    cards = registered_cards(services.database, services.cipher)
    assert len(cards) > 100
    assert not [card for card in cards.values() if card.number in text]
    assert not re.search(r"[\u4e00-\u9fff]", text)
