"""The ``IdCardReader`` contract, run against every ID-card reader driver.

Always on the emulated reader; on a real GA 467 module when ``GATE_TEST_HARDWARE`` names
its port, as ``id-reader=/dev/ttyUSB0`` (entries separated by ``;``), a bare port path,
or a JSON device config ``{"type": "ga467-serial", "port": "/dev/ttyUSB0"}``. With real
hardware, put a card on the reader and leave it there.
"""

from __future__ import annotations

import itertools
import json
import os
import time
from collections.abc import Iterator

import pytest

from devices.idcard.emulated import EmulatedGa467Reader
from devices.idcard.reader import Ga467SerialReader
from gate.domain.cards import IdCard
from gate.domain.device_ports import DeviceHealth, DeviceState, IdCardReader
from gate.domain.errors import DeviceIOError
from tests.devices.ga467_helpers import ALL_TYPES

SLACK = 2.5  # a poll in progress when the timeout passes may finish first


def _every_driver_is_an_id_card_reader(
    a: Ga467SerialReader, b: EmulatedGa467Reader
) -> list[IdCardReader]:
    return [a, b]  # checked by mypy: each class satisfies the port


def hardware_port() -> str | None:
    """The GA 467 port ``GATE_TEST_HARDWARE`` names, if any."""
    raw = os.environ.get("GATE_TEST_HARDWARE", "").strip()
    if raw.startswith(("{", "[")):
        items = json.loads(raw)
        for item in items if isinstance(items, list) else [items]:
            if item.get("type") == "ga467-serial":
                return str(item["port"])
        return None
    for entry in filter(None, (part.strip() for part in raw.split(";"))):
        kind, _, value = entry.rpartition("=")
        if kind in ("id-reader", "id_reader", "ga467") or (not kind and value.startswith("/")):
            return value
    return None


@pytest.fixture(params=["emulated", pytest.param("serial", marks=pytest.mark.hardware)])
def id_reader(request: pytest.FixtureRequest) -> Iterator[IdCardReader]:
    """Each reader driver in turn; closed afterwards."""
    reader: IdCardReader
    if request.param == "emulated":
        reader = EmulatedGa467Reader(ALL_TYPES, card_interval=1.0)
    else:
        port = hardware_port()
        if port is None:
            pytest.skip("no GA 467 reader: set GATE_TEST_HARDWARE='id-reader=<serial port>'")
        reader = Ga467SerialReader(port, name="hardware-id-reader")
    yield reader
    reader.close()


def test_health_is_a_device_health(id_reader: IdCardReader) -> None:
    health = id_reader.health()
    assert isinstance(health, DeviceHealth)
    assert isinstance(health.state, DeviceState)


def test_read_card_returns_a_card_or_none_within_its_timeout(id_reader: IdCardReader) -> None:
    for timeout in (0.0, 0.5, 1.0):
        started = time.monotonic()
        card = id_reader.read_card(timeout)
        assert card is None or isinstance(card, IdCard)
        assert time.monotonic() - started <= timeout + SLACK
    health = id_reader.health()
    assert health.state is DeviceState.OK
    assert health.last_seen is not None


@pytest.mark.slow
def test_a_card_is_not_reported_twice_in_a_row_while_it_stays(id_reader: IdCardReader) -> None:
    seen: list[IdCard] = []
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline:
        card = id_reader.read_card(0.5)
        if card is not None:
            seen.append(card)
    for earlier, later in itertools.pairwise(seen):
        assert earlier != later  # (with hardware: do not take the card away meanwhile)
    if isinstance(id_reader, EmulatedGa467Reader):
        # Four cards, each on the field for 0.5 s then away for 0.5 s: each read once.
        assert {card.card_type for card in seen} == {card.card_type for card in ALL_TYPES}


def test_close_releases_the_reader_and_later_reads_raise(id_reader: IdCardReader) -> None:
    id_reader.read_card(0.0)
    id_reader.close()
    with pytest.raises(DeviceIOError):
        id_reader.read_card(0.1)
    assert id_reader.health().state is DeviceState.OFFLINE
    id_reader.close()  # twice is harmless
