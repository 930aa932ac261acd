"""A lane with its devices: emulated GA 467 reader -> decision -> Modbus relay pulse.

The reader emulator speaks the real bytes on a pseudo-terminal to the real driver; the
relay emulator is a Modbus server that the real Modbus driver pulses. Nothing is mocked.
"""

from __future__ import annotations

import json
import time
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from gate.domain.cards import CardType, IdCard
from gate.domain.people import Sex
from gate.runtime.bootstrap import Services, bootstrap, build_station
from registry.models import Passage
from tests.e2e.conftest import QUARANTINED, RESIDENT_A, populate, same_gate


def card(number: str, name: str, sex: Sex) -> dict[str, object]:
    return IdCard(
        card_type=CardType.RESIDENT,
        id_number=number,
        name=name,
        sex=sex,
        birth_date=date(1980, 1, 1),
        valid_from=date(2020, 1, 1),
        valid_to=None,
        ethnicity="汉",
        address="内蒙古呼和浩特市新城区如意小区",
        authority="呼和浩特市公安局新城分局",
    ).to_json()


@pytest.mark.slow
def test_a_card_on_the_exit_reader_pulses_the_relay_and_a_quarantined_card_does_not(
    services: Services, tmp_path: Path
) -> None:
    populate(services)
    cards = tmp_path / "cards.json"
    cards.write_text(
        json.dumps(
            [card(RESIDENT_A, "王小明", Sex.MALE), card(QUARANTINED, "张三丰", Sex.MALE)],
            ensure_ascii=False,
        )
    )
    settings = same_gate(
        services,
        gate={
            "snapshot_poll_seconds": 0.2,
            "lanes": [
                {
                    "id": "exit",
                    "direction": "out",
                    "id_reader": {
                        "type": "ga467-emulated",
                        "cards": str(cards),
                        "card_interval": 1.2,
                    },
                    "barrier": {"type": "modbus-emulated", "pulse_ms": 100},
                }
            ],
        },
    )
    lane_services = bootstrap(settings)
    station = build_station(lane_services)
    relay = next(
        driver for driver in station.drivers if type(driver).__name__ == "EmulatedModbusRelay"
    )
    station.start()
    try:
        deadline = time.monotonic() + 30
        while True:
            with lane_services.database.session() as session:
                rows = session.scalars(select(Passage).order_by(Passage.seq)).all()
            if len(rows) >= 4:
                break
            assert time.monotonic() < deadline, f"only {len(rows)} passages"
            time.sleep(0.1)
        statuses = {status.kind: status.health.state.value for status in station.watch.statuses()}
    finally:
        station.stop()
        lane_services.close()
    allowed = [row for row in rows if row.opens_barrier]
    denied = [row for row in rows if not row.opens_barrier]
    assert {row.lane for row in rows} == {"exit"}
    assert {row.direction for row in rows} == {"out"}
    assert denied, "the quarantined card must have been read"
    assert all(row.reasons[0]["code"] == "quarantine_no_exit" for row in denied)
    assert all(row.outcome == "allow" for row in allowed)
    # One pulse per allowed passage (the first ones: the station stopped after counting).
    pulses = relay.emulator.pulses
    assert len(allowed) <= len(pulses) <= len(allowed) + 1
    assert all(pulse.off_at is not None for pulse in pulses)
    assert statuses == {"id_reader": "ok", "barrier": "ok"}
