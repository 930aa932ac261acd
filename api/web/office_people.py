"""Households and persons by building, unit and room; adding, editing, moving out; statuses.

Lists show masked names and document numbers; a person's own page shows the full name to
those who may see their building. Every form is a plain POST with the CSRF field that
redirects back on success, or shows the same page again with the reason on refusal.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Annotated, TypeVar

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from api.i18n import refusal_text, t
from api.web import office_plan
from api.web.deps import RowId, actor, language, web
from api.web.office_common import (
    OfficePost,
    OfficeUser,
    done,
    not_found,
    page,
    scope_of,
)
from gate.app.actor import Actor
from gate.app.faces import face_panel
from gate.app.forms import parse_day
from gate.app.office_views import building_view, household_view, office_buildings, person_view
from gate.app.people import (
    AddPerson,
    EndStatus,
    MoveOut,
    PersonForm,
    StartStatus,
    UpdatePerson,
    add_person,
    end_status,
    move_out,
    start_status,
    update_person,
)
from gate.app.ports import UnitOfWorkFactory
from gate.app.qr_passes import (
    EnrollmentCode,
    IssuePass,
    create_enrollment,
    issue_pass,
    passes_of,
    revoke_pass,
)
from gate.app.staff_values import ActiveSession
from gate.domain.documents import DOCUMENT_LABELS_ZH, DocumentType
from gate.domain.errors import ActionRefused, DocumentInvalid, NotFound
from gate.domain.passes import PassKind
from gate.domain.people import HealthStatus, LegalBasis, PersonKind, Relation, Sex, mask_name
from gate.domain.places import building_key
from gate.domain.status import local_date

router = APIRouter(prefix="/office")
router.include_router(office_plan.router)  # before /buildings/{key}: its own page
E = TypeVar("E", bound=StrEnum)
Text = Annotated[str, Form()]
Refusals = (ActionRefused, DocumentInvalid)
PAPER_DAYS = (30, 90, 180)  # the validity choices of a printed pass
PAPER_DEFAULT_DAYS = 90
PAPER_NOTE = "paper"

CHOICES = {
    "sexes": [s.value for s in (Sex.MALE, Sex.FEMALE)],
    "relations": [r.value for r in Relation],
    "kinds": [k.value for k in PersonKind],
    "doc_types": [d.value for d in DocumentType],
    "doc_labels": {d.value: label for d, label in DOCUMENT_LABELS_ZH.items()},
    "statuses": [s.value for s in HealthStatus if s is not HealthStatus.NORMAL],
    "bases": [b.value for b in LegalBasis],
}


def _choice(enum: type[E], text: str, field: str) -> E | None:
    if not text:
        return None
    try:
        return enum(text)
    except ValueError:
        raise ActionRefused("choice", field=field) from None


def _actor(request: Request, user: ActiveSession) -> Actor:
    return actor(request, user, scope_of(user))


def _units(request: Request) -> UnitOfWorkFactory:
    return web(request).services.units


@router.get("")
def office_home(request: Request, user: OfficeUser) -> Response:
    """The buildings this account may see, with their counts."""
    buildings = office_buildings(actor=_actor(request, user), units=_units(request))
    return page(request, "office_home.html", user, section="registry", buildings=buildings)


def _building_page(
    request: Request,
    user: ActiveSession,
    key: str,
    *,
    status_code: int = 200,
    error: str | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    try:
        units = building_view(key, actor=_actor(request, user), units=_units(request))
    except NotFound:
        if error is None:
            return not_found(request, user)
        # A form that named a building that does not exist: say so on the start page.
        buildings = office_buildings(actor=_actor(request, user), units=_units(request))
        return page(
            request,
            "office_home.html",
            user,
            status_code=status_code,
            section="registry",
            buildings=buildings,
            error=error,
        )
    return page(
        request,
        "office_building.html",
        user,
        status_code=status_code,
        section="registry",
        building=building_key(key),
        units=units,
        error=error,
        form=form or {},
        **CHOICES,
    )


@router.get("/buildings/{key}")
def building_page(request: Request, user: OfficeUser, key: str) -> Response:
    """One building: its units, rooms and who lives there."""
    return _building_page(request, user, key)


def _household_page(
    request: Request,
    user: ActiveSession,
    ref: str,
    *,
    status_code: int = 200,
    error: str | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    view = household_view(ref, actor=_actor(request, user), units=_units(request))
    return page(
        request,
        "office_household.html",
        user,
        status_code=status_code,
        section="registry",
        household=view.household,
        needs=view.needs,
        error=error,
        form=form or {},
        **CHOICES,
    )


@router.get("/households/{ref}")
def household_page(request: Request, user: OfficeUser, ref: str) -> Response:
    """One household: its persons (masked), those who moved out, its needs; add a person."""
    return _household_page(request, user, ref)


def _person_form(
    name: str, sex: str, phone: str, relation: str, kind: str, building: str, unit: str, room: str
) -> PersonForm:
    return PersonForm(
        name=name,
        sex=_choice(Sex, sex, "sex"),
        phone=phone.strip() or None,
        relation=_choice(Relation, relation, "relation"),
        kind=_choice(PersonKind, kind, "kind") or PersonKind.RESIDENT,
        building=building,
        unit=unit,
        room=room,
    )


@router.post("/persons")
def add_person_form(
    request: Request,
    user: OfficePost,
    name: Text = "",
    sex: Text = "",
    doc_type: Text = DocumentType.RESIDENT_ID.value,
    doc_number: Text = "",
    phone: Text = "",
    relation: Text = "",
    kind: Text = PersonKind.RESIDENT.value,
    building: Text = "",
    unit: Text = "",
    room: Text = "",
    household: Text = "",
) -> Response:
    """Register a person in a room (the household is created with its first person)."""
    try:
        command = AddPerson(
            details=_person_form(name, sex, phone, relation, kind, building, unit, room),
            doc_type=_choice(DocumentType, doc_type, "doc_type") or DocumentType.RESIDENT_ID,
            doc_number=doc_number,
        )
        ref = add_person(command, actor=_actor(request, user), units=_units(request))
    except Refusals as problem:
        error = refusal_text(language(request), problem)
        # The number itself is never sent back to the page.
        form = {
            "name": name[:50],
            "sex": sex,
            "doc_type": doc_type,
            "phone": phone[:20],
            "relation": relation,
            "kind": kind,
            "unit": unit[:20],
            "room": room[:20],
        }
        if household:
            return _household_page(
                request, user, household, status_code=422, error=error, form=form
            )
        return _building_page(request, user, building, status_code=422, error=error, form=form)
    return done(f"/office/persons/{ref}", "person_added")


def _person_page(
    request: Request,
    user: ActiveSession,
    ref: str,
    *,
    status_code: int = 200,
    error: str | None = None,
    enrollment: EnrollmentCode | None = None,
    pass_notice: str | None = None,
    face_error: str | None = None,
) -> Response:
    who = _actor(request, user)
    person = person_view(ref, actor=who, units=_units(request))
    passes = passes_of(person.line.ref, actor=who, units=_units(request))
    context = web(request)
    today = local_date(who.at)
    response = page(
        request,
        "office_person.html",
        user,
        status_code=status_code,
        section="registry",
        person=person,
        error=error,
        today=today.isoformat(),
        fortnight=(today + timedelta(days=13)).isoformat(),
        passes=passes,
        paper_days=PAPER_DAYS,
        paper_default_days=PAPER_DEFAULT_DAYS,
        paper_note=PAPER_NOTE,
        now=who.at,
        enrollment=enrollment,
        enrollment_link=_enrollment_link(request, enrollment) if enrollment else None,
        pass_notice=pass_notice,
        face=face_panel(person.line.ref, actor=who, units=_units(request)),
        face_error=face_error,
        face_notice_version=context.services.settings.faces.notice_version,
        face_lanes=sorted(context.station.cameras) if context.station is not None else [],
        **CHOICES,
    )
    if enrollment is not None:
        # The one-time code is on this page only: keep it out of every cache.
        response.headers["Cache-Control"] = "no-store"
    return response


person_page_response = _person_page  # the face section's forms come back to this page


def _enrollment_link(request: Request, enrollment: EnrollmentCode) -> str:
    """The address a phone opens to enrol (the one the office reached this service at)."""
    return f"{str(request.base_url).rstrip('/')}/pass/enroll?code={enrollment.code}"


@router.get("/persons/{ref}")
def person_page(request: Request, user: OfficeUser, ref: str) -> Response:
    """A person's own page: full name, details to edit, statuses, move out."""
    return _person_page(request, user, ref)


@router.post("/persons/{ref}")
def update_person_form(
    request: Request,
    user: OfficePost,
    ref: str,
    name: Text = "",
    sex: Text = "",
    phone: Text = "",
    clear_phone: Text = "",
    relation: Text = "",
    kind: Text = PersonKind.RESIDENT.value,
    building: Text = "",
    unit: Text = "",
    room: Text = "",
) -> Response:
    """Save a person's details (their document stays as registered)."""
    try:
        command = UpdatePerson(
            ref=ref,
            details=_person_form(name, sex, phone, relation, kind, building, unit, room),
            clear_phone=bool(clear_phone),
        )
        changed = update_person(command, actor=_actor(request, user), units=_units(request))
    except Refusals as problem:
        error = refusal_text(language(request), problem)
        return _person_page(request, user, ref, status_code=422, error=error)
    return done(f"/office/persons/{ref}", "person_saved" if changed else "person_unchanged")


@router.post("/persons/{ref}/move-out")
def move_out_form(request: Request, user: OfficePost, ref: str) -> Response:
    """Record that the person moved out; the row and its history stay."""
    try:
        move_out(
            MoveOut(ref),
            actor=_actor(request, user),
            units=_units(request),
            gallery=web(request).services.face_gallery,
        )
    except Refusals as problem:
        error = refusal_text(language(request), problem)
        return _person_page(request, user, ref, status_code=422, error=error)
    return done(f"/office/persons/{ref}", "moved_out")


@router.post("/persons/{ref}/statuses")
def start_status_form(
    request: Request,
    user: OfficePost,
    ref: str,
    status: Text = HealthStatus.HOME_QUARANTINE.value,
    first_day: Text = "",
    last_day: Text = "",
    legal_basis: Text = LegalBasis.PUBLIC_HEALTH_EMERGENCY.value,
    note: Text = "",
) -> Response:
    """Start home quarantine (or another status) from a day, to a day or until further notice."""
    try:
        chosen = _choice(HealthStatus, status, "status") or HealthStatus.HOME_QUARANTINE
        basis = _choice(LegalBasis, legal_basis, "legal_basis") or LegalBasis.CONSENT
        first = parse_day(first_day, field_name="first_day", required=True)
        assert first is not None
        command = StartStatus(
            ref=ref,
            status=chosen,
            first_day=first,
            last_day=parse_day(last_day, field_name="last_day"),
            legal_basis=basis,
            note=note,
        )
        start_status(command, actor=_actor(request, user), units=_units(request))
    except Refusals as problem:
        error = refusal_text(language(request), problem)
        return _person_page(request, user, ref, status_code=422, error=error)
    return done(f"/office/persons/{ref}", "status_started", "statuses")


@router.post("/statuses/{record_id}/end")
def end_status_form(request: Request, user: OfficePost, record_id: RowId) -> Response:
    """End a status now, ahead of its planned end."""
    try:
        ref = end_status(EndStatus(record_id), actor=_actor(request, user), units=_units(request))
    except ActionRefused as problem:
        return page(
            request,
            "error.html",
            user,
            status_code=422,
            status_code_text=422,
            message=refusal_text(language(request), problem),
        )
    return done(f"/office/persons/{ref}", "status_ended", "statuses")


@router.post("/persons/{ref}/passes")
def issue_phone_pass_form(request: Request, user: OfficePost, ref: str) -> Response:
    """Issue a rotating resident pass and show, once, the code that puts it on a phone."""
    who, units = _actor(request, user), _units(request)
    try:
        person = person_view(ref, actor=who, units=units)
        issued = issue_pass(
            IssuePass(PassKind.RESIDENT, person.line.ref),
            actor=who,
            units=units,
            signer=web(request).services.pass_signer,
        )
        code = create_enrollment(issued.signed.claims.pass_id, actor=who, units=units)
    except Refusals as problem:
        error = refusal_text(language(request), problem)
        return _person_page(request, user, ref, status_code=422, error=error)
    return _person_page(request, user, ref, enrollment=code)


def _paper_days(text: str) -> timedelta:
    """The validity chosen for a paper pass: one of ``PAPER_DAYS``."""
    try:
        days = int(text.strip() or PAPER_DEFAULT_DAYS)
    except ValueError:
        days = 0
    if days not in PAPER_DAYS:
        raise ActionRefused("choice", field="paper_days")
    return timedelta(days=days)


@router.post("/persons/{ref}/paper-pass")
def issue_paper_pass_form(
    request: Request, user: OfficePost, ref: str, days: Text = str(PAPER_DEFAULT_DAYS)
) -> Response:
    """Issue a non-rotating resident pass and show it once, as a card to print.

    Its text never changes, so the printed QR works until it expires or is revoked on the
    person page (where it is listed with the note ``paper``). The page is not cached.
    """
    who, units = _actor(request, user), _units(request)
    try:
        person = person_view(ref, actor=who, units=units)
        issued = issue_pass(
            IssuePass(
                PassKind.RESIDENT,
                person.line.ref,
                valid_for=_paper_days(days),
                rotating=False,
                note=PAPER_NOTE,
            ),
            actor=who,
            units=units,
            signer=web(request).services.pass_signer,
        )
    except Refusals as problem:
        error = refusal_text(language(request), problem)
        return _person_page(request, user, ref, status_code=422, error=error)
    claims = issued.signed.claims
    response = page(
        request,
        "office_paper_pass.html",
        user,
        section="registry",
        person_ref=person.line.ref,
        masked_name=mask_name(issued.subject_name),
        home_label=issued.home,
        pass_id=claims.pass_id,
        not_before=claims.not_before,
        not_after=claims.not_after,
        pass_text=issued.text_now,
    )
    # The printable QR is the pass itself: keep it out of every cache.
    response.headers["Cache-Control"] = "no-store"
    return response


def _own_pass(request: Request, user: ActiveSession, ref: str, pass_id: str) -> str:
    """The pass ``pass_id`` if it is one of this person's (whom the account may see)."""
    wanted = pass_id.strip().lower()
    mine = passes_of(ref, actor=_actor(request, user), units=_units(request))
    if wanted not in {found.claims.pass_id for found in mine}:
        raise NotFound("no such pass of this person")
    return wanted


@router.post("/persons/{ref}/passes/{pass_id}/enrollment")
def new_enrollment_form(request: Request, user: OfficePost, ref: str, pass_id: str) -> Response:
    """A new one-time enrollment code for one of the person's passes (a new phone)."""
    try:
        own = _own_pass(request, user, ref, pass_id)
        code = create_enrollment(own, actor=_actor(request, user), units=_units(request))
    except Refusals as problem:
        error = refusal_text(language(request), problem)
        return _person_page(request, user, ref, status_code=422, error=error)
    return _person_page(request, user, ref, enrollment=code)


@router.post("/persons/{ref}/passes/{pass_id}/revoke")
def revoke_pass_form(request: Request, user: OfficePost, ref: str, pass_id: str) -> Response:
    """Revoke one of the person's passes (and its unused enrollment codes)."""
    try:
        own = _own_pass(request, user, ref, pass_id)
        revoke_pass(own, actor=_actor(request, user), units=_units(request))
    except Refusals as problem:
        error = refusal_text(language(request), problem)
        return _person_page(request, user, ref, status_code=422, error=error)
    notice = t(language(request), "phone.office.revoked", pass_id=own)
    return _person_page(request, user, ref, pass_notice=notice)
