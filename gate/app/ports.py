"""The ports the use cases talk through; ``registry/`` implements them on the database.

A use case opens one ``UnitOfWork`` for its actor, reads and writes through its stores,
writes its audit row with ``audit`` and says ``registry_changed`` when a passage decision
depends on what it changed; ``commit`` then writes all of it, with the registry revision
bumped once, in one transaction. Leaving the ``with`` block without ``commit`` rolls back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from types import TracebackType
from typing import Any, Protocol

from gate.app.actor import Actor, Scope
from gate.app.admin_ports import RegistryStore, ReportStore, StaffStore
from gate.app.api_key_ports import ApiKeyStore
from gate.app.control_ports import ControlStore, TraceStore
from gate.app.face_ports import FaceRecords
from gate.app.hub_ports import HubStore
from gate.app.office_ports import OfficeViewStore
from gate.app.office_values import NeedOnFile, PersonEntry, PersonOnFile, PersonSaved, StatusOnFile
from gate.app.pass_ports import PassStore
from gate.app.retention_ports import RetentionStore
from gate.app.views import (
    ExemptionLine,
    HouseholdRef,
    PersonMatch,
    PersonRef,
    VisitOnFile,
    VisitorRef,
    VisitRequest,
)
from gate.domain.documents import DocumentType
from gate.domain.model import PassageRecord
from gate.domain.people import HealthStatus, LegalBasis
from gate.domain.rules import RuleConfig


class PersonStore(Protocol):
    """Persons of the registry, as the use cases look them up."""

    def by_ref(self, ref: str, scope: Scope) -> PersonRef:
        """The person ``ref``; ``NotFound``, or ``OutOfScope`` outside ``scope``."""
        ...

    def holder_of(self, doc_type: DocumentType, number: str) -> PersonRef | None:
        """The person holding this (already validated) document, present or moved out."""
        ...

    def search(self, text: str, *, limit: int) -> Sequence[PersonMatch]:
        """Present persons by name, room ("502", "3-2-502") or a document's last four."""
        ...


class HouseholdStore(Protocol):
    """The compound's flats."""

    def find(self, *, building: str, unit: str, room: str) -> HouseholdRef:
        """A household by its labels ("3号楼", "2", "502"); ``NotFound`` otherwise."""
        ...


class ExemptionStore(Protocol):
    """Exemptions: rules lifted for one person, until a time, possibly once."""

    def add(
        self,
        *,
        person: PersonRef,
        rule_ids: Sequence[str],
        reason: str,
        expires_at: datetime | None,
        single_use: bool,
    ) -> int:
        """Record an exemption; return its id."""
        ...

    def end(self, exemption_id: int) -> tuple[PersonRef, tuple[str, ...], datetime | None]:
        """End an exemption at the actor's time; return its person, rules and former end.

        ``NotFound`` if there is none.
        """
        ...

    def active(
        self, *, person_refs: Sequence[str] | None = None, single_use: bool | None = None
    ) -> Sequence[ExemptionLine]:
        """Exemptions neither expired nor used up at the actor's time, soonest end first."""
        ...


class RuleStore(Protocol):
    """The rules in the database (their kinds and defaults come from the domain)."""

    def all(self) -> Sequence[RuleConfig]:
        """Every rule, in the order they are evaluated."""
        ...

    def get(self, rule_id: str) -> RuleConfig:
        """One rule; ``NotFound`` if there is none."""
        ...

    def save(self, rule: RuleConfig) -> None:
        """Store a rule's new mode, parameters and dates (stamped with the actor)."""
        ...


class VisitorStore(Protocol):
    """Registered visits."""

    def add(
        self,
        *,
        name: str,
        doc_type: DocumentType | None,
        number: str | None,
        host: HouseholdRef | None,
        reason: str,
        starts_at: datetime,
        ends_at: datetime,
    ) -> VisitorRef:
        """Record a visit (the document stored like any other; none for an invite)."""
        ...

    def find(self, ref_or_number: str) -> VisitOnFile | None:
        """A visit by its ref, or a visitor's latest visit by their document number."""
        ...

    def add_request(
        self,
        *,
        name: str,
        doc_type: DocumentType,
        number: str,
        phone: str,
        host: HouseholdRef,
        reason: str,
        stay_minutes: int,
        status_code_hash: str,
        host_code_hash: str,
    ) -> VisitRequest:
        """Record a pending visit from the poster form."""
        ...

    def request_by_code(
        self, *, status_code_hash: str = "", host_code_hash: str = ""
    ) -> VisitRequest | None:
        """A visit request by the visitor's or the host's code."""
        ...

    def request(self, ref: str) -> VisitRequest:
        """A visit request by ref; ``NotFound``."""
        ...

    def pending_requests(self, *, since: datetime, limit: int) -> Sequence[VisitRequest]:
        """Requests still waiting for the host or a guard, oldest first."""
        ...

    def decide_request(
        self, ref: str, *, confirmed: bool, starts_at: datetime, ends_at: datetime
    ) -> None:
        """Confirm (with its window) or decline a pending request, by the actor, now."""
        ...

    def purge_requests(self, *, ended_before: datetime) -> int:
        """Delete phone-registered visits that ended (or were registered) before; how many."""
        ...


class PersonRecordStore(Protocol):
    """Persons' registered details, written through the registry's one person writer."""

    def has_unit(self, building: str, unit: str) -> bool:
        """True if the compound has this unit (``building_key``/``unit_key`` labels)."""
        ...

    def on_file(self, ref: str, scope: Scope) -> PersonOnFile:
        """The person ``ref`` with their document; ``NotFound``, or ``OutOfScope``."""
        ...

    def save(self, entry: PersonEntry) -> PersonSaved:
        """Create the holder of the entry's document, or change (and bring back) them."""
        ...

    def move_out(self, ref: str) -> None:
        """Mark the person as moved out at the actor's time (the row and history stay)."""
        ...


class StatusStore(Protocol):
    """Persons' status histories."""

    def add(
        self,
        person: PersonRef,
        *,
        status: HealthStatus,
        starts_at: datetime,
        ends_at: datetime | None,
        legal_basis: LegalBasis,
        note: str,
    ) -> int:
        """Record a status period (stamped with the actor); return its id."""
        ...

    def get(self, record_id: int) -> StatusOnFile:
        """One status record; ``NotFound`` if there is none."""
        ...

    def end(self, record_id: int) -> None:
        """End the status at the actor's time."""
        ...

    def change(
        self,
        record_id: int,
        *,
        status: HealthStatus,
        starts_at: datetime,
        ends_at: datetime | None,
        note: str,
    ) -> None:
        """Change a status period (stamped with the actor); ``NotFound``."""
        ...

    def of_person(self, person_ref: str) -> Sequence[StatusOnFile]:
        """The person's status history, earliest start first."""
        ...


class RoundStore(Protocol):
    """The building head's daily round: temperatures and household needs."""

    def household(self, ref: str, scope: Scope) -> HouseholdRef:
        """The household ``ref``; ``NotFound``, or ``OutOfScope`` outside ``scope``."""
        ...

    def members(self, household_ref: str) -> Sequence[PersonRef]:
        """The persons of a household who have not moved out."""
        ...

    def record_check(self, person: PersonRef, *, day: date, temperature: float, note: str) -> bool:
        """Store the person's temperature of ``day``; True if it replaced an earlier one."""
        ...

    def add_need(self, household_ref: str, *, kind: str, detail: str) -> int:
        """Record an open need of a household; return its id."""
        ...

    def need(self, need_id: int) -> NeedOnFile:
        """One need; ``NotFound`` if there is none."""
        ...

    def resolve_need(self, need_id: int) -> None:
        """Mark a need resolved by the actor, now."""
        ...


class UnitOfWork(Protocol):
    """One transaction of one actor; see the module docstring."""

    @property
    def actor(self) -> Actor:
        """Who this transaction runs for."""
        ...

    @property
    def persons(self) -> PersonStore:
        """Persons."""
        ...

    @property
    def households(self) -> HouseholdStore:
        """Flats."""
        ...

    @property
    def exemptions(self) -> ExemptionStore:
        """Exemptions."""
        ...

    @property
    def rules(self) -> RuleStore:
        """Rules."""
        ...

    @property
    def visitors(self) -> VisitorStore:
        """Visits."""
        ...

    @property
    def passes(self) -> PassStore:
        """Issued QR passes and their enrollment codes."""
        ...

    @property
    def person_records(self) -> PersonRecordStore:
        """Persons' registered details."""
        ...

    @property
    def statuses(self) -> StatusStore:
        """Status histories."""
        ...

    @property
    def daily_round(self) -> RoundStore:
        """Temperatures and household needs."""
        ...

    @property
    def office_views(self) -> OfficeViewStore:
        """What the office pages show (read only)."""
        ...

    @property
    def staff(self) -> StaffStore:
        """Staff accounts and web sessions."""
        ...

    @property
    def reports(self) -> ReportStore:
        """The shift report and the audit log."""
        ...

    @property
    def registry(self) -> RegistryStore:
        """The registry as a whole: counts, schema, spreadsheets."""
        ...

    @property
    def api_keys(self) -> ApiKeyStore:
        """Machines' API keys (hashes only)."""
        ...

    @property
    def controls(self) -> ControlStore:
        """The district's control rows and documents' keyed hashes."""
        ...

    @property
    def traces(self) -> TraceStore:
        """The passage log as tracing reads it."""
        ...

    @property
    def hub(self) -> HubStore:
        """Passages pushed to this service in hub mode."""
        ...

    @property
    def faces(self) -> FaceRecords:
        """Face consents and templates (encrypted; never exported)."""
        ...

    @property
    def retention(self) -> RetentionStore:
        """Retention's deletes per data class."""
        ...

    def audit(self, action: str, target: str, detail: Mapping[str, Any] | None = None) -> None:
        """Add the audit row of this use case (in the same transaction)."""
        ...

    def registry_changed(self) -> None:
        """Running gates must reload: bump the registry revision (once) at commit."""
        ...

    def commit(self) -> None:
        """Write everything; ``RegistryUnavailable`` if the database refuses."""
        ...

    def __enter__(self) -> UnitOfWork:
        """Open the transaction."""
        ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Roll back whatever was not committed, and release the connection."""
        ...


UnitOfWorkFactory = Callable[[Actor], UnitOfWork]


class PassageLogReader(Protocol):
    """The read side of the passage log: the terminal, the reports and the district feed."""

    def get(self, seq: int) -> PassageRecord:
        """The passage ``seq``; ``NotFound`` if there is none."""
        ...

    def tail(self, count: int) -> list[PassageRecord]:
        """The last ``count`` passages, oldest first."""
        ...

    def since(self, after_seq: int, limit: int = 1000) -> list[PassageRecord]:
        """Passages after ``after_seq`` in order (the incremental pull's cursor)."""
        ...

    def unhandled(self, *, since: datetime, limit: int = 200) -> list[PassageRecord]:
        """Reviews and denials since ``since`` that no guard has decided yet, oldest first."""
        ...

    def by_person(self, person_ref: str, *, since: datetime) -> list[PassageRecord]:
        """One person's passages since ``since``, in order."""
        ...
