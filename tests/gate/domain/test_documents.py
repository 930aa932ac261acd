"""Document numbers: GB 11643-1999 and the document types built on it, the 2017 foreigner card."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from gate.domain.documents import (
    DocumentType,
    describe_region,
    detect_type,
    gb11643_check_character,
    mask,
    normalize,
    validate,
)
from gate.domain.errors import DocumentInvalid
from gate.domain.people import Sex
from tests.gate.domain.document_helpers import (
    TODAY,
    WORKED_EXAMPLE,
    iso7064_mod11_2,
    rejection,
    with_check,
)

# --- the worked example and the check character -----------------------------------------


def test_worked_example_of_the_standard_is_valid() -> None:
    info = validate(DocumentType.RESIDENT_ID, WORKED_EXAMPLE, today=TODAY)
    assert info.doc_type is DocumentType.RESIDENT_ID
    assert info.number == WORKED_EXAMPLE
    assert info.birth_date == date(1949, 12, 31)
    assert info.sex is Sex.FEMALE
    assert info.region_code == "110105"
    assert info.nationality_code is None
    assert info.last4 == "002X"
    assert describe_region("110105") == "北京市朝阳区"


def test_worked_example_is_detected_as_a_resident_id() -> None:
    assert detect_type(WORKED_EXAMPLE) is DocumentType.RESIDENT_ID


@pytest.mark.parametrize(
    "first17",
    ["11010519491231002", "44030019900101123", "51010419850615376", "81000019991231000"],
)
def test_check_character_follows_iso_7064_mod_11_2(first17: str) -> None:
    assert gb11643_check_character(first17) == iso7064_mod11_2(first17)


def test_check_character_x_stands_for_ten() -> None:
    assert gb11643_check_character("11010519491231002") == "X"


@pytest.mark.parametrize(
    "spelling",
    [
        "１１０１０５１９４９１２３１００２Ｘ",  # full-width digits and letter
        "１１０１０５１９４９１２３１００２ｘ",
        "110105 19491231 002X",
        "110105\u300019491231\u3000002X",  # ideographic spaces
        " 11010519491231002x ",
        "110105-19491231-002X",
        "\t110105194912\n31002X",
    ],
)
def test_full_width_digits_spaces_and_case_are_normalised(spelling: str) -> None:
    assert normalize(spelling) == WORKED_EXAMPLE
    assert detect_type(spelling) is DocumentType.RESIDENT_ID
    assert validate(DocumentType.RESIDENT_ID, spelling, today=TODAY).number == WORKED_EXAMPLE


@pytest.mark.parametrize("digit", "0123456789")
def test_sex_comes_from_the_parity_of_the_17th_digit(digit: str) -> None:
    number = with_check(f"4403001990010112{digit}")
    info = validate(DocumentType.RESIDENT_ID, number, today=TODAY)
    assert info.sex is (Sex.MALE if int(digit) % 2 else Sex.FEMALE)


def test_unknown_region_code_is_valid_and_only_lacks_a_name() -> None:
    number = with_check("10101019900101123")  # province 10 does not exist
    info = validate(DocumentType.RESIDENT_ID, number, today=TODAY)
    assert info.region_code == "101010"
    assert describe_region("101010") is None


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("110105", "北京市朝阳区"),
        ("110000", "北京市"),
        ("11", "北京市"),  # the province of a foreigner card's issuing authority
        ("810000", "香港"),
        ("820000", "澳门"),
        ("830000", "台湾"),
    ],
)
def test_region_names_come_from_the_gb_t_2260_table(code: str, name: str) -> None:
    assert describe_region(code) == name


@pytest.mark.parametrize("code", ["", "1101", "11010", "1101055", "ABCDEF", "١١٠١٠٥"])
def test_region_codes_of_the_wrong_shape_have_no_name(code: str) -> None:
    assert describe_region(code) is None


def test_mask_shows_only_the_last_four_characters() -> None:
    assert mask(WORKED_EXAMPLE) == "*" * 14 + "002X"
    assert mask("E123") == "E123"


# --- document types ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prefix", "place"), [("810000", "香港"), ("820000", "澳门"), ("830000", "台湾")]
)
def test_hmt_residence_permits_are_checked_like_resident_ids(prefix: str, place: str) -> None:
    number = with_check(f"{prefix}19880808005")
    assert detect_type(number) is DocumentType.HMT_RESIDENCE_PERMIT
    info = validate(DocumentType.HMT_RESIDENCE_PERMIT, number, today=TODAY)
    assert info.birth_date == date(1988, 8, 8)
    assert info.sex is Sex.MALE
    assert info.region_code == prefix
    assert describe_region(info.region_code) == place


def test_foreigner_card_2023_carries_authority_province_and_nationality() -> None:
    number = with_check("91184019900101002")  # 9, Beijing, USA (840), 1990-01-01, seq 002
    assert detect_type(number) is DocumentType.FOREIGN_PERMANENT_2023
    info = validate(DocumentType.FOREIGN_PERMANENT_2023, number, today=TODAY)
    assert info.birth_date == date(1990, 1, 1)
    assert info.sex is Sex.FEMALE
    assert info.region_code == "11"
    assert info.nationality_code == "840"


def test_foreigner_card_2023_needs_the_right_check_character() -> None:
    number = with_check("91184019900101002")
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    assert rejection(DocumentType.FOREIGN_PERMANENT_2023, wrong) == "check_digit"


def test_foreigner_card_2017_is_read_field_by_field() -> None:
    info = validate(DocumentType.FOREIGN_PERMANENT_2017, "USA110085010121", today=TODAY)
    assert info.doc_type is DocumentType.FOREIGN_PERMANENT_2017
    assert info.nationality_code == "USA"
    assert info.region_code == "11"
    assert info.birth_date == date(1985, 1, 1)
    assert info.sex is None
    assert info.last4 == "0121"


def test_foreigner_card_2017_is_detected_in_any_case_and_width() -> None:
    assert detect_type("usa118501010121") is DocumentType.FOREIGN_PERMANENT_2017
    assert detect_type("ＵＳＡ１１８５０１０１０１２１") is DocumentType.FOREIGN_PERMANENT_2017


@pytest.mark.parametrize(
    ("yymmdd", "today", "born"),
    [
        ("050101", date(2024, 6, 1), date(2005, 1, 1)),
        ("240601", date(2024, 6, 1), date(2024, 6, 1)),  # born today
        ("240602", date(2024, 6, 1), date(1924, 6, 2)),  # 2024-06-02 is tomorrow
        ("991231", date(2024, 6, 1), date(1999, 12, 31)),
        ("000229", date(2024, 6, 1), date(2000, 2, 29)),
    ],
)
def test_foreigner_card_2017_two_digit_year_takes_the_latest_past_century(
    yymmdd: str, today: date, born: date
) -> None:
    info = validate(DocumentType.FOREIGN_PERMANENT_2017, f"GBR3100{yymmdd}12", today=today)
    assert info.birth_date == born


def test_foreigner_card_2017_without_today_has_no_birth_year_to_give() -> None:
    # Without a date to compare with, "85" could be 1985 or 2085; guessing 2085 was a bug.
    info = validate(DocumentType.FOREIGN_PERMANENT_2017, "USA110085010121")
    assert info.birth_date is None
    assert info.nationality_code == "USA"


def test_foreigner_card_2017_without_today_still_checks_the_day() -> None:
    assert rejection(DocumentType.FOREIGN_PERMANENT_2017, "USA110085023021", today=None) == (
        "birth_date"
    )


@pytest.mark.parametrize("yymmdd", ["850230", "851301", "850100", "010229"])
def test_foreigner_card_2017_refuses_dates_that_exist_in_no_century(yymmdd: str) -> None:
    assert rejection(DocumentType.FOREIGN_PERMANENT_2017, f"USA1100{yymmdd}21") == "birth_date"


def test_foreigner_card_2017_born_after_today_in_both_centuries_is_a_future_date() -> None:
    number = "USA110095010121"
    assert rejection(DocumentType.FOREIGN_PERMANENT_2017, number, today=date(1990, 1, 1)) == (
        "birth_date_future"
    )


@pytest.mark.parametrize("number", ["E12345678", "G1234567", "ab12345", "P-123 456"])
def test_passport_numbers_are_letters_and_digits(number: str) -> None:
    info = validate(DocumentType.PASSPORT, number)
    assert info.number == normalize(number)
    assert info.birth_date is None


def test_other_documents_take_any_printable_text_up_to_40_characters() -> None:
    assert validate(DocumentType.OTHER, "军官证 第123号").number == "军官证第123号"
    assert validate(DocumentType.OTHER, "A" * 40).number == "A" * 40


# --- properties -------------------------------------------------------------------------


@st.composite
def gb11643_numbers(draw: st.DrawFn) -> tuple[DocumentType, str, date, str]:
    """A valid 18-character number of any GB 11643 type, with its birth date and 17th digit."""
    doc_type = draw(
        st.sampled_from(
            [
                DocumentType.RESIDENT_ID,
                DocumentType.HMT_RESIDENCE_PERMIT,
                DocumentType.FOREIGN_PERMANENT_2023,
            ]
        )
    )
    if doc_type is DocumentType.RESIDENT_ID:
        prefix = str(draw(st.integers(100000, 799999)))
    elif doc_type is DocumentType.HMT_RESIDENCE_PERMIT:
        prefix = draw(st.sampled_from(["810000", "820000", "830000"]))
    else:
        prefix = "9" + draw(st.from_regex(r"[0-9]{5}", fullmatch=True))
    born = draw(st.dates(min_value=date(1900, 1, 1), max_value=TODAY))
    sequence = draw(st.from_regex(r"[0-9]{3}", fullmatch=True))
    first17 = f"{prefix}{born:%Y%m%d}{sequence}"
    return doc_type, with_check(first17), born, sequence[2]


@hypothesis_settings(database=None, max_examples=300)
@given(gb11643_numbers())
def test_every_number_with_the_right_check_character_validates(
    case: tuple[DocumentType, str, date, str],
) -> None:
    doc_type, number, born, sex_digit = case
    assert detect_type(number) is doc_type
    info = validate(doc_type, number, today=TODAY)
    assert info.number == number
    assert info.birth_date == born
    assert info.sex is (Sex.MALE if int(sex_digit) % 2 else Sex.FEMALE)


@hypothesis_settings(database=None, max_examples=300)
@given(gb11643_numbers(), st.integers(0, 17), st.sampled_from("0123456789X"))
def test_changing_any_one_character_of_a_valid_number_is_rejected(
    case: tuple[DocumentType, str, date, str], position: int, replacement: str
) -> None:
    doc_type, number, _born, _sex = case
    if position < 17 and replacement == "X":
        replacement = "0"
    if number[position] == replacement:
        replacement = "1" if replacement == "0" else "0"
    changed = number[:position] + replacement + number[position + 1 :]
    assert changed != number
    with pytest.raises(DocumentInvalid):
        validate(doc_type, changed, today=TODAY)
    with pytest.raises(DocumentInvalid):
        validate(detect_type(changed), changed, today=TODAY)


@hypothesis_settings(database=None, max_examples=100)
@given(gb11643_numbers())
def test_full_width_spelling_validates_to_the_same_facts(
    case: tuple[DocumentType, str, date, str],
) -> None:
    doc_type, number, _born, _sex = case
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in number)
    assert validate(doc_type, full_width, today=TODAY) == validate(doc_type, number, today=TODAY)


def test_a_published_2017_foreigner_card_number_reads_correctly() -> None:
    # PAK (Pakistan), authority 3100 (Shanghai), born 80-01-01, sequence 0, check 3.
    info = validate(DocumentType.FOREIGN_PERMANENT_2017, "PAK310080010103", today=date(2026, 1, 1))
    assert (info.nationality_code, info.birth_date) == ("PAK", date(1980, 1, 1))
