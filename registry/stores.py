"""The stores of ``gate.app.ports`` on SQLAlchemy: each bound to one session and one actor.

They read and write rows and hand back ``gate.app.views`` values; they validate nothing
and audit nothing (the use cases do, once). ``exemption_in_force`` is the one definition
of "an exemption that still lifts its rules", used here and by the snapshot loader.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, or_, select, update
from sqlalchemy.orm import Session, selectinload

from gate.app.actor import Actor, Scope
from gate.app.views import (
    ExemptionLine,
    HouseholdRef,
    PersonMatch,
    PersonRef,
    VisitOnFile,
    VisitorRef,
    VisitRequest,
)
from gate.domain.documents import DocumentType, normalize
from gate.domain.errors import NotFound, OutOfScope
from gate.domain.model import ParamValue
from gate.domain.places import building_key, room_key, unit_key
from gate.domain.rules import RuleConfig, RuleKind, RuleMode
from gate.domain.status import current_status
from registry.crypto import PersonalDataCipher
from registry.models import Building, Document, Exemption, Household, Person, Rule, Unit, Visitor
from registry.status_rows import status_periods

# A household is shown with its unit and building; a person with their home.
_HOME = selectinload(Household.unit).selectinload(Unit.building)
_PERSON_HOME = (
    selectinload(Person.household).selectinload(Household.unit).selectinload(Unit.building)
)


def exemption_in_force(now: datetime) -> ColumnElement[bool]:
    """The condition on ``Exemption``: not expired at ``now`` and not used up."""
    return (Exemption.expires_at.is_(None) | (Exemption.expires_at > now)) & (
        Exemption.used_at.is_(None)
    )


def household_ref(household: Household) -> HouseholdRef:
    """A loaded household (unit and building loaded) as a value."""
    return HouseholdRef(
        ref=household.ref,
        building=household.unit.building.key,
        unit=household.unit.key,
        room=household.room,
    )


def person_ref(person: Person) -> PersonRef:
    """A loaded person (home loaded) as a value."""
    return PersonRef(
        ref=person.ref,
        name=person.name,
        household=household_ref(person.household) if person.household else None,
        moved_out=person.moved_out_at is not None,
    )


_VISIT_QUERY = select(Visitor).options(
    selectinload(Visitor.host_household).selectinload(Household.unit).selectinload(Unit.building)
)


def _visit_request(visitor: Visitor) -> VisitRequest:
    host = visitor.host_household
    return VisitRequest(
        ref=visitor.ref,
        name=visitor.name,
        doc_last4=visitor.number_last4,
        phone_last4=visitor.phone_last4,
        host_ref=host.ref if host else None,
        host_label=household_ref(host).label if host else None,
        reason=visitor.reason,
        stay_minutes=visitor.stay_minutes or 0,
        status=visitor.status,
        registered_at=visitor.registered_at,
        starts_at=visitor.starts_at,
        ends_at=visitor.ends_at,
    )


def rule_config(rule: Rule) -> RuleConfig:
    """The domain form of a stored rule."""
    params: dict[str, ParamValue] = dict(rule.params)  # type: ignore[arg-type]
    return RuleConfig(
        rule_id=rule.rule_id,
        kind=RuleKind(rule.kind),
        mode=RuleMode(rule.mode),
        params=params,
        effective_from=rule.effective_from,
        effective_to=rule.effective_to,
    )


def all_rules(session: Session) -> list[RuleConfig]:
    """Every rule, in the order they are evaluated (by id)."""
    return [rule_config(rule) for rule in session.scalars(select(Rule).order_by(Rule.rule_id))]


class SqlPersonStore:
    """``PersonStore``."""

    def __init__(self, session: Session, cipher: PersonalDataCipher, actor: Actor) -> None:
        self._session, self._cipher, self._actor = session, cipher, actor

    def _load(self, condition: ColumnElement[bool]) -> Person | None:
        return self._session.scalar(select(Person).where(condition).options(_PERSON_HOME))

    def by_ref(self, ref: str, scope: Scope) -> PersonRef:
        """The person ``ref``; ``NotFound``, or ``OutOfScope`` outside ``scope``."""
        person = self._load(Person.ref == ref)
        if person is None:
            raise NotFound("no such person")
        found = person_ref(person)
        if not scope.covers_home(found.building, found.household.unit if found.household else None):
            raise OutOfScope(f"person:{ref}")
        return found

    def holder_of(self, doc_type: DocumentType, number: str) -> PersonRef | None:
        """The person holding this document."""
        number_hash = self._cipher.lookup_hash(doc_type.value, number)
        person = self._session.scalar(
            select(Person)
            .join(Document)
            .where(Document.number_hash == number_hash)
            .options(_PERSON_HOME)
        )
        return person_ref(person) if person is not None else None

    def search(self, text: str, *, limit: int) -> Sequence[PersonMatch]:
        """Present persons by name, room or a document's last four."""
        # autoescape: a typed "%" or "_" is a character to find, not a LIKE wildcard
        conditions: list[ColumnElement[bool]] = [Person.name.contains(text, autoescape=True)]
        if len(text) == 4:
            conditions.append(Person.documents.any(Document.number_last4 == text.upper()))
        room = text.split("-")[-1]
        if room.isdigit():
            conditions.append(Person.household.has(Household.room == room_key(room)))
        persons = self._session.scalars(
            select(Person)
            .where(or_(*conditions), Person.moved_out_at.is_(None))
            .options(selectinload(Person.statuses), _PERSON_HOME)
            .order_by(Person.id)
            .limit(limit)
        ).all()
        return [
            PersonMatch(
                person=person_ref(person),
                status=current_status(status_periods(person.statuses), self._actor.at),
            )
            for person in persons
        ]


class SqlHouseholdStore:
    """``HouseholdStore``."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def find(self, *, building: str, unit: str, room: str) -> HouseholdRef:
        """A household by its labels; ``NotFound`` otherwise."""
        household = self._session.scalar(
            select(Household)
            .join(Unit)
            .join(Building)
            .where(
                Building.key == building_key(building),
                Unit.key == unit_key(unit),
                Household.room == room_key(room),
            )
            .options(_HOME)
        )
        if household is None:
            raise NotFound(f"no household {building}-{unit}-{room}")
        return household_ref(household)


class SqlExemptionStore:
    """``ExemptionStore``."""

    def __init__(self, session: Session, actor: Actor) -> None:
        self._session, self._actor = session, actor

    def _person_id(self, ref: str) -> int:
        person_id = self._session.scalar(select(Person.id).where(Person.ref == ref))
        if person_id is None:
            raise NotFound("no such person")
        return person_id

    def add(
        self,
        *,
        person: PersonRef,
        rule_ids: Sequence[str],
        reason: str,
        expires_at: datetime | None,
        single_use: bool,
    ) -> int:
        """Record an exemption; return its id."""
        exemption = Exemption(
            person_id=self._person_id(person.ref),
            rule_ids=list(rule_ids),
            reason=reason,
            expires_at=expires_at,
            single_use=single_use,
            recorded_by=self._actor.name,
            recorded_at=self._actor.at,
        )
        self._session.add(exemption)
        self._session.flush()
        return exemption.id

    def end(self, exemption_id: int) -> tuple[PersonRef, tuple[str, ...], datetime | None]:
        """End an exemption at the actor's time."""
        exemption = self._session.get(Exemption, exemption_id)
        if exemption is None:
            raise NotFound("no such exemption")
        person = self._session.scalar(
            select(Person).where(Person.id == exemption.person_id).options(_PERSON_HOME)
        )
        assert person is not None
        former = exemption.expires_at
        if former is None or former > self._actor.at:
            exemption.expires_at = self._actor.at
        return person_ref(person), tuple(exemption.rule_ids), former

    def active(
        self, *, person_refs: Sequence[str] | None = None, single_use: bool | None = None
    ) -> Sequence[ExemptionLine]:
        """Exemptions in force at the actor's time, soonest end first."""
        return active_exemptions(
            self._session, now=self._actor.at, person_refs=person_refs, single_use=single_use
        )


def active_exemptions(
    session: Session,
    *,
    now: datetime,
    person_ids: Sequence[int] | None = None,
    person_refs: Sequence[str] | None = None,
    single_use: bool | None = None,
) -> list[ExemptionLine]:
    """Exemptions in force at ``now`` (``exemption_in_force``), soonest end first."""
    query: Any = (
        select(Exemption, Person)
        .join(Person, Exemption.person_id == Person.id)
        .where(exemption_in_force(now))
        .options(_PERSON_HOME)
        .order_by(Exemption.expires_at.is_(None), Exemption.expires_at, Exemption.id)
    )
    if person_ids is not None:
        query = query.where(Exemption.person_id.in_(list(person_ids)))
    if person_refs is not None:
        query = query.where(Person.ref.in_(list(person_refs)))
    if single_use is not None:
        query = query.where(Exemption.single_use.is_(single_use))
    return [
        ExemptionLine(
            id=exemption.id,
            person_ref=person.ref,
            person_name=person.name,
            home=household_ref(person.household).label if person.household else None,
            rule_ids=tuple(exemption.rule_ids),
            reason=exemption.reason,
            expires_at=exemption.expires_at,
            single_use=exemption.single_use,
            recorded_by=exemption.recorded_by,
            recorded_at=exemption.recorded_at,
        )
        for exemption, person in session.execute(query).all()
    ]


class SqlRuleStore:
    """``RuleStore``."""

    def __init__(self, session: Session, actor: Actor) -> None:
        self._session, self._actor = session, actor

    def all(self) -> Sequence[RuleConfig]:
        """Every rule, by id."""
        return all_rules(self._session)

    def _row(self, rule_id: str) -> Rule:
        rule = self._session.get(Rule, rule_id)
        if rule is None:
            raise NotFound(f"no rule {rule_id!r}; see: gate rules list")
        return rule

    def get(self, rule_id: str) -> RuleConfig:
        """One rule."""
        return rule_config(self._row(rule_id))

    def save(self, rule: RuleConfig) -> None:
        """Store a rule's mode, parameters and dates."""
        row = self._row(rule.rule_id)
        row.mode = rule.mode.value
        row.params = dict(rule.params)
        row.effective_from, row.effective_to = rule.effective_from, rule.effective_to
        row.updated_at, row.updated_by = self._actor.at, self._actor.name


class SqlVisitorStore:
    """``VisitorStore``."""

    def __init__(self, session: Session, cipher: PersonalDataCipher, actor: Actor) -> None:
        self._session, self._cipher, self._actor = session, cipher, actor

    def add(
        self,
        *,
        name: str,
        doc_type: DocumentType | None,
        number: str | None,
        host: HouseholdRef | None,
        reason: str,
        starts_at: datetime,
        ends_at: datetime,
    ) -> VisitorRef:
        """Record a visit (an invite's visitor has no document yet)."""
        host_row = (
            self._session.scalar(select(Household).where(Household.ref == host.ref))
            if host
            else None
        )
        number_hash = number_cipher = last4 = None
        if doc_type is not None and number is not None:
            number_hash = self._cipher.lookup_hash(doc_type.value, number)
            number_cipher, last4 = self._cipher.encrypt("document", number), number[-4:]
        visitor = Visitor(
            name=name,
            doc_type=doc_type if number_hash else None,
            number_hash=number_hash,
            number_cipher=number_cipher,
            number_last4=last4,
            host_household=host_row,
            reason=reason,
            starts_at=starts_at,
            ends_at=ends_at,
            registered_by=self._actor.name,
            registered_at=self._actor.at,
        )
        self._session.add(visitor)
        self._session.flush()
        return VisitorRef(ref=visitor.ref, name=visitor.name, ends_at=visitor.ends_at)

    def add_request(
        self,
        *,
        name: str,
        doc_type: DocumentType,
        number: str,
        phone: str,
        host: HouseholdRef,
        reason: str,
        stay_minutes: int,
        status_code_hash: str,
        host_code_hash: str,
    ) -> VisitRequest:
        """A pending visit (not in the gate's snapshot until confirmed)."""
        visitor = Visitor(
            name=name,
            doc_type=doc_type,
            number_hash=self._cipher.lookup_hash(doc_type.value, number),
            number_cipher=self._cipher.encrypt("document", number),
            number_last4=number[-4:],
            phone_cipher=self._cipher.encrypt("phone", phone),
            phone_last4=phone[-4:],
            host_household=self._session.scalar(select(Household).where(Household.ref == host.ref)),
            reason=reason,
            # The window is set when the visit is confirmed; until then it is the request's.
            starts_at=self._actor.at,
            ends_at=self._actor.at + timedelta(minutes=stay_minutes),
            registered_by=self._actor.name,
            registered_at=self._actor.at,
            status="pending",
            source="self",
            stay_minutes=stay_minutes,
            status_code_hash=status_code_hash,
            host_code_hash=host_code_hash,
        )
        self._session.add(visitor)
        self._session.flush()
        return _visit_request(visitor)

    def request_by_code(
        self, *, status_code_hash: str = "", host_code_hash: str = ""
    ) -> VisitRequest | None:
        """A request by the visitor's or the host's code hash."""
        condition = (
            Visitor.status_code_hash == status_code_hash
            if status_code_hash
            else Visitor.host_code_hash == host_code_hash
        )
        visitor = self._session.scalar(_VISIT_QUERY.where(condition))
        return _visit_request(visitor) if visitor is not None else None

    def request(self, ref: str) -> VisitRequest:
        """A request by ref; ``NotFound``."""
        visitor = self._session.scalar(
            _VISIT_QUERY.where(Visitor.ref == ref, Visitor.source == "self")
        )
        if visitor is None:
            raise NotFound("no such visit request")
        return _visit_request(visitor)

    def pending_requests(self, *, since: datetime, limit: int) -> Sequence[VisitRequest]:
        """Requests waiting for a decision, oldest first."""
        rows = self._session.scalars(
            _VISIT_QUERY.where(Visitor.status == "pending", Visitor.registered_at >= since)
            .order_by(Visitor.registered_at)
            .limit(limit)
        )
        return [_visit_request(visitor) for visitor in rows]

    def decide_request(
        self, ref: str, *, confirmed: bool, starts_at: datetime, ends_at: datetime
    ) -> None:
        """Confirm or decline a pending request."""
        values: dict[str, Any] = {
            "status": "confirmed" if confirmed else "declined",
            "decided_by": self._actor.name,
            "decided_at": self._actor.at,
        }
        if confirmed:
            values |= {"starts_at": starts_at, "ends_at": ends_at}
        self._session.execute(
            update(Visitor).where(Visitor.ref == ref, Visitor.status == "pending").values(**values)
        )

    def purge_requests(self, *, ended_before: datetime) -> int:
        """Delete self-registered visits past their retention (the form's notice says when).

        A confirmed visit is kept until it ended before the cut; a pending or declined one
        until it was registered before it.
        """
        result = self._session.execute(
            delete(Visitor).where(
                Visitor.source == "self",
                or_(
                    (Visitor.status == "confirmed") & (Visitor.ends_at < ended_before),
                    (Visitor.status != "confirmed") & (Visitor.registered_at < ended_before),
                ),
            )
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def find(self, ref_or_number: str) -> VisitOnFile | None:
        """A visit by ref, or the latest visit of the holder of a document number."""
        query = select(Visitor).options(
            selectinload(Visitor.host_household)
            .selectinload(Household.unit)
            .selectinload(Unit.building)
        )
        visitor = self._session.scalar(query.where(Visitor.ref == ref_or_number.lower()))
        if visitor is None:
            hashes = [
                self._cipher.lookup_hash(doc_type.value, normalize(ref_or_number))
                for doc_type in DocumentType
            ]
            visitor = self._session.scalar(
                query.where(Visitor.number_hash.in_(hashes)).order_by(Visitor.ends_at.desc())
            )
        if visitor is None:
            return None
        host = visitor.host_household
        return VisitOnFile(
            ref=visitor.ref,
            name=visitor.name,
            starts_at=visitor.starts_at,
            ends_at=visitor.ends_at,
            host_ref=host.ref if host else None,
            host_label=household_ref(host).label if host else None,
        )
