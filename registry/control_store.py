"""The control-list store of ``gate.app.control_ports`` on SQLAlchemy.

Like ``registry.stores``, it validates nothing and audits nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from gate.app.actor import Actor
from gate.app.control_ports import CLEARED, ControlChange, ControlFacts, ControlOnFile
from gate.app.views import PersonRef
from gate.domain.documents import DocumentType
from registry.crypto import PersonalDataCipher
from registry.models import ControlEntry, Document, Household, Person, Unit
from registry.stores import _PERSON_HOME, person_ref


class SqlControlStore:
    """``ControlStore``."""

    def __init__(self, session: Session, cipher: PersonalDataCipher, actor: Actor) -> None:
        self._session, self._cipher, self._actor = session, cipher, actor

    def document_hash(self, doc_type: DocumentType, number: str) -> str:
        """The keyed hash the registry and the gate make of a document."""
        return self._cipher.lookup_hash(doc_type.value, number)

    def holder(self, document_hash: str) -> PersonRef | None:
        """The holder of the document with this hash."""
        person = self._session.scalar(
            select(Person)
            .join(Document)
            .where(Document.number_hash == document_hash)
            .options(_PERSON_HOME)
        )
        return person_ref(person) if person is not None else None

    def _row(self, reference: str) -> ControlEntry | None:
        return self._session.scalar(select(ControlEntry).where(ControlEntry.reference == reference))

    def get(self, reference: str) -> ControlOnFile | None:
        """The row under ``reference``."""
        row = self._row(reference)
        if row is None:
            return None
        facts = ControlFacts(
            reference=row.reference,
            doc_type=row.doc_type,
            document_hash=row.document_hash,
            status=row.status,
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            basis=row.basis,
        )
        return ControlOnFile(
            facts=facts,
            person_ref=row.person.ref if row.person is not None else None,
            status_record_id=row.status_record_id,
            ended_at=row.ended_at,
        )

    def save(
        self, facts: ControlFacts, *, person_ref: str | None, status_record_id: int | None
    ) -> None:
        """Add or replace the row under its reference."""
        person_id = None
        if person_ref is not None:
            person_id = self._session.scalar(select(Person.id).where(Person.ref == person_ref))
        row = self._row(facts.reference)
        now = self._actor.at
        if row is None:
            row = ControlEntry(
                reference=facts.reference, received_from=self._actor.name, received_at=now
            )
            self._session.add(row)
        row.doc_type, row.document_hash, row.status = (
            facts.doc_type,
            facts.document_hash,
            facts.status,
        )
        row.starts_at, row.ends_at, row.basis = facts.starts_at, facts.ends_at, facts.basis
        row.person_id, row.status_record_id = person_id, status_record_id
        row.ended_at = None
        row.received_from, row.updated_at = self._actor.name, now
        self._session.flush()

    def end_watch(self, document_hash: str) -> int:
        """End the live watch entries on the hash."""
        rows = self._session.scalars(
            select(ControlEntry).where(
                ControlEntry.document_hash == document_hash,
                ControlEntry.person_id.is_(None),
                ControlEntry.ended_at.is_(None),
                ControlEntry.status != CLEARED,
            )
        ).all()
        for row in rows:
            row.ended_at = row.updated_at = self._actor.at
        self._session.flush()
        return len(rows)

    def changed_since(self, since: datetime, limit: int) -> Sequence[ControlChange]:
        """Rows added or changed at or after ``since``, the latest first."""
        rows = self._session.scalars(
            select(ControlEntry)
            .where(ControlEntry.updated_at >= since)
            .order_by(ControlEntry.updated_at.desc(), ControlEntry.id.desc())
            .limit(limit)
            .options(
                selectinload(ControlEntry.person)
                .selectinload(Person.household)
                .selectinload(Household.unit)
                .selectinload(Unit.building)
            )
        ).all()
        return [
            ControlChange(
                reference=row.reference,
                status=row.status,
                person=person_ref(row.person) if row.person is not None else None,
                changed_at=row.updated_at,
                ended=row.ended_at is not None,
            )
            for row in rows
        ]
