"""Building, unit and room labels reduced to one key."""

from __future__ import annotations

import pytest

from gate.domain.places import building_key, building_label, room_key, unit_key, unit_label


@pytest.mark.parametrize(
    "label",
    ["3", "3号楼", "3栋", "３", "3 幢", "３号楼", " 3号 ", "3号", "3楼", "3座", "3\u3000栋"],
)
def test_every_spelling_of_building_3_has_key_3(label: str) -> None:
    assert building_key(label) == "3"


@pytest.mark.parametrize(
    ("label", "key"),
    [("12号楼", "12"), ("a座", "A"), ("Ｂ栋", "B"), ("10-1栋", "10-1"), ("101", "101")],
)
def test_building_keys_keep_numbers_and_letters(label: str, key: str) -> None:
    assert building_key(label) == key


@pytest.mark.parametrize("label", ["2", "2单元", "２单元", "2 单元", "2门"])
def test_every_spelling_of_unit_2_has_key_2(label: str) -> None:
    assert unit_key(label) == "2"


@pytest.mark.parametrize("label", ["502", "502室", "５０２室", "502 室", "502号", "502房"])
def test_every_spelling_of_room_502_has_key_502(label: str) -> None:
    assert room_key(label) == "502"


def test_only_one_suffix_is_taken_off() -> None:
    # "号楼" is one suffix; the "楼" of "号楼" must not leave "3号" behind.
    assert building_key("3号楼") == "3"
    assert room_key("3号室") == "3号"


def test_suffix_inside_a_label_is_kept() -> None:
    assert building_key("3栋A") == "3栋A"
    assert unit_key("2单元东") == "2单元东"


@pytest.mark.parametrize("key", ["3", "12", "A"])
def test_labels_round_trip_through_keys(key: str) -> None:
    assert building_key(building_label(key)) == key
    assert unit_key(unit_label(key)) == key


def test_labels_are_shown_with_their_chinese_suffix() -> None:
    assert building_label("3") == "3号楼"
    assert unit_label("2") == "2单元"
