"""The passage domain: who is at the gate, what we know of them, and what was decided.

Frozen values only; no I/O. A refusal is a ``Decision`` with reasons, not an exception.
Reasons are codes with parameters (``Reason("quarantine_no_exit", {"until": ...})``),
turned into Chinese or English only on the screen.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from gate.domain.documents import DocumentType, mask
from gate.domain.faces import FaceBand
from gate.domain.people import HealthStatus, PersonKind, Sex

ParamValue = str | int | float | bool | None


class CredentialKind(StrEnum):
    """How a person presented themselves."""

    ID_CARD = "id_card"
    QR_PASS = "qr_pass"  # noqa: S105 - a credential kind, not a secret
    FACE = "face"
    MANUAL = "manual"  # a guard typed the document number


class Direction(StrEnum):
    """Which way through the gate."""

    IN = "in"
    OUT = "out"


class Presence(StrEnum):
    """Where the passage log says a person is."""

    INSIDE = "inside"
    OUTSIDE = "outside"
    UNKNOWN = "unknown"


class IdentityKind(StrEnum):
    """What the registry makes of a credential."""

    REGISTERED = "registered"  # resident, tenant or staff
    VISITOR = "visitor"
    OUTSIDER = "outsider"


class Certainty(StrEnum):
    """How sure the identification is."""

    EXACT = "exact"  # document number or signed pass
    FACE = "face"  # a face match; see ``Identity.face_distance``


class Outcome(StrEnum):
    """The decision; ``DENY`` is stricter than ``REVIEW``, which is stricter than ``ALLOW``."""

    ALLOW = "allow"
    REVIEW = "review"
    DENY = "deny"


OUTCOME_SEVERITY = {Outcome.ALLOW: 0, Outcome.REVIEW: 1, Outcome.DENY: 2}


class AlertLevel(StrEnum):
    """How loudly the guard is told."""

    NONE = "none"
    NOTICE = "notice"  # shown, no sound
    ALARM = "alarm"  # sound until handled


ALERT_SEVERITY = {AlertLevel.NONE: 0, AlertLevel.NOTICE: 1, AlertLevel.ALARM: 2}


@dataclass(frozen=True)
class DocumentRead:
    """What a card reader (or a guard typing) gave us. Repr hides the number."""

    doc_type: DocumentType
    number: str
    name: str | None = None
    sex: Sex | None = None
    birth_date: date | None = None
    valid_to: date | None = None  # None: long-term or not known
    valid_to_known: bool = False

    def __repr__(self) -> str:
        return f"DocumentRead({self.doc_type.value}, {mask(self.number)})"


@dataclass(frozen=True)
class Credential:
    """A credential presented at a lane."""

    kind: CredentialKind
    document: DocumentRead | None = None
    person_ref: str | None = None  # a face: the candidate (None: an unknown face)
    face_distance: float | None = None
    code: str | None = field(default=None, repr=False)  # a QR pass: the scanned text
    face_band: FaceBand | None = None  # a face: match, uncertain or unknown
    face_margin: float | None = None  # a face: how much nearer than the next person
    snapshot_ref: str | None = None  # a face: the camera picture kept for the passage


@dataclass(frozen=True)
class Exemption:
    """Lifts named rules for one person until ``expires_at`` (work, hospital, duty)."""

    rule_ids: frozenset[str]  # rule ids or rule kinds
    reason: str
    expires_at: datetime | None
    exemption_id: int | None = None
    single_use: bool = False  # e.g. one escorted hospital visit: consumed by its passage


@dataclass(frozen=True)
class VisitWindow:
    """When a registered visitor may come and go."""

    starts_at: datetime
    ends_at: datetime
    host_household_ref: str | None = None


@dataclass(frozen=True)
class Outing:
    """One time a household member went out; ``returned_at`` None while still out."""

    person_ref: str
    left_at: datetime
    returned_at: datetime | None = None


@dataclass(frozen=True)
class Identity:
    """Who the credential belongs to and what the registry knows of them right now."""

    kind: IdentityKind
    certainty: Certainty = Certainty.EXACT
    person_ref: str | None = None
    household_ref: str | None = None
    person_kind: PersonKind | None = None
    status: HealthStatus = HealthStatus.NORMAL
    status_until: datetime | None = None
    exemptions: tuple[Exemption, ...] = ()
    visit: VisitWindow | None = None
    face_distance: float | None = None
    document: DocumentRead | None = None  # the card read, kept for registering an outsider


@dataclass(frozen=True)
class PassageContext:
    """Everything about the moment of a passage that is not the person."""

    lane: str
    direction: Direction
    now: datetime
    temperature: float | None = None
    presence: Presence = Presence.UNKNOWN
    household_outings: tuple[Outing, ...] = ()

    def __post_init__(self) -> None:
        if self.now.tzinfo is None:
            raise ValueError("PassageContext.now must be timezone-aware")


@dataclass(frozen=True)
class Reason:
    """Why: a machine-readable code, its parameters, and the rule that gave it."""

    code: str
    params: Mapping[str, ParamValue] = field(default_factory=dict)
    rule_id: str | None = None


@dataclass(frozen=True)
class Decision:
    """The outcome of one passage and everything that led to it."""

    outcome: Outcome
    reasons: tuple[Reason, ...]
    alert: AlertLevel
    rule_ids: tuple[str, ...]
    opens_barrier: bool

    @property
    def reason_codes(self) -> tuple[str, ...]:
        """The codes alone, in order."""
        return tuple(reason.code for reason in self.reasons)

    def reasons_json(self) -> list[dict[str, object]]:
        """The reasons as the log stores them and scripts read them."""
        return [
            {"code": reason.code, "params": dict(reason.params), "rule_id": reason.rule_id}
            for reason in self.reasons
        ]


@dataclass(frozen=True)
class PassageEntry:
    """What the pipeline asks the log to keep for one passage (no document number)."""

    uuid: str
    at: datetime
    lane: str
    direction: Direction
    credential_kind: CredentialKind
    identity_kind: IdentityKind
    person_ref: str | None
    household_ref: str | None
    document_hash: str | None
    decision: Decision
    decided_by: str = "auto"
    overrides_seq: int | None = None
    temperature: float | None = None
    snapshot_ref: str | None = None


@dataclass(frozen=True)
class PassageRecord:
    """A passage as the log holds it: its sequence number (the district's cursor) and hash."""

    seq: int
    entry: PassageEntry
    row_hash: str
