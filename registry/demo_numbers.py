"""Document numbers and dates for the demo: valid, unique, reproducible from the seed."""

from __future__ import annotations

import random
from datetime import date

from gate.domain.documents import DocumentType, gb11643_check_character, validate
from gate.domain.people import Sex
from registry.demo_facts import REFERENCE_DATE


class DocumentNumbers:
    """Draws numbers that validate and were not drawn before (from the demo's random)."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._used: set[str] = set()

    def _sequence(self, sex: Sex) -> str:
        parity = self._rng.randrange(1, 10, 2) if sex is Sex.MALE else self._rng.randrange(0, 10, 2)
        return f"{self._rng.randrange(100):02d}{parity}"

    def gb11643(self, doc_type: DocumentType, prefix: str, birth: date, sex: Sex) -> str:
        """A GB 11643 number (resident ID, HMT permit, 2023 foreigner card)."""
        while True:
            first17 = f"{prefix}{birth:%Y%m%d}{self._sequence(sex)}"
            if self._fresh(doc_type, first17 + gb11643_check_character(first17)):
                return first17 + gb11643_check_character(first17)

    def foreign_2017(self, letters: str, birth: date, sex: Sex) -> str:
        """A 2017 foreigner card number (its check digit is a stand-in: unpublished)."""
        while True:
            # letters + authority 1501 (Hohhot) + YYMMDD + sequence digit + check digit
            number = (
                f"{letters}1501{birth:%y%m%d}{self._rng.randrange(10)}{self._rng.randrange(10)}"
            )
            if self._fresh(DocumentType.FOREIGN_PERMANENT_2017, number):
                return number

    def _fresh(self, doc_type: DocumentType, number: str) -> bool:
        """Reserve ``number`` if unused; it must validate (a bug here is not the user's)."""
        if number in self._used:
            return False
        validate(doc_type, number, today=REFERENCE_DATE)
        self._used.add(number)
        return True


def age_of(birth: date, on: date = REFERENCE_DATE) -> int:
    """Whole years from ``birth`` to ``on``."""
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def add_years(day: date, years: int) -> date:
    """The same day ``years`` later (28 February for a 29 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def resident_card_years(age: int) -> int | None:
    """Validity of a resident ID issued at ``age`` (Resident ID Card Law, art. 5); None: 长期."""
    for limit, years in ((16, 5), (26, 10), (46, 20)):
        if age < limit:
            return years
    return None
