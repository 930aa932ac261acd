"""Cards of all four types and small context managers for the GA 467 tests."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from devices.idcard.emulator import Ga467Emulator
from devices.idcard.reader import Ga467SerialReader
from devices.idcard.text import ISSUER_2023, icao_check_digit
from gate.domain.cards import CardType, IdCard
from gate.domain.documents import gb11643_check_character
from gate.domain.people import Sex
from tests.conftest import SHARED_DATA

SAM_DATA = SHARED_DATA / "idcard-sam"
PHOTO = b"WL" + bytes((n * 37 + 11) % 256 for n in range(1022))


def gb11643(first17: str) -> str:
    """A number with its GB 11643 check character."""
    return first17 + gb11643_check_character(first17)


def _previous_2017(new: str, letters: str, city: str, sequence: str) -> str:
    first14 = f"{letters}{new[1:3]}{city}{new[8:14]}{sequence}"
    return first14 + icao_check_digit(first14)


NEW_2023 = gb11643("91184019810803001")

RESIDENT = IdCard(
    card_type=CardType.RESIDENT,
    id_number="11010519491231002X",
    name="测试样例",
    sex=Sex.MALE,
    birth_date=date(1949, 12, 31),
    valid_from=date(2017, 7, 27),
    valid_to=date(2037, 7, 27),
    ethnicity="汉",
    address="内蒙古自治区呼和浩特市新城区如意小区12号楼3单元101号",
    authority="呼和浩特市公安局新城分局",
    photo_wlt=PHOTO,
)
RESIDENT_LONG_TERM = IdCard(
    card_type=CardType.RESIDENT,
    id_number=gb11643("15010219580304002"),
    name="巴特尔",
    sex=Sex.FEMALE,
    birth_date=date(1958, 3, 4),
    valid_from=date(2016, 5, 1),
    valid_to=None,
    ethnicity="蒙古",
    address="内蒙古自治区呼和浩特市新城区新华大街1号",
    authority="呼和浩特市公安局新城分局",
    address_endorsement="内蒙古自治区呼和浩特市新城区如意小区3号楼1单元202号",
)
HK_MO_TW = IdCard(
    card_type=CardType.HK_MO_TW,
    id_number=gb11643("81000019900101123"),
    name="陈大文",
    sex=Sex.MALE,
    birth_date=date(1990, 1, 1),
    valid_from=date(2019, 3, 1),
    valid_to=date(2024, 3, 1),
    address="内蒙古自治区呼和浩特市新城区如意小区5号楼3单元101号",
    authority="呼和浩特市公安局新城分局",
    pass_number="H12345678",
    issue_count=2,
    photo_wlt=PHOTO,
)
FOREIGN_2017 = IdCard(
    card_type=CardType.FOREIGN_2017,
    id_number=_previous_2017(NEW_2023, "USA", "00", "1"),
    name="史密斯",
    sex=Sex.MALE,
    birth_date=date(1981, 8, 3),
    valid_from=date(2018, 5, 2),
    valid_to=date(2028, 5, 2),
    name_en="SMITH, JOHN",
    nationality="USA",
    authority="1100",
    photo_wlt=PHOTO,
)
FOREIGN_2023 = IdCard(
    card_type=CardType.FOREIGN_2023,
    id_number=NEW_2023,
    name="史密斯",
    sex=Sex.MALE,
    birth_date=date(1981, 8, 3),
    valid_from=date(2024, 1, 10),
    valid_to=date(2034, 1, 10),
    name_en="WOLFESCHLEGELSTEINHAUSEN, HUBERT BLAINE JR",  # 42 characters: two fields
    nationality="USA",
    authority=ISSUER_2023,
    renewal_count=1,
    previous_number=FOREIGN_2017.id_number,
    photo_wlt=PHOTO,
)
ALL_TYPES = (RESIDENT, HK_MO_TW, FOREIGN_2017, FOREIGN_2023)
CARDS = (*ALL_TYPES, RESIDENT_LONG_TERM)


def write_cards(path: Path, cards: Sequence[IdCard], **extra: str) -> Path:
    """A cards.json like the demo's (with an extra key per card)."""
    path.write_text(
        json.dumps([card.to_json() | extra for card in cards], ensure_ascii=False),
        encoding="utf-8",
    )
    return path


@contextmanager
def emulator(cards: Sequence[IdCard] = CARDS, **options: float | bool) -> Iterator[Ga467Emulator]:
    """A started emulator (manual by default: nothing on the field); stopped afterwards."""
    options.setdefault("auto", False)
    emu = Ga467Emulator(cards, **options)  # type: ignore[arg-type]
    emu.start()
    try:
        yield emu
    finally:
        emu.stop()


@contextmanager
def serial_reader(port: str, **options: float | bool) -> Iterator[Ga467SerialReader]:
    """The real driver on ``port`` with a short command timeout; closed afterwards."""
    options.setdefault("timeout", 0.3)
    reader = Ga467SerialReader(port, name="test-reader", **options)  # type: ignore[arg-type]
    try:
        yield reader
    finally:
        reader.close()


def read_until(reader: Ga467SerialReader, seconds: float) -> IdCard | None:
    """The first card ``reader`` reports within ``seconds``, ignoring device errors."""
    import time

    from gate.domain.errors import DeviceIOError

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            card = reader.read_card(min(0.5, max(0.0, deadline - time.monotonic())))
        except DeviceIOError:
            continue
        if card is not None:
            return card
    return None
