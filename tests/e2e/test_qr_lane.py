"""A lane with a QR scanner: emulated serial scanner -> pass check -> decision -> relay pulse.

The scanner emulator sends a scanner's bytes on a pseudo-terminal to the real serial
driver; the relay emulator is a Modbus server that the real Modbus driver pulses. A valid
invite opens the barrier once; the same invite shown again is refused and pulses nothing.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from devices.qr.emulators import PtyQrScanner
from gate.app.actor import Actor
from gate.app.qr_passes import IssuePass, issue_pass
from gate.domain.passes import PassKind
from gate.runtime.bootstrap import Services, bootstrap, build_station
from registry.models import Passage
from tests.e2e.conftest import RESIDENT_A, populate, same_gate


def _rows(services: Services, count: int) -> list[Passage]:
    deadline = time.monotonic() + 20
    while True:
        with services.database.session() as session:
            rows = list(session.scalars(select(Passage).order_by(Passage.seq)).all())
        if len(rows) >= count:
            return rows
        assert time.monotonic() < deadline, f"only {len(rows)} passages"
        time.sleep(0.05)


@pytest.mark.slow
def test_an_invite_scanned_at_the_lane_pulses_the_relay_once_and_its_replay_does_not(
    services: Services,
) -> None:
    populate(services)
    actor = Actor(name="office", origin="test", at=datetime.now(UTC))
    invite = issue_pass(
        IssuePass(PassKind.INVITE, RESIDENT_A, timedelta(hours=2), visitor_name="赵六"),
        actor=actor,
        units=services.units,
        signer=services.pass_signer,
    )
    resident = issue_pass(
        IssuePass(PassKind.RESIDENT, RESIDENT_A),
        actor=actor,
        units=services.units,
        signer=services.pass_signer,
    )
    with PtyQrScanner() as scanner:
        settings = same_gate(
            services,
            gate={
                "snapshot_poll_seconds": 0.2,
                "lanes": [
                    {
                        "id": "entry",
                        "direction": "in",
                        "qr_scanner": {"type": "serial-qr", "port": scanner.port},
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
            text = invite.signed.text_at(datetime.now(UTC))
            scanner.scan(text)
            scanner.scan(text)  # a scanner repeating itself: one showing, one passage
            first = _rows(lane_services, 1)
            time.sleep(3.5)  # past the lane's repeat hold: this is a second showing
            scanner.scan(text)
            rows = _rows(lane_services, 2)
            scanner.scan(resident.signed.text_at(datetime.now(UTC)))
            rows = _rows(lane_services, 3)
            deadline = time.monotonic() + 5
            while len(relay.emulator.pulses) < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            station.stop()
            lane_services.close()
    assert len(first) == 1
    assert [row.outcome for row in rows] == ["allow", "deny", "allow"]
    assert {row.credential_kind for row in rows} == {"qr_pass"}
    assert rows[0].reasons[-1]["params"]["pass_id"] == invite.signed.claims.pass_id
    assert rows[1].reasons[0]["code"] == "pass_replayed"
    assert rows[2].reasons[-1]["code"] == "qr_pass"
    # Two pulses: the invite's first showing and the resident; none for the replay.
    assert len(relay.emulator.pulses) == 2
