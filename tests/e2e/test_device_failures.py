"""Devices failing at a working lane (issue 13, proof 3): typed errors, health, alarms.

One station, one lane, every device an emulator speaking real bytes (``tests.e2e.
lane_rig``) plus a camera on a two-second video file without loop (a stream that stops):

- the reader unplugged while a card lies on it: the driver's read fails (``DeviceIOError``),
  the reader goes offline, an alarm is raised and the guard's terminal shows it; QR passes
  keep opening the barrier; plugged back, the card is read and the alarm clears;
- the camera's stream ending: offline, alarmed, shown; cards and passes go on;
- the relay module not answering: ``open()`` raises ``DeviceIOError``, an allowed passage
  is logged with the barrier not opened (the guard lets them by hand), the relay goes
  offline and is alarmed; back on, the next allowed passage pulses it again.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from devices.idcard.emulator import Fault
from gate.domain.device_ports import DeviceAlarm
from gate.domain.errors import DeviceIOError
from gate.domain.events import GateEvent, PassageEvent
from gate.domain.model import Direction, Outcome
from gate.domain.roles import Role
from gate.runtime.bootstrap import Services, bootstrap, build_station
from tests.devices.test_camera import write_numbered_video
from tests.e2e.conftest import populate, same_gate
from tests.e2e.lane_rig import invites, rig_lanes, wait_until
from tests.gate.app.staff_builders import add_staff


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_reader_camera_and_relay_failing_are_typed_shown_and_the_other_paths_go_on(
    services: Services, tmp_path: Path
) -> None:
    populate(services)
    passes = iter(invites(services, 10))
    video = write_numbered_video(tmp_path / "lane.avi", frames=60, fps=30.0)  # two seconds
    with rig_lanes(("entry", "in")) as (lane,):
        lane_config = lane.config() | {"camera": {"type": "opencv", "source": str(video)}}
        settings = same_gate(
            services,
            gate={
                "snapshot_poll_seconds": 0.2,
                "device_silence_seconds": 30,
                "lanes": [lane_config],
            },
        )
        station_services = bootstrap(settings)
        add_staff(
            station_services, "guard1", Role.GUARD, "guard-password", name="王师傅", pin="1234"
        )
        station = build_station(station_services)
        events: list[GateEvent] = []
        station.gate.events.subscribe(events.append)
        client = TestClient(create_app(station_services, station))
        station.start()
        try:
            client.post("/login", data={"username": "guard1", "password": "guard-password"})

            def chip(kind: str) -> dict[str, Any]:
                devices = client.get("/terminal/state").json()["header"]["devices"]
                return next(device for device in devices if device["kind"] == kind)

            def alarmed(kind: str, silent: bool) -> Callable[[], bool]:
                return lambda: any(
                    isinstance(e, DeviceAlarm) and e.status.kind == kind and e.silent is silent
                    for e in events
                )

            def passages(**match: Any) -> list[PassageEvent]:
                return [
                    e
                    for e in events
                    if isinstance(e, PassageEvent)
                    and e.record is not None
                    and all(getattr(e.record.entry, k) == v for k, v in match.items())
                ]

            def scan_invite() -> int:
                before = len(passages())
                lane.scanner.scan(next(passes).text_at(datetime.now(UTC)))
                wait_until(lambda: len(passages()) > before, timeout=10, what="the QR passage")
                return before

            wait_until(lambda: chip("barrier")["state"] == "ok", timeout=10, what="the relay")

            # 1. The reader unplugged in the middle of reading a card.
            lane.reader.inject(Fault.DISCONNECT)
            lane.reader.place(0)
            wait_until(alarmed("id_reader", True), timeout=10, what="the reader's alarm")
            reader = chip("id_reader")
            assert reader["state"] == "offline"
            assert reader["state_text"]
            pulses = lane.pulses()
            scan_invite()  # the QR path goes on while the reader is away
            wait_until(lambda: lane.pulses() > pulses, timeout=5, what="the QR pulse")
            wait_until(alarmed("id_reader", False), timeout=15, what="the reader back")
            wait_until(
                lambda: any(p.record.entry.credential_kind.value == "id_card" for p in passages()),  # type: ignore[union-attr]
                timeout=10,
                what="the card read after plugging back in",
            )
            lane.reader.take_away()
            assert chip("id_reader")["state"] == "ok"

            # 2. The camera's stream ends (a file without loop, like a stream that stopped).
            wait_until(alarmed("camera", True), timeout=15, what="the camera's alarm")
            cards = len(passages())
            lane.reader.place(1)
            wait_until(lambda: len(passages()) > cards, timeout=10, what="a card without camera")
            lane.reader.take_away()
            scan_invite()

            # 3. The relay module stops answering.
            lane.relay.stop()
            with pytest.raises(DeviceIOError):  # the port's typed error, as the pipeline sees it
                relay_driver(station).open("entry", Direction.IN)
            index = scan_invite()
            unopened = passages()[index]
            assert unopened.decision.outcome is Outcome.ALLOW  # logged: the guard lets them by
            assert unopened.barrier_opened is False
            wait_until(alarmed("barrier", True), timeout=10, what="the relay's alarm")
            assert chip("barrier")["state"] == "offline"
            lane.relay.start()
            wait_until(lambda: chip("barrier")["state"] == "ok", timeout=20, what="the relay back")
            pulses = lane.pulses()
            index = scan_invite()
            assert passages()[index].barrier_opened is True
            assert lane.pulses() == pulses + 1
            wait_until(alarmed("barrier", False), timeout=10, what="the relay's all-clear")
        finally:
            station.stop()
            client.close()
            station_services.close()


def relay_driver(station: Any) -> Any:
    """The lane's Modbus relay driver, as the station opened it."""
    return next(d for d in station.drivers if type(d).__name__ == "ModbusRelay")
