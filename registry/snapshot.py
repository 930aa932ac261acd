"""Build the in-memory ``RegistrySnapshot`` from the database, and keep it current.

Loading reads persons, documents, statuses, exemptions, visits, rules, and replays the
recent passage log for presence and household outings: a handful of queries, once per
registry revision, never per passage.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from operator import itemgetter

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from gate.domain import places
from gate.domain.model import Direction, Presence, VisitWindow
from gate.domain.model import Exemption as ExemptionFacts
from gate.domain.passes import PassFacts, PassState
from gate.domain.people import HealthStatus
from gate.domain.snapshot import OUTING_MEMORY, PersonFacts, RegistrySnapshot, VisitFacts
from gate.domain.watch import WatchFacts
from registry.database import Database
from registry.models import (
    ControlEntry,
    Document,
    Exemption,
    Household,
    IssuedPass,
    Passage,
    Person,
    RegistryRevision,
    Unit,
    Visitor,
    passage_opened_barrier,
)
from registry.status_rows import status_periods
from registry.stores import all_rules, exemption_in_force

logger = logging.getLogger(__name__)

VISIT_MEMORY = timedelta(days=30)


def current_revision(session: Session) -> int:
    """The registry revision counter."""
    return int(
        session.scalar(select(RegistryRevision.revision).where(RegistryRevision.id == 1)) or 0
    )


def home_label(household: Household | None) -> str | None:
    """ "3号楼2单元502" for a household."""
    if household is None:
        return None
    return places.home_label(household.unit.building.key, household.unit.key, household.room)


def load_snapshot(session: Session, *, now: datetime) -> RegistrySnapshot:
    """Everything a passage decision needs, as of ``now``."""
    revision = current_revision(session)
    exemptions: dict[int, list[ExemptionFacts]] = defaultdict(list)
    for exemption in session.scalars(select(Exemption).where(exemption_in_force(now))):
        exemptions[exemption.person_id].append(
            ExemptionFacts(
                frozenset(exemption.rule_ids),
                exemption.reason,
                exemption.expires_at,
                exemption_id=exemption.id,
                single_use=exemption.single_use,
            )
        )
    persons: dict[str, PersonFacts] = {}
    refs_by_id: dict[int, str] = {}
    query = (
        select(Person)
        .where(Person.moved_out_at.is_(None))
        .options(
            selectinload(Person.statuses),
            selectinload(Person.household).selectinload(Household.unit).selectinload(Unit.building),
        )
    )
    for person in session.scalars(query):
        refs_by_id[person.id] = person.ref
        persons[person.ref] = PersonFacts(
            ref=person.ref,
            name=person.name,
            kind=person.kind,
            household_ref=person.household.ref if person.household else None,
            building=person.household.unit.building.key if person.household else None,
            home=home_label(person.household),
            statuses=tuple(status_periods(person.statuses)),
            exemptions=tuple(exemptions.get(person.id, ())),
        )
    person_by_document = {
        number_hash: refs_by_id[person_id]
        for number_hash, person_id in session.execute(
            select(Document.number_hash, Document.person_id)
        )
        if person_id in refs_by_id
    }
    visits: dict[str, list[VisitFacts]] = defaultdict(list)
    visits_by_ref: dict[str, VisitFacts] = {}
    for visitor in session.scalars(
        select(Visitor)
        .where(Visitor.ends_at > now - VISIT_MEMORY, Visitor.status == "confirmed")
        .options(
            selectinload(Visitor.host_household)
            .selectinload(Household.unit)
            .selectinload(Unit.building)
        )
    ):
        visit = VisitFacts(
            ref=visitor.ref,
            name=visitor.name,
            window=VisitWindow(
                visitor.starts_at,
                visitor.ends_at,
                visitor.host_household.ref if visitor.host_household else None,
            ),
            host=home_label(visitor.host_household),
        )
        if visitor.number_hash is not None:  # an invite's visitor shows their pass, not a card
            visits[visitor.number_hash].append(visit)
        visits_by_ref[visit.ref] = visit
    snapshot = RegistrySnapshot(
        revision=revision,
        persons=persons,
        person_by_document=person_by_document,
        visits_by_document={key: tuple(value) for key, value in visits.items()},
        rules=tuple(all_rules(session)),
        presence=_presence(session),
        passes=_passes_in_window(session, now),
        visits_by_ref=visits_by_ref,
        watch=_watch_list(session, now),
    )
    _replay_outings(session, snapshot, since=now - OUTING_MEMORY)
    return snapshot


def _watch_list(session: Session, now: datetime) -> dict[str, tuple[WatchFacts, ...]]:
    """The district's watch entries not over yet, by document hash (no person holds them)."""
    watch: dict[str, list[WatchFacts]] = defaultdict(list)
    for row in session.execute(
        select(
            ControlEntry.document_hash,
            ControlEntry.reference,
            ControlEntry.status,
            ControlEntry.starts_at,
            ControlEntry.ends_at,
        ).where(
            ControlEntry.person_id.is_(None),
            ControlEntry.ended_at.is_(None),
            ControlEntry.status != "cleared",
            ControlEntry.ends_at.is_(None) | (ControlEntry.ends_at > now),
        )
    ):
        watch[row.document_hash].append(
            WatchFacts(row.reference, HealthStatus(row.status), row.starts_at, row.ends_at)
        )
    return {key: tuple(value) for key, value in watch.items()}


def _passes_in_window(session: Session, now: datetime) -> dict[str, PassFacts]:
    """Issued passes whose window has not ended: the gate's allow list and revocation list."""
    passes = {}
    for row in session.execute(
        select(
            IssuedPass.pass_id,
            IssuedPass.kind,
            IssuedPass.subject_ref,
            IssuedPass.revoked_at,
            IssuedPass.used_at,
        ).where(IssuedPass.not_after > now)
    ):
        state = PassState.of(revoked_at=row.revoked_at, used_at=row.used_at)
        passes[row.pass_id] = PassFacts(row.pass_id, row.kind, row.subject_ref, state)
    return passes


def presence_query() -> Select[str | None, str | None]:
    """(person_ref, direction) of each person's latest passage that opened the barrier.

    A loose index scan of ``ix_passages_presence``: the recursive part steps from one
    person_ref to the next, the outer part takes each one's latest row, one index seek
    each, so the cost follows the number of people, not the length of the log (a
    ``GROUP BY person_ref`` reads every row that ever opened the barrier).
    """
    opened = passage_opened_barrier()
    first = select(func.min(Passage.person_ref).label("ref")).where(opened)
    refs = first.cte("refs", recursive=True)
    following = (
        select(func.min(Passage.person_ref))
        .where(opened, Passage.person_ref > refs.c.ref)
        .scalar_subquery()
    )
    refs = refs.union_all(select(following).where(refs.c.ref.is_not(None)))
    latest = (
        select(Passage.direction)
        .where(opened, Passage.person_ref == refs.c.ref)
        .order_by(Passage.seq.desc())
        .limit(1)
        .scalar_subquery()
    )
    return select(refs.c.ref, latest).where(refs.c.ref.is_not(None))


def _presence(session: Session) -> dict[str, Presence]:
    return {
        person_ref: Presence.INSIDE if direction == Direction.IN.value else Presence.OUTSIDE
        for person_ref, direction in session.execute(presence_query())
        if person_ref is not None
    }


def _replay_outings(session: Session, snapshot: RegistrySnapshot, *, since: datetime) -> None:
    # No ORDER BY seq: with it SQLite walks the whole log in seq order rather than the
    # window through ix_passages_at; the window is put in log order here instead.
    window = session.execute(
        select(
            Passage.seq, Passage.person_ref, Passage.household_ref, Passage.direction, Passage.at
        ).where(
            Passage.opens_barrier.is_(True),
            Passage.household_ref.is_not(None),
            Passage.at >= since,
        )
    )
    rows = sorted(window, key=itemgetter(0))
    presence = snapshot.presence_now()  # replaying must not disturb the latest presence
    for _, person_ref, household_ref, direction, at in rows:
        snapshot.note_passage(
            person_ref=person_ref,
            household_ref=household_ref,
            direction=Direction(direction),
            at=at,
        )
    snapshot.presence = presence


class SnapshotSource:
    """Holds the current snapshot and reloads it when the registry revision moves."""

    def __init__(self, database: Database, *, clock: Callable[[], datetime]) -> None:
        self._database = database
        self._clock = clock
        self._lock = threading.Lock()
        self._snapshot = self.reload()

    def current(self) -> RegistrySnapshot:
        """The snapshot passages are decided from now."""
        return self._snapshot

    def reload(self) -> RegistrySnapshot:
        """Build a fresh snapshot from the database and make it current."""
        with self._lock:
            with self._database.session() as session:
                snapshot = load_snapshot(session, now=self._clock())
            self._snapshot = snapshot
            logger.info(
                "registry snapshot at revision %d: %d persons",
                snapshot.revision,
                len(snapshot.persons),
            )
            return snapshot

    def refresh_if_changed(self) -> bool:
        """Reload if the database's revision differs; True if it did."""
        with self._database.session() as session:
            revision = current_revision(session)
        if revision == self._snapshot.revision:
            return False
        self.reload()
        return True
