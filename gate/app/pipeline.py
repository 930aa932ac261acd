"""One passage from credential to open barrier: identify, decide, log durably, open, tell.

The order is the safety property: the barrier is commanded only after the log row is
committed, so a crash at any point can leave a logged passage whose barrier never opened,
but never an opened barrier without its row. Whatever goes wrong (an unknown lane, a
malformed credential, a log that refuses the write) ends in a refusal with a reason and a
shut barrier; the process carries on.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from gate.domain.errors import (
    CredentialInvalid,
    DeviceError,
    LogUnavailable,
    OverrideRefused,
    PassSpent,
    StaleSnapshot,
)
from gate.domain.events import EVENT_FOR_OUTCOME, EventBus, EventType, PassageEvent
from gate.domain.face_policy import with_face
from gate.domain.model import (
    AlertLevel,
    Credential,
    CredentialKind,
    Decision,
    Direction,
    DocumentRead,
    Identity,
    IdentityKind,
    Outcome,
    ParamValue,
    PassageEntry,
    PassageRecord,
    Reason,
)
from gate.domain.passes import (
    PassReason,
    PassRefusal,
    PassVerifier,
    refusal_code,
    spent_passes,
)
from gate.domain.policy import decide
from gate.domain.ports import Barrier, BarrierAction, PassageLog
from gate.domain.snapshot import RegistrySnapshot, VisitFacts
from gate.domain.watch import with_watch

logger = logging.getLogger(__name__)

NOT_THIS_PERSON = "not_this_person"  # the face override that also stores a correction
# Reasons a guard may give for overriding a decision (the terminal shows them in Chinese).
OVERRIDE_REASONS = frozenset(
    {
        "identity_confirmed",
        "work_certificate",
        "medical_visit",
        "emergency",
        "visitor_registered",
        "delivery",
        "staff_duty",
        NOT_THIS_PERSON,  # a face passage: the camera named the wrong person
        "refused",
        "other",
    }
)
MAX_OVERRIDE_TEXT = 500
# Refused passes that look like someone trying (a forged or replayed code, a screenshot,
# a revoked pass): the guard hears them. An expired pass or a stray QR is only shown.
ALARMING_PASS_REASONS = frozenset(
    {
        refusal_code(PassRefusal.BAD_SIGNATURE),
        refusal_code(PassRefusal.BAD_CODE),
        refusal_code(PassRefusal.STALE_STEP),
        PassReason.REVOKED,
        PassReason.REPLAYED,
        PassReason.UNKNOWN,
    }
)


class SnapshotProvider(Protocol):
    """Where the pipeline gets the registry snapshot from."""

    def current(self) -> RegistrySnapshot:
        """The snapshot to decide from."""
        ...

    def reload(self) -> RegistrySnapshot:
        """Rebuild the snapshot from the registry and return it."""
        ...

    def refresh_if_changed(self) -> bool:
        """Reload if the registry's revision moved on; True if it did."""
        ...


@dataclass(frozen=True)
class PassageResult:
    """What happened to one credential at the gate."""

    decision: Decision
    record: PassageRecord | None
    barrier_opened: bool
    event: PassageEvent
    barrier: BarrierAction | None = None  # None: the decision did not open it


@dataclass(frozen=True)
class PassChecked:
    """A pass checked without a passage: valid or not, the reason code, its parameters."""

    valid: bool
    reason: str
    params: Mapping[str, ParamValue]


class PassagePipeline:
    """Runs credentials through identify -> decide -> durable log -> barrier -> events."""

    def __init__(
        self,
        *,
        snapshots: SnapshotProvider,
        log: PassageLog,
        barrier: Barrier,
        events: EventBus,
        document_hash: Callable[[DocumentRead], str],
        lanes: frozenset[str],
        clock: Callable[[], datetime],
        passes: PassVerifier | None = None,
        face_auto_open: bool = False,
    ) -> None:
        self._snapshots = snapshots
        self._face_auto_open = face_auto_open
        self._passes = passes
        self._log = log
        self._barrier = barrier
        self._events = events
        self._document_hash = document_hash
        self._lanes = lanes
        self._clock = clock

    def process(
        self,
        credential: Credential,
        *,
        lane: str,
        direction: Direction,
        temperature: float | None = None,
    ) -> PassageResult:
        """Decide and carry out one passage."""
        started = time.perf_counter()
        for attempt in range(3):
            snapshot = self._snapshots.current()
            now = self._clock()
            identity, decision, document_hash = self._decide(
                snapshot,
                credential,
                lane=lane,
                direction=direction,
                now=now,
                temperature=temperature,
            )
            entry = PassageEntry(
                uuid=str(uuid.uuid4()),
                at=now,
                lane=lane,
                direction=direction,
                credential_kind=credential.kind,
                identity_kind=identity.kind,
                person_ref=identity.person_ref,
                household_ref=identity.household_ref,
                # Residents are known by their ref; the hash is kept to trace everyone else.
                document_hash=document_hash
                if identity.kind is not IdentityKind.REGISTERED
                else None,
                decision=decision,
                temperature=temperature,
                snapshot_ref=credential.snapshot_ref,
            )
            try:
                # Re-deciding on a fresh snapshot once is enough; after that, log what we have.
                record = self._log.append(
                    entry, registry_revision=snapshot.revision if attempt == 0 else None
                )
            except StaleSnapshot:
                self._snapshots.reload()
                continue
            except PassSpent as exc:
                # Another lane spent the one-time pass between our decision and our write.
                snapshot.note_pass_spent(exc.pass_id)
                continue
            except LogUnavailable as exc:
                return self._refused_unlogged(decision, identity, snapshot, str(exc))
            return self._carry_out(record, identity, snapshot, started=started)
        raise AssertionError("unreachable: only the first attempt checks the revision")

    def _decide(
        self,
        snapshot: RegistrySnapshot,
        credential: Credential,
        *,
        lane: str,
        direction: Direction,
        now: datetime,
        temperature: float | None,
    ) -> tuple[Identity, Decision, str | None]:
        document_hash = None
        try:
            if lane not in self._lanes:
                raise CredentialInvalid("unknown_lane", f"lane {lane!r} is not configured")
            pass_reason: Reason | None = None
            if credential.kind is CredentialKind.QR_PASS:
                identity, pass_reason = self._identify_pass(snapshot, credential, now)
            else:
                if credential.document is not None:
                    document_hash = self._document_hash(credential.document)
                identity = snapshot.identify(credential, document_hash, now=now)
            context = snapshot.context(
                identity, lane=lane, direction=direction, now=now, temperature=temperature
            )
            decision = decide(identity, context, snapshot.rules)
            watch = (
                snapshot.watched(document_hash, now)
                if identity.kind is not IdentityKind.REGISTERED
                else None
            )
            if watch is not None:  # a document on the district's list, first seen here
                decision = with_watch(decision, watch, direction)
            if pass_reason is not None:
                decision = _with_reason(decision, pass_reason)
            if credential.kind is CredentialKind.FACE:
                decision = with_face(decision, credential, auto_open=self._face_auto_open)
            return identity, decision, document_hash
        except CredentialInvalid as exc:
            logger.warning("passage refused at lane %s: %s", lane, exc.reason)
            alarming = exc.reason in ALARMING_PASS_REASONS
            refusal = Decision(
                outcome=Outcome.DENY,
                reasons=(Reason(exc.reason, {"detail": str(exc), **exc.params}),),
                alert=AlertLevel.ALARM if alarming else AlertLevel.NOTICE,
                rule_ids=(),
                opens_barrier=False,
            )
            return Identity(kind=IdentityKind.OUTSIDER), refusal, None

    def check_pass(self, text: str) -> PassChecked:
        """What the gate would make of ``text`` now, without logging or spending anything.

        Against the registry as it is now (revocations included); a one-time pass spent at
        another gate since this snapshot still checks valid, but its passage would not be.
        """
        self._snapshots.refresh_if_changed()
        snapshot = self._snapshots.current()
        credential = Credential(CredentialKind.QR_PASS, code=text)
        try:
            identity, reason = self._identify_pass(snapshot, credential, self._clock())
        except CredentialInvalid as exc:
            return PassChecked(False, exc.reason, dict(exc.params))
        who = {"person_ref": identity.person_ref, "household_ref": identity.household_ref}
        return PassChecked(True, reason.code, {**reason.params, **who})

    def _identify_pass(
        self, snapshot: RegistrySnapshot, credential: Credential, now: datetime
    ) -> tuple[Identity, Reason]:
        """A scanned pass: checked offline, then held against the registry's pass list."""
        if self._passes is None or credential.code is None:
            raise CredentialInvalid("pass_not_enabled", "this gate verifies no QR passes")
        check = self._passes.verify(credential.code, now=now)
        if not check.valid:
            params = dict(check.params)
            if check.claims is not None:
                params |= {"pass_id": check.claims.pass_id, "kind": check.claims.kind.value}
            raise CredentialInvalid(refusal_code(check.reason), check.reason.value, **params)
        claims = check.claims
        identity = snapshot.identify_pass(claims, credential, now=now)
        params = {"pass_id": claims.pass_id, "kind": claims.kind.value}
        if claims.one_time:
            params["one_time"] = True  # the log spends it with the passage it lets through
        return identity, Reason(PassReason.ACCEPTED, params)

    def _carry_out(
        self,
        record: PassageRecord,
        identity: Identity,
        snapshot: RegistrySnapshot,
        *,
        started: float | None = None,
    ) -> PassageResult:
        entry = record.entry
        barrier: BarrierAction | None = None
        if entry.decision.opens_barrier:
            for pass_id in spent_passes(entry.decision):
                snapshot.note_pass_spent(pass_id)
            snapshot.note_passage(
                person_ref=entry.person_ref,
                household_ref=entry.household_ref,
                direction=entry.direction,
                at=entry.at,
            )
            barrier = self._open_barrier(entry.lane, entry.direction, record.seq)
        event_type = (
            EventType.OVERRIDE
            if entry.overrides_seq is not None
            else EVENT_FOR_OUTCOME[entry.decision.outcome]
        )
        event = PassageEvent(
            type=event_type,
            decision=entry.decision,
            record=record,
            barrier_opened=barrier is BarrierAction.OPENED,
            person=snapshot.persons.get(entry.person_ref) if entry.person_ref else None,
            visit=_visit_of(snapshot, identity),
            card=identity.document if identity.kind is IdentityKind.OUTSIDER else None,
            seconds=time.perf_counter() - started if started is not None else None,
        )
        self._events.publish(event)
        return PassageResult(
            entry.decision, record, barrier is BarrierAction.OPENED, event, barrier
        )

    def _open_barrier(self, lane: str, direction: Direction, seq: int) -> BarrierAction:
        try:
            return self._barrier.open(lane, direction)
        except DeviceError as exc:
            # The row says "allow"; the guard sees the barrier did not open and lets them by hand.
            logger.error("barrier of lane %s did not open for passage %d: %s", lane, seq, exc)
            return BarrierAction.FAILED

    def _refused_unlogged(
        self, decision: Decision, identity: Identity, snapshot: RegistrySnapshot, error: str
    ) -> PassageResult:
        logger.error("passage refused, the log is unavailable: %s", error)
        refusal = Decision(
            outcome=Outcome.DENY,
            reasons=(Reason("log_unavailable", {"detail": error}), *decision.reasons),
            alert=AlertLevel.ALARM,
            rule_ids=decision.rule_ids,
            opens_barrier=False,
        )
        event = PassageEvent(
            type=EventType.ACCESS_DENIED,
            decision=refusal,
            record=None,
            barrier_opened=False,
            person=snapshot.persons.get(identity.person_ref) if identity.person_ref else None,
            card=identity.document if identity.kind is IdentityKind.OUTSIDER else None,
        )
        self._events.publish(event)
        return PassageResult(refusal, None, False, event)

    def reload_snapshot(self) -> None:
        """Decide from a fresh snapshot now (after a change this process made itself)."""
        self._snapshots.reload()

    def passage(self, seq: int) -> PassageRecord:
        """The logged passage ``seq``; ``NotFound`` if there is none."""
        return self._log.get(seq)

    def override(
        self, seq: int, *, outcome: Outcome, reason_code: str, text: str, guard: str
    ) -> PassageResult:
        """A guard turns a review or deny into allow or deny; logged as its own row."""
        if outcome not in (Outcome.ALLOW, Outcome.DENY):
            raise OverrideRefused("override_outcome")
        if reason_code not in OVERRIDE_REASONS:
            raise OverrideRefused("override_reason", reason_code=reason_code[:32])
        if not text.strip() or len(text) > MAX_OVERRIDE_TEXT:
            raise OverrideRefused("override_text", limit=MAX_OVERRIDE_TEXT)
        if not guard.strip():
            raise OverrideRefused("override_guard")
        original = self._log.get(seq)
        if original.entry.overrides_seq is not None:
            raise OverrideRefused("override_of_override", seq=seq)
        if original.entry.decision.outcome is Outcome.ALLOW:
            raise OverrideRefused("override_allowed", seq=seq)
        if self._log.overridden(seq):
            raise OverrideRefused("override_handled", seq=seq)
        corrected = reason_code == NOT_THIS_PERSON
        if corrected and (
            original.entry.credential_kind is not CredentialKind.FACE
            or original.entry.person_ref is None
            or outcome is not Outcome.DENY
        ):
            raise OverrideRefused("override_not_face", seq=seq)
        decision = Decision(
            outcome=outcome,
            reasons=(
                Reason(
                    "override",
                    {
                        "code": reason_code,
                        "text": text.strip(),
                        "original_outcome": original.entry.decision.outcome.value,
                    },
                ),
            ),
            alert=AlertLevel.NONE,
            rule_ids=(),
            opens_barrier=outcome is Outcome.ALLOW,
        )
        previous = original.entry
        # "Not this person": the row the guard adds names nobody, so tracing and presence
        # never count the wrong candidate; the face row it corrects stays as it was.
        entry = PassageEntry(
            uuid=str(uuid.uuid4()),
            at=self._clock(),
            lane=previous.lane,
            direction=previous.direction,
            credential_kind=previous.credential_kind,
            identity_kind=IdentityKind.OUTSIDER if corrected else previous.identity_kind,
            person_ref=None if corrected else previous.person_ref,
            household_ref=None if corrected else previous.household_ref,
            document_hash=previous.document_hash,
            decision=decision,
            decided_by=f"guard:{guard.strip()}",
            overrides_seq=seq,
            temperature=previous.temperature,
            snapshot_ref=previous.snapshot_ref,
        )
        record = self._log.append(entry)
        snapshot = self._snapshots.current()
        identity = Identity(
            kind=entry.identity_kind,
            person_ref=entry.person_ref,
            household_ref=entry.household_ref,
        )
        return self._carry_out(record, identity, snapshot)


def _with_reason(decision: Decision, reason: Reason) -> Decision:
    return Decision(
        outcome=decision.outcome,
        reasons=(*decision.reasons, reason),
        alert=decision.alert,
        rule_ids=decision.rule_ids,
        opens_barrier=decision.opens_barrier,
    )


def _visit_of(snapshot: RegistrySnapshot, identity: Identity) -> VisitFacts | None:
    if identity.kind is not IdentityKind.VISITOR or identity.person_ref is None:
        return None
    return snapshot.visits_by_ref.get(identity.person_ref)
