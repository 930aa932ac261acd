"""Identity-document numbers: recognise, validate and describe them without storing them.

Validation follows GB 11643-1999 for the 18-character numbers (mainland resident ID, the
Hong Kong/Macau/Taiwan residence permit with region 81/82/83, and the 2023 foreigner's
permanent residence card starting with 9): ISO 7064 MOD 11-2 check character, a real
birth date, sex from the parity of the sequence digit. The 2017 foreigner card (15
characters: 3 nationality letters, a 4-digit accepting authority, YYMMDD birth date, a
sequence digit, a check digit) gets format checks only: its check algorithm is not
officially published.

Region codes are looked up for display only (GB/T 2260 via python-stdnum); an unknown
region code is not an error, because new counties appear and old ones are merged.

Rejection reasons (``DocumentInvalid.reason``): ``empty``, ``length``, ``format``,
``check_digit``, ``birth_date``, ``birth_date_future``, ``region``, ``type_mismatch``,
``unrecognised``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from gate.domain.errors import DocumentInvalid
from gate.domain.people import Sex


class DocumentType(StrEnum):
    """Kinds of identity document the registry accepts."""

    RESIDENT_ID = "resident_id"
    HMT_RESIDENCE_PERMIT = "hmt_residence_permit"
    FOREIGN_PERMANENT_2017 = "foreign_permanent_2017"
    FOREIGN_PERMANENT_2023 = "foreign_permanent_2023"
    PASSPORT = "passport"
    OTHER = "other"


DOCUMENT_LABELS_ZH: dict[DocumentType, str] = {
    DocumentType.RESIDENT_ID: "居民身份证",
    DocumentType.HMT_RESIDENCE_PERMIT: "港澳台居民居住证",
    DocumentType.FOREIGN_PERMANENT_2017: "外国人永久居留身份证(2017版)",
    DocumentType.FOREIGN_PERMANENT_2023: "外国人永久居留身份证(2023版)",
    DocumentType.PASSPORT: "护照",
    DocumentType.OTHER: "其他证件",
}

HMT_REGIONS = {"810000": "香港", "820000": "澳门", "830000": "台湾"}

# ASCII digits only: ``\d`` and ``str.isdigit`` also accept Arabic-Indic and other digits,
# which NFKC does not fold, so the same number could be stored under two spellings.
_GB11643 = re.compile(r"^[0-9]{17}[0-9X]$")
_FOREIGN_2017 = re.compile(r"^[A-Z]{3}[0-9]{12}$")
_PASSPORT = re.compile(r"^[A-Z0-9]{5,20}$")
_MAX_OTHER_LENGTH = 40


@dataclass(frozen=True)
class DocumentInfo:
    """What a valid number says about its holder. ``number`` is the normalised form."""

    doc_type: DocumentType
    number: str
    birth_date: date | None = None
    sex: Sex | None = None
    region_code: str | None = None
    nationality_code: str | None = None

    @property
    def last4(self) -> str:
        """The last four characters, the only part shown on screens."""
        return self.number[-4:]


def normalize(number: str) -> str:
    """Canonical form: full-width characters folded, separators dropped, upper case."""
    folded = unicodedata.normalize("NFKC", number)
    return re.sub(r"[\s\-]", "", folded).upper()


def mask(number: str) -> str:
    """Show only the last four characters, e.g. ``**************002X``."""
    return "*" * max(len(number) - 4, 0) + number[-4:]


# How long each type's number is, so a number known only by its last four is masked to
# its real length (the export and the district feed); other types show eight characters.
NUMBER_LENGTH: dict[str, int] = {  # by ``DocumentType`` value
    DocumentType.RESIDENT_ID: 18,
    DocumentType.HMT_RESIDENCE_PERMIT: 18,
    DocumentType.FOREIGN_PERMANENT_2023: 18,
    DocumentType.FOREIGN_PERMANENT_2017: 15,
}


def masked_number(doc_type: DocumentType | str, last4: str) -> str:
    """The masked form of a number of which only the type (value) and last four are kept."""
    return mask("*" * (NUMBER_LENGTH.get(doc_type, 8) - 4) + last4)


def gb11643_check_character(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character of the first 17 digits."""
    # Weights 2^(17-i) mod 11, written as the base-13 trick python-stdnum uses.
    from stdnum.cn.ric import calc_check_digit

    return str(calc_check_digit(first17 + "0"))


def detect_type(number: str) -> DocumentType:
    """Guess the document type from the number's shape; raise ``DocumentInvalid`` if none fits."""
    value = normalize(number)
    if not value:
        raise DocumentInvalid("empty", "the document number is empty")
    if len(value) == 18 and _is_ascii_digits(value[:17]):
        if value[:2] in ("81", "82", "83"):
            return DocumentType.HMT_RESIDENCE_PERMIT
        if value[0] == "9":
            return DocumentType.FOREIGN_PERMANENT_2023
        return DocumentType.RESIDENT_ID
    if _FOREIGN_2017.match(value):
        return DocumentType.FOREIGN_PERMANENT_2017
    if value.rstrip("X").isdigit():
        # Digits of the wrong length: most likely a mistyped resident ID; say so by length.
        return DocumentType.RESIDENT_ID
    raise DocumentInvalid(
        "unrecognised",
        f"a number of {len(value)} characters matches no known document; give its type",
        length=len(value),
    )


def validate(doc_type: DocumentType, number: str, *, today: date | None = None) -> DocumentInfo:
    """Check ``number`` as a document of ``doc_type`` and return what it encodes.

    ``today`` enables the "birth date in the future" check and places the two-digit birth
    year of a 2017 foreigner card in its century (without it that card's ``birth_date`` is
    None); the core reads no clock.
    Raises ``DocumentInvalid`` with a reason code; the message never repeats the number.
    """
    value = normalize(number)
    if not value:
        raise DocumentInvalid("empty", "the document number is empty")
    match doc_type:
        case DocumentType.RESIDENT_ID | DocumentType.HMT_RESIDENCE_PERMIT:
            return _validate_gb11643(doc_type, value, today)
        case DocumentType.FOREIGN_PERMANENT_2023:
            return _validate_gb11643(doc_type, value, today)
        case DocumentType.FOREIGN_PERMANENT_2017:
            return _validate_foreign_2017(value, today)
        case DocumentType.PASSPORT:
            if not _PASSPORT.match(value):
                raise DocumentInvalid("format", "a passport number is 5 to 20 letters and digits")
            return DocumentInfo(doc_type, value)
        case DocumentType.OTHER:
            if len(value) > _MAX_OTHER_LENGTH or not value.isprintable():
                raise DocumentInvalid(
                    "format",
                    f"a document number is at most {_MAX_OTHER_LENGTH} printable characters",
                )
            return DocumentInfo(doc_type, value)


def _validate_gb11643(doc_type: DocumentType, value: str, today: date | None) -> DocumentInfo:
    if len(value) != 18:
        raise DocumentInvalid(
            "length", f"expected 18 characters, got {len(value)}", expected=18, actual=len(value)
        )
    if not _GB11643.match(value):
        raise DocumentInvalid("format", "expected 17 digits and a digit or X")
    _require_matching_type(doc_type, value)
    if value[17] != gb11643_check_character(value[:17]):
        raise DocumentInvalid("check_digit", "the check character does not match (typo?)")
    birth = _birth_date(value[6:14], today)
    sex = Sex.MALE if int(value[16]) % 2 else Sex.FEMALE
    if doc_type is DocumentType.FOREIGN_PERMANENT_2023:
        # 9 + 2-digit province of the issuing authority + 3-digit ISO 3166 nationality.
        return DocumentInfo(
            doc_type, value, birth, sex, region_code=value[1:3], nationality_code=value[3:6]
        )
    return DocumentInfo(doc_type, value, birth, sex, region_code=value[:6])


def _require_matching_type(doc_type: DocumentType, value: str) -> None:
    detected = detect_type(value)
    if detected is not doc_type:
        raise DocumentInvalid(
            "type_mismatch",
            f"the number is shaped like a {detected.value}, not a {doc_type.value}",
            detected=detected.value,
        )
    if doc_type is DocumentType.HMT_RESIDENCE_PERMIT and value[:6] not in HMT_REGIONS:
        raise DocumentInvalid("region", "a residence permit starts with 810000, 820000 or 830000")


def _validate_foreign_2017(value: str, today: date | None) -> DocumentInfo:
    if len(value) != 15:
        raise DocumentInvalid(
            "length", f"expected 15 characters, got {len(value)}", expected=15, actual=len(value)
        )
    if not _FOREIGN_2017.match(value):
        raise DocumentInvalid("format", "expected 3 letters (nationality) and 12 digits")
    # Nationality (3 letters), accepting authority (4 digits: province + city), YYMMDD,
    # a sequence digit and a check digit, e.g. PAK 3100 800101 0 3.
    birth = _two_digit_year_birth_date(value[7:13], today)
    return DocumentInfo(
        DocumentType.FOREIGN_PERMANENT_2017,
        value,
        birth,
        None,
        region_code=value[3:5],
        nationality_code=value[:3],
    )


def _two_digit_year_birth_date(yymmdd: str, today: date | None) -> date | None:
    """The latest real date ``YYMMDD`` can be that is not after ``today``; None without ``today``.

    Without ``today`` the century cannot be chosen (``85`` would become 2085), so only the
    month and day are checked.
    """
    failures: list[DocumentInvalid] = []
    for century in ("20", "19"):
        try:
            birth = _birth_date(century + yymmdd, today)
        except DocumentInvalid as exc:
            failures.append(exc)
            continue
        return birth if today is not None else None
    # A real date that is in the future in both centuries is a future date, not a typo.
    raise next((exc for exc in failures if exc.reason == "birth_date_future"), failures[-1])


def _is_ascii_digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _birth_date(yyyymmdd: str, today: date | None) -> date:
    try:
        birth = date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        raise DocumentInvalid("birth_date", "the birth date is not a real date") from None
    if birth.year < 1850:
        raise DocumentInvalid("birth_date", "the birth date is not a real date")
    if today is not None and birth > today:
        raise DocumentInvalid("birth_date_future", "the birth date is in the future")
    return birth


def describe_region(region_code: str) -> str | None:
    """Place name of a GB/T 2260 county code (e.g. ``150102`` -> 内蒙古自治区呼和浩特市新城区)."""
    if region_code in HMT_REGIONS:
        return HMT_REGIONS[region_code]
    if len(region_code) == 2:
        # Foreigner cards carry only the province of the issuing authority.
        region_code += "0000"
    if len(region_code) != 6 or not _is_ascii_digits(region_code):
        return None
    from stdnum import numdb

    parts = {
        key: props
        for _prefix, properties in numdb.get("cn/loc").info(region_code)
        for key, props in properties.items()
    }
    if not parts:
        return None
    county = parts.get("county", "")
    if county.startswith("["):
        # Historic names carry "[from-to]" prefixes; show the latest one.
        county = county.split(",")[-1].split("]")[-1]
    names = [parts.get("province", ""), parts.get("prefecture", ""), county]
    return "".join(dict.fromkeys(name for name in names if name)) or None
