"""The clock watch: the latest reading, the alarm beyond the threshold, logged once."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from gate.app.clock_watch import ClockReading, ClockUnavailable, ClockWatch

AT = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


class ScriptedSource:
    """A reference that answers the offsets it is given, in turn (None: it is down)."""

    name = "ntp test"

    def __init__(self, *offsets: float | None) -> None:
        self.offsets = list(offsets)
        self.reads = 0

    def read(self) -> ClockReading:
        self.reads += 1
        offset = self.offsets.pop(0)
        if offset is None:
            raise ClockUnavailable("no answer")
        return ClockReading(self.name, offset, 0.002, AT)


def test_the_alarm_is_beyond_the_threshold_either_way_and_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    source = ScriptedSource(0.4, 10.0, -12.0, -15.0, 3.0)
    watch = ClockWatch(source, alarm_seconds=10, every_seconds=60)
    assert watch.last is None
    assert watch.alarm() is None
    caplog.set_level(logging.INFO, logger="gate.app.clock_watch")
    seen = []
    for _ in range(5):
        watch.check()
        seen.append(watch.alarm() is not None)
    assert seen == [False, False, True, True, False]  # exactly 10 s is still within
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        "this clock is 12.0 s ahead of ntp test (alarm beyond 10 s): passages are stamped off"
    ]
    assert any("back within 10 s" in r.getMessage() for r in caplog.records)
    assert watch.last is not None
    assert watch.last.offset_seconds == 3.0


def test_a_failing_reference_keeps_the_last_reading_and_warns_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    watch = ClockWatch(ScriptedSource(20.0, None, None, 1.0), alarm_seconds=10, every_seconds=60)
    watch.check()
    caplog.clear()
    assert watch.check() is None
    assert watch.check() is None
    alarm = watch.alarm()
    assert alarm is not None
    assert alarm.offset_seconds == 20.0  # the last known offset still stands
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING] == [
        "cannot check the clock against ntp test: no answer"
    ]
    watch.check()
    assert watch.alarm() is None
