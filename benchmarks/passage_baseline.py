"""The benchmark's baseline: a snapshot that queries the registry tables at every passage.

It differs from ``registry.snapshot`` only in where identification and context come from,
so ``bench_passage.py`` measures what the in-memory snapshot saves.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from gate.domain.model import (
    Credential,
    Direction,
    Identity,
    PassageContext,
    Presence,
    VisitWindow,
)
from gate.domain.model import Exemption as ExemptionFacts
from gate.domain.rules import RuleConfig
from gate.domain.snapshot import OUTING_MEMORY, PersonFacts, RegistrySnapshot, VisitFacts
from gate.domain.status import StatusPeriod
from registry.database import Database
from registry.models import Document, Exemption, Household, Passage, Person, Unit, Visitor
from registry.snapshot import VISIT_MEMORY, current_revision, home_label
from registry.stores import all_rules


class QueryingSnapshot:
    """Answers like ``RegistrySnapshot``, from queries for the one person of one passage.

    Each answer is delegated to a ``RegistrySnapshot`` holding just that person, so the
    identification and context logic is the production one; only the data source differs.
    All queries of a passage share one session, closed once the context is known.
    """

    def __init__(self, session: Session) -> None:
        self._session: Session | None = session
        self._revision: int | None = None
        self._rules: tuple[RuleConfig, ...] | None = None
        self._one = RegistrySnapshot(0, {}, {}, {}, ())

    def _query(self) -> Session:
        assert self._session is not None, "the passage's queries are over"
        return self._session

    def close(self) -> None:
        """End the passage's read transaction."""
        if self._session is not None:
            self._session.close()
            self._session = None

    @property
    def revision(self) -> int:
        """The registry revision, read before anything the decision depends on."""
        if self._revision is None:
            self._revision = current_revision(self._query())
        return self._revision

    @property
    def rules(self) -> tuple[RuleConfig, ...]:
        """The rules, as stored now."""
        if self._rules is None:
            self._rules = tuple(all_rules(self._query()))
        return self._rules

    @property
    def persons(self) -> dict[str, PersonFacts]:
        """The identified person, if any."""
        return dict(self._one.persons)

    @property
    def visits_by_document(self) -> dict[str, tuple[VisitFacts, ...]]:
        """The visits registered for the card read, if any."""
        return dict(self._one.visits_by_document)

    def identify(
        self, credential: Credential, document_hash: str | None, *, now: datetime
    ) -> Identity:
        """Look the holder up in the tables, then identify as the snapshot does."""
        revision, rules = self.revision, self.rules
        session = self._query()
        person: Person | None = None
        query = select(Person).options(
            joinedload(Person.statuses),
            joinedload(Person.household).joinedload(Household.unit).joinedload(Unit.building),
        )
        if document_hash is not None:
            query = query.join(Document).where(Document.number_hash == document_hash)
        elif credential.person_ref is not None:
            query = query.where(Person.ref == credential.person_ref)
        if document_hash is not None or credential.person_ref is not None:
            person = session.scalars(query.where(Person.moved_out_at.is_(None))).unique().first()
        persons = {person.ref: _person_facts(session, person, now)} if person else {}
        visits: dict[str, tuple[VisitFacts, ...]] = {}
        if person is None and document_hash is not None:
            found = _visits(session, document_hash, now)
            visits = {document_hash: found} if found else {}
        by_document = {document_hash: person.ref} if person and document_hash else {}
        self._one = RegistrySnapshot(revision, persons, by_document, visits, rules)
        return self._one.identify(credential, document_hash, now=now)

    def context(
        self,
        identity: Identity,
        *,
        lane: str,
        direction: Direction,
        now: datetime,
        temperature: float | None = None,
    ) -> PassageContext:
        """Read the person's presence and the household's outings, then build the context."""
        session = self._query()
        if identity.person_ref is not None:
            last = session.scalar(
                select(Passage.direction)
                .where(Passage.person_ref == identity.person_ref, Passage.opens_barrier.is_(True))
                .order_by(Passage.seq.desc())
                .limit(1)
            )
            if last is not None:
                inside = last == Direction.IN.value
                self._one.presence[identity.person_ref] = (
                    Presence.INSIDE if inside else Presence.OUTSIDE
                )
        if identity.household_ref is not None:
            presence = dict(self._one.presence)  # replaying must not disturb the latest
            for person_ref, household_ref, way, at in session.execute(
                select(Passage.person_ref, Passage.household_ref, Passage.direction, Passage.at)
                .where(
                    Passage.household_ref == identity.household_ref,
                    Passage.opens_barrier.is_(True),
                    Passage.at >= now - OUTING_MEMORY,
                )
                .order_by(Passage.seq)
            ):
                self._one.note_passage(
                    person_ref=person_ref,
                    household_ref=household_ref,
                    direction=Direction(way),
                    at=at,
                )
            self._one.presence = presence
        self.close()
        return self._one.context(
            identity, lane=lane, direction=direction, now=now, temperature=temperature
        )

    def note_passage(
        self,
        *,
        person_ref: str | None,
        household_ref: str | None,
        direction: Direction,
        at: datetime,
    ) -> None:
        """Nothing to move: the next passage reads the log row just written."""


def _person_facts(session: Session, person: Person, now: datetime) -> PersonFacts:
    """One person's facts, as ``registry.snapshot.load_snapshot`` builds them for all."""
    exemptions = tuple(
        ExemptionFacts(
            frozenset(exemption.rule_ids),
            exemption.reason,
            exemption.expires_at,
            exemption_id=exemption.id,
            single_use=exemption.single_use,
        )
        for exemption in session.scalars(
            select(Exemption).where(
                Exemption.person_id == person.id,
                (Exemption.expires_at.is_(None)) | (Exemption.expires_at > now),
                Exemption.used_at.is_(None),
            )
        )
    )
    household = person.household
    return PersonFacts(
        ref=person.ref,
        name=person.name,
        kind=person.kind,
        household_ref=household.ref if household else None,
        building=household.unit.building.key if household else None,
        home=home_label(household),
        statuses=tuple(
            StatusPeriod(record.status, record.starts_at, record.ends_at)
            for record in person.statuses
        ),
        exemptions=exemptions,
    )


def _visits(session: Session, document_hash: str, now: datetime) -> tuple[VisitFacts, ...]:
    query = (
        select(Visitor)
        .where(Visitor.number_hash == document_hash, Visitor.ends_at > now - VISIT_MEMORY)
        .options(
            joinedload(Visitor.host_household).joinedload(Household.unit).joinedload(Unit.building)
        )
    )
    return tuple(
        VisitFacts(
            ref=visitor.ref,
            name=visitor.name,
            window=VisitWindow(
                visitor.starts_at,
                visitor.ends_at,
                visitor.host_household.ref if visitor.host_household else None,
            ),
            host=home_label(visitor.host_household),
        )
        for visitor in session.scalars(query).unique()
    )


class QueryingSnapshots:
    """``SnapshotProvider`` whose snapshot is a fresh ``QueryingSnapshot`` per passage."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self._last: QueryingSnapshot | None = None

    def current(self) -> RegistrySnapshot:
        """A per-passage view on its own session (the pipeline asks once per passage)."""
        if self._last is not None:
            self._last.close()  # a passage refused before its context still ends here
        self._last = QueryingSnapshot(Session(self._database.engine))
        return self._last  # type: ignore[return-value]  # duck-typed RegistrySnapshot

    def reload(self) -> RegistrySnapshot:
        """Nothing cached: the next view reads the tables again."""
        return self.current()

    def refresh_if_changed(self) -> bool:
        """Never stale: every view reads the tables."""
        return False
