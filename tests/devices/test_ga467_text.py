"""The 256-byte text block: four card types, GB 3304 ethnicities, sex codes, long-term."""

from __future__ import annotations

import dataclasses
import itertools
from datetime import date

import pytest

from devices.idcard.text import (
    ETHNICITIES,
    FLAG_OFFSET,
    ISSUER_2023,
    LAYOUTS,
    SEX_CODES,
    TextEncodingError,
    card_type_of,
    decode_text,
    encode_text,
    icao_check_digit,
    previous_number,
)
from gate.domain.cards import CardType, IdCard
from gate.domain.errors import FrameError
from gate.domain.people import Sex
from tests.devices.ga467_helpers import (
    ALL_TYPES,
    FOREIGN_2017,
    FOREIGN_2023,
    HK_MO_TW,
    RESIDENT,
    RESIDENT_LONG_TERM,
)


@pytest.mark.parametrize("card", [*ALL_TYPES, RESIDENT_LONG_TERM], ids=lambda c: c.card_type)
def test_every_card_type_round_trips_through_its_text_block(card: IdCard) -> None:
    block = encode_text(card)
    assert len(block) == 256
    decoded = decode_text(
        block, photo_wlt=card.photo_wlt, address_endorsement=card.address_endorsement
    )
    assert decoded == card
    assert decoded.to_json() == card.to_json()


@pytest.mark.parametrize(
    ("card", "flag"), [(RESIDENT, " "), (HK_MO_TW, "J"), (FOREIGN_2017, "I"), (FOREIGN_2023, "Y")]
)
def test_the_card_type_is_the_character_at_byte_248(card: IdCard, flag: str) -> None:
    block = encode_text(card)
    assert block[FLAG_OFFSET : FLAG_OFFSET + 2] == flag.encode("utf-16-le")
    assert card_type_of(block) is card.card_type


def test_layouts_fill_the_block_without_overlap() -> None:
    for card_type, fields in LAYOUTS.items():
        taken = sorted((f.offset, f.offset + f.size) for f in fields.values())
        for (_, end), (start, _) in itertools.pairwise(taken):
            assert end <= start, card_type
        assert all(end <= FLAG_OFFSET or start >= FLAG_OFFSET + 2 for start, end in taken)
    resident = LAYOUTS[CardType.RESIDENT]
    sizes = {name: field.size for name, field in resident.items()}
    assert sizes == {
        "name": 30, "sex": 2, "ethnicity": 4, "birth_date": 16, "address": 70,
        "id_number": 36, "authority": 30, "valid_from": 16, "valid_to": 16,
    }  # fmt: skip
    assert sum(sizes.values()) + 36 == 256  # 36 reserved bytes at the end


def test_long_term_validity_is_written_as_changqi_and_read_as_none() -> None:
    block = encode_text(RESIDENT_LONG_TERM)
    assert block[204:220].decode("utf-16-le").rstrip() == "长期"
    assert decode_text(block).valid_to is None


def test_the_2023_english_name_continues_in_its_second_field() -> None:
    name_en = FOREIGN_2023.name_en
    assert name_en is not None
    assert len(name_en) > 35
    block = encode_text(FOREIGN_2023)
    assert block[52:122].decode("utf-16-le") == name_en[:35]
    assert block[220:242].decode("utf-16-le").rstrip() == name_en[35:]
    assert decode_text(block).name_en == name_en
    # A name split exactly at a space keeps it.
    name = "A" * 34 + " " + "B" * 5
    card = dataclasses.replace(FOREIGN_2023, name_en=name)
    assert decode_text(encode_text(card)).name_en == name


def test_the_2023_card_links_its_predecessor_by_city_and_sequence() -> None:
    block = encode_text(FOREIGN_2023)
    assert block[250:256].decode("utf-16-le") == "001"
    assert previous_number(FOREIGN_2023.id_number, "USA", "001") == FOREIGN_2017.id_number
    assert previous_number(FOREIGN_2023.id_number, "USA", "   ") is None
    for broken in ("0²1", "01", "0A1"):
        assert previous_number(FOREIGN_2023.id_number, "USA", broken) is None
    assert decode_text(block).authority == ISSUER_2023


def test_the_icao_check_digit_matches_doc_9303_and_a_published_sample() -> None:
    assert icao_check_digit("L898902C3") == "6"  # ICAO Doc 9303 specimen
    assert icao_check_digit("740812") == "2"
    assert icao_check_digit("PAK31008001010") == "3"  # a 2017 sample card PAK310080010103


def test_sex_codes_follow_gb_t_2261() -> None:
    assert SEX_CODES == {
        "0": Sex.UNKNOWN, "1": Sex.MALE, "2": Sex.FEMALE, "9": Sex.UNSPECIFIED
    }  # fmt: skip
    for sex in Sex:
        card = dataclasses.replace(RESIDENT, sex=sex)
        assert decode_text(encode_text(card)).sex is sex


def test_all_56_ethnicities_and_the_two_extra_codes_are_named_as_on_the_card() -> None:
    assert [int(code) for code in ETHNICITIES] == [*range(1, 57), 97, 98]
    assert len(set(ETHNICITIES.values())) == 58
    expected = {
        "01": "汉", "02": "蒙古", "03": "回", "04": "藏", "05": "维吾尔", "08": "壮", "10": "朝鲜",
        "11": "满", "29": "柯尔克孜", "43": "乌孜别克", "56": "基诺", "98": "外国血统中国籍人士",
    }  # fmt: skip
    assert all(ETHNICITIES[code] == name for code, name in expected.items())
    for code, name in ETHNICITIES.items():
        block = bytearray(encode_text(RESIDENT))
        block[32:36] = code.encode("utf-16-le")
        assert decode_text(bytes(block)).ethnicity == name


def test_an_unknown_ethnicity_code_is_kept_as_read() -> None:
    block = bytearray(encode_text(RESIDENT))
    block[32:36] = "99".encode("utf-16-le")
    assert decode_text(bytes(block)).ethnicity == "99"


@pytest.mark.parametrize(
    ("offset", "value", "message"),
    [
        (FLAG_OFFSET, "Q", "card type flag"),
        (30, "5", "sex code"),
        (36, "19491331", "not a real date"),
        (188, "2017-7-2", "YYYYMMDD"),
        (122, " " * 18, "no document number"),
    ],
)
def test_malformed_fields_raise_frame_error(offset: int, value: str, message: str) -> None:
    block = bytearray(encode_text(RESIDENT))
    raw = value.encode("utf-16-le")
    block[offset : offset + len(raw)] = raw
    with pytest.raises(FrameError, match=message):
        decode_text(bytes(block))


def test_a_block_of_the_wrong_size_is_refused() -> None:
    with pytest.raises(FrameError):
        decode_text(bytes(255))


def test_values_the_block_cannot_carry_are_refused_or_cut() -> None:
    too_long = dataclasses.replace(RESIDENT, name="很" * 16)
    with pytest.raises(TextEncodingError, match="name"):
        encode_text(too_long)
    assert decode_text(encode_text(too_long, strict=False)).name == "很" * 15
    astral = dataclasses.replace(RESIDENT, name="𠀀明")
    with pytest.raises(TextEncodingError, match="UCS-2"):
        encode_text(astral)
    # A previous number that does not share the new card's letters and birth date.
    unlinked = dataclasses.replace(FOREIGN_2023, previous_number="USA156802016727")
    with pytest.raises(TextEncodingError, match="previous_number"):
        encode_text(unlinked)
    assert decode_text(encode_text(unlinked, strict=False)).previous_number is None
    wrong_type = dataclasses.replace(RESIDENT, pass_number="H12345678")
    with pytest.raises(TextEncodingError, match="pass_number"):
        encode_text(wrong_type)


def test_blank_dates_and_counts_read_as_none() -> None:
    card = dataclasses.replace(HK_MO_TW, birth_date=None, valid_from=None, issue_count=None)
    decoded = decode_text(encode_text(card))
    assert (decoded.birth_date, decoded.valid_from, decoded.issue_count) == (None, None, None)
    assert decoded.valid_to == date(2024, 3, 1)
