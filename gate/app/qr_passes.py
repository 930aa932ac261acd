"""QR passes: issue, revoke, enrol a phone, rotate the signing key.

The CLI (``gate pass``), the office pages and the phone pages call these; each validates
once, writes one audit row and, because the gate decides from the pass list, says
``registry_changed`` so running gates reload it. Checking a scanned text without a
passage is ``PassagePipeline.check_pass`` (the same code a lane runs).

Whose pass (``IssuePass.subject``):

- ``resident`` (and ``escorted_exit``): a person's ref or one of their document numbers;
- ``visitor``: a registered visit's ref, or the document number of a registered visitor
  (their latest visit); the pass window is the visit's;
- ``invite``: the *host* resident (ref or document number) with ``visitor_name``; a visit
  is registered for the named visitor, and the one-time pass is spent on entry.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from gate.app.actor import Actor
from gate.app.pass_ports import PassOnFile, PassSigner, SignedPass
from gate.app.pipeline import PassagePipeline
from gate.app.ports import UnitOfWork, UnitOfWorkFactory
from gate.app.refusals import audit_refusal
from gate.app.views import PersonRef
from gate.domain.documents import DocumentType, normalize, validate
from gate.domain.errors import ActionRefused, DocumentInvalid, GateError, NotFound
from gate.domain.passes import PassKind, PassState
from gate.domain.people import mask_name

DEFAULT_VALIDITY = {
    PassKind.RESIDENT: timedelta(days=365),
    PassKind.INVITE: timedelta(hours=24),
    PassKind.ESCORTED_EXIT: timedelta(hours=12),
}
MAX_VALIDITY = timedelta(days=3 * 365)
MIN_VALIDITY = timedelta(minutes=5)
MAX_NAME = 100
MAX_NOTE = 200
ENROLLMENT_VALIDITY = timedelta(days=7)
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_PASS_ID = re.compile(r"[0-9a-f]{16}")


@dataclass(frozen=True)
class IssuePass:
    """Sign a pass; see the module docstring for ``subject``."""

    kind: PassKind
    subject: str
    valid_for: timedelta | None = None  # None: the kind's default, or the visit's window
    visitor_name: str = ""  # an invite's visitor
    note: str = ""
    rotating: bool | None = None  # None: residents' rotate; False: a printed pass


@dataclass(frozen=True)
class PassIssued:
    """The signed pass, whose it is (name and home, for the screen), and its text now."""

    signed: SignedPass
    subject_name: str
    home: str | None
    text_now: str


def issue_pass(
    command: IssuePass, *, actor: Actor, units: UnitOfWorkFactory, signer: PassSigner
) -> PassIssued:
    """Sign and record a pass (audited, gates reload); ``ActionRefused``/``NotFound`` if not."""
    try:
        with units(actor) as uow:
            issued = _issue(command, uow, signer)
            uow.audit(
                "pass.issue",
                f"pass:{issued.signed.claims.pass_id}",
                {
                    "kind": command.kind.value,
                    "subject": issued.signed.claims.subject_ref,
                    "not_after": issued.signed.claims.not_after.isoformat(),
                },
            )
            uow.registry_changed()
            uow.commit()
            return issued
    except GateError as refused:
        audit_refusal(units, actor, "pass", refused)
        raise


def _issue(command: IssuePass, uow: UnitOfWork, signer: PassSigner) -> PassIssued:
    now = uow.actor.at
    note = command.note.strip()
    if len(note) > MAX_NOTE:
        raise ActionRefused("pass_note", limit=MAX_NOTE)
    validity = command.valid_for
    if validity is not None and not MIN_VALIDITY <= validity <= MAX_VALIDITY:
        raise ActionRefused("pass_validity", min_minutes=5, max_days=MAX_VALIDITY.days)
    if command.kind in (PassKind.RESIDENT, PassKind.ESCORTED_EXIT):
        person = _person(uow, command.subject)
        not_before, not_after = now, now + (validity or DEFAULT_VALIDITY[command.kind])
        subject, household = person.ref, person.household.ref if person.household else None
        name, home = person.name, person.household.label if person.household else None
    elif command.kind is PassKind.VISITOR:
        visit = uow.visitors.find(command.subject.strip())
        if visit is None:
            raise NotFound("no such visit")
        if visit.ends_at <= now:
            raise ActionRefused("pass_visit_over")
        not_before = visit.starts_at
        not_after = visit.ends_at if validity is None else min(visit.ends_at, now + validity)
        subject, household, name, home = visit.ref, visit.host_ref, visit.name, visit.host_label
    else:
        host = _person(uow, command.subject)
        if host.household is None:
            raise ActionRefused("pass_invite_no_home")
        visitor_name = " ".join(command.visitor_name.split())
        if not visitor_name or len(visitor_name) > MAX_NAME:
            raise ActionRefused("pass_visitor_name", limit=MAX_NAME)
        not_before, not_after = now, now + (validity or DEFAULT_VALIDITY[command.kind])
        visitor = uow.visitors.add(
            name=visitor_name,
            doc_type=None,
            number=None,
            host=host.household,
            reason=note or "invite",
            starts_at=not_before,
            ends_at=not_after,
        )
        subject, household = visitor.ref, host.household.ref
        name, home = visitor_name, host.household.label
    rotating = command.kind is PassKind.RESIDENT if command.rotating is None else command.rotating
    signed = signer.sign(
        kind=command.kind,
        subject_ref=subject,
        household_ref=household,
        not_before=not_before,
        not_after=not_after,
        rotating=rotating,
    )
    uow.passes.add(signed, note=note)
    return PassIssued(signed, name, home, signed.text_at(now))


def _person(uow: UnitOfWork, subject: str) -> PersonRef:
    """A person by ref or by any of their document numbers; refused if moved out."""
    text = subject.strip()
    person: PersonRef | None = None
    if _UUID.fullmatch(text):
        person = uow.persons.by_ref(text.lower(), uow.actor.scope)
    else:
        for doc_type in DocumentType:
            try:
                validate(doc_type, text)
            except DocumentInvalid:
                continue
            person = uow.persons.holder_of(doc_type, normalize(text))
            if person is not None:
                break
    if person is None:
        raise NotFound("no such person")
    if person.moved_out:
        raise ActionRefused("pass_moved_out")
    return person


def revoke_pass(pass_id: str, *, actor: Actor, units: UnitOfWorkFactory) -> PassOnFile:
    """Revoke a pass and its unused enrollment codes (audited; gates reload at once)."""
    try:
        with units(actor) as uow:
            found = _on_file(uow, pass_id)
            if found.state is PassState.REVOKED:
                raise ActionRefused("pass_already_revoked", pass_id=found.claims.pass_id)
            uow.passes.revoke(found.claims.pass_id)
            codes = uow.passes.revoke_enrollments(found.claims.pass_id)
            uow.audit(
                "pass.revoke",
                f"pass:{found.claims.pass_id}",
                {"kind": found.claims.kind.value, "enrollment_codes": codes},
            )
            uow.registry_changed()
            uow.commit()
            return found
    except GateError as refused:
        audit_refusal(units, actor, "pass", refused)
        raise


def _on_file(uow: UnitOfWork, pass_id: str) -> PassOnFile:
    text = pass_id.strip().lower()
    if not _PASS_ID.fullmatch(text):
        raise ActionRefused("pass_id")
    return uow.passes.get(text)


def rotate_pass_key(*, actor: Actor, units: UnitOfWorkFactory, signer: PassSigner) -> str:
    """Make a new signing key; passes of the previous key still verify (audited)."""
    key_id = signer.rotate()
    with units(actor) as uow:
        uow.audit("pass.rotate_key", f"pass-key:{key_id}", {})
        uow.commit()
    return key_id


@dataclass(frozen=True)
class EnrollmentCode:
    """A one-time code that puts a pass on a phone (shown once, only its hash is kept)."""

    pass_id: str
    code: str
    expires_at: datetime


def enrollment_hash(code: str) -> str:
    """How an enrollment code is kept: SHA-256 of its normalised text."""
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()


def create_enrollment(pass_id: str, *, actor: Actor, units: UnitOfWorkFactory) -> EnrollmentCode:
    """A new one-time enrollment code for a rotating pass (audited)."""
    try:
        with units(actor) as uow:
            found = _on_file(uow, pass_id)
            if found.state is not PassState.ACTIVE or found.claims.not_after <= actor.at:
                raise ActionRefused("pass_not_active", pass_id=found.claims.pass_id)
            code = secrets.token_hex(10).upper()
            expires_at = min(actor.at + ENROLLMENT_VALIDITY, found.claims.not_after)
            uow.passes.add_enrollment(
                found.claims.pass_id, code_hash=enrollment_hash(code), expires_at=expires_at
            )
            uow.audit("pass.enrollment", f"pass:{found.claims.pass_id}", {})
            uow.commit()
            return EnrollmentCode(found.claims.pass_id, code, expires_at)
    except GateError as refused:
        audit_refusal(units, actor, "pass", refused)
        raise


@dataclass(frozen=True, repr=False)
class PhonePass:
    """What a phone keeps of its pass: the signed bytes and the step secret, and labels."""

    pass_id: str
    kind: PassKind
    signed: bytes
    secret: bytes | None
    not_after: datetime
    masked_name: str
    home: str | None


def redeem_enrollment(
    code: str, *, actor: Actor, units: UnitOfWorkFactory, signer: PassSigner
) -> PhonePass:
    """Spend an enrollment code and hand its pass to the phone; ``ActionRefused`` if spent."""
    try:
        with units(actor) as uow:
            pass_id = uow.passes.take_enrollment(enrollment_hash(code))
            if pass_id is None:
                raise ActionRefused("enrollment_code")
            found = uow.passes.get(pass_id)
            if found.state is not PassState.ACTIVE:
                raise ActionRefused("enrollment_code")
            secret = signer.secret_of(found.claims) if found.claims.rotating else None
            if found.claims.rotating and secret is None:
                raise ActionRefused("pass_key_retired", pass_id=pass_id)
            person = uow.persons.by_ref(found.claims.subject_ref, uow.actor.scope)
            uow.audit("pass.enrolled", f"pass:{pass_id}", {})
            uow.commit()
    except GateError as refused:
        audit_refusal(units, actor, "pass", refused)
        raise
    return PhonePass(
        pass_id=pass_id,
        kind=found.claims.kind,
        signed=found.signed,
        secret=secret,
        not_after=found.claims.not_after,
        masked_name=mask_name(person.name),
        home=person.household.label if person.household else None,
    )


def passes_of(person_ref: str, *, actor: Actor, units: UnitOfWorkFactory) -> list[PassOnFile]:
    """A person's passes, newest first; ``NotFound``, ``OutOfScope`` outside the actor's scope."""
    with units(actor) as uow:
        person = uow.persons.by_ref(person_ref.strip().lower(), actor.scope)
        return list(uow.passes.of_subject(person.ref))


MAX_INVITE = timedelta(days=7)


def invite_as_resident(
    pass_text: str,
    *,
    visitor_name: str,
    valid_for: timedelta,
    actor: Actor,
    units: UnitOfWorkFactory,
    signer: PassSigner,
    pipeline: PassagePipeline,
) -> PassIssued:
    """A resident, proving who they are with the pass their phone shows, invites a visitor.

    The invite is a one-time pass for the named visitor from now for ``valid_for``; the
    gate spends it on entry. Refused (audited) unless the pass is a valid resident's.
    """
    checked = pipeline.check_pass(pass_text)
    if not checked.valid or checked.params.get("kind") != PassKind.RESIDENT.value:
        refused = ActionRefused("host_pass", reason=checked.reason)
        audit_refusal(units, actor, "pass", refused)
        raise refused
    if not MIN_VALIDITY <= valid_for <= MAX_INVITE:
        refused = ActionRefused("pass_validity", min_minutes=5, max_days=MAX_INVITE.days)
        audit_refusal(units, actor, "pass", refused)
        raise refused
    command = IssuePass(
        PassKind.INVITE,
        str(checked.params["person_ref"]),
        valid_for=valid_for,
        visitor_name=visitor_name,
        note="invite from the resident's phone",
    )
    return issue_pass(command, actor=actor, units=units, signer=signer)
