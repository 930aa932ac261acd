"""An identity card as a reader returns it: the fields of the four card types GA 467 knows.

Pure data. ``to_document`` turns it into the ``DocumentRead`` the pipeline decides on; the
WLT photo stays opaque bytes (decoding it needs a vendor library).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from gate.domain.documents import DocumentType, mask
from gate.domain.model import DocumentRead
from gate.domain.people import Sex


class CardType(StrEnum):
    """The card kinds a GA 467 reader tells apart (flag at text offset 248)."""

    RESIDENT = "resident"  # 居民身份证, flag " "
    HK_MO_TW = "hk_mo_tw"  # 港澳台居民居住证, flag "J"
    FOREIGN_2017 = "foreign_2017"  # 外国人永久居留身份证 2017, flag "I"
    FOREIGN_2023 = "foreign_2023"  # 外国人永久居留身份证 2023, flag "Y"


DOCUMENT_TYPE_OF_CARD = {
    CardType.RESIDENT: DocumentType.RESIDENT_ID,
    CardType.HK_MO_TW: DocumentType.HMT_RESIDENCE_PERMIT,
    CardType.FOREIGN_2017: DocumentType.FOREIGN_PERMANENT_2017,
    CardType.FOREIGN_2023: DocumentType.FOREIGN_PERMANENT_2023,
}


@dataclass(frozen=True)
class IdCard:
    """Everything a card read returns; fields that do not apply to the card type are None."""

    card_type: CardType
    id_number: str
    name: str
    sex: Sex
    birth_date: date | None
    valid_from: date | None
    valid_to: date | None  # None: long-term (长期)
    name_en: str | None = None
    ethnicity: str | None = None
    address: str | None = None
    authority: str | None = None
    pass_number: str | None = None
    issue_count: int | None = None
    nationality: str | None = None
    renewal_count: int | None = None
    previous_number: str | None = None
    address_endorsement: str | None = None
    photo_wlt: bytes | None = None

    def __repr__(self) -> str:
        return f"IdCard({self.card_type.value}, {mask(self.id_number)})"

    def to_document(self) -> DocumentRead:
        """The credential's document part."""
        return DocumentRead(
            doc_type=DOCUMENT_TYPE_OF_CARD[self.card_type],
            number=self.id_number,
            name=self.name,
            sex=self.sex,
            birth_date=self.birth_date,
            valid_to=self.valid_to,
            valid_to_known=True,
        )

    def to_json(self) -> dict[str, Any]:
        """The JSON shape of ``gate devices read-id`` and of the demo's cards.json."""
        return {
            "card_type": self.card_type.value,
            "name": self.name,
            "name_en": self.name_en,
            "sex": self.sex.value,
            "ethnicity": self.ethnicity,
            "birth_date": _iso(self.birth_date),
            "address": self.address,
            "id_number": self.id_number,
            "authority": self.authority,
            "valid_from": _iso(self.valid_from),
            "valid_to": _iso(self.valid_to),
            "pass_number": self.pass_number,
            "issue_count": self.issue_count,
            "nationality": self.nationality,
            "renewal_count": self.renewal_count,
            "previous_number": self.previous_number,
            "address_endorsement": self.address_endorsement,
            "photo_wlt_b64": base64.b64encode(self.photo_wlt).decode() if self.photo_wlt else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> IdCard:
        """Read the JSON shape back (the emulator's card files)."""
        photo = data.get("photo_wlt_b64")
        return cls(
            card_type=CardType(data["card_type"]),
            id_number=str(data["id_number"]),
            name=str(data.get("name") or ""),
            sex=Sex(data.get("sex") or "unknown"),
            birth_date=_date(data.get("birth_date")),
            valid_from=_date(data.get("valid_from")),
            valid_to=_date(data.get("valid_to")),
            name_en=data.get("name_en"),
            ethnicity=data.get("ethnicity"),
            address=data.get("address"),
            authority=data.get("authority"),
            pass_number=data.get("pass_number"),
            issue_count=data.get("issue_count"),
            nationality=data.get("nationality"),
            renewal_count=data.get("renewal_count"),
            previous_number=data.get("previous_number"),
            address_endorsement=data.get("address_endorsement"),
            photo_wlt=base64.b64decode(photo) if photo else None,
        )


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _date(text: object) -> date | None:
    return date.fromisoformat(str(text)) if text else None
