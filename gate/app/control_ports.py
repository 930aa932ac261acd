"""The ports of the district's control lists and tracing; ``registry/`` implements them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from gate.app.district_feed import FeedRow
from gate.app.views import PersonRef
from gate.domain.documents import DocumentType

CLEARED = "cleared"  # the status word of a control row that ends what was listed


@dataclass(frozen=True)
class ControlFacts:
    """What one control row says, checked: whose document, which status, when, why."""

    reference: str
    doc_type: DocumentType
    document_hash: str
    status: str  # a ``HealthStatus`` value or ``CLEARED``
    starts_at: datetime
    ends_at: datetime | None
    basis: str


@dataclass(frozen=True)
class ControlOnFile:
    """A control row as kept: its facts and where it was applied (no person: watched)."""

    facts: ControlFacts
    person_ref: str | None
    status_record_id: int | None
    ended_at: datetime | None


@dataclass(frozen=True)
class ControlChange:
    """A control row as it stands after its latest change, for the guard's screen."""

    reference: str
    status: str  # a ``HealthStatus`` value or ``CLEARED``
    person: PersonRef | None  # None: a watch entry (nobody here holds the document)
    changed_at: datetime
    ended: bool  # a watch entry a later ``cleared`` row ended


class ControlStore(Protocol):
    """The district's control rows by reference, and documents by their keyed hash."""

    def document_hash(self, doc_type: DocumentType, number: str) -> str:
        """The keyed hash of a (validated, normalized) document, as the gate makes it."""
        ...

    def holder(self, document_hash: str) -> PersonRef | None:
        """The person holding the document with this hash, present or moved out."""
        ...

    def get(self, reference: str) -> ControlOnFile | None:
        """The row kept under ``reference``, if any."""
        ...

    def save(
        self, facts: ControlFacts, *, person_ref: str | None, status_record_id: int | None
    ) -> None:
        """Keep (add or replace) the row under its reference, stamped with the actor."""
        ...

    def end_watch(self, document_hash: str) -> int:
        """End the watch entries on this hash at the actor's time; how many there were."""
        ...

    def changed_since(self, since: datetime, limit: int) -> Sequence[ControlChange]:
        """Rows added or changed at or after ``since``, the latest first, at most ``limit``."""
        ...


class TraceStore(Protocol):
    """The passage log as tracing reads it, with each household's place."""

    def of_person(
        self,
        *,
        person_ref: str | None,
        document_hash: str,
        since: datetime,
        until: datetime,
        limit: int,
    ) -> Sequence[FeedRow]:
        """Passages of the person, or of the document when read at the gate, in order."""
        ...

    def window(self, *, since: datetime, until: datetime, limit: int) -> Sequence[FeedRow]:
        """Every passage in ``[since, until)``, in order."""
        ...
