"""Visitors who register themselves from the compound's poster QR, and who decides.

A visitor fills in the phone form (``request_visit``); the visit is **pending** and not in
the gate's snapshot: their card or pass opens nothing yet. The visitor keeps a status link
(its code is shown once; only a hash is stored) and sends the host the host link. The host
confirms or declines on their own phone, proving who they are with their resident pass
(``decide_as_host``: the pass must belong to the visited flat), or a guard does at the
terminal (``decide_as_guard``, A/D on the alert). A confirmed visit starts then, lasts the
stay asked for, and gets a rotating visitor pass that the status page shows.

What the form asks is only what the rules need: name, phone, a document (the gate checks
it like any other; stored as keyed hash, ciphertext and last four), the flat, the reason,
the stay. ``RETENTION_DAYS`` says how long it is kept (the form's notice says the same).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from gate.app.actor import Actor
from gate.app.pass_ports import PassSigner
from gate.app.pipeline import PassagePipeline
from gate.app.ports import UnitOfWork, UnitOfWorkFactory
from gate.app.refusals import audit_refusal
from gate.app.throttle import SubmissionThrottle as SubmissionThrottle  # its users import it here
from gate.app.views import VisitRequest
from gate.app.visitors import checked_visit
from gate.domain.documents import DocumentType, validate
from gate.domain.errors import ActionRefused, GateError
from gate.domain.passes import PassKind, PassState
from gate.domain.people import normalize_phone

RETENTION_DAYS = 30  # after the visit ends (or the request was declined)
PENDING_FOR = timedelta(hours=24)  # an undecided request is not shown after this
MAX_STAY_HOURS = 24.0


@dataclass(frozen=True)
class VisitForm:
    """What the visitor typed on the poster form."""

    name: str
    phone: str
    doc_type: DocumentType
    number: str
    host: str  # "building-unit-room"
    reason: str
    hours: float


@dataclass(frozen=True)
class VisitRequested:
    """The pending visit and the two codes: the visitor's status code and the host's."""

    request: VisitRequest
    status_code: str
    host_code: str


def code_hash(code: str) -> str:
    """How a status or host code is kept."""
    return hashlib.sha256(code.strip().encode()).hexdigest()


def request_visit(form: VisitForm, *, actor: Actor, units: UnitOfWorkFactory) -> VisitRequested:
    """Record a pending visit; ``ActionRefused``/``DocumentInvalid``/``NotFound`` if not."""
    try:
        name, reason, host_labels = checked_visit(form.name, form.reason, form.hours, form.host)
        if form.hours > MAX_STAY_HOURS:
            raise ActionRefused("visit_hours", low=0.25, high=MAX_STAY_HOURS)
        try:
            phone = normalize_phone(form.phone)
        except ValueError:
            raise ActionRefused("phone_format") from None
        info = validate(form.doc_type, form.number, today=None)
        status_code, host_code = secrets.token_urlsafe(18), secrets.token_urlsafe(18)
        with units(actor) as uow:
            host = uow.households.find(
                building=host_labels[0], unit=host_labels[1], room=host_labels[2]
            )
            request = uow.visitors.add_request(
                name=name,
                doc_type=info.doc_type,
                number=info.number,
                phone=phone,
                host=host,
                reason=reason,
                stay_minutes=round(form.hours * 60),
                status_code_hash=code_hash(status_code),
                host_code_hash=code_hash(host_code),
            )
            uow.audit("visitor.request", f"visitor:{request.ref}", {"host": host.ref})
            uow.commit()
    except GateError as refused:
        audit_refusal(units, actor, "visitor", refused)
        raise
    return VisitRequested(request, status_code, host_code)


@dataclass(frozen=True, repr=False)
class VisitStatus:
    """What the visitor's status page shows; the pass once the visit is confirmed."""

    request: VisitRequest
    signed: bytes | None = None
    secret: bytes | None = None


def visit_status(
    status_code: str, *, actor: Actor, units: UnitOfWorkFactory, signer: PassSigner
) -> VisitStatus:
    """The request behind a status code and, when confirmed, its visitor pass."""
    with units(actor) as uow:
        request = uow.visitors.request_by_code(status_code_hash=code_hash(status_code))
        if request is None:
            raise ActionRefused("visit_code")
        if request.status != "confirmed":
            return VisitStatus(request)
        for issued in uow.passes.of_subject(request.ref):
            if issued.state is PassState.ACTIVE and issued.claims.kind is PassKind.VISITOR:
                return VisitStatus(request, issued.signed, signer.secret_of(issued.claims))
        return VisitStatus(request)


def visit_for_host(host_code: str, *, actor: Actor, units: UnitOfWorkFactory) -> VisitRequest:
    """The request behind a host code (for the host's confirmation page)."""
    with units(actor) as uow:
        request = uow.visitors.request_by_code(host_code_hash=code_hash(host_code))
    if request is None:
        raise ActionRefused("visit_code")
    return request


def decide_as_host(
    host_code: str,
    *,
    approve: bool,
    pass_text: str,
    actor: Actor,
    units: UnitOfWorkFactory,
    signer: PassSigner,
    pipeline: PassagePipeline,
) -> VisitRequest:
    """The host confirms or declines, showing their own resident pass to prove it is them."""
    try:
        request = visit_for_host(host_code, actor=actor, units=units)
        checked = pipeline.check_pass(pass_text)
        if not checked.valid or checked.params.get("kind") != PassKind.RESIDENT.value:
            raise ActionRefused("host_pass", reason=checked.reason)
        if checked.params.get("household_ref") != request.host_ref:
            raise ActionRefused("host_not_household")
        decided = _decide(request.ref, approve, actor=actor, units=units, signer=signer, by="host")
    except GateError as refused:
        audit_refusal(units, actor, "visitor", refused)
        raise
    pipeline.reload_snapshot()
    return decided


def decide_as_guard(
    ref: str,
    *,
    approve: bool,
    actor: Actor,
    units: UnitOfWorkFactory,
    signer: PassSigner,
    pipeline: PassagePipeline | None = None,
) -> VisitRequest:
    """A guard confirms or declines a pending request at the terminal."""
    try:
        decided = _decide(ref, approve, actor=actor, units=units, signer=signer, by="guard")
    except GateError as refused:
        audit_refusal(units, actor, "visitor", refused)
        raise
    if pipeline is not None:
        pipeline.reload_snapshot()
    return decided


def _decide(
    ref: str, approve: bool, *, actor: Actor, units: UnitOfWorkFactory, signer: PassSigner, by: str
) -> VisitRequest:
    with units(actor) as uow:
        request = uow.visitors.request(ref)
        if request.status != "pending":
            raise ActionRefused("visit_decided", status=request.status)
        starts_at = actor.at
        ends_at = starts_at + timedelta(minutes=request.stay_minutes)
        uow.visitors.decide_request(ref, confirmed=approve, starts_at=starts_at, ends_at=ends_at)
        if approve:
            _issue_visitor_pass(uow, signer, request, starts_at, ends_at)
        uow.audit(
            "visitor.confirm" if approve else "visitor.decline",
            f"visitor:{ref}",
            {"by": by, "until": ends_at.isoformat() if approve else None},
        )
        uow.registry_changed()
        uow.commit()
        return uow.visitors.request(ref)


def _issue_visitor_pass(
    uow: UnitOfWork,
    signer: PassSigner,
    request: VisitRequest,
    starts_at: datetime,
    ends_at: datetime,
) -> None:
    # Rotating like a resident's: a screenshot sent on to someone else is dead in a minute.
    signed = signer.sign(
        kind=PassKind.VISITOR,
        subject_ref=request.ref,
        household_ref=request.host_ref,
        not_before=starts_at,
        not_after=ends_at,
        rotating=True,
    )
    uow.passes.add(signed, note="self-registered visit")


def pending_visits(*, actor: Actor, units: UnitOfWorkFactory) -> list[VisitRequest]:
    """Requests waiting for a decision (the terminal's alerts)."""
    with units(actor) as uow:
        return list(uow.visitors.pending_requests(since=actor.at - PENDING_FOR, limit=50))


def purge_old_requests(*, actor: Actor, units: UnitOfWorkFactory) -> int:
    """Delete phone-registered visits ``RETENTION_DAYS`` after they ended (audited)."""
    with units(actor) as uow:
        purged = uow.visitors.purge_requests(ended_before=actor.at - timedelta(days=RETENTION_DAYS))
        if purged:
            uow.audit("visitor.purge", "visitors", {"deleted": purged, "days": RETENTION_DAYS})
            uow.registry_changed()
        uow.commit()
    return purged
