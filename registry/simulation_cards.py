"""The ID cards of the registered persons, as a reader would read them: for ``gate simulate``.

A simulated day presents each person's own card at the gate, so the simulation needs the
document numbers the registry keeps encrypted. They are decrypted here into memory only
(never printed or logged); the simulation audits that it read them.
"""

from __future__ import annotations

from sqlalchemy import select

from gate.domain.model import DocumentRead
from registry.crypto import PersonalDataCipher
from registry.database import Database
from registry.models import AuditEvent, Document, Person


def seeded_by_demo(database: Database) -> bool:
    """Whether ``gate demo seed`` filled this registry (its audit row says so)."""
    with database.session() as session:
        found = session.scalar(
            select(AuditEvent.id).where(AuditEvent.action == "demo.seed").limit(1)
        )
    return found is not None


def registered_cards(database: Database, cipher: PersonalDataCipher) -> dict[str, DocumentRead]:
    """Each present person's first document, by person ref, as a card read of it."""
    cards: dict[str, DocumentRead] = {}
    query = (
        select(
            Person.ref,
            Person.name,
            Person.sex,
            Person.birth_date,
            Document.doc_type,
            Document.number_cipher,
        )
        .join(Document, Document.person_id == Person.id)
        .where(Person.moved_out_at.is_(None))
        .order_by(Person.id, Document.id)
    )
    with database.session() as session:
        for ref, name, sex, birth_date, doc_type, number_cipher in session.execute(query):
            if ref in cards:
                continue
            cards[ref] = DocumentRead(
                doc_type=doc_type,
                number=cipher.decrypt("document", number_cipher),
                name=name,
                sex=sex,
                birth_date=birth_date,
            )
    return cards
