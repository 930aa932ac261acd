"""A reproducible demo compound shaped like the Ruyi compound of Hohhot, early 2020.

``generate_demo`` is pure: from a seed and a date it draws the layout (37 buildings, 161
units), one ``PersonRecord`` per person (1,838 households, about 4,600 people, 268 of
them in home quarantine in 244 households), the staff duties and about twenty ID cards
as a GA 467 reader returns them. Names, sexes and phones come from Faker's zh_CN provider
seeded with the seed; every other choice from ``random.Random(seed)``. Birth dates are
drawn back from ``REFERENCE_DATE``, never from the clock. ``registry.demo_seed`` writes
the result into a registry and saves the cards.

Document numbers follow GB 11643 (check character from ``gate.domain.documents``), except the
2017 foreigner card, whose check digit is a stand-in because its algorithm is unpublished.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from faker import Faker

from gate.domain.documents import DocumentType
from gate.domain.people import HealthStatus, LegalBasis, PersonKind, Relation, Sex, StaffRole
from registry.demo_facts import (
    BUILDINGS,
    CARD_2023_SINCE,
    CARD_KEYS,
    ETHNICITIES,
    ETHNICITY_WEIGHTS,
    FIVE_UNIT_BUILDINGS,
    FOREIGN_2017,
    FOREIGN_2023,
    GUARDS,
    HMT_HOLDERS,
    HMT_PERMITS,
    HOME_REGION,
    HOUSEHOLD_SIZES,
    HOUSEHOLDS,
    NATIONS,
    OFFICE_STAFF,
    QUARANTINE_DAYS,
    QUARANTINE_PAIRS,
    QUARANTINE_SINGLES,
    REFERENCE_DATE,
    REGIONS,
    ROOMS,
    SIZE_WEIGHTS,
    STREETS,
    TENANT_HOUSEHOLDS,
    Card,
    CardValue,
)
from registry.demo_numbers import DocumentNumbers, add_years, age_of, resident_card_years
from registry.records import PersonRecord, StatusEntry


@dataclass(frozen=True)
class StaffDuty:
    """A duty to attach to a generated person once it has a row."""

    person: PersonRecord
    role: StaffRole
    building: str | None = None


@dataclass(frozen=True)
class DemoCompound:
    """Everything ``generate_demo`` draws: layout, persons, duties, cards."""

    seed: int
    today: date
    buildings: tuple[tuple[str, tuple[str, ...]], ...]
    persons: tuple[PersonRecord, ...]
    duties: tuple[StaffDuty, ...]
    cards: tuple[Card, ...]


_Home = tuple[str, str, str] | None


@dataclass
class _Draft:
    """A person while being generated; frozen into a ``PersonRecord`` at the end."""

    name: str
    sex: Sex
    birth: date
    doc_type: DocumentType
    number: str
    phone: str | None
    relation: Relation | None
    kind: PersonKind
    home: _Home
    name_en: str | None = None
    nationality: str | None = None
    status: StatusEntry | None = None

    def record(self) -> PersonRecord:
        building, unit, room = self.home or (None, None, None)
        return PersonRecord(
            name=self.name,
            sex=self.sex,
            doc_type=self.doc_type,
            doc_number=self.number,
            building=building,
            unit=unit,
            room=room,
            birth_date=self.birth,
            phone=self.phone,
            relation=self.relation,
            kind=self.kind,
            status=self.status,
        )


@dataclass
class _StaffDraft:
    person: _Draft
    role: StaffRole
    building: str | None = None


def generate_demo(*, seed: int, today: date, compound_name: str = "如意小区") -> DemoCompound:
    """Draw the demo compound for ``seed``; the same seed and date give the same result."""
    return _Generator(seed, today, compound_name).build()


class _Generator:
    def __init__(self, seed: int, today: date, compound_name: str) -> None:
        self.seed, self.today, self.compound_name = seed, today, compound_name
        self.rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not secrets
        self.fake, self.fake_en = Faker("zh_CN"), Faker("en_US")
        self.fake.seed_instance(seed)
        self.fake_en.seed_instance(seed)
        self.numbers = DocumentNumbers(self.rng)

    def build(self) -> DemoCompound:
        rng = self.rng
        five = set(rng.sample(range(BUILDINGS), FIVE_UNIT_BUILDINGS))
        buildings = tuple(
            (str(b + 1), tuple(str(u) for u in range(1, (5 if b in five else 4) + 1)))
            for b in range(BUILDINGS)
        )
        slots = [(b, u, room) for b, units in buildings for u in units for room in ROOMS]
        tenants = set(rng.sample(range(HOUSEHOLDS), TENANT_HOUSEHOLDS))
        households = [
            self._household(slots[slot], tenant=n in tenants)
            for n, slot in enumerate(sorted(rng.sample(range(len(slots)), HOUSEHOLDS)))
        ]
        foreign = self._make_foreign([p for h in households for p in h[1:]])
        heads = self._building_heads(households, buildings, exclude=foreign)
        staff = [self._staff(StaffRole.GUARD) for _ in range(GUARDS)]
        staff += [self._staff(StaffRole.PROPERTY_OFFICE) for _ in range(OFFICE_STAFF)]
        # Keep building heads and foreign card holders out of quarantine, so each demo card
        # shows one case.
        skip = {id(d.person) for d in heads} | {id(d) for g in foreign.values() for d in g}
        quarantined = self._quarantine(households, exclude=skip)
        cards = self._cards(households, foreign, quarantined, heads)
        records = {id(draft): draft.record() for h in households for draft in h}
        records.update({id(d.person): d.person.record() for d in staff})
        duties = [StaffDuty(records[id(d.person)], d.role, d.building) for d in heads + staff]
        return DemoCompound(
            self.seed, self.today, buildings, tuple(records.values()), tuple(duties), tuple(cards)
        )

    # --- persons ----------------------------------------------------------------------

    def _person(
        self, sex: Sex, age: int, *, relation: Relation | None, kind: PersonKind, home: _Home
    ) -> _Draft:
        birth = REFERENCE_DATE - timedelta(days=age * 365 + self.rng.randrange(365))
        name = self.fake.name_male() if sex is Sex.MALE else self.fake.name_female()
        phone = self.fake.phone_number() if age >= 14 else None
        region = HOME_REGION if self.rng.random() < 0.8 else self.rng.choice(sorted(REGIONS))
        number = self.numbers.gb11643(DocumentType.RESIDENT_ID, region, birth, sex)
        return _Draft(
            name, sex, birth, DocumentType.RESIDENT_ID, number, phone, relation, kind, home
        )

    def _household(self, home: tuple[str, str, str], *, tenant: bool) -> list[_Draft]:
        rng = self.rng
        size = rng.choices(HOUSEHOLD_SIZES, SIZE_WEIGHTS)[0]
        kind = PersonKind.TENANT if tenant else PersonKind.RESIDENT

        def member(sex: Sex, age: int, relation: Relation) -> _Draft:
            return self._person(
                sex, age, relation=Relation.TENANT if tenant else relation, kind=kind, home=home
            )

        owner_age, owner_sex = rng.randint(26, 80), rng.choice((Sex.MALE, Sex.FEMALE))
        members = [member(owner_sex, owner_age, Relation.OWNER)]
        if size >= 2:
            partner = Sex.FEMALE if owner_sex is Sex.MALE else Sex.MALE
            members.append(
                member(partner, max(22, owner_age + rng.randint(-5, 5)), Relation.FAMILY)
            )
        for _ in range(size - 2):
            sex = rng.choice((Sex.MALE, Sex.FEMALE))
            if owner_age < 60 and rng.random() < 0.25:
                age = min(99, owner_age + rng.randint(22, 32))  # a parent moved in
            else:
                age = rng.randint(0, max(0, owner_age - 22))
            members.append(member(sex, age, Relation.FAMILY))
        return members

    def _staff(self, role: StaffRole) -> _StaffDraft:
        sex = self.rng.choice((Sex.MALE, Sex.FEMALE))
        age = self.rng.randint(25, 60)
        draft = self._person(sex, age, relation=None, kind=PersonKind.STAFF, home=None)
        return _StaffDraft(draft, role)

    def _make_foreign(self, candidates: list[_Draft]) -> dict[str, list[_Draft]]:
        """Give a few adult family members foreign or HMT documents instead of resident IDs."""
        adults = [d for d in candidates if d.kind is PersonKind.RESIDENT and age_of(d.birth) >= 20]
        chosen = self.rng.sample(adults, FOREIGN_2017 + FOREIGN_2023 + HMT_HOLDERS)
        groups = {
            "foreign_2017": chosen[:FOREIGN_2017],
            "foreign_2023": chosen[FOREIGN_2017 : FOREIGN_2017 + FOREIGN_2023],
            "hk_mo_tw": chosen[FOREIGN_2017 + FOREIGN_2023 :],
        }
        for n, draft in enumerate(groups["hk_mo_tw"]):
            region, _prefix = HMT_PERMITS[n % len(HMT_PERMITS)]
            draft.doc_type = DocumentType.HMT_RESIDENCE_PERMIT
            draft.number = self.numbers.gb11643(draft.doc_type, region, draft.birth, draft.sex)
        for card_type in ("foreign_2017", "foreign_2023"):
            for draft in groups[card_type]:
                letters, digits = self.rng.choice(NATIONS)
                male = draft.sex is Sex.MALE
                first = self.fake_en.first_name_male() if male else self.fake_en.first_name_female()
                draft.name_en = f"{self.fake_en.last_name().upper()}, {first.upper()}"
                draft.nationality = letters
                if card_type == "foreign_2017":
                    draft.doc_type = DocumentType.FOREIGN_PERMANENT_2017
                    draft.number = self.numbers.foreign_2017(letters, draft.birth, draft.sex)
                else:
                    draft.doc_type = DocumentType.FOREIGN_PERMANENT_2023
                    prefix = f"915{digits}"  # 9, province 15 (Inner Mongolia), nationality
                    draft.number = self.numbers.gb11643(
                        draft.doc_type, prefix, draft.birth, draft.sex
                    )
        return groups

    def _building_heads(
        self,
        households: list[list[_Draft]],
        buildings: tuple[tuple[str, tuple[str, ...]], ...],
        *,
        exclude: dict[str, list[_Draft]],
    ) -> list[_StaffDraft]:
        """Two resident adults of each building become its building heads."""
        skip = {id(d) for group in exclude.values() for d in group}
        by_building: dict[str, list[_Draft]] = {label: [] for label, _units in buildings}
        for draft in (d for h in households for d in h):
            adult = 25 <= age_of(draft.birth) <= 65
            if draft.kind is PersonKind.RESIDENT and adult and id(draft) not in skip and draft.home:
                by_building[draft.home[0]].append(draft)
        return [
            _StaffDraft(draft, StaffRole.BUILDING_HEAD, label)
            for label, candidates in by_building.items()
            for draft in self.rng.sample(candidates, 2)
        ]

    def _quarantine(self, households: list[list[_Draft]], *, exclude: set[int]) -> list[_Draft]:
        """Put 268 persons of 244 households (none holding an excluded person) in quarantine."""
        eligible = [h for h in households if not any(id(d) in exclude for d in h)]
        pairs = self.rng.sample([h for h in eligible if len(h) >= 2], QUARANTINE_PAIRS)
        paired = {id(h) for h in pairs}
        singles = self.rng.sample([h for h in eligible if id(h) not in paired], QUARANTINE_SINGLES)
        quarantined: list[_Draft] = []
        for household in pairs + singles:
            first_day = self.today - timedelta(days=self.rng.randrange(13))
            entry = StatusEntry(
                HealthStatus.HOME_QUARANTINE,
                first_day=first_day,
                last_day=first_day + timedelta(days=QUARANTINE_DAYS - 1),
                legal_basis=LegalBasis.PUBLIC_HEALTH_EMERGENCY,
                note="密切接触者居家隔离",
            )
            for draft in self.rng.sample(household, 2 if id(household) in paired else 1):
                draft.status = entry
                quarantined.append(draft)
        return quarantined

    # --- cards ------------------------------------------------------------------------

    def _cards(
        self,
        households: list[list[_Draft]],
        foreign: dict[str, list[_Draft]],
        quarantined: list[_Draft],
        heads: list[_StaffDraft],
    ) -> list[Card]:
        """About twenty cards: residents, quarantined, outsiders, foreigners, expired cards."""
        rng = self.rng
        # Card holders are adults, so every card was issued after its holder's 16th birthday.
        adults = [
            d
            for h in households
            for d in h
            if d.doc_type is DocumentType.RESIDENT_ID and age_of(d.birth, self.today) >= 20
        ]
        taken = {id(d) for d in quarantined} | {id(d.person) for d in heads}
        expired = rng.sample(
            [d for d in adults if id(d) not in taken and 47 <= age_of(d.birth, self.today) <= 64], 3
        )
        taken |= {id(d) for d in expired}
        valid = [*rng.sample([d for d in adults if id(d) not in taken], 5), heads[0].person]
        cards = [self._resident_card(d, "resident") for d in valid]
        sick = rng.sample([d for d in adults if d.status is not None], 4)
        cards += [self._resident_card(d, "quarantined") for d in sick]
        for _ in range(4):
            sex, age = rng.choice((Sex.MALE, Sex.FEMALE)), rng.randint(18, 70)
            outsider = self._person(sex, age, relation=None, kind=PersonKind.RESIDENT, home=None)
            cards.append(self._resident_card(outsider, "outsider"))
        for card_type in ("foreign_2017", "foreign_2023", "hk_mo_tw"):
            holders = foreign[card_type][:2]
            cards += [self._foreign_card(d, card_type, renewed=d is holders[0]) for d in holders]
        cards += [self._resident_card(d, "expired_card", expired=True) for d in expired]
        return cards

    def _card(self, draft: _Draft, card_type: str, expected: str, **fields: CardValue) -> Card:
        card: Card = dict.fromkeys(CARD_KEYS)
        card.update(
            card_type=card_type,
            name=draft.name,
            sex=draft.sex.value,
            birth_date=draft.birth.isoformat(),
            id_number=draft.number,
            expected=expected,
            **fields,
        )
        return card

    def _issued(self) -> date:
        return self.today - timedelta(days=self.rng.randint(30, 1500))

    def _resident_card(self, draft: _Draft, expected: str, *, expired: bool = False) -> Card:
        if draft.home is None:
            region = draft.number[:6]
            prefix, authority = REGIONS[region]
            address = f"{prefix}{self.rng.choice(STREETS)}{self.rng.randint(1, 300)}号"
        else:
            address, authority = self._home_address(draft.home), REGIONS[HOME_REGION][1]
        valid_to: date | None
        if expired:  # a 20-year card, issued between the ages of 26 and 45
            valid_to = self.today - timedelta(days=self.rng.randint(10, 300))
            valid_from = add_years(valid_to, -20)
        else:
            valid_from = self._issued()
            years = resident_card_years(age_of(draft.birth, valid_from))
            valid_to = add_years(valid_from, years) if years else None
        ethnicity = self.rng.choices(ETHNICITIES, ETHNICITY_WEIGHTS)[0]
        return self._card(
            draft, "resident", expected, ethnicity=ethnicity, address=address,
            authority=authority, valid_from=valid_from.isoformat(),
            valid_to=valid_to.isoformat() if valid_to else None,
        )  # fmt: skip

    def _foreign_card(self, draft: _Draft, card_type: str, *, renewed: bool) -> Card:
        issued = self._issued()
        # The 2023 card replaced the 2017 one on 1 December 2023; keep to that where the
        # demo date allows it.
        if card_type == "foreign_2017" and self.today < add_years(CARD_2023_SINCE, 10):
            issued = min(issued, CARD_2023_SINCE - timedelta(days=1))
        elif card_type == "foreign_2023" and self.today > CARD_2023_SINCE:
            issued = max(issued, CARD_2023_SINCE)
        years = 10 if age_of(draft.birth, issued) >= 18 else 5
        fields: dict[str, CardValue] = {"valid_from": issued.isoformat()}
        if card_type == "hk_mo_tw":
            prefix = dict(HMT_PERMITS)[draft.number[:6]]
            years = 5
            fields.update(
                address=self._home_address(draft.home) if draft.home else None,
                authority=REGIONS[HOME_REGION][1],
                pass_number=f"{prefix}{self.rng.randrange(10**8):08d}",
                issue_count=self.rng.randint(1, 3),
            )
        else:
            fields.update(name_en=draft.name_en, nationality=draft.nationality)
            fields["authority"] = "公安部" if card_type == "foreign_2017" else "国家移民管理局"
        if card_type == "foreign_2023":
            assert draft.nationality is not None
            # A card that replaced a 2017 one names it; the demo shows one of each.
            previous = (
                self.numbers.foreign_2017(draft.nationality, draft.birth, draft.sex)
                if renewed
                else None
            )
            fields.update(renewal_count=int(renewed), previous_number=previous)
        fields["valid_to"] = add_years(issued, years).isoformat()
        return self._card(draft, card_type, "foreigner", **fields)

    def _home_address(self, home: tuple[str, str, str]) -> str:
        building, unit, room = home
        return f"{REGIONS[HOME_REGION][0]}{self.compound_name}{building}号楼{unit}单元{room}号"
