"""A simulated day at the gate: who does what, when, drawn from the registry snapshot.

``plan_day`` is pure: from the snapshot's persons (their households, kinds, statuses and
where the log says they are), their cards as a reader would read them, and a seed, it
draws a ``DayPlan``: the visits to register and the QR passes to issue first, then every
passage of the day in time order. The same snapshot, cards, date and seed give the same
plan. ``gate.app.simulation_run.simulate_day`` plays it through the real pipeline.

What a day holds (scale 1, the demo compound): residents leaving and coming back with
the morning (7-9) and evening (17-20) peaks of commuters and schoolchildren, the older
residents' market and park outings in the morning and their walks in the afternoon,
errands through the day, evening outings, a few night-shift workers; the guards'
shift changes and the office staff; quarantined residents trying to leave (a tenth of
them, some twice); registered visitors, most inside their window, some early (they try
again once it opens), some late, some overstaying; outsiders (couriers, riders) who go
to the guard; a fever at a lane with a thermometer; an expired card; a few residents who
slipped in behind a neighbour without a swipe, so the log still has them outside when
they leave again (anti-passback flags it). Each person's passages alternate out and in
from where the log has them at midnight, so anti-passback fires only for those.

With ``epidemic`` the household quota and the curfew are put in force for the simulated
day only (``DayPlan.rules``; nothing is written) and the day is a lockdown day: one
shopper from about half the households, a few essential workers, members of a household
whose outing is used trying anyway (refused by the quota), someone leaving after 23:00
(refused by the curfew), more deliveries and fewer visitors.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from gate.domain.documents import DocumentType, gb11643_check_character
from gate.domain.model import CredentialKind, Direction, DocumentRead, Presence
from gate.domain.people import QUARANTINE_STATUSES, PersonKind
from gate.domain.rules import DEFAULT_RULES, RuleConfig, RuleKind
from gate.domain.snapshot import PersonFacts, RegistrySnapshot
from gate.domain.status import current_period, start_of_local_day

EPIDEMIC_RULE_KINDS = (RuleKind.HOUSEHOLD_QUOTA, RuleKind.CURFEW)
FEVER_TEMPERATURE = 38.2
DAY_SECONDS = 24 * 3600
_LAST_HOUR = 23.99  # a return planned later than this does not happen today
_REGIONS = ("150102", "150103", "150104", "150105", "150121", "110105", "130102", "140105")
_SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
_GIVEN = ("伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟")
_VISIT_REASONS = ("探亲", "访友", "维修", "家政", "送药", "看望老人")


@dataclass(frozen=True)
class SimLane:
    """A lane the simulation may use: its id, the way its reader faces, a thermometer."""

    id: str
    direction: Direction | None = None  # None: read both ways
    thermometer: bool = False


@dataclass(frozen=True)
class DayOptions:
    """What day to draw, from which seed, how large, under which rules."""

    day: date
    seed: int
    lanes: tuple[SimLane, ...]
    scale: float = 1.0  # the share of the compound that takes part (tests play a small day)
    epidemic: bool = False

    def __post_init__(self) -> None:
        if not 0 < self.scale <= 1:
            raise ValueError("scale must be in (0, 1]")
        if not self.lanes:
            raise ValueError("a day needs at least one lane")


@dataclass(frozen=True)
class PlannedPassage:
    """One passage of the plan: who, when, which way, where, with what.

    ``who`` is the key the runner keeps presence under (a person's ref, ``visit:N``),
    None for an outsider nobody tracks. ``swipe`` False: the person walks through behind
    someone else without a passage (only the runner's idea of where they are moves).
    """

    at: datetime
    who: str | None
    direction: Direction
    lane: str
    via: CredentialKind
    card: DocumentRead | None
    story: str
    temperature: float | None = None
    swipe: bool = True


@dataclass(frozen=True)
class PlannedVisit:
    """A visit to register before the day is played (its window starts at ``starts_at``)."""

    key: str
    name: str
    card: DocumentRead
    host: str  # "3-2-502"
    starts_at: datetime
    hours: float
    reason: str


@dataclass(frozen=True)
class PlannedPass:
    """A resident's QR pass to issue at the start of the day (a printed one does not rotate)."""

    person_ref: str
    rotating: bool


@dataclass(frozen=True)
class DayPlan:
    """Everything ``simulate_day`` plays; ``rules`` replaces the registry's rules if set."""

    day: date
    seed: int
    scale: float
    epidemic: bool
    starts_at: datetime
    visits: tuple[PlannedVisit, ...]
    passes: tuple[PlannedPass, ...]
    passages: tuple[PlannedPassage, ...]
    rules: tuple[RuleConfig, ...] | None
    quarantined: frozenset[str]  # persons in quarantine at noon of the day


def epidemic_rules(rules: tuple[RuleConfig, ...], since: datetime) -> tuple[RuleConfig, ...]:
    """The rules with the household quota and the curfew in force from ``since``."""
    kinds = {rule.kind for rule in rules}
    missing = tuple(
        rule
        for rule in DEFAULT_RULES
        if rule.kind in EPIDEMIC_RULE_KINDS and rule.kind not in kinds
    )
    return tuple(
        dataclasses.replace(rule, effective_from=since, effective_to=None)
        if rule.kind in EPIDEMIC_RULE_KINDS and not rule.in_force(since)
        else rule
        for rule in (*rules, *missing)
    )


def plan_day(
    snapshot: RegistrySnapshot, cards: Mapping[str, DocumentRead], options: DayOptions
) -> DayPlan:
    """Draw the day; see the module docstring."""
    return _Planner(snapshot, cards, options).plan()


_Leg = tuple[float, Direction, str]  # hour of the day, direction, story


class _Planner:
    def __init__(
        self, snapshot: RegistrySnapshot, cards: Mapping[str, DocumentRead], options: DayOptions
    ) -> None:
        self.snapshot, self.cards, self.options = snapshot, cards, options
        # A string seed is hashed the same way in every process (PYTHONHASHSEED does not matter).
        self.rng = random.Random(f"gate-simulate:{options.seed}:{options.day.isoformat()}")  # noqa: S311
        self.start = start_of_local_day(options.day)
        self.noon = self.start + timedelta(hours=12)
        self.passages: list[PlannedPassage] = []
        self.thermometers = tuple(lane for lane in options.lanes if lane.thermometer)

    # --- the plan ---------------------------------------------------------------------

    def plan(self) -> DayPlan:
        rng, options = self.rng, self.options
        # Refs differ between two databases seeded alike; document numbers do not.
        persons = sorted(
            (facts for facts in self.snapshot.persons.values() if facts.ref in self.cards),
            key=lambda facts: (self.cards[facts.ref].doc_type.value, self.cards[facts.ref].number),
        )
        quarantined = [facts for facts in persons if self._quarantined(facts)]
        taking_part = [
            facts
            for facts in persons
            if not self._quarantined(facts) and rng.random() < options.scale
        ]
        legs: dict[str, list[_Leg]] = {}
        staff = [facts for facts in taking_part if facts.kind is PersonKind.STAFF]
        for index, facts in enumerate(staff):
            legs[facts.ref] = self._staff_day(index)
        residents = [facts for facts in taking_part if facts.kind is not PersonKind.STAFF]
        if options.epidemic:
            self._lockdown_day(residents, legs)
        else:
            for facts in residents:
                legs[facts.ref] = self._resident_day(self._age(facts))
        for facts in self._pick(quarantined, 0.1 * len(quarantined) * options.scale):
            legs[facts.ref] = self._quarantine_attempts()
        for facts in quarantined:
            if self.snapshot.presence_of(facts.ref) is Presence.OUTSIDE:
                legs.setdefault(facts.ref, []).insert(
                    0, (rng.triangular(6, 10, 7), Direction.IN, "quarantine_return")
                )
        passes = self._passes(residents)
        qr = {issued.person_ref for issued in passes}
        specials = self._specials(residents, legs, qr)
        for facts in persons:
            if facts.ref in legs:
                self._add_person(facts, legs[facts.ref], qr, specials)
        visits = self._visits(persons)
        self._outsiders(
            {card.number for card in self.cards.values()} | {visit.card.number for visit in visits}
        )
        ordered = sorted(enumerate(self.passages), key=lambda item: (item[1].at, item[0]))
        return DayPlan(
            day=options.day,
            seed=options.seed,
            scale=options.scale,
            epidemic=options.epidemic,
            starts_at=self.start,
            visits=tuple(visits),
            passes=tuple(passes),
            passages=tuple(passage for _, passage in ordered),
            rules=epidemic_rules(self.snapshot.rules, self.start) if options.epidemic else None,
            quarantined=frozenset(facts.ref for facts in quarantined),
        )

    # --- helpers ----------------------------------------------------------------------

    def _quarantined(self, facts: PersonFacts) -> bool:
        period = current_period(facts.statuses, self.noon)
        return period is not None and period.status in QUARANTINE_STATUSES

    def _age(self, facts: PersonFacts) -> int:
        birth = self.cards[facts.ref].birth_date
        if birth is None:
            return 40
        return (self.options.day - birth).days // 365

    def _pick(self, people: list[PersonFacts], share: float) -> list[PersonFacts]:
        """``share`` of them rounded, at least one when there are any."""
        count = min(len(people), max(1, round(share)))
        return self.rng.sample(people, count) if people else []

    def _at(self, hour: float) -> datetime:
        seconds = min(max(0, round(hour * 3600)), DAY_SECONDS - 1)
        return self.start + timedelta(seconds=seconds)

    def _lane(self, direction: Direction, *, thermometer: bool = False) -> SimLane:
        lanes = self.thermometers if thermometer and self.thermometers else self.options.lanes
        facing = [lane for lane in lanes if lane.direction in (None, direction)]
        return self.rng.choice(facing or list(lanes))

    def _trips(self, *trips: tuple[float, float, str]) -> list[_Leg]:
        """Out and back legs of trips that do not overlap; a late return is left out."""
        legs: list[_Leg] = []
        free_from = 0.0
        for leave, back, story in sorted(trips):
            if leave < free_from or leave >= _LAST_HOUR:
                continue
            legs.append((leave, Direction.OUT, story))
            if back >= _LAST_HOUR:
                break  # out overnight
            legs.append((back, Direction.IN, story))
            free_from = back + 0.1
        return legs

    # --- who does what ----------------------------------------------------------------

    def _resident_day(self, age: int) -> list[_Leg]:
        rng = self.rng
        tri, uni = rng.triangular, rng.uniform
        trips: list[tuple[float, float, str]] = []
        roll = rng.random()
        if age < 3:
            if roll < 0.3:
                leave = tri(9, 11.5, 10)
                trips.append((leave, leave + uni(1, 2), "errand"))
        elif age < 18:
            if roll < 0.85:
                if age < 6:
                    trips.append((tri(7.4, 8.6, 7.9), tri(16.3, 17.8, 16.8), "school"))
                else:
                    trips.append((tri(6.7, 7.9, 7.3), tri(16, 19, 17.3), "school"))
            if age >= 10 and rng.random() < 0.25:
                leave = tri(19, 20.5, 19.5)
                trips.append((leave, leave + uni(0.5, 1.5), "evening"))
        elif age < 65:
            if roll < 0.03:
                # Back from the night shift in the morning, off again at night.
                return [
                    (tri(6.5, 8.5, 7.2), Direction.IN, "night_shift"),
                    (tri(20.5, 22.8, 21.8), Direction.OUT, "night_shift"),
                ]
            if roll < 0.63:
                back = tri(16.8, 20.5, 18.2)
                trips.append((tri(6.5, 9.5, 7.9), back, "commute"))
                if rng.random() < 0.2:
                    leave = back + uni(0.5, 2.5)
                    trips.append((leave, leave + uni(0.5, 2), "evening"))
            else:
                for _ in range(rng.choices((0, 1, 2, 3), (2, 4, 3, 1))[0]):
                    leave = uni(8.5, 17)
                    trips.append((leave, leave + uni(0.3, 2.5), "errand"))
                if rng.random() < 0.1:
                    leave = tri(19, 21.5, 19.5)
                    trips.append((leave, leave + uni(0.5, 1.5), "evening"))
        elif age < 85:
            if roll < 0.7:
                leave = tri(6.3, 9.5, 7.3)
                trips.append((leave, leave + uni(0.75, 2.5), "market"))
            if rng.random() < 0.35:
                leave = tri(15, 17.5, 16)
                trips.append((leave, leave + uni(0.5, 1.5), "walk"))
            if rng.random() < 0.12:
                leave = tri(19, 19.75, 19.2)
                trips.append((leave, leave + uni(1, 1.5), "square_dance"))
        elif roll < 0.35:
            leave = tri(8.5, 10.5, 9)
            trips.append((leave, leave + uni(0.5, 1.2), "walk"))
        return self._trips(*trips)

    def _staff_day(self, index: int) -> list[_Leg]:
        tri = self.rng.triangular
        if index % 3 == 0:  # the day shift of the guards
            return [
                (tri(7.6, 7.95, 7.8), Direction.IN, "shift"),
                (tri(20.02, 20.3, 20.1), Direction.OUT, "shift"),
            ]
        if index % 3 == 1:  # the night shift hands over and comes back in the evening
            return [
                (tri(8.03, 8.3, 8.1), Direction.OUT, "shift"),
                (tri(19.6, 19.95, 19.8), Direction.IN, "shift"),
            ]
        legs = [(tri(8.2, 8.75, 8.5), Direction.IN, "office")]
        if self.rng.random() < 0.5:
            legs += [
                (tri(11.9, 12.3, 12), Direction.OUT, "office"),
                (tri(12.9, 13.4, 13.1), Direction.IN, "office"),
            ]
        return [*legs, (tri(17.4, 18.2, 17.6), Direction.OUT, "office")]

    def _lockdown_day(self, residents: list[PersonFacts], legs: dict[str, list[_Leg]]) -> None:
        rng = self.rng
        tri, uni = rng.triangular, rng.uniform
        households: dict[str, list[PersonFacts]] = {}
        for facts in residents:
            if facts.household_ref is not None:
                households.setdefault(facts.household_ref, []).append(facts)
        for members in households.values():
            adults = [facts for facts in members if 18 <= self._age(facts) < 76]
            if not adults:
                continue
            workers = [facts for facts in adults if self._age(facts) < 60 and rng.random() < 0.06]
            for facts in workers:
                legs[facts.ref] = self._trips(
                    (tri(6.5, 8.5, 7.5), tri(17, 19.5, 18), "essential_work")
                )
            others = [facts for facts in adults if facts not in workers]
            if not others:
                continue
            went = bool(workers)
            if rng.random() < 0.5:
                went = True
                shopper = rng.choice(others)
                leave = uni(8, 17)
                legs[shopper.ref] = self._trips((leave, leave + uni(0.5, 2), "shopping"))
                others.remove(shopper)
            if went and others and rng.random() < 0.25:
                # The household's outing is used; someone tries anyway (the quota refuses).
                leave = uni(9, 18)
                legs[rng.choice(others).ref] = self._trips((leave, leave + 1, "quota_try"))
        stay_home = [
            facts for facts in residents if facts.ref not in legs and self._age(facts) >= 18
        ]
        for facts in self._pick(stay_home, 4 * self.options.scale):
            legs[facts.ref] = [(tri(23.05, 23.9, 23.3), Direction.OUT, "curfew")]

    def _quarantine_attempts(self) -> list[_Leg]:
        first = self.rng.uniform(7.5, 20.5)
        legs: list[_Leg] = [(first, Direction.OUT, "quarantine_exit")]
        if self.rng.random() < 0.3:
            legs.append((first + self.rng.uniform(0.3, 2), Direction.OUT, "quarantine_exit"))
        return legs

    def _passes(self, residents: list[PersonFacts]) -> list[PlannedPass]:
        rng = self.rng
        phones = [facts for facts in residents if 18 <= self._age(facts) < 56]
        paper = [facts for facts in residents if self._age(facts) >= 65]
        rotating = self._pick(phones, 0.05 * len(phones)) if phones else []
        printed = [facts for facts in paper if rng.random() < 0.02]
        return [PlannedPass(facts.ref, True) for facts in rotating] + [
            PlannedPass(facts.ref, False) for facts in printed
        ]

    def _specials(
        self, residents: list[PersonFacts], legs: dict[str, list[_Leg]], qr: set[str]
    ) -> dict[str, str]:
        """A fever, expired cards and tailgaters, among residents who go out and back."""
        scale = self.options.scale
        round_trips = [
            facts
            for facts in residents
            if facts.ref not in qr
            and [direction for _, direction, _ in legs.get(facts.ref, ())][:2]
            == [Direction.OUT, Direction.IN]
        ]
        specials: dict[str, str] = {}
        if self.thermometers and round_trips:
            specials[self.rng.choice(round_trips).ref] = "fever"
        twice = [
            facts
            for facts in round_trips
            if facts.ref not in specials and len(legs[facts.ref]) >= 4
        ]
        for facts in self._pick(twice, 4 * scale):
            specials[facts.ref] = "tailgate"
        rest = [facts for facts in round_trips if facts.ref not in specials]
        for facts in self._pick(rest, 3 * scale):
            specials[facts.ref] = "expired_card"
        return specials

    def _add_person(
        self, facts: PersonFacts, legs: list[_Leg], qr: set[str], specials: Mapping[str, str]
    ) -> None:
        rng = self.rng
        special = specials.get(facts.ref)
        card = self.cards[facts.ref]
        if special == "expired_card":
            expired = self.options.day - timedelta(days=rng.randint(20, 400))
            card = dataclasses.replace(card, valid_to=expired, valid_to_known=True)
        via = CredentialKind.QR_PASS if facts.ref in qr else CredentialKind.ID_CARD
        where = self.snapshot.presence_of(facts.ref)
        fever_done = tailgated = False
        for hour, direction, story in sorted(legs, key=lambda leg: leg[0]):
            # From where the log has them: a leg that goes the same way twice is dropped.
            if (direction is Direction.OUT and where is Presence.OUTSIDE) or (
                direction is Direction.IN and where is Presence.INSIDE
            ):
                continue
            where = Presence.OUTSIDE if direction is Direction.OUT else Presence.INSIDE
            fever = special == "fever" and direction is Direction.IN and not fever_done
            swipe = not (special == "tailgate" and direction is Direction.IN and not tailgated)
            tailgated = tailgated or not swipe
            fever_done = fever_done or fever
            lane = self._lane(direction, thermometer=fever)
            self.passages.append(
                PlannedPassage(
                    at=self._at(hour),
                    who=facts.ref,
                    direction=direction,
                    lane=lane.id,
                    via=via,
                    card=card if via is CredentialKind.ID_CARD else None,
                    story="fever" if fever else ("tailgate" if not swipe else special or story),
                    temperature=self._temperature(lane, direction, fever=fever),
                    swipe=swipe,
                )
            )

    def _temperature(self, lane: SimLane, direction: Direction, *, fever: bool) -> float | None:
        if fever:
            return FEVER_TEMPERATURE
        if not lane.thermometer or direction is not Direction.IN:
            return None
        return round(self.rng.uniform(35.9, 37.0), 1)

    def _card(self, taken: set[str]) -> DocumentRead:
        """A valid resident ID nobody in the registry (or drawn before) holds."""
        rng = self.rng
        while True:
            born = date(1950, 1, 1) + timedelta(days=rng.randrange(55 * 365))
            first17 = f"{rng.choice(_REGIONS)}{born:%Y%m%d}{rng.randrange(1000):03d}"
            number = first17 + gb11643_check_character(first17)
            if number not in taken:
                taken.add(number)
                return DocumentRead(DocumentType.RESIDENT_ID, number, birth_date=born)

    def _visits(self, persons: list[PersonFacts]) -> list[PlannedVisit]:
        rng = self.rng
        uni, tri = rng.uniform, rng.triangular
        texts = (
            _host_text(facts)
            for facts in persons
            if facts.household_ref is not None and not self._quarantined(facts)
        )
        hosts = sorted({text for text in texts if text is not None})
        if not hosts:
            return []
        count = max(2, round((8 if self.options.epidemic else 70) * self.options.scale))
        taken = {card.number for card in self.cards.values()}
        visits: list[PlannedVisit] = []
        for index in range(count):
            card = self._card(taken)
            name = f"{rng.choice(_SURNAMES)}{rng.choice(_GIVEN)}{rng.choice(('', *_GIVEN))}"
            start = tri(9, 19.5, 14)
            hours = float(rng.choice((1, 2, 2, 3, 4)))
            host = rng.choice(hosts)
            key = f"visit:{index}"
            visit = PlannedVisit(
                key, name, card, host, self._at(start), hours, rng.choice(_VISIT_REASONS)
            )
            visits.append(visit)
            end = start + hours
            kind = index % 10
            arrivals: list[tuple[float, str]]
            if kind == 3:  # early: the guard sees them, they come back when it opens
                arrivals = [
                    (start - uni(0.4, 1.5), "visitor_early"),
                    (start + uni(0, 0.2), "visitor"),
                ]
            elif kind == 7:  # after the window: nothing to come back to
                arrivals = [(end + uni(0.2, 1), "visitor_late")]
            else:
                arrivals = [(start + uni(0, 0.3), "visitor")]
            for hour, story in arrivals:
                self._visitor_passage(key, card, hour, Direction.IN, story)
            arrived = arrivals[-1][0]
            if kind == 7:
                continue
            if rng.random() < 0.2:
                leave, story = end + uni(0.1, 1), "visitor_overstay"
            else:
                leave, story = max(arrived + 0.25, end - uni(0, 0.5)), "visitor"
            if leave < _LAST_HOUR:
                self._visitor_passage(key, card, leave, Direction.OUT, story)
        return visits

    def _visitor_passage(
        self, key: str, card: DocumentRead, hour: float, direction: Direction, story: str
    ) -> None:
        lane = self._lane(direction)
        self.passages.append(
            PlannedPassage(
                at=self._at(hour),
                who=key,
                direction=direction,
                lane=lane.id,
                via=CredentialKind.ID_CARD,
                card=card,
                story=story,
                temperature=self._temperature(lane, direction, fever=False),
            )
        )

    def _outsiders(self, taken: set[str]) -> None:
        rng = self.rng
        attempts = max(3, round((220 if self.options.epidemic else 160) * self.options.scale))
        couriers = [self._card(taken) for _ in range(max(2, attempts // 2))]
        made = 0
        while made < attempts:
            roll = rng.random()
            if roll < 0.45:
                hour = rng.triangular(10.5, 13.5, 12)
            elif roll < 0.8:
                hour = rng.triangular(17, 20, 18.5)
            else:
                hour = rng.uniform(8, 22)
            card = rng.choice(couriers)
            tries = 2 if rng.random() < 0.3 else 1
            for attempt in range(min(tries, attempts - made)):
                lane = self._lane(Direction.IN)
                self.passages.append(
                    PlannedPassage(
                        at=self._at(hour + attempt * rng.uniform(0.02, 0.1)),
                        who=None,
                        direction=Direction.IN,
                        lane=lane.id,
                        via=CredentialKind.ID_CARD,
                        card=card,
                        story="outsider",
                        temperature=self._temperature(lane, Direction.IN, fever=False),
                    )
                )
                made += 1


def _host_text(facts: PersonFacts) -> str | None:
    """ "3-2-502" from the person's building key and home label ("3号楼2单元502")."""
    if facts.building is None or facts.home is None:
        return None
    prefix = f"{facts.building}号楼"
    if not facts.home.startswith(prefix) or "单元" not in facts.home:
        return None
    unit, room = facts.home[len(prefix) :].split("单元", 1)
    return f"{facts.building}-{unit}-{room}" if unit and room else None
