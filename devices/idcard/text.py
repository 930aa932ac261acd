"""The 256-byte text block of a GA 467 read: UCS-2LE fields at fixed byte offsets.

The card type is the character at byte 248 (character 124): a space for the resident ID
card, ``J`` for the Hong Kong/Macau/Taiwan residence permit, ``I`` for the 2017 foreign
permanent resident card, ``Y`` for the 2023 one. Fields are space-padded; dates are
``YYYYMMDD``, a valid-to date of ``长期`` means long-term (``None``).

Byte layouts (offset, size), from GA/T 490 and the issuers' machine-readable rules:

- resident: name 0/30, sex 30/2, ethnicity 32/4, birth 36/16, address 52/70, number
  122/36, authority 158/30, valid from 188/16, valid to 204/16, reserved 220/36.
- ``J``: as resident, ethnicity slot reserved; pass number 220/18, issue count 238/4,
  reserved 242/6, flag 248/2, reserved 250/6.
- ``I``: English name 0/120, sex 120/2, number 122/30, nationality 152/6, Chinese name
  158/30, valid from 188/16, valid to 204/16, birth 220/16, card version 236/4,
  acceptance-office code 240/8, flag 248/2, reserved 250/6.
- ``Y``: Chinese name 0/30, sex 30/2, renewal count 32/4, birth 36/16, English name
  (characters 1-35) 52/70, number 122/36, reserved 158/30, valid from 188/16, valid to
  204/16, English name (characters 36-46) 220/22, nationality 242/6, flag 248/2, link
  to the previous card's number 250/6.

The ``Y`` card does not store its predecessor's 15-character number, only a link: the
city code and sequence digit of the old number. The rest comes from the new card
(nationality letters, province, YYMMDD birth date) and the check digit is computed with
the 7-3-1 weights of ICAO Doc 9303. The 2023 card's chip has no authority field; every
such card is issued by the National Immigration Administration (``ISSUER_2023``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from gate.domain.cards import CardType, IdCard
from gate.domain.errors import FrameError
from gate.domain.people import Sex

logger = logging.getLogger(__name__)

TEXT_SIZE = 256
FLAG_OFFSET = 248
LONG_TERM = "长期"
ISSUER_2023 = "国家移民管理局"

SEX_CODES = {"0": Sex.UNKNOWN, "1": Sex.MALE, "2": Sex.FEMALE, "9": Sex.UNSPECIFIED}
CODE_OF_SEX = {sex: code for code, sex in SEX_CODES.items()}

# GB 3304 ethnicity codes and the names printed on the card.
ETHNICITIES = {
    "01": "汉", "02": "蒙古", "03": "回", "04": "藏", "05": "维吾尔", "06": "苗", "07": "彝",
    "08": "壮", "09": "布依", "10": "朝鲜", "11": "满", "12": "侗", "13": "瑶", "14": "白",
    "15": "土家", "16": "哈尼", "17": "哈萨克", "18": "傣", "19": "黎", "20": "傈僳",
    "21": "佤", "22": "畲", "23": "高山", "24": "拉祜", "25": "水", "26": "东乡",
    "27": "纳西", "28": "景颇", "29": "柯尔克孜", "30": "土", "31": "达斡尔", "32": "仫佬",
    "33": "羌", "34": "布朗", "35": "撒拉", "36": "毛南", "37": "仡佬", "38": "锡伯",
    "39": "阿昌", "40": "普米", "41": "塔吉克", "42": "怒", "43": "乌孜别克", "44": "俄罗斯",
    "45": "鄂温克", "46": "德昂", "47": "保安", "48": "裕固", "49": "京", "50": "塔塔尔",
    "51": "独龙", "52": "鄂伦春", "53": "赫哲", "54": "门巴", "55": "珞巴", "56": "基诺",
    "97": "其他", "98": "外国血统中国籍人士",
}  # fmt: skip
CODE_OF_ETHNICITY = {name: code for code, name in ETHNICITIES.items()}

FLAGS = {
    CardType.RESIDENT: " ",
    CardType.HK_MO_TW: "J",
    CardType.FOREIGN_2017: "I",
    CardType.FOREIGN_2023: "Y",
}
CARD_TYPE_OF_FLAG = {flag: card_type for card_type, flag in FLAGS.items()}
CARD_TYPE_OF_FLAG["\x00"] = CardType.RESIDENT  # older resident cards leave the flag unset


@dataclass(frozen=True)
class Field:
    """A field of the text block: its byte offset and size."""

    offset: int
    size: int

    @property
    def chars(self) -> int:
        """How many UCS-2 characters it holds."""
        return self.size // 2


# Field names match IdCard attributes where they carry one.
LAYOUTS: dict[CardType, dict[str, Field]] = {
    CardType.RESIDENT: {
        "name": Field(0, 30), "sex": Field(30, 2), "ethnicity": Field(32, 4),
        "birth_date": Field(36, 16), "address": Field(52, 70), "id_number": Field(122, 36),
        "authority": Field(158, 30), "valid_from": Field(188, 16), "valid_to": Field(204, 16),
    },
    CardType.HK_MO_TW: {
        "name": Field(0, 30), "sex": Field(30, 2), "birth_date": Field(36, 16),
        "address": Field(52, 70), "id_number": Field(122, 36), "authority": Field(158, 30),
        "valid_from": Field(188, 16), "valid_to": Field(204, 16),
        "pass_number": Field(220, 18), "issue_count": Field(238, 4),
    },
    CardType.FOREIGN_2017: {
        "name_en": Field(0, 120), "sex": Field(120, 2), "id_number": Field(122, 30),
        "nationality": Field(152, 6), "name": Field(158, 30), "valid_from": Field(188, 16),
        "valid_to": Field(204, 16), "birth_date": Field(220, 16), "card_version": Field(236, 4),
        "authority": Field(240, 8),
    },
    CardType.FOREIGN_2023: {
        "name": Field(0, 30), "sex": Field(30, 2), "renewal_count": Field(32, 4),
        "birth_date": Field(36, 16), "name_en": Field(52, 70), "id_number": Field(122, 36),
        "valid_from": Field(188, 16), "valid_to": Field(204, 16), "name_en_more": Field(220, 22),
        "nationality": Field(242, 6), "previous_link": Field(250, 6),
    },
}  # fmt: skip
FLAG_FIELD = Field(FLAG_OFFSET, 2)


class TextEncodingError(ValueError):
    """A card's value does not fit the text block (the emulator's input only)."""


# --- decoding ---------------------------------------------------------------------------


def card_type_of(block: bytes) -> CardType:
    """The card type flagged at byte 248; ``FrameError`` for an unknown flag."""
    _require_size(block)
    flag = _raw(block, FLAG_FIELD)
    try:
        return CARD_TYPE_OF_FLAG[flag]
    except KeyError:
        raise FrameError(f"unknown card type flag {flag!r} at byte {FLAG_OFFSET}") from None


def decode_text(
    block: bytes, *, photo_wlt: bytes | None = None, address_endorsement: str | None = None
) -> IdCard:
    """The card a text block describes; ``FrameError`` if a field is malformed."""
    card_type = card_type_of(block)
    fields = {
        name: _raw(block, field).rstrip(" \x00") for name, field in LAYOUTS[card_type].items()
    }
    # The English name continues from one field into the other: keep a space at the seam.
    if card_type is CardType.FOREIGN_2023 and (more := fields.pop("name_en_more")):
        fields["name_en"] = _raw(block, LAYOUTS[card_type]["name_en"]) + more
    fields.pop("card_version", None)
    previous_link = fields.pop("previous_link", "")
    number = fields.pop("id_number").strip()
    if not number:
        raise FrameError("text block has no document number")
    nationality = fields.pop("nationality", "") or None
    return IdCard(
        card_type=card_type,
        id_number=number,
        name=fields.pop("name"),
        sex=_sex(fields.pop("sex")),
        birth_date=_date(fields.pop("birth_date"), "birth date"),
        valid_from=_date(fields.pop("valid_from"), "valid-from date"),
        valid_to=_valid_to(fields.pop("valid_to")),
        name_en=fields.pop("name_en", "") or None,
        ethnicity=_ethnicity(fields.pop("ethnicity", "")),
        address=fields.pop("address", "") or None,
        authority=ISSUER_2023
        if card_type is CardType.FOREIGN_2023
        else fields.pop("authority", "") or None,
        pass_number=fields.pop("pass_number", "") or None,
        issue_count=_count(fields.pop("issue_count", ""), "issue count"),
        nationality=nationality,
        renewal_count=_count(fields.pop("renewal_count", ""), "renewal count"),
        previous_number=previous_number(number, nationality, previous_link),
        address_endorsement=address_endorsement,
        photo_wlt=photo_wlt,
    )


def previous_number(number: str, nationality: str | None, link: str) -> str | None:
    """The 2017 card number a 2023 card replaced, rebuilt from its 3-character link."""
    link = link.strip()
    if not link:
        return None
    if len(link) != 3 or not _digits(link) or len(number) != 18 or not nationality:
        logger.warning("previous-card link of %d chars cannot be resolved", len(link))
        return None
    # letters + province (new number) + city (link) + YYMMDD (new number) + sequence (link)
    first14 = f"{nationality}{number[1:3]}{link[:2]}{number[8:14]}{link[2]}"
    return first14 + icao_check_digit(first14)


def icao_check_digit(text: str) -> str:
    """Check digit with the repeating 7-3-1 weights of ICAO Doc 9303 (A=10 ... Z=35)."""
    total = 0
    for position, char in enumerate(text):
        if "0" <= char <= "9":
            value = int(char)
        elif "A" <= char <= "Z":
            value = ord(char) - ord("A") + 10
        else:
            value = 0  # the filler "<"
        total += value * (7, 3, 1)[position % 3]
    return str(total % 10)


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _require_size(block: bytes) -> None:
    if len(block) != TEXT_SIZE:
        raise FrameError(f"text block of {len(block)} bytes, expected {TEXT_SIZE}")


def _raw(block: bytes, field: Field) -> str:
    return block[field.offset : field.offset + field.size].decode("utf-16-le", errors="replace")


def _sex(code: str) -> Sex:
    try:
        return SEX_CODES[code.strip() or "0"]
    except KeyError:
        raise FrameError(f"unknown sex code {code!r}") from None


def _ethnicity(code: str) -> str | None:
    code = code.strip()
    if not code:
        return None
    if code not in ETHNICITIES:
        logger.warning("ethnicity code %r is not in GB 3304; kept as read", code)
    return ETHNICITIES.get(code, code)


def _date(text: str, what: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    if len(text) != 8 or not _digits(text):
        raise FrameError(f"{what} {text!r} is not YYYYMMDD")
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        raise FrameError(f"{what} {text!r} is not a real date") from None


def _valid_to(text: str) -> date | None:
    return None if text.strip() == LONG_TERM else _date(text, "valid-to date")


def _count(text: str, what: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not _digits(text):
        raise FrameError(f"{what} {text!r} is not a number")
    return int(text)


# --- encoding (the emulator's side) -----------------------------------------------------


def encode_text(card: IdCard, *, strict: bool = True, card_version: str = "01") -> bytes:
    """The text block a SAM would return for ``card``.

    With ``strict`` a value that the block cannot carry exactly raises
    ``TextEncodingError``; otherwise it is cut to fit or left out, and a warning names the
    field (the emulator serves hand-written card files that way).
    """
    values = _values(card, strict=strict, card_version=card_version)
    block = bytearray(" ".encode("utf-16-le") * (TEXT_SIZE // 2))
    for name, field in LAYOUTS[card.card_type].items():
        _put(block, field, values.get(name, ""), name, strict=strict)
    _put(block, FLAG_FIELD, FLAGS[card.card_type], "flag", strict=True)
    return bytes(block)


def _values(card: IdCard, *, strict: bool, card_version: str) -> dict[str, str]:
    values = {
        "name": card.name,
        "sex": CODE_OF_SEX[card.sex],
        "birth_date": _yyyymmdd(card.birth_date),
        "valid_from": _yyyymmdd(card.valid_from),
        "valid_to": LONG_TERM if card.valid_to is None else _yyyymmdd(card.valid_to),
        "id_number": card.id_number,
        "address": card.address or "",
        "authority": card.authority or "",
        "pass_number": card.pass_number or "",
        "issue_count": "" if card.issue_count is None else f"{card.issue_count:02d}",
        "renewal_count": "" if card.renewal_count is None else f"{card.renewal_count:02d}",
        "nationality": card.nationality or "",
        "name_en": card.name_en or "",
        "card_version": card_version,
    }
    if card.ethnicity:
        values["ethnicity"] = CODE_OF_ETHNICITY.get(card.ethnicity, card.ethnicity)
    lost: list[str] = []
    if card.card_type is CardType.FOREIGN_2023:
        name_en = values["name_en"]
        values["name_en"], values["name_en_more"] = name_en[:35], name_en[35:]
        if card.authority not in (None, ISSUER_2023):
            lost.append("authority")
        values["previous_link"] = _previous_link(card)
        if card.previous_number and not values["previous_link"]:
            lost.append("previous_number")
    dropped = {
        CardType.RESIDENT: ("name_en", "pass_number", "issue_count", "nationality"),
        CardType.HK_MO_TW: ("name_en", "ethnicity", "nationality"),
        CardType.FOREIGN_2017: ("ethnicity", "address", "pass_number", "issue_count"),
        CardType.FOREIGN_2023: ("ethnicity", "address", "pass_number", "issue_count"),
    }[card.card_type]
    lost += [name for name in dropped if getattr(card, name) not in (None, "")]
    if card.renewal_count is not None and card.card_type is not CardType.FOREIGN_2023:
        lost.append("renewal_count")
    if card.previous_number and card.card_type is not CardType.FOREIGN_2023:
        lost.append("previous_number")
    if lost:
        _lossy(f"{card.card_type.value} card cannot carry {', '.join(lost)}", strict=strict)
    return values


def _previous_link(card: IdCard) -> str:
    """The 3-character link for ``card.previous_number``; "" if it cannot be expressed."""
    old, new, nationality = card.previous_number, card.id_number, card.nationality
    if not old or len(old) != 15 or len(new) != 18 or not nationality:
        return ""
    link = old[5:7] + old[13]
    if previous_number(new, nationality, link) != old:
        # Its letters, province, birth date or check digit do not match the new card.
        return ""
    return link


def _put(block: bytearray, field: Field, value: str, name: str, *, strict: bool) -> None:
    if not all(_is_ucs2(char) for char in value):
        _lossy(f"{name} has characters beyond UCS-2", strict=strict)
        value = "".join(char if _is_ucs2(char) else "?" for char in value)
    raw = value.encode("utf-16-le")
    if len(raw) > field.size:
        _lossy(f"{name} longer than {field.chars} characters", strict=strict)
        raw = raw[: field.size]
    block[field.offset : field.offset + len(raw)] = raw


def _is_ucs2(char: str) -> bool:
    return ord(char) <= 0xFFFF and not 0xD800 <= ord(char) <= 0xDFFF


def _lossy(message: str, *, strict: bool) -> None:
    if strict:
        raise TextEncodingError(message)
    logger.warning("text block: %s; left out or cut", message)


def _yyyymmdd(day: date | None) -> str:
    return day.strftime("%Y%m%d") if day else ""
