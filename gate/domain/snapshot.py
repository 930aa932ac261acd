"""The in-memory picture of the registry that passages are decided from.

Built by ``registry.snapshot.load_snapshot``; a passage never queries the registry tables.
Presence and household outings move with every passage (``note_passage``), so the
snapshot stays true between reloads; a reload rebuilds them from the log. Lanes note
passages from their own threads while the terminal and the pipeline read: every read and
update of presence and outings holds the snapshot's lock (a few dictionary operations,
so it is never held for long).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from gate.domain.documents import validate
from gate.domain.errors import CredentialInvalid, DocumentInvalid
from gate.domain.model import (
    Certainty,
    Credential,
    CredentialKind,
    Direction,
    Exemption,
    Identity,
    IdentityKind,
    Outing,
    PassageContext,
    Presence,
    VisitWindow,
)
from gate.domain.passes import (
    VISITOR_KINDS,
    PassClaims,
    PassFacts,
    PassReason,
    PassState,
)
from gate.domain.people import HealthStatus, PersonKind
from gate.domain.rules import RuleConfig
from gate.domain.status import StatusPeriod, current_period
from gate.domain.watch import WatchFacts, governing_watch

OUTING_MEMORY = timedelta(days=14)


@dataclass(frozen=True)
class PersonFacts:
    """What the gate knows of a registered person (no document number)."""

    ref: str
    name: str
    kind: PersonKind
    household_ref: str | None = None
    building: str | None = None  # building key, "3"
    home: str | None = None  # "3号楼2单元502"
    statuses: tuple[StatusPeriod, ...] = ()
    exemptions: tuple[Exemption, ...] = ()


@dataclass(frozen=True)
class VisitFacts:
    """A registered visit."""

    ref: str
    name: str
    window: VisitWindow
    host: str | None = None  # the host household's home label


@dataclass
class RegistrySnapshot:
    """Persons, visits, rules, presence and outings at one registry revision."""

    revision: int
    persons: Mapping[str, PersonFacts]
    person_by_document: Mapping[str, str]
    visits_by_document: Mapping[str, tuple[VisitFacts, ...]]
    rules: tuple[RuleConfig, ...]
    presence: dict[str, Presence] = field(default_factory=dict)
    outings: dict[str, list[Outing]] = field(default_factory=dict)
    passes: Mapping[str, PassFacts] = field(default_factory=dict)  # issued, still in window
    visits_by_ref: Mapping[str, VisitFacts] = field(default_factory=dict)
    spent_passes: set[str] = field(default_factory=set)  # spent here since the load
    # The district's watch list: document hash -> entries for documents nobody here holds.
    watch: Mapping[str, tuple[WatchFacts, ...]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def presence_of(self, person_ref: str) -> Presence:
        """Where the log says ``person_ref`` is now."""
        with self._lock:
            return self.presence.get(person_ref, Presence.UNKNOWN)

    def presence_now(self) -> dict[str, Presence]:
        """A copy of everyone's presence, consistent at one moment."""
        with self._lock:
            return dict(self.presence)

    def outings_of(self, household_ref: str) -> tuple[Outing, ...]:
        """The household's recent outings, oldest first."""
        with self._lock:
            return tuple(self.outings.get(household_ref, ()))

    def identify(
        self, credential: Credential, document_hash: str | None, *, now: datetime
    ) -> Identity:
        """Who the credential belongs to; ``CredentialInvalid`` if it cannot be read."""
        if credential.kind in (CredentialKind.ID_CARD, CredentialKind.MANUAL):
            document = credential.document
            if document is None or document_hash is None:
                raise CredentialInvalid("malformed_credential", "no document in the credential")
            try:
                validate(document.doc_type, document.number)
            except DocumentInvalid as exc:
                raise CredentialInvalid("malformed_credential", str(exc)) from None
            person_ref = self.person_by_document.get(document_hash)
            if person_ref is not None and person_ref in self.persons:
                return self._registered(self.persons[person_ref], credential, now)
            visits = self.visits_by_document.get(document_hash)
            if visits:
                visit = _best_visit(visits, now)
                return Identity(
                    kind=IdentityKind.VISITOR,
                    person_ref=visit.ref,
                    visit=visit.window,
                    document=document,
                )
            return Identity(kind=IdentityKind.OUTSIDER, document=document)
        if credential.person_ref is None:
            if credential.kind is CredentialKind.FACE:  # a face the gallery does not know
                return Identity(kind=IdentityKind.OUTSIDER, certainty=Certainty.FACE)
            raise CredentialInvalid("malformed_credential", "no person in the credential")
        facts = self.persons.get(credential.person_ref)
        if facts is None:
            return Identity(kind=IdentityKind.OUTSIDER)
        return self._registered(facts, credential, now)

    def watched(self, document_hash: str | None, now: datetime) -> WatchFacts | None:
        """The district's watch entry in force for this document hash, if any."""
        if document_hash is None:
            return None
        entries = self.watch.get(document_hash)
        return governing_watch(entries, now) if entries else None

    def identify_pass(
        self, claims: PassClaims, credential: Credential, *, now: datetime
    ) -> Identity:
        """Who a genuine pass belongs to, if the registry still honours it.

        ``CredentialInvalid`` with a ``pass_*`` reason when the pass is not in this registry,
        revoked, a one-time pass already spent, or its person or visit is gone.
        """
        params = {"pass_id": claims.pass_id, "kind": claims.kind.value}
        facts = self.passes.get(claims.pass_id)
        if facts is None:
            raise CredentialInvalid(PassReason.UNKNOWN, "pass not in this registry", **params)
        if facts.state is PassState.REVOKED:
            raise CredentialInvalid(PassReason.REVOKED, "pass revoked", **params)
        with self._lock:
            spent = facts.state is PassState.SPENT or claims.pass_id in self.spent_passes
        if spent:
            raise CredentialInvalid(PassReason.REPLAYED, "one-time pass already used", **params)
        if claims.kind in VISITOR_KINDS:
            visit = self.visits_by_ref.get(claims.subject_ref)
            if visit is None:
                raise CredentialInvalid(PassReason.SUBJECT_GONE, "visit not registered", **params)
            return Identity(kind=IdentityKind.VISITOR, person_ref=visit.ref, visit=visit.window)
        person = self.persons.get(claims.subject_ref)
        if person is None:
            raise CredentialInvalid(PassReason.SUBJECT_GONE, "person not registered", **params)
        return self._registered(person, credential, now)

    def note_pass_spent(self, pass_id: str) -> None:
        """A one-time pass let its passage through (or another gate's did): never again."""
        with self._lock:
            self.spent_passes.add(pass_id)

    def _registered(self, facts: PersonFacts, credential: Credential, now: datetime) -> Identity:
        period = current_period(facts.statuses, now)
        return Identity(
            kind=IdentityKind.REGISTERED,
            certainty=Certainty.FACE if credential.kind is CredentialKind.FACE else Certainty.EXACT,
            person_ref=facts.ref,
            household_ref=facts.household_ref,
            person_kind=facts.kind,
            status=period.status if period else HealthStatus.NORMAL,
            status_until=period.ends_at if period else None,
            exemptions=facts.exemptions,
            face_distance=credential.face_distance,
            document=credential.document,
        )

    def context(
        self,
        identity: Identity,
        *,
        lane: str,
        direction: Direction,
        now: datetime,
        temperature: float | None = None,
    ) -> PassageContext:
        """The passage context for ``identity`` at ``now``."""
        presence = (
            self.presence_of(identity.person_ref) if identity.person_ref else Presence.UNKNOWN
        )
        outings = self.outings_of(identity.household_ref) if identity.household_ref else ()
        return PassageContext(
            lane=lane,
            direction=direction,
            now=now,
            temperature=temperature,
            presence=presence,
            household_outings=outings,
        )

    def note_passage(
        self,
        *,
        person_ref: str | None,
        household_ref: str | None,
        direction: Direction,
        at: datetime,
    ) -> None:
        """Move presence and outings after a passage that let the person through."""
        if person_ref is None:
            return
        with self._lock:
            self._note(person_ref, household_ref, direction, at)

    def _note(
        self, person_ref: str, household_ref: str | None, direction: Direction, at: datetime
    ) -> None:
        self.presence[person_ref] = (
            Presence.INSIDE if direction is Direction.IN else Presence.OUTSIDE
        )
        if household_ref is None:
            return
        outings = self.outings.setdefault(household_ref, [])
        if direction is Direction.OUT:
            outings.append(Outing(person_ref=person_ref, left_at=at))
        else:
            for index in range(len(outings) - 1, -1, -1):
                outing = outings[index]
                if outing.person_ref == person_ref and outing.returned_at is None:
                    outings[index] = Outing(person_ref, outing.left_at, returned_at=at)
                    break
        horizon = at - OUTING_MEMORY
        if outings and outings[0].left_at < horizon:
            outings[:] = [outing for outing in outings if outing.left_at >= horizon]


def _best_visit(visits: tuple[VisitFacts, ...], now: datetime) -> VisitFacts:
    """The visit covering ``now``, else the next one to start, else the latest one."""
    current = [visit for visit in visits if visit.window.starts_at <= now < visit.window.ends_at]
    if current:
        return current[0]
    upcoming = sorted(
        (visit for visit in visits if visit.window.starts_at > now),
        key=lambda visit: visit.window.starts_at,
    )
    if upcoming:
        return upcoming[0]
    return max(visits, key=lambda visit: visit.window.ends_at)
