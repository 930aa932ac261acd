"""Each reason a document number is refused for, and messages that never repeat the number."""

from __future__ import annotations

from datetime import date

import pytest

from gate.domain.documents import (
    DocumentType,
    detect_type,
    normalize,
    validate,
)
from gate.domain.errors import DocumentInvalid
from tests.gate.domain.document_helpers import TODAY, WORKED_EXAMPLE, rejection, with_check

# --- each rejection reason --------------------------------------------------------------


@pytest.mark.parametrize("doc_type", list(DocumentType))
@pytest.mark.parametrize("blank", ["", "   ", "\u3000", " - "])
def test_empty_numbers_are_refused_for_every_type(doc_type: DocumentType, blank: str) -> None:
    assert rejection(doc_type, blank) == "empty"


def test_empty_number_has_no_type_to_detect() -> None:
    with pytest.raises(DocumentInvalid) as caught:
        detect_type(" ")
    assert caught.value.reason == "empty"


@pytest.mark.parametrize(
    ("doc_type", "number", "expected", "actual"),
    [
        (DocumentType.RESIDENT_ID, WORKED_EXAMPLE[:17], 18, 17),
        (DocumentType.RESIDENT_ID, WORKED_EXAMPLE + "1", 18, 19),
        (DocumentType.RESIDENT_ID, "110105490101001", 18, 15),  # the old 15-digit number
        (DocumentType.HMT_RESIDENCE_PERMIT, "8100001988080800", 18, 16),
        (DocumentType.FOREIGN_PERMANENT_2023, "9118401990010100", 18, 16),
        (DocumentType.FOREIGN_PERMANENT_2017, "USA11008501012", 15, 14),
        (DocumentType.FOREIGN_PERMANENT_2017, "USA1100850101211", 15, 16),
    ],
)
def test_wrong_length_is_refused_with_both_lengths(
    doc_type: DocumentType, number: str, expected: int, actual: int
) -> None:
    with pytest.raises(DocumentInvalid) as caught:
        validate(doc_type, number, today=TODAY)
    assert caught.value.reason == "length"
    assert caught.value.params == {"expected": expected, "actual": actual}


def test_digits_of_the_wrong_length_are_taken_for_a_mistyped_resident_id() -> None:
    assert detect_type("12345") is DocumentType.RESIDENT_ID
    assert rejection(detect_type("12345"), "12345") == "length"


@pytest.mark.parametrize(
    ("doc_type", "number"),
    [
        (DocumentType.RESIDENT_ID, "11010519491231002Y"),
        (DocumentType.RESIDENT_ID, "1101051949123100AX"),
        (DocumentType.RESIDENT_ID, "X10105194912310021"),
        (DocumentType.FOREIGN_PERMANENT_2017, "US1118501010121"),
        (DocumentType.FOREIGN_PERMANENT_2017, "USA11008501012X"),
        (DocumentType.PASSPORT, "E12"),
        (DocumentType.PASSPORT, "E1234567!"),
        (DocumentType.PASSPORT, "A" * 21),
        (DocumentType.OTHER, "A" * 41),
        (DocumentType.OTHER, "A\x00B"),
    ],
)
def test_malformed_numbers_are_refused_as_format(doc_type: DocumentType, number: str) -> None:
    assert rejection(doc_type, number) == "format"


def test_digits_of_other_scripts_are_not_taken_for_ascii_digits() -> None:
    # NFKC folds full-width digits but not Arabic-Indic ones; accepting them would store one
    # person under two spellings of the same number.
    arabic = "".join(chr(0x0660 + int(c)) if c.isdigit() else c for c in WORKED_EXAMPLE)
    assert rejection(detect_type(arabic), arabic) == "format"
    assert rejection(DocumentType.RESIDENT_ID, arabic) == "format"


@pytest.mark.parametrize("last", "0123456789")  # the right one is X
def test_a_wrong_check_character_is_refused(last: str) -> None:
    assert rejection(DocumentType.RESIDENT_ID, WORKED_EXAMPLE[:17] + last) == "check_digit"


@pytest.mark.parametrize(
    "birth",
    ["19490230", "19491301", "19490001", "19490100", "19000229", "18491231", "00000101"],
)
def test_impossible_birth_dates_are_refused(birth: str) -> None:
    number = with_check(f"110105{birth}002")
    assert rejection(DocumentType.RESIDENT_ID, number) == "birth_date"


def test_leap_day_in_a_leap_year_is_a_real_birth_date() -> None:
    number = with_check("11010520000229002")
    assert validate(DocumentType.RESIDENT_ID, number, today=TODAY).birth_date == date(2000, 2, 29)


def test_birth_after_today_is_refused_as_future() -> None:
    number = with_check("11010520240602002")
    assert rejection(DocumentType.RESIDENT_ID, number, today=date(2024, 6, 1)) == (
        "birth_date_future"
    )
    born_today = validate(DocumentType.RESIDENT_ID, number, today=date(2024, 6, 2))
    assert born_today.birth_date == date(2024, 6, 2)


def test_without_today_a_future_birth_date_is_not_checked() -> None:
    number = with_check("11010520990101002")
    assert validate(DocumentType.RESIDENT_ID, number).birth_date == date(2099, 1, 1)


@pytest.mark.parametrize("prefix", ["810001", "811000", "820100", "839999"])
def test_residence_permit_outside_810000_820000_830000_is_refused_as_region(prefix: str) -> None:
    number = with_check(f"{prefix}19880808005")
    assert rejection(DocumentType.HMT_RESIDENCE_PERMIT, number) == "region"


@pytest.mark.parametrize(
    ("doc_type", "number", "detected"),
    [
        (DocumentType.HMT_RESIDENCE_PERMIT, WORKED_EXAMPLE, "resident_id"),
        (DocumentType.FOREIGN_PERMANENT_2023, WORKED_EXAMPLE, "resident_id"),
        (DocumentType.RESIDENT_ID, with_check("81000019880808005"), "hmt_residence_permit"),
        (DocumentType.RESIDENT_ID, with_check("91184019900101002"), "foreign_permanent_2023"),
        (
            DocumentType.HMT_RESIDENCE_PERMIT,
            with_check("91184019900101002"),
            "foreign_permanent_2023",
        ),
    ],
)
def test_a_number_of_another_type_is_refused_as_type_mismatch(
    doc_type: DocumentType, number: str, detected: str
) -> None:
    with pytest.raises(DocumentInvalid) as caught:
        validate(doc_type, number, today=TODAY)
    assert caught.value.reason == "type_mismatch"
    assert caught.value.params == {"detected": detected}


@pytest.mark.parametrize("number", ["ABC123", "12X34", "X", "护照123", "USA1185010101"])
def test_numbers_of_no_known_shape_are_unrecognised(number: str) -> None:
    with pytest.raises(DocumentInvalid) as caught:
        detect_type(number)
    assert caught.value.reason == "unrecognised"
    assert caught.value.params == {"length": len(normalize(number))}


@pytest.mark.parametrize(
    ("doc_type", "number", "today"),
    [
        (DocumentType.RESIDENT_ID, "11010519491231002", TODAY),  # length
        (DocumentType.RESIDENT_ID, "11010519491231002Y", TODAY),  # format
        (DocumentType.RESIDENT_ID, "110105194912310021", TODAY),  # check_digit
        (DocumentType.RESIDENT_ID, with_check("11010519490230002"), TODAY),  # birth_date
        (DocumentType.RESIDENT_ID, with_check("11010520240602002"), TODAY),  # future
        (DocumentType.HMT_RESIDENCE_PERMIT, with_check("81000119880808005"), TODAY),  # region
        (DocumentType.HMT_RESIDENCE_PERMIT, WORKED_EXAMPLE, TODAY),  # type_mismatch
        (DocumentType.FOREIGN_PERMANENT_2017, "USA110085023021", TODAY),  # birth_date
        (DocumentType.FOREIGN_PERMANENT_2017, "USA110095010121", date(1990, 1, 1)),  # future
        (DocumentType.PASSPORT, "E1234567!", TODAY),  # format
    ],
)
def test_messages_never_repeat_the_number(doc_type: DocumentType, number: str, today: date) -> None:
    with pytest.raises(DocumentInvalid) as caught:
        validate(doc_type, number, today=today)
    shown = f"{caught.value} {caught.value.params!r} {caught.value.args!r}"
    assert normalize(number) not in shown
    assert number not in shown


def test_unrecognised_message_does_not_repeat_the_number() -> None:
    with pytest.raises(DocumentInvalid) as caught:
        detect_type("ABCD1234EFGH")
    assert "ABCD1234EFGH" not in f"{caught.value} {caught.value.params!r}"
