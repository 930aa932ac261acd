"""The person page's face section: consent first, then photos (upload or a lane camera),
the enrolled templates with their thumbnails, withdrawal.

Every form posts to a use case of ``gate.app.faces`` and comes back to the person page,
with the refusal's reason in the user's language beside the face section. An upload is
capped twice: the body limit of its path (``PHOTO_PATH``, twice the photo limit) and the
photo limit read here, so that a 30 MB file gets the page's own message rather than a
bare 413. Thumbnails are served to signed-in staff who may see the person, never cached.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response

from api.i18n import refusal_text
from api.web.deps import RowId, actor, language, web
from api.web.office_common import OfficePost, OfficeUser, done, not_found, scope_of
from api.web.office_people import person_page_response
from gate.app.actor import Actor
from gate.app.faces import (
    EnrolFace,
    FaceConsentForm,
    RecordFaceConsent,
    capture_frame,
    enrol_face,
    enrolment_photo,
    record_face_consent,
    withdraw_face_consent,
)
from gate.app.staff_values import ActiveSession
from gate.domain.errors import ActionRefused, NotFound

router = APIRouter(prefix="/office")
Text = Annotated[str, Form()]
PHOTO_PATH = "/office/faces/photos"  # one path for uploads, so the body limit can name it
PHOTO_ROUTE = PHOTO_PATH.removeprefix("/office")
MAX_PHOTO_BYTES = 20 * 1024 * 1024  # recognition.faces.images.MAX_PHOTO_BYTES
UPLOAD_BODY_LIMIT = 2 * MAX_PHOTO_BYTES  # the path's body limit in ``create_app``
ANCHOR = "faces"


def _actor(request: Request, user: ActiveSession) -> Actor:
    return actor(request, user, scope_of(user))


def _refused(request: Request, user: ActiveSession, ref: str, problem: Exception) -> Response:
    error = refusal_text(language(request), problem)
    return person_page_response(request, user, ref, status_code=422, face_error=error)


@router.post("/persons/{ref}/faces/consent")
def face_consent_form(
    request: Request,
    user: OfficePost,
    ref: str,
    consented_by: Text = "",
    guardian: Text = "",
) -> Response:
    """Record the person's separate consent to face recognition (the notice in force)."""
    services = web(request).services
    form = FaceConsentForm(
        consented_by=consented_by,
        guardian=bool(guardian),
        notice_version=services.settings.faces.notice_version,
    )
    try:
        record_face_consent(
            RecordFaceConsent(ref, form), actor=_actor(request, user), units=services.units
        )
    except ActionRefused as problem:
        return _refused(request, user, ref, problem)
    return done(f"/office/persons/{ref}", "face_consented", ANCHOR)


def _read_capped(upload: UploadFile) -> bytes:
    data = upload.file.read(MAX_PHOTO_BYTES + 1)
    if len(data) > MAX_PHOTO_BYTES:
        raise ActionRefused("face_too_large", limit_mb=MAX_PHOTO_BYTES // (1024 * 1024))
    return data


@router.post(PHOTO_ROUTE)
def face_photo_upload(
    request: Request,
    user: OfficePost,
    person: Text = "",
    photo: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Enrol an uploaded photo of the person (one face, through the quality gate)."""
    services = web(request).services
    if not person:
        return not_found(request, user)
    try:
        if photo is None or not photo.filename:
            raise ActionRefused("face_no_file")
        command = EnrolFace(person, _read_capped(photo), source="upload")
        enrol_face(
            command,
            actor=_actor(request, user),
            units=services.units,
            enroller=services.face_enroller,
            gallery=services.face_gallery,
        )
    except ActionRefused as problem:
        return _refused(request, user, person, problem)
    return done(f"/office/persons/{person}", "face_enrolled", ANCHOR)


@router.post("/persons/{ref}/faces/capture")
def face_capture_form(request: Request, user: OfficePost, ref: str, lane: Text = "") -> Response:
    """Enrol the newest frame of a lane's camera, the person standing in front of it."""
    context = web(request)
    services = context.services
    cameras = context.station.cameras if context.station is not None else {}
    try:
        frame = capture_frame(cameras, lane)
        enrol_face(
            EnrolFace(ref, source="camera", frame=frame),
            actor=_actor(request, user),
            units=services.units,
            enroller=services.face_enroller,
            gallery=services.face_gallery,
        )
    except ActionRefused as problem:
        return _refused(request, user, ref, problem)
    return done(f"/office/persons/{ref}", "face_enrolled", ANCHOR)


@router.post("/persons/{ref}/faces/withdraw")
def face_withdraw_form(request: Request, user: OfficePost, ref: str) -> Response:
    """Withdraw the consent: every template of the person is deleted at once."""
    services = web(request).services
    try:
        withdraw_face_consent(
            ref, actor=_actor(request, user), units=services.units, gallery=services.face_gallery
        )
    except ActionRefused as problem:
        return _refused(request, user, ref, problem)
    return done(f"/office/persons/{ref}", "face_withdrawn", ANCHOR)


@router.get("/persons/{ref}/faces/{template_id}/photo")
def face_thumbnail(request: Request, user: OfficeUser, ref: str, template_id: RowId) -> Response:
    """The enrolment thumbnail of one of the person's templates (JPEG, not cached)."""
    try:
        jpeg = enrolment_photo(
            ref, template_id, actor=_actor(request, user), units=web(request).services.units
        )
    except NotFound:
        jpeg = None
    if jpeg is None:
        return not_found(request, user)
    return Response(
        jpeg,
        media_type="image/jpeg",
        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
    )
