"""The real GA 467 driver against the SAM emulator on a pseudo-terminal."""

from __future__ import annotations

import dataclasses
import itertools
import threading
import time
from pathlib import Path

import pytest

from devices.drivers import driver_class, open_driver
from devices.idcard.config import Ga467EmulatedConfig, Ga467SerialConfig
from devices.idcard.emulated import EmulatedGa467Reader
from devices.idcard.emulator import Fault, Ga467Emulator
from devices.idcard.protocol import Command, SamFault, SamStatus
from devices.idcard.reader import Ga467SerialReader
from gate.domain.cards import IdCard
from gate.domain.device_ports import DeviceState
from gate.domain.errors import ConfigError, DeviceIOError, DeviceTimeout
from tests.devices.ga467_helpers import (
    ALL_TYPES,
    CARDS,
    FOREIGN_2023,
    RESIDENT,
    RESIDENT_LONG_TERM,
    emulator,
    read_until,
    serial_reader,
    write_cards,
)


@pytest.mark.parametrize("fingerprint", [False, True], ids=["30-01", "30-10"])
def test_every_card_type_reads_back_equal_through_emulator_and_driver(fingerprint: bool) -> None:
    with emulator() as emu, serial_reader(emu.path, read_fingerprint=fingerprint) as reader:
        for index, card in enumerate(CARDS):
            emu.place(index)  # each replaces the one before: a new card every time
            assert reader.read_card(2.0) == card
        emu.take_away()
        assert reader.read_card(0.8) is None
        assert reader.health().state is DeviceState.OK
        assert reader.sam_id == "0501000020260101000004670000AA01"
        assert reader.stats.cards == len(CARDS)
        read = Command.READ_BASE_FINGERPRINT if fingerprint else Command.READ_BASE
        assert read in {command for _, command in emu.requests}


def test_the_long_term_card_and_its_address_endorsement_come_through() -> None:
    with emulator() as emu, serial_reader(emu.path) as reader:
        emu.place(CARDS.index(RESIDENT_LONG_TERM))
        card = reader.read_card(2.0)
        assert card is not None
        assert card.valid_to is None
        assert card.address_endorsement == RESIDENT_LONG_TERM.address_endorsement


def test_a_card_is_reported_once_while_it_stays_and_again_after_it_left() -> None:
    with emulator() as emu, serial_reader(emu.path) as reader:
        emu.place(0)
        assert reader.read_card(2.0) == RESIDENT
        assert reader.read_card(1.2) is None  # still there: polled, not reported
        emu.take_away()
        assert reader.read_card(1.0) is None  # "no card" twice: it left
        emu.place(0)
        assert reader.read_card(2.0) == RESIDENT
        # A different card replacing it at once is a new card.
        emu.place(1)
        assert reader.read_card(2.0) == ALL_TYPES[1]


def test_polls_are_at_least_the_poll_interval_apart() -> None:
    with emulator() as emu, serial_reader(emu.path) as reader:
        for _ in range(3):
            assert reader.read_card(0.5) is None
        finds = [at for at, command in emu.requests if command is Command.FIND_CARD]
        assert len(finds) >= 3
        gaps = [later - earlier for earlier, later in itertools.pairwise(finds)]
        assert min(gaps) >= 0.29
        starts = [command for _, command in emu.requests][:3]
        assert starts == [Command.RESET_SAM, Command.SAM_STATUS, Command.SAM_ID]


@pytest.mark.parametrize(
    ("fault", "counter"),
    [
        (Fault.GARBAGE, "noise_bytes"),
        (Fault.BAD_CHECKSUM, "frame_errors"),
        (Fault.TRUNCATED, "frame_errors"),
        (Fault.WRONG_LENGTH, "frame_errors"),
    ],
)
def test_the_driver_recovers_from_garbled_answers(fault: Fault, counter: str) -> None:
    with emulator() as emu, serial_reader(emu.path) as reader:
        assert reader.read_card(0.1) is None  # connected, field empty
        emu.place(3)
        emu.inject(fault)
        assert reader.read_card(2.0) == FOREIGN_2023
        assert getattr(reader.stats, counter) > 0
        assert reader.health().state is DeviceState.OK


def test_garbled_answers_to_every_step_of_the_cycle_are_survived() -> None:
    with emulator() as emu, serial_reader(emu.path) as reader:
        assert reader.read_card(0.1) is None
        emu.place(0)
        for fault in (Fault.BAD_CHECKSUM, Fault.GARBAGE, Fault.TRUNCATED, Fault.WRONG_LENGTH):
            emu.inject(fault)
            emu.inject(Fault.GARBAGE)
        assert reader.read_card(5.0) == RESIDENT


def test_silence_raises_device_timeout_and_degrades_until_the_sam_answers_again() -> None:
    with emulator() as emu, serial_reader(emu.path) as reader:
        assert reader.read_card(0.1) is None
        emu.place(0)
        emu.inject(Fault.SILENCE)
        with pytest.raises(DeviceTimeout):
            reader.read_card(2.0)
        assert reader.health().state is DeviceState.DEGRADED
        assert reader.read_card(2.0) == RESIDENT
        assert reader.health().state is DeviceState.OK


def test_a_sam_that_stays_silent_is_taken_offline_and_reopened() -> None:
    with emulator() as emu, serial_reader(emu.path) as reader:
        assert reader.read_card(0.1) is None
        emu.inject(Fault.SILENCE, times=Ga467SerialReader.LOST_AFTER)
        for _ in range(Ga467SerialReader.LOST_AFTER):
            with pytest.raises(DeviceTimeout):
                reader.read_card(2.0)
        assert reader.health().state is DeviceState.OFFLINE
        emu.place(0)
        assert read_until(reader, 5.0) == RESIDENT
        assert reader.stats.connects == 2
        assert reader.health().state is DeviceState.OK


def test_unplugging_goes_offline_and_plugging_back_in_recovers() -> None:
    with emulator() as emu, serial_reader(emu.path) as reader:
        emu.place(0)
        assert reader.read_card(2.0) == RESIDENT
        emu.take_away()
        emu.disconnect(down_for=1.0)
        errors = []
        for _ in range(10):
            try:
                assert reader.read_card(0.5) is None
            except DeviceIOError as exc:
                errors.append(exc)
                break
        assert errors, "the unplugged port was not noticed"
        assert reader.health().state is DeviceState.OFFLINE
        emu.place(1)
        assert read_until(reader, 8.0) == ALL_TYPES[1]
        assert reader.health().state is DeviceState.OK
        assert reader.stats.connects >= 2


def test_unplugging_in_the_middle_of_an_answer_is_a_device_io_error() -> None:
    with emulator() as emu, serial_reader(emu.path) as reader:
        assert reader.read_card(0.1) is None
        emu.inject(Fault.DISCONNECT)
        emu.place(0)
        with pytest.raises(DeviceIOError):
            reader.read_card(2.0)
        assert reader.health().state is DeviceState.OFFLINE
        assert read_until(reader, 8.0) == RESIDENT


@pytest.mark.parametrize(
    ("command", "status"),
    [
        (Command.FIND_CARD, SamStatus.CARD_AUTH_FAILED),
        (Command.SELECT_CARD, SamStatus.SELECT_FAILED),
        (Command.READ_BASE, SamStatus.READ_FAILED),
        (Command.READ_BASE, SamStatus.UNKNOWN_CARD_TYPE),
        (Command.FIND_CARD, SamStatus.BAD_CHECKSUM),  # our request garbled: sent again
    ],
)
def test_card_errors_skip_a_poll_and_the_card_is_read_on_the_next(
    command: Command, status: SamStatus
) -> None:
    with emulator() as emu, serial_reader(emu.path) as reader:
        assert reader.read_card(0.1) is None
        emu.place(0)
        emu.fail_next(command, status)
        assert reader.read_card(2.0) == RESIDENT
        assert reader.health().state is DeviceState.OK


def test_a_sam_fault_is_raised_typed_and_the_sam_is_reset_before_the_next_poll() -> None:
    with emulator() as emu, serial_reader(emu.path) as reader:
        assert reader.read_card(0.1) is None
        emu.place(0)
        emu.fail_next(Command.FIND_CARD, SamStatus.SELF_TEST_FAILED)
        with pytest.raises(SamFault, match="self-test") as raised:
            reader.read_card(2.0)
        assert isinstance(raised.value, DeviceIOError)
        assert reader.health().state is DeviceState.DEGRADED
        resets = sum(1 for _, command in emu.requests if command is Command.RESET_SAM)
        assert reader.read_card(2.0) == RESIDENT
        assert sum(1 for _, c in emu.requests if c is Command.RESET_SAM) == resets + 1


def test_a_sam_that_is_not_authorised_fails_to_initialise_with_backoff() -> None:
    with emulator() as emu, serial_reader(emu.path) as reader:
        emu.fail_next(Command.SAM_STATUS, SamStatus.NOT_AUTHORISED)
        with pytest.raises(SamFault, match="not authorised"):
            reader.read_card(0.1)
        assert reader.health().state is DeviceState.OFFLINE
        with pytest.raises(DeviceIOError, match="next attempt"):
            reader.read_card(0.0)  # within the backoff: no new attempt
        assert reader.read_card(1.0) is None  # after the backoff it initialises


def test_a_missing_port_is_offline_with_backoff_not_a_tight_loop(tmp_path: Path) -> None:
    with serial_reader(str(tmp_path / "ttyNONE")) as reader:
        with pytest.raises(DeviceIOError, match="cannot open"):
            reader.read_card(0.0)
        assert reader.health().state is DeviceState.OFFLINE
        started = time.monotonic()
        with pytest.raises(DeviceIOError, match="next attempt"):
            reader.read_card(0.1)
        assert time.monotonic() - started < 0.5
        assert reader.stats.connects == 1


def test_close_ends_a_read_in_progress_in_another_thread() -> None:
    with emulator() as emu:
        reader = Ga467SerialReader(emu.path, timeout=0.3)
        outcome: list[object] = []

        def read() -> None:
            try:
                outcome.append(reader.read_card(10.0))
            except DeviceIOError as exc:
                outcome.append(exc)

        thread = threading.Thread(target=read)
        thread.start()
        time.sleep(0.5)
        started = time.monotonic()
        reader.close()
        thread.join(timeout=2)
        assert not thread.is_alive()
        assert time.monotonic() - started < 1.0
        assert isinstance(outcome[0], DeviceIOError)
        assert reader.health().state is DeviceState.OFFLINE
        with pytest.raises(DeviceIOError, match="closed"):
            reader.read_card(0.1)


def test_the_poll_interval_cannot_be_set_below_ga467s_300_ms() -> None:
    with pytest.raises(ConfigError, match="poll_interval"):
        Ga467SerialReader("/dev/null", poll_interval=0.1)


def test_the_driver_table_builds_both_readers_from_their_configs(tmp_path: Path) -> None:
    assert driver_class("ga467-serial") is Ga467SerialReader
    assert driver_class("ga467-emulated") is EmulatedGa467Reader
    serial_config = Ga467SerialConfig(type="ga467-serial", port="/dev/ttyUSB7", timeout=0.5)
    reader = open_driver(serial_config, name="in-id_reader", data_dir=tmp_path)
    try:
        assert (reader.port, reader.name) == ("/dev/ttyUSB7", "in-id_reader")
    finally:
        reader.close()
    (tmp_path / "demo").mkdir()
    write_cards(tmp_path / "demo" / "cards.json", [RESIDENT], expected="resident")
    config = Ga467EmulatedConfig(type="ga467-emulated", card_interval=2.0)
    emulated = open_driver(config, name="in-id_reader", data_dir=tmp_path)
    try:
        assert emulated.read_card(3.0) == RESIDENT
        assert emulated.health().state is DeviceState.OK
    finally:
        emulated.close()


def test_the_emulated_reader_refuses_a_missing_card_file(tmp_path: Path) -> None:
    config = Ga467EmulatedConfig(type="ga467-emulated")
    with pytest.raises(ConfigError, match="gate demo seed"):
        EmulatedGa467Reader.from_config(config, name="r", data_dir=tmp_path)
    (tmp_path / "bad.json").write_text('{"not": "a list"}')
    config = Ga467EmulatedConfig(type="ga467-emulated", cards=tmp_path / "bad.json")
    with pytest.raises(ConfigError, match="list"):
        EmulatedGa467Reader.from_config(config, name="r", data_dir=tmp_path)


def test_the_emulator_cycles_through_its_cards_with_no_card_between(tmp_path: Path) -> None:
    path = write_cards(tmp_path / "cards.json", ALL_TYPES[:2], expected="resident")
    emu = Ga467Emulator.from_file(path, present_for=0.7, away_for=0.7)
    with emu, serial_reader(emu.path) as reader:
        first = read_until(reader, 3.0)
        second = read_until(reader, 3.0)
        assert [first, second] == list(ALL_TYPES[:2])
        statuses = {command for _, command in emu.requests}
        assert Command.FIND_CARD in statuses


@pytest.mark.slow
def test_demo_cards_pass_through_the_emulator_with_their_identity(tmp_path: Path) -> None:
    from datetime import date

    from registry.demo import generate_demo
    from registry.demo_seed import write_cards as write_demo_cards

    demo = generate_demo(seed=2020, today=date(2020, 2, 1))
    path = tmp_path / "cards.json"
    write_demo_cards(path, demo.cards)
    emu = Ga467Emulator.from_file(path)
    with emu, serial_reader(emu.path) as reader:
        for index, expected in enumerate(emu.cards):
            emu.place(index)
            card = reader.read_card(2.0)
            assert card is not None
            same = ("card_type", "id_number", "name", "sex", "birth_date", "valid_to", "name_en")
            assert {k: getattr(card, k) for k in same} == {k: getattr(expected, k) for k in same}
            assert card.to_document() == expected.to_document()


def test_changed_cards_are_new_cards() -> None:
    renewed = dataclasses.replace(RESIDENT, id_number="110105194912310037")
    with emulator() as emu, serial_reader(emu.path) as reader:
        emu.place(0)
        assert reader.read_card(2.0) == RESIDENT
        emu.place(renewed)
        assert reader.read_card(2.0) == renewed


def test_read_card_returns_cards_of_the_port_type() -> None:
    with emulator() as emu, serial_reader(emu.path) as reader:
        emu.place(2)
        card = reader.read_card(2.0)
        assert isinstance(card, IdCard)
