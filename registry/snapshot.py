"""Build the in-memory ``RegistrySnapshot`` from the database, and keep it current.

Loading reads persons, documents, statuses, exemptions, visits, rules, and replays the
recent passage log for presence and household outings: a handful of queries, once per
registry revision, never per passage. ``SnapshotSource`` reloads read on in the log from
where its last load stopped (``registry.log_replay``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from gate.domain import places
from gate.domain.model import Exemption as ExemptionFacts
from gate.domain.model import VisitWindow
from gate.domain.passes import PassFacts, PassState
from gate.domain.people import HealthStatus
from gate.domain.snapshot import OUTING_MEMORY, PersonFacts, RegistrySnapshot, VisitFacts
from gate.domain.watch import WatchFacts
from registry.database import Database
from registry.log_replay import LogReplay, replay_log
from registry.models import (
    ControlEntry,
    Document,
    Exemption,
    Household,
    IssuedPass,
    Person,
    RegistryRevision,
    Unit,
    Visitor,
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
    return load_snapshot_after(session, now=now, previous=None)[0]


def load_snapshot_after(
    session: Session, *, now: datetime, previous: LogReplay | None
) -> tuple[RegistrySnapshot, LogReplay]:
    """The snapshot as of ``now``, its presence and outings read on from ``previous``.

    Also what the log gave, for the next reload (``registry.log_replay``).
    """
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
        passes=_passes_in_window(session, now),
        visits_by_ref=visits_by_ref,
        watch=_watch_list(session, now),
    )
    replay = replay_log(session, snapshot, now=now, since=now - OUTING_MEMORY, previous=previous)
    return snapshot, replay


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


class SnapshotSource:
    """Holds the current snapshot and reloads it when the registry revision moves."""

    def __init__(self, database: Database, *, clock: Callable[[], datetime]) -> None:
        self._database = database
        self._clock = clock
        self._lock = threading.Lock()
        self._replay: LogReplay | None = None  # what the last load read of the log
        self._checked = time.monotonic()  # the snapshot was last known current then
        self._snapshot = self.reload()

    def current(self) -> RegistrySnapshot:
        """The snapshot passages are decided from now."""
        return self._snapshot

    def reload(self) -> RegistrySnapshot:
        """Build a fresh snapshot from the database and make it current."""
        with self._lock:
            with self._database.session() as session:
                snapshot, self._replay = load_snapshot_after(
                    session, now=self._clock(), previous=self._replay
                )
            self._snapshot = snapshot
            self._checked = time.monotonic()
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
            self._checked = time.monotonic()
            return False
        self.reload()
        return True

    def age_seconds(self) -> float:
        """Seconds since the snapshot was last known to match the registry (loaded, or its
        revision checked); grows while the database does not answer."""
        return time.monotonic() - self._checked
