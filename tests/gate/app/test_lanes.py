"""Lanes: readers feed the pipeline, relays open per lane, silent devices raise alarms."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

from gate.app.lanes import DeviceWatch, LaneBarriers, LaneRunner
from gate.domain.cards import CardType, IdCard
from gate.domain.device_ports import DeviceAlarm, DeviceHealth, DeviceState
from gate.domain.errors import DeviceIOError
from gate.domain.model import Credential, CredentialKind, Direction
from gate.domain.people import Sex

CARD = IdCard(
    card_type=CardType.RESIDENT,
    id_number="11010519491231002X",
    name="测试样例",
    sex=Sex.FEMALE,
    birth_date=date(1949, 12, 31),
    valid_from=date(2017, 7, 27),
    valid_to=None,
)


class RecordingRelay:
    def __init__(self) -> None:
        self.opened: list[tuple[str, Direction]] = []

    def open(self, lane: str, direction: Direction) -> None:
        self.opened.append((lane, direction))

    def health(self) -> DeviceHealth:
        return DeviceHealth(DeviceState.OK)

    def close(self) -> None:
        pass


def test_lane_barriers_open_the_lanes_own_relay_and_never_hold_a_free_exit() -> None:
    entry, exit_ = RecordingRelay(), RecordingRelay()
    barriers = LaneBarriers({"in": entry, "out": exit_}, free_exit=frozenset({"out"}))
    barriers.open("in", Direction.IN)
    barriers.open("out", Direction.OUT)
    barriers.open("out", Direction.IN)  # someone entering through the exit lane still needs it
    barriers.open("side", Direction.IN)  # no relay: nothing to do, no error
    assert entry.opened == [("in", Direction.IN)]
    assert exit_.opened == [("out", Direction.IN)]


class ScriptedReader:
    """Returns the scripted reads in turn, then nothing; records how often it was asked."""

    def __init__(self, script: list[IdCard | Exception | None]) -> None:
        self._script = list(script)
        self.calls = 0
        self.done = threading.Event()

    def read_card(self, timeout: float) -> IdCard | None:
        self.calls += 1
        if not self._script:
            self.done.set()
            threading.Event().wait(min(timeout, 0.01))
            return None
        item = self._script.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    def health(self) -> DeviceHealth:
        return DeviceHealth(DeviceState.OK)

    def close(self) -> None:
        pass


class RecordingPipeline:
    def __init__(self) -> None:
        self.passages: list[tuple[Credential, str, Direction, float | None]] = []

    def process(
        self,
        credential: Credential,
        *,
        lane: str,
        direction: Direction,
        temperature: float | None = None,
    ) -> object:
        self.passages.append((credential, lane, direction, temperature))
        if len(self.passages) == 2:
            raise RuntimeError("a bug in one passage must not stop the lane")
        return None


class FixedThermometer:
    def read_celsius(self, timeout: float) -> float | None:
        return 36.6


def test_a_card_on_the_reader_becomes_a_passage_at_the_lanes_direction() -> None:
    reader = ScriptedReader([None, CARD, DeviceIOError("unplugged"), CARD, CARD])
    pipeline = RecordingPipeline()
    runner = LaneRunner(
        "out", Direction.OUT, pipeline=pipeline, reader=reader, thermometer=FixedThermometer()
    )
    runner.POLL_TIMEOUT = 0.01
    runner.start()
    assert reader.done.wait(5)
    runner.stop()
    assert len(pipeline.passages) == 3
    credential, lane, direction, temperature = pipeline.passages[0]
    assert (lane, direction, temperature) == ("out", Direction.OUT, 36.6)
    assert credential.kind is CredentialKind.ID_CARD
    assert credential.document is not None
    assert credential.document.number == CARD.id_number
    assert credential.document.valid_to is None


class SettableDevice:
    name = "in-id_reader"

    def __init__(self) -> None:
        self.state = DeviceState.OK
        self.last_seen: datetime | None = None
        self.detail = ""

    def health(self) -> DeviceHealth:
        return DeviceHealth(self.state, self.detail, self.last_seen)


def test_device_watch_alarms_once_when_a_feed_goes_silent_and_once_when_it_returns() -> None:
    now = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)
    device = SettableDevice()
    device.last_seen = now
    alarms: list[DeviceAlarm] = []
    clock = [now]
    watch = DeviceWatch(
        {("in", "id_reader"): device},
        silence_after=timedelta(seconds=30),
        on_alarm=alarms.append,
        clock=lambda: clock[0],
    )
    assert watch.check() == []
    clock[0] = now + timedelta(seconds=31)
    assert [alarm.silent for alarm in watch.check()] == [True]
    assert watch.check() == []  # no repeat while it stays silent
    device.last_seen = clock[0]
    assert [alarm.silent for alarm in watch.check()] == [False]
    device.state = DeviceState.OFFLINE
    assert [alarm.silent for alarm in watch.check()] == [True]
    assert len(alarms) == 3
    (status,) = watch.statuses()
    assert (status.lane, status.kind, status.name) == ("in", "id_reader", "in-id_reader")


def test_device_watch_shows_no_url_credential_whatever_a_device_says() -> None:
    device = SettableDevice()
    device.state = DeviceState.OFFLINE
    device.detail = "cannot open rtsp://admin:s3cr/et@10.0.0.5/h264"
    watch = DeviceWatch(
        {("in", "camera"): device}, silence_after=timedelta(seconds=30), on_alarm=print
    )
    (status,) = watch.statuses()
    assert status.health.detail == "cannot open rtsp://admin:***@10.0.0.5/h264"
