"""What the document-number tests share: the standard's check character as an oracle."""

from __future__ import annotations

from datetime import date

import pytest

from gate.domain.documents import DocumentType, validate
from gate.domain.errors import DocumentInvalid

WORKED_EXAMPLE = "11010519491231002X"  # GB 11643-1999, annex: female, 1949-12-31, 朝阳区
TODAY = date(2024, 6, 1)


def iso7064_mod11_2(first17: str) -> str:
    """The check character computed straight from the standard's weights, as an oracle."""
    weights = [pow(2, 17 - position, 11) for position in range(17)]
    total = sum(int(digit) * weight for digit, weight in zip(first17, weights, strict=True))
    return "10X98765432"[total % 11]


def with_check(first17: str) -> str:
    """A full 18-character number: ``first17`` and its check character."""
    return first17 + iso7064_mod11_2(first17)


def rejection(doc_type: DocumentType, number: str, *, today: date | None = TODAY) -> str:
    """The reason code ``validate`` gives for ``number``; fails the test if it is accepted."""
    with pytest.raises(DocumentInvalid) as caught:
        validate(doc_type, number, today=today)
    return caught.value.reason
