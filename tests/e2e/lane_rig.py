"""Lanes whose devices are emulators in the test's own process, for a ``gate serve`` to drive.

Each ``RigLane`` is a GA 467 reader emulator on a pseudo-terminal, a serial QR scanner on
a pseudo-terminal and a Modbus relay module on a local TCP port; the service under test
opens them with the real drivers (``ga467-serial``, ``serial-qr``, ``modbus-relay``), as it
would real devices. Because the emulators live here and not in the service, they outlive
the service: after a SIGKILL the relay module still holds every coil write the service
made (``relay.pulses``), which is the evidence of "the barrier was commanded".

``Feeder`` presents a burst from a thread: an invite pass at the entry scanner (each once:
allowed, the barrier pulsed), its replay at the exit scanner (refused), a resident's pass
now and then (allowed or not by the rules) and cards on both readers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from devices.idcard.emulator import Ga467Emulator
from devices.qr.emulators import PtyQrScanner
from devices.relay.emulators import ModbusRelayEmulator
from gate.app.actor import Actor
from gate.app.pass_ports import SignedPass
from gate.app.qr_passes import IssuePass, issue_pass
from gate.domain.cards import IdCard
from gate.domain.passes import PassKind
from gate.domain.people import Sex
from gate.runtime.bootstrap import Services
from tests.e2e.conftest import OUTSIDER, QUARANTINED, RESIDENT_A, RESIDENT_B
from tests.e2e.test_lane_devices import card

CARDS = [
    IdCard.from_json(card(RESIDENT_A, "王小明", Sex.MALE)),
    IdCard.from_json(card(RESIDENT_B, "李梅", Sex.FEMALE)),
    IdCard.from_json(card(QUARANTINED, "张三丰", Sex.MALE)),
    IdCard.from_json(card(OUTSIDER, "赵四", Sex.MALE)),
]


@dataclass
class RigLane:
    """One lane's emulated devices."""

    id: str
    direction: str
    reader: Ga467Emulator
    scanner: PtyQrScanner
    relay: ModbusRelayEmulator

    def config(self, *, pulse_ms: int = 50) -> dict[str, Any]:
        """The lane as ``gate serve`` configures it: the real drivers on these devices."""
        return {
            "id": self.id,
            "direction": self.direction,
            "id_reader": {"type": "ga467-serial", "port": self.reader.path},
            "qr_scanner": {"type": "serial-qr", "port": self.scanner.port},
            "barrier": {
                "type": "modbus-relay",
                "host": self.relay.host,
                "port": self.relay.port,
                "pulse_ms": pulse_ms,
                "timeout": 0.5,
            },
        }

    def pulses(self) -> int:
        """How many times the service switched this lane's barrier coil on."""
        return sum(1 for pulse in self.relay.pulses if pulse.coil == 0)


@contextmanager
def rig_lanes(*lanes: tuple[str, str]) -> Iterator[list[RigLane]]:
    """Started emulators for each ``(id, direction)``; every one closed at the end."""
    made: list[RigLane] = []
    try:
        for lane_id, direction in lanes:
            reader = Ga467Emulator(CARDS, auto=False)
            reader.start()
            scanner = PtyQrScanner()
            relay = ModbusRelayEmulator()
            made.append(RigLane(lane_id, direction, reader, scanner, relay))
            relay.start()
        yield made
    finally:
        for lane in made:
            lane.reader.stop()
            lane.scanner.close()
            lane.relay.close()


def invites(services: Services, count: int) -> list[SignedPass]:
    """``count`` two-hour invites from the two residents of the test household."""
    actor = Actor(name="office", origin="test", at=datetime.now(UTC))
    return [
        issue_pass(
            IssuePass(
                PassKind.INVITE,
                (RESIDENT_A, RESIDENT_B)[index % 2],
                timedelta(hours=2),
                visitor_name=f"访客{index}",
            ),
            actor=actor,
            units=services.units,
            signer=services.pass_signer,
        ).signed
        for index in range(count)
    ]


def resident_passes(services: Services) -> list[SignedPass]:
    """The residents' own passes (the quarantined one's exit is refused)."""
    actor = Actor(name="office", origin="test", at=datetime.now(UTC))
    return [
        issue_pass(
            IssuePass(PassKind.RESIDENT, number),
            actor=actor,
            units=services.units,
            signer=services.pass_signer,
        ).signed
        for number in (RESIDENT_A, RESIDENT_B, QUARANTINED)
    ]


class Feeder:
    """Presents a burst on an entry and an exit lane from a thread until stopped.

    Every ``step`` seconds: every second step the next invite at the entry (allowed once,
    the barrier pulsed); once 120 have been shown, an earlier invite at the exit each step
    (refused as replayed; each text comes round only after the lanes' 3 s repeat hold);
    every 24 steps a resident pass at the exit (allowed, or refused by the rules); every
    16 steps a card laid on each reader for 8 steps (the next of ``CARDS``). ``position``
    is how many invites it showed at the entry.
    """

    def __init__(
        self,
        entry: RigLane,
        exit_lane: RigLane,
        passes: Sequence[SignedPass],
        residents: Sequence[SignedPass],
        *,
        start: int = 0,
        step: float = 0.05,
    ) -> None:
        self._entry, self._exit = entry, exit_lane
        self._passes, self._residents = passes, residents
        self.position = start
        self._step = step
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Feeder:
        """Start presenting."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="burst-feeder")
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop presenting and take the cards off the readers."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        for lane in (self._entry, self._exit):
            lane.reader.take_away()

    def _run(self) -> None:
        tick = replay = 0
        while not self._stop.wait(self._step) and self.position < len(self._passes):
            now = datetime.now(UTC)
            if tick % 2 == 0:
                self._entry.scanner.scan(self._passes[self.position].text_at(now))
                self.position += 1
            if self.position >= 120:
                replay = (replay + 1) % (self.position - 20)
                self._exit.scanner.scan(self._passes[replay].text_at(now))
            if tick % 24 == 12:
                resident = self._residents[(tick // 24) % len(self._residents)]
                self._exit.scanner.scan(resident.text_at(now))
            if tick % 16 == 0:
                for lane in (self._entry, self._exit):
                    lane.reader.place((tick // 16) % len(CARDS))
            elif tick % 16 == 8:
                for lane in (self._entry, self._exit):
                    lane.reader.take_away()
            tick += 1


def wait_until(condition: Any, *, timeout: float, what: str) -> None:
    """Poll ``condition`` every 50 ms; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
