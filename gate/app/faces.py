"""Face enrolment with separate consent: record it, enrol photos under it, withdraw it.

Face recognition is opt-in and never the only way in (SPC 2021 Art. 10; the 2025 Measures):
a person's consent is recorded first, on its own (who consented, the notice version they
were shown, a guardian for a person under 14, the staff who recorded it); a photo is
enrolled only under a consent in force; withdrawal deletes every template of the person in
the same transaction. Each use case validates once, audits once (``face.consent``,
``face.enrol``, ``face.withdraw``; refusals ``action.refused``), and updates the running
gallery at once. Templates never leave the registry and the gallery: no audit row, value
or refusal carries one.

Refusal codes (``ActionRefused``; ``office.error.<code>``): required / too_long
(consented_by, notice_version), face_guardian_required (under 14), face_consent_in_force,
face_no_consent, face_moved_out, face_no_camera, face_no_frame, face_assessment_missing
(no impact assessment recorded yet, ``gate.app.impact_assessments``), and for a photo
``face_<reason>`` of its ``FaceImageRejected`` (face_no_face, face_several_faces,
face_too_small, face_blurred, face_not_frontal, face_not_an_image, face_damaged,
face_too_large, face_too_many_pixels, face_alpha_channel).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from gate.app.actor import Actor
from gate.app.face_ports import ConsentOnFile, EnrolmentFace, FaceEnroller, TemplateOnFile
from gate.app.impact_assessments import require_assessment
from gate.app.ports import UnitOfWork, UnitOfWorkFactory
from gate.app.refusals import audit_refusal
from gate.app.views import PersonRef
from gate.domain.device_ports import Camera
from gate.domain.documents import DocumentType, normalize, validate
from gate.domain.errors import (
    ActionRefused,
    DocumentInvalid,
    FaceImageRejected,
    GateError,
    NotFound,
    OutOfScope,
)
from gate.domain.status import local_date

GUARDIAN_BELOW_AGE = 14  # a person under 14 consents through a guardian (PIPL Art. 31)
MAX_CONSENTED_BY = 100
MAX_NOTICE_VERSION = 32
SOURCES = ("upload", "camera", "cli")


class FaceGalleryUpdates(Protocol):
    """The running gallery, kept in step at once (``gate.app.face_gallery.FaceGallery``)."""

    def add(self, template_id: int, person_ref: str, template: bytes) -> None:
        """A template enrolled now."""
        ...

    def remove_person(self, person_ref: str) -> int:
        """Every template of a person gone."""
        ...


@dataclass(frozen=True)
class FaceConsentForm:
    """A separate consent as given: by whom, whether a guardian, to which notice."""

    consented_by: str
    guardian: bool
    notice_version: str


@dataclass(frozen=True)
class RecordFaceConsent:
    """Record a person's consent to face recognition."""

    person_ref: str
    consent: FaceConsentForm


@dataclass(frozen=True, repr=False)
class EnrolFace:
    """Enrol one photo of a person (an image file's bytes) under their consent in force.

    ``source``: upload (office page), cli, or camera (then ``frame`` is a camera frame's
    image instead of ``photo``).
    """

    person_ref: str
    photo: bytes = b""
    source: str = "upload"
    frame: Any = None

    def __repr__(self) -> str:
        return f"EnrolFace({self.person_ref!r}, {self.source}, {len(self.photo)} bytes)"


@dataclass(frozen=True)
class FaceEnrolled:
    """A template stored: its id and the quality it passed."""

    template_id: int
    person_ref: str
    quality: Mapping[str, float]


@dataclass(frozen=True)
class FacePanel:
    """What the office person page shows of a person's face enrolment."""

    person: PersonRef
    consent: ConsentOnFile | None
    history: Sequence[ConsentOnFile]  # every consent, newest first (withdrawn ones too)
    templates: Sequence[TemplateOnFile]
    guardian_needed: bool
    assessed: bool = True  # an impact assessment is on file: enrolment may go ahead


_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def _person(uow: UnitOfWork, subject: str) -> PersonRef:
    """A person by ref, or by one of their document numbers (the CLI's ``--person``)."""
    text = subject.strip()
    if _UUID.fullmatch(text):
        return uow.persons.by_ref(text.lower(), uow.actor.scope)
    for doc_type in DocumentType:
        try:
            validate(doc_type, text)
        except DocumentInvalid:
            continue
        holder = uow.persons.holder_of(doc_type, normalize(text))
        if holder is not None:
            unit = holder.household.unit if holder.household else None
            if not uow.actor.scope.covers_home(holder.building, unit):
                raise OutOfScope(f"person:{holder.ref}")
            return holder
    raise NotFound("no such person")


def _target(subject: str) -> str:
    """The audit target of a refusal: the ref, never a document number."""
    text = subject.strip()
    return f"person:{text.lower()}" if _UUID.fullmatch(text) else "person"


def under_guardian_age(birth: date | None, today: date) -> bool:
    """True for a person under 14 on ``today`` (unknown birth date: not known to be)."""
    if birth is None:
        return False
    years = today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))
    return years < GUARDIAN_BELOW_AGE


def _text(value: str, field: str, limit: int) -> str:
    text = " ".join(value.split())
    if not text:
        raise ActionRefused("required", field=field)
    if len(text) > limit:
        raise ActionRefused("too_long", field=field, limit=limit)
    return text


def _record(uow: UnitOfWork, person: PersonRef, form: FaceConsentForm) -> ConsentOnFile:
    consented_by = _text(form.consented_by, "consented_by", MAX_CONSENTED_BY)
    notice = _text(form.notice_version, "notice_version", MAX_NOTICE_VERSION)
    if person.moved_out:
        raise ActionRefused("face_moved_out")
    if uow.faces.consent_in_force(person.ref) is not None:
        raise ActionRefused("face_consent_in_force")
    minor = under_guardian_age(uow.faces.birth_date(person.ref), local_date(uow.actor.at))
    if minor and not form.guardian:
        raise ActionRefused("face_guardian_required", age=GUARDIAN_BELOW_AGE)
    return uow.faces.record_consent(
        person.ref, consented_by=consented_by, guardian=form.guardian, notice_version=notice
    )


def record_face_consent(
    command: RecordFaceConsent, *, actor: Actor, units: UnitOfWorkFactory
) -> ConsentOnFile:
    """Record a separate consent (audited); ``ActionRefused`` if one is in force or a
    guardian is needed and not named."""
    try:
        with units(actor) as uow:
            person = _person(uow, command.person_ref)
            consent = _record(uow, person, command.consent)
            uow.audit(
                "face.consent",
                f"person:{person.ref}",
                {
                    "consented_by": consent.consented_by,
                    "guardian": consent.guardian,
                    "notice_version": consent.notice_version,
                },
            )
            uow.commit()
            return consent
    except GateError as refused:
        audit_refusal(units, actor, _target(command.person_ref), refused)
        raise


def photo_refusal(problem: FaceImageRejected) -> ActionRefused:
    """A photo the engine could not use, as the code screens translate (``face_<reason>``)."""
    reason = problem.reason.removeprefix("face_")
    params = dict(problem.params)
    if reason == "too_large":
        params["limit_mb"] = int(params.get("limit", 0)) // (1024 * 1024)
    return ActionRefused(f"face_{reason}", **params)


def enrol_face(
    command: EnrolFace,
    *,
    actor: Actor,
    units: UnitOfWorkFactory,
    enroller: FaceEnroller,
    gallery: FaceGalleryUpdates,
) -> FaceEnrolled:
    """Check, encode and store one photo under the consent in force (audited), and add it
    to the gallery; ``ActionRefused`` (no consent, the photo's reason) if not."""
    try:
        if command.source not in SOURCES:
            raise ActionRefused("choice", field="source")
        with units(actor) as uow:
            require_assessment(uow)  # no enrolment before the impact assessment is on file
            person = _person(uow, command.person_ref)
            if person.moved_out:
                raise ActionRefused("face_moved_out")
            consent = uow.faces.consent_in_force(person.ref)
            if consent is None:
                raise ActionRefused("face_no_consent")
        # Encoding takes a second or two: outside any transaction. The consent is checked
        # again, under a lock, before the template is stored: withdrawn meanwhile, refused.
        face = _encode(command, enroller)
        with units(actor) as uow:
            if not uow.faces.hold_consent(consent.id):
                raise ActionRefused("face_no_consent")
            template_id = uow.faces.add_template(
                person.ref, consent_id=consent.id, face=face, source=command.source
            )
            uow.audit(
                "face.enrol",
                f"person:{person.ref}",
                {"template": template_id, "source": command.source, **face.quality},
            )
            uow.commit()
        gallery.add(template_id, person.ref, face.template)
        return FaceEnrolled(template_id, person.ref, dict(face.quality))
    except GateError as refused:
        audit_refusal(units, actor, _target(command.person_ref), refused)
        raise


def _encode(command: EnrolFace, enroller: FaceEnroller) -> EnrolmentFace:
    try:
        if command.frame is not None:
            return enroller.enrolment_frame(command.frame)
        return enroller.enrolment_face(command.photo)
    except FaceImageRejected as problem:
        raise photo_refusal(problem) from problem


def capture_frame(cameras: Mapping[str, Camera], lane: str) -> Any:
    """The newest frame of a lane's camera, for ``EnrolFace(frame=...)``; ``ActionRefused``."""
    camera = cameras.get(lane)
    if camera is None:
        raise ActionRefused("face_no_camera", lane=lane)
    frame = camera.latest_frame()
    if frame is None:
        raise ActionRefused("face_no_frame", lane=lane)
    return frame.image


def withdraw_face_consent(
    person_ref: str, *, actor: Actor, units: UnitOfWorkFactory, gallery: FaceGalleryUpdates
) -> int:
    """Withdraw the consent in force and delete every template of the person at once (one
    transaction, audited), and drop them from the gallery; how many templates went."""
    try:
        with units(actor) as uow:
            person = _person(uow, person_ref)
            if uow.faces.consent_in_force(person.ref) is None:
                raise ActionRefused("face_no_consent")
            removed = uow.faces.withdraw(person.ref)
            uow.audit("face.withdraw", f"person:{person.ref}", {"templates": removed})
            uow.commit()
        gallery.remove_person(person.ref)
        return removed
    except GateError as refused:
        audit_refusal(units, actor, _target(person_ref), refused)
        raise


def face_panel(person_ref: str, *, actor: Actor, units: UnitOfWorkFactory) -> FacePanel:
    """A person's consent, its history and their templates (no template bytes), scoped."""
    with units(actor) as uow:
        person = _person(uow, person_ref)
        history = uow.faces.consents_of(person.ref)
        return FacePanel(
            person=person,
            consent=next((c for c in history if c.in_force), None),
            history=history,
            templates=uow.faces.templates_of(person.ref),
            guardian_needed=under_guardian_age(
                uow.faces.birth_date(person.ref), local_date(actor.at)
            ),
            assessed=bool(uow.faces.assessments()),
        )


def enrolment_photo(
    person_ref: str, template_id: int, *, actor: Actor, units: UnitOfWorkFactory
) -> bytes | None:
    """The enrolment JPEG of one of a person's templates (scoped); ``NotFound`` if the
    template is not theirs."""
    with units(actor) as uow:
        person = _person(uow, person_ref)
        owner, photo = uow.faces.photo(template_id)
        if owner != person.ref:
            raise NotFound("no such face template of this person")
        return photo
