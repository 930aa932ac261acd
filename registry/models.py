"""SQLAlchemy models of the registry: compound -> building -> unit -> household -> person.

Personal values are never stored in the clear: a document number is kept as a keyed hash
(``number_hash``, for lookup), an AES-GCM ciphertext (``number_cipher``) and its last four
characters (``number_last4``, for screens); phones likewise. See ``registry.crypto``.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ColumnElement,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from gate.domain.documents import DocumentType
from gate.domain.passes import PassKind
from gate.domain.people import HealthStatus, LegalBasis, PersonKind, Relation, Sex, StaffRole
from registry.types import UTCDateTime, enum_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with constraint names that Alembic can rely on."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _new_ref() -> str:
    return str(uuid.uuid4())


class Compound(Base):
    """A fenced compound with one gate service."""

    __tablename__ = "compounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))

    buildings: Mapped[list[Building]] = relationship(back_populates="compound")


class Building(Base):
    """A building, keyed by its canonical number ("3" for 3号楼)."""

    __tablename__ = "buildings"
    __table_args__ = (UniqueConstraint("compound_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id", ondelete="RESTRICT"))
    key: Mapped[str] = mapped_column(String(32))

    compound: Mapped[Compound] = relationship(back_populates="buildings")
    units: Mapped[list[Unit]] = relationship(back_populates="building", order_by="Unit.key")


class Unit(Base):
    """An entrance (单元) of a building."""

    __tablename__ = "units"
    __table_args__ = (UniqueConstraint("building_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("buildings.id", ondelete="RESTRICT"))
    key: Mapped[str] = mapped_column(String(32))

    building: Mapped[Building] = relationship(back_populates="units")
    households: Mapped[list[Household]] = relationship(back_populates="unit")


class Household(Base):
    """A flat (房号) and whoever is registered as living in it."""

    __tablename__ = "households"
    __table_args__ = (UniqueConstraint("unit_id", "room"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(36), unique=True, default=_new_ref)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"))
    room: Mapped[str] = mapped_column(String(32))

    unit: Mapped[Unit] = relationship(back_populates="households")
    persons: Mapped[list[Person]] = relationship(back_populates="household")


class Person(Base):
    """Someone the gate may meet: resident, tenant or staff."""

    __tablename__ = "persons"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(36), unique=True, default=_new_ref)
    household_id: Mapped[int | None] = mapped_column(
        ForeignKey("households.id", ondelete="RESTRICT"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    sex: Mapped[Sex] = mapped_column(enum_column(Sex))
    birth_date: Mapped[date | None] = mapped_column(Date)
    phone_cipher: Mapped[bytes | None] = mapped_column(LargeBinary)
    phone_last4: Mapped[str | None] = mapped_column(String(4))
    relation: Mapped[Relation | None] = mapped_column(enum_column(Relation))
    kind: Mapped[PersonKind] = mapped_column(enum_column(PersonKind))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    moved_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    household: Mapped[Household | None] = relationship(back_populates="persons")
    documents: Mapped[list[Document]] = relationship(
        back_populates="person", cascade="all, delete-orphan"
    )
    statuses: Mapped[list[StatusRecord]] = relationship(
        back_populates="person", order_by="StatusRecord.starts_at", cascade="all, delete-orphan"
    )
    staff_roles: Mapped[list[StaffAssignment]] = relationship(
        back_populates="person", cascade="all, delete-orphan"
    )


class Document(Base):
    """An identity document of a person, stored as hash + ciphertext + last four."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    doc_type: Mapped[DocumentType] = mapped_column(enum_column(DocumentType))
    number_hash: Mapped[str] = mapped_column(String(64), unique=True)
    number_cipher: Mapped[bytes] = mapped_column(LargeBinary)
    number_last4: Mapped[str] = mapped_column(String(4))

    person: Mapped[Person] = relationship(back_populates="documents")


class StaffAssignment(Base):
    """A duty held by a person: building head of a building, unit head, guard, office."""

    __tablename__ = "staff_assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    role: Mapped[StaffRole] = mapped_column(enum_column(StaffRole))
    building_id: Mapped[int | None] = mapped_column(ForeignKey("buildings.id", ondelete="CASCADE"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))

    person: Mapped[Person] = relationship(back_populates="staff_roles")
    building: Mapped[Building | None] = relationship()
    unit: Mapped[Unit | None] = relationship()


class StatusRecord(Base):
    """One entry of a person's status history, ``[starts_at, ends_at)``."""

    __tablename__ = "status_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    status: Mapped[HealthStatus] = mapped_column(enum_column(HealthStatus))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    legal_basis: Mapped[LegalBasis] = mapped_column(enum_column(LegalBasis))
    note: Mapped[str] = mapped_column(Text, default="")

    person: Mapped[Person] = relationship(back_populates="statuses")


class AuditEvent(Base):
    """Append-only record of a sensitive action: who, when, from where, what."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_at", "at"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(100))
    origin: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(200))
    detail: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)


class RegistryRevision(Base):
    """One row whose counter goes up with every change a decision depends on.

    The gate decides from an in-memory snapshot; the passage write checks this counter in
    its own transaction, so a decision is never made on a registry that has moved on.
    """

    __tablename__ = "registry_revision"

    id: Mapped[int] = mapped_column(primary_key=True)
    revision: Mapped[int] = mapped_column(BigInteger, default=0)


class Rule(Base):
    """A gate rule and its parameters, in force during ``[effective_from, effective_to)``."""

    __tablename__ = "rules"

    rule_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    mode: Mapped[str] = mapped_column(String(8))
    params: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    effective_from: Mapped[datetime | None] = mapped_column(UTCDateTime())
    effective_to: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[str] = mapped_column(String(100))


class Exemption(Base):
    """Lifts named rules for one person until it expires (work, hospital, duty)."""

    __tablename__ = "exemptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    rule_ids: Mapped[list[str]] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    single_use: Mapped[bool] = mapped_column(default=False)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Visitor(Base):
    """A registered visit: who (document stored like any other), whom they visit, when."""

    __tablename__ = "visitors"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(36), unique=True, default=_new_ref)
    name: Mapped[str] = mapped_column(String(100))
    # An invited visitor is known by name until they show a document: no number yet.
    doc_type: Mapped[DocumentType | None] = mapped_column(enum_column(DocumentType))
    number_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    number_cipher: Mapped[bytes | None] = mapped_column(LargeBinary)
    number_last4: Mapped[str | None] = mapped_column(String(4))
    host_household_id: Mapped[int | None] = mapped_column(
        ForeignKey("households.id", ondelete="SET NULL")
    )
    reason: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    registered_by: Mapped[str] = mapped_column(String(100))
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Self-registration from the poster: pending until the host or a guard decides.
    # Only confirmed visits are in the gate's snapshot.
    status: Mapped[str] = mapped_column(String(16), default="confirmed", server_default="confirmed")
    source: Mapped[str] = mapped_column(String(16), default="guard", server_default="guard")
    phone_cipher: Mapped[bytes | None] = mapped_column(LargeBinary)
    phone_last4: Mapped[str | None] = mapped_column(String(4))
    stay_minutes: Mapped[int | None] = mapped_column(Integer)
    status_code_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    host_code_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    host_household: Mapped[Household | None] = relationship()


class PassageChain(Base):
    """The head of the passage log: last sequence number and hash, locked by each append."""

    __tablename__ = "passage_chain"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    last_hash: Mapped[str] = mapped_column(String(64))
    # The first row under the keyed chain (HMAC with the chain key, ``gate.domain.hashchain``);
    # rows before it were written unkeyed, before migration 0013. Anchors repeat it, signed.
    keyed_from: Mapped[int] = mapped_column(BigInteger, default=1, server_default="1")
    # Which chain key (``chain_key_id``, not the key): recorded on first use, then enforced.
    key_id: Mapped[str | None] = mapped_column(String(16))
    # Retention's checkpoint: rows 1..purged_to were deleted, row purged_to hashed to
    # purged_hash (the next row's prev_hash); a signed anchor repeats both.
    purged_to: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    purged_hash: Mapped[str | None] = mapped_column(String(64))
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Passage(Base):
    """One row of the append-only passage log; ``seq`` is the district's cursor.

    ``row_hash`` = HMAC-SHA-256 under the chain key over ``prev_hash`` and the row's
    canonical JSON (plain SHA-256 for rows before ``PassageChain.keyed_from``; see
    ``gate.domain.hashchain``), so an edited or deleted row breaks the chain from there on.
    """

    __tablename__ = "passages"
    # One person's passages in a window: tracing, ``by_person``, the quarantine report.
    __table_args__ = (Index("ix_passages_person_at", "person_ref", "at"),)

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    local_time: Mapped[str] = mapped_column(String(32))
    lane: Mapped[str] = mapped_column(String(32))
    direction: Mapped[str] = mapped_column(String(3))
    credential_kind: Mapped[str] = mapped_column(String(16))
    identity_kind: Mapped[str] = mapped_column(String(16))
    person_ref: Mapped[str | None] = mapped_column(String(36))
    household_ref: Mapped[str | None] = mapped_column(String(36), index=True)
    document_hash: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(8))
    alert: Mapped[str] = mapped_column(String(8))
    opens_barrier: Mapped[bool]
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    rule_ids: Mapped[list[str]] = mapped_column(JSON)
    decided_by: Mapped[str] = mapped_column(String(100))
    overrides_seq: Mapped[int | None] = mapped_column(BigInteger, index=True)
    temperature: Mapped[float | None]
    snapshot_ref: Mapped[str | None] = mapped_column(String(200))
    prev_hash: Mapped[str] = mapped_column(String(64))
    row_hash: Mapped[str] = mapped_column(String(64), unique=True)


def passage_opened_barrier() -> ColumnElement[bool]:
    """A passage that let someone known through: the rows presence follows.

    The presence index's predicate and the presence query's condition, built once: SQLite
    uses a partial index only for a query that repeats its terms.
    """
    return Passage.opens_barrier.is_(True) & Passage.person_ref.is_not(None)


# Presence (registry.snapshot): a person's latest passage that opened the barrier, found
# by one seek per person instead of a scan of the log.
Index(
    "ix_passages_presence",
    Passage.person_ref,
    Passage.seq,
    sqlite_where=passage_opened_barrier(),
    postgresql_where=passage_opened_barrier(),
)
# Tracing by document (registry.trace_store): most passages carry no document hash (a
# registered person is known by person_ref), so only those that do are indexed.
Index(
    "ix_passages_document_at",
    Passage.document_hash,
    Passage.at,
    sqlite_where=Passage.document_hash.is_not(None),
    postgresql_where=Passage.document_hash.is_not(None),
)


class StaffAccount(Base):
    """A login to the web app: guard, building head, property office, auditor, admin.

    ``session_version`` goes up when the account's role, buildings or password change or it
    is revoked; a session opened under an older version is refused at its next request.
    """

    __tablename__ = "staff_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(32))
    building_keys: Mapped[list[str]] = mapped_column(JSON, default=list)
    # A unit head's (单元长) units as "building/unit" keys; the building keys hold their buildings.
    unit_keys: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    password_hash: Mapped[str] = mapped_column(String(200))
    pin_hash: Mapped[str | None] = mapped_column(String(200))
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    session_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WebSession(Base):
    """A signed-in browser. The cookie holds a random token; only its hash is stored."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="CASCADE"), index=True
    )
    session_version: Mapped[int]
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_active_at: Mapped[datetime] = mapped_column(UTCDateTime())
    locked: Mapped[bool] = mapped_column(default=False)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    origin: Mapped[str] = mapped_column(String(100))

    account: Mapped[StaffAccount] = relationship()


class HealthCheck(Base):
    """The building head's daily round: one temperature of one person on one day."""

    __tablename__ = "health_checks"
    __table_args__ = (UniqueConstraint("person_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    temperature: Mapped[float]
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class HouseholdNeed(Base):
    """Something a quarantined household needs: food, medicine, a hospital visit."""

    __tablename__ = "household_needs"

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(
        ForeignKey("households.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="open")
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by: Mapped[str | None] = mapped_column(String(100))


class IssuedPass(Base):
    """A QR pass the compound signed: whose, which kind, its window, revoked or spent.

    ``signed`` is the token's signed bytes (public: the QR shows them); a rotating pass's
    step secret is never stored, the key ring derives it. ``used_at`` is set, in the
    passage's own log transaction, when a one-time pass lets its passage through.
    """

    __tablename__ = "passes"

    pass_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    kind: Mapped[PassKind] = mapped_column(enum_column(PassKind))
    subject_ref: Mapped[str] = mapped_column(String(36), index=True)
    household_ref: Mapped[str | None] = mapped_column(String(36))
    not_before: Mapped[datetime] = mapped_column(UTCDateTime())
    not_after: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    rotating: Mapped[bool] = mapped_column(default=False)
    key_id: Mapped[str] = mapped_column(String(4))
    signed: Mapped[bytes] = mapped_column(LargeBinary)
    note: Mapped[str] = mapped_column(String(200), default="")
    issued_by: Mapped[str] = mapped_column(String(100))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by: Mapped[str | None] = mapped_column(String(100))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    used_seq: Mapped[int | None] = mapped_column(BigInteger)


class PassEnrollment(Base):
    """A one-time link or code that puts a pass on a phone; only its hash is kept."""

    __tablename__ = "pass_enrollments"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    pass_id: Mapped[str] = mapped_column(
        ForeignKey("passes.pass_id", ondelete="CASCADE"), index=True
    )
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ApiKey(Base):
    """A machine's API key: only the SHA-256 of its text, and a short prefix to show.

    A rotation revokes the row and adds the next one with the same name; names are
    unique among rows not revoked (``gate.app.api_keys`` checks it).
    """

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), index=True)
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The compounds a hub key pushes for and reads; empty: a key of this gate's own.
    compounds: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by: Mapped[str | None] = mapped_column(String(100))


class ControlEntry(Base):
    """One row of a district control list, kept by its ``reference`` (the idempotency key).

    ``person_id`` and ``status_record_id`` say where it was applied (a status period of a
    registered person); without a person it is a watch entry on ``document_hash``, the
    document's keyed hash, matched when that document is first seen at the gate. ``status``
    is a ``HealthStatus`` value or ``cleared``; ``ended_at`` is set when a later ``cleared``
    row ended the watch entry.
    """

    __tablename__ = "control_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(100), unique=True)
    doc_type: Mapped[DocumentType] = mapped_column(enum_column(DocumentType))
    document_hash: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(32))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    basis: Mapped[str] = mapped_column(Text, default="")
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("persons.id", ondelete="SET NULL"), index=True
    )
    status_record_id: Mapped[int | None] = mapped_column(
        ForeignKey("status_records.id", ondelete="SET NULL")
    )
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    received_from: Mapped[str] = mapped_column(String(100))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    person: Mapped[Person | None] = relationship()


class DeliveryCursor(Base):
    """How far one events-out relay has delivered the log (``gate.app.outbound``).

    ``name`` is the sink's (``mqtt:host:port``, ``webhook:<name>``); ``last_seq`` the last
    passage its receiver acknowledged. A relay resumes after it, after any outage.
    """

    __tablename__ = "delivery_cursors"

    name: Mapped[str] = mapped_column(String(120), primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class FaceConsent(Base):
    """A person's separate consent to face recognition (opt-in; never the only way in).

    ``consented_by`` is who gave it: the person, or for a person under 14 their guardian
    (``guardian`` true). ``notice_version`` is the privacy notice they were shown.
    Withdrawal sets ``withdrawn_at`` and deletes every template of the person at once.
    """

    __tablename__ = "face_consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    consented_by: Mapped[str] = mapped_column(String(100))
    guardian: Mapped[bool] = mapped_column(default=False)
    notice_version: Mapped[str] = mapped_column(String(32))
    consented_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_by: Mapped[str] = mapped_column(String(100))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdrawn_by: Mapped[str | None] = mapped_column(String(100))


class ImpactAssessment(Base):
    """A personal-information impact assessment (PIPL Art. 55-56) of face recognition,
    recorded by an admin; face enrolment is refused until one is on file."""

    __tablename__ = "impact_assessments"

    id: Mapped[int] = mapped_column(primary_key=True)
    assessed_on: Mapped[date] = mapped_column(Date)
    assessed_by: Mapped[str] = mapped_column(String(100))
    reference: Mapped[str] = mapped_column(Text)  # the summary, or where the report is kept
    scope: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class FaceTemplate(Base):
    """One enrolled face: the 128-d template and the enrolment photo, both AES-GCM.

    Several a person. ``template_cipher`` decrypts to 512 bytes (``gate.domain.faces``);
    ``photo_cipher`` to a small JPEG of the face for the guard's screen. Neither ever leaves
    the gate: no export, feed or log carries them.
    """

    __tablename__ = "face_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    consent_id: Mapped[int] = mapped_column(
        ForeignKey("face_consents.id", ondelete="CASCADE"), index=True
    )
    template_cipher: Mapped[bytes] = mapped_column(LargeBinary)
    photo_cipher: Mapped[bytes | None] = mapped_column(LargeBinary)
    source: Mapped[str] = mapped_column(String(16))  # upload, camera, cli
    quality: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(100))


class FaceSnapshot(Base):
    """The camera picture of a face passage, AES-GCM, found by ``ref`` (a passage's
    ``snapshot_ref``). Deleted after ``keep_until`` by the retention job unless attached to
    an incident (``incident`` true)."""

    __tablename__ = "face_snapshots"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(36), unique=True)
    lane: Mapped[str] = mapped_column(String(32))
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime())
    band: Mapped[str] = mapped_column(String(16))
    person_ref: Mapped[str | None] = mapped_column(String(36))
    image_cipher: Mapped[bytes] = mapped_column(LargeBinary)
    keep_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    incident: Mapped[bool] = mapped_column(default=False)


class FaceCorrection(Base):
    """A guard's "not this person" on a face passage: the candidate the camera proposed."""

    __tablename__ = "face_corrections"

    id: Mapped[int] = mapped_column(primary_key=True)
    passage_seq: Mapped[int] = mapped_column(BigInteger, index=True)
    person_ref: Mapped[str] = mapped_column(String(36), index=True)
    distance: Mapped[float | None]
    guard: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UTCDateTime())


# The hub's tables share the metadata (migrations, the models-and-migrations check).
from registry import hub_models  # noqa: E402, F401
