"""The personal data under a new data key: check which key the registry holds, re-encrypt.

Every encrypted column, with the associated data its values are bound to:

| column | field |
| --- | --- |
| ``documents.number_cipher``, ``visitors.number_cipher`` | ``document`` |
| ``persons.phone_cipher``, ``visitors.phone_cipher`` | ``phone`` |
| ``face_templates.template_cipher`` / ``photo_cipher`` | the person's ref (``face_store``) |
| ``face_snapshots.image_cipher`` | ``face_snapshots.image`` |

``reencrypt`` reads each value with the old cipher and writes it with the new one, in one
transaction: a crash or an error leaves every value under the old key. The lookup hashes
(``number_hash``, the passage log's ``document_hash``) are not touched: the new cipher keeps
the old lookup sub-key (``registry.crypto``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from gate.app.actor import Actor
from gate.domain.errors import RegistryError
from registry.crypto import PersonalDataCipher
from registry.database import Database
from registry.face_snapshots import IMAGE_FIELD
from registry.face_store import photo_field, template_field
from registry.models import AuditEvent, Document, FaceSnapshot, FaceTemplate, Person, Visitor

BATCH = 500


@dataclass(frozen=True)
class _Column:
    """One encrypted column: its model, the attribute, and the field of a row."""

    name: str
    model: type[Any]
    attribute: InstrumentedAttribute[Any]
    field: Callable[[Any], str]
    person_ref: bool = False  # the field needs the row's person's ref


def _fixed(field: str) -> Callable[[Any], str]:
    return lambda _row: field


COLUMNS = (
    _Column("documents.number_cipher", Document, Document.number_cipher, _fixed("document")),
    _Column("persons.phone_cipher", Person, Person.phone_cipher, _fixed("phone")),
    _Column("visitors.number_cipher", Visitor, Visitor.number_cipher, _fixed("document")),
    _Column("visitors.phone_cipher", Visitor, Visitor.phone_cipher, _fixed("phone")),
    _Column(
        "face_templates.template_cipher",
        FaceTemplate,
        FaceTemplate.template_cipher,
        lambda row: template_field(row.ref),
        person_ref=True,
    ),
    _Column(
        "face_templates.photo_cipher",
        FaceTemplate,
        FaceTemplate.photo_cipher,
        lambda row: photo_field(row.ref),
        person_ref=True,
    ),
    _Column(
        "face_snapshots.image_cipher", FaceSnapshot, FaceSnapshot.image_cipher, _fixed(IMAGE_FIELD)
    ),
)


def _rows(session: Session, column: _Column) -> Iterator[list[Any]]:
    """The column's non-null values in batches of ``BATCH``, by id."""
    model = column.model
    extra: tuple[Column[Any], ...] = (Person.ref,) if column.person_ref else ()  # type: ignore[assignment]
    last = 0
    while True:
        query = select(model.id, column.attribute.label("blob"), *extra).where(
            column.attribute.is_not(None), model.id > last
        )
        if column.person_ref:
            query = query.join(Person, Person.id == model.person_id)
        batch = list(session.execute(query.order_by(model.id).limit(BATCH)))
        if not batch:
            return
        yield batch
        last = batch[-1].id


def key_fits(database: Database, cipher: PersonalDataCipher) -> bool | None:
    """Whether ``cipher`` reads the registry's personal data; None if none is encrypted.

    A document proves both sub-keys (its number decrypts and hashes to its ``number_hash``);
    without one, the first value of any encrypted column proves the cipher's.
    """
    with database.session() as session:
        document = session.execute(
            select(Document.doc_type, Document.number_hash, Document.number_cipher).limit(1)
        ).first()
        if document is not None:
            try:
                number = cipher.decrypt("document", document.number_cipher)
            except RegistryError:
                return False
            expected: str = document.number_hash
            return cipher.lookup_hash(document.doc_type.value, number) == expected
        for column in COLUMNS[1:]:
            for batch in _rows(session, column):
                row = batch[0]
                try:
                    cipher.decrypt_bytes(column.field(row), row.blob)
                except RegistryError:
                    return False
                return True
    return None


def reencrypt(
    database: Database,
    old: PersonalDataCipher,
    new: PersonalDataCipher,
    *,
    actor: Actor,
) -> dict[str, int]:
    """Every encrypted value read with ``old`` and written with ``new``, in one transaction.

    The number of values of each column; the transaction's audit row (``data_key.rotated``)
    names ``actor``. ``RegistryError`` (nothing changed) if a value does not decrypt with
    ``old``.
    """
    counts: dict[str, int] = {}
    with database.session() as session:
        for column in COLUMNS:
            done = 0
            for batch in _rows(session, column):
                values = [
                    {
                        "id": row.id,
                        column.attribute.key: new.encrypt_bytes(
                            column.field(row), old.decrypt_bytes(column.field(row), row.blob)
                        ),
                    }
                    for row in batch
                ]
                session.execute(update(column.model), values)
                done += len(values)
            counts[column.name] = done
        session.add(
            AuditEvent(
                at=actor.at,
                actor=actor.name,
                origin=actor.origin,
                action="data_key.rotated",
                target="personal data",
                detail=dict(counts),
            )
        )
    return counts
