"""Visitors on their own phones: the poster form, the status page, the host's decision.

No sign-in: the poster is public, so submissions are throttled per address
(``SubmissionThrottle``), and the status and host pages are keyed by long random codes
(only their hashes are stored). The host proves who they are with their own resident
pass, which their phone computes (``/pass/`` keeps it). Every answer is ``no-store``.
The printable poster is an office page.
"""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from api.i18n import refusal_text
from api.web.deps import language, now, render, web
from api.web.office_common import OfficeUser
from gate.app.actor import Actor
from gate.app.views import VisitRequest
from gate.app.visit_requests import (
    RETENTION_DAYS,
    VisitForm,
    decide_as_host,
    request_visit,
    visit_for_host,
    visit_status,
)
from gate.domain.documents import DocumentType
from gate.domain.errors import ActionRefused, GateError
from gate.domain.people import mask_name

router = APIRouter()
NO_STORE = {"Cache-Control": "no-store"}
STAYS = (0.5, 1, 2, 4, 8, 12, 24)
# The use case says when a name or reason is too long, in the form's language with the
# form kept; this cap (under the body limit) only bounds what a request can make us read.
MAX_FIELD = 16_000


def _phone(request: Request) -> Actor:
    return Actor(name="visitor-phone", origin=_address(request), at=now())


def _address(request: Request) -> str:
    return f"phone@{request.client.host if request.client else 'unknown'}"


def _page(request: Request, template: str, status_code: int = 200, **values: Any) -> Response:
    response = render(request, template, None, status_code=status_code, **values)
    response.headers.update(NO_STORE)
    return response


def _form_page(request: Request, status_code: int = 200, **values: Any) -> Response:
    return _page(
        request,
        "visit_form.html",
        status_code=status_code,
        doc_types=[doc_type.value for doc_type in DocumentType],
        stays=STAYS,
        retention_days=RETENTION_DAYS,
        **{"error": None, "form": {}, **values},
    )


@router.get("/visit/")
def visit_form(request: Request) -> Response:
    """The form the compound's poster QR opens."""
    return _form_page(request)


@router.post("/visit/")
def visit_submit(
    request: Request,
    name: Annotated[str, Form(max_length=MAX_FIELD)] = "",
    phone: Annotated[str, Form(max_length=40)] = "",
    doc_type: Annotated[str, Form(max_length=40)] = DocumentType.RESIDENT_ID.value,
    number: Annotated[str, Form(max_length=40)] = "",
    building: Annotated[str, Form(max_length=20)] = "",
    unit: Annotated[str, Form(max_length=20)] = "",
    room: Annotated[str, Form(max_length=20)] = "",
    reason: Annotated[str, Form(max_length=MAX_FIELD)] = "",
    hours: Annotated[float, Form(ge=0, le=1000)] = 2.0,
    consent: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    """Record a pending visit and send the visitor to their status page."""
    kept = {
        "name": name,
        "phone": phone,
        "doc_type": doc_type,
        "building": building,
        "unit": unit,
        "room": room,
        "reason": reason,
        "hours": hours,
    }
    context = web(request)
    try:
        if consent != "yes":
            raise ActionRefused("consent_required")
        context.visit_throttle.check(_address(request))
        try:
            kind = DocumentType(doc_type)
        except ValueError:
            raise ActionRefused("doc_type") from None
        requested = request_visit(
            VisitForm(
                name=name,
                phone=phone,
                doc_type=kind,
                number=number,
                host=f"{building}-{unit}-{room}",
                reason=reason,
                hours=hours,
            ),
            actor=_phone(request),
            units=context.services.units,
        )
    except GateError as problem:
        status = 429 if getattr(problem, "code", "") == "too_many_requests" else 422
        error = refusal_text(language(request), problem)
        return _form_page(request, status_code=status, error=error, form=kept)
    # The host code rides in the fragment: the browser keeps it, no server log sees it.
    target = f"/visit/status/{requested.status_code}#host={requested.host_code}"
    return RedirectResponse(target, status_code=303, headers=NO_STORE)


def _request_json(request: VisitRequest, lang: str) -> dict[str, Any]:
    return {
        "status": request.status,
        "name": mask_name(request.name),
        "host": request.host_label,
        "reason": request.reason,
        "stay_minutes": request.stay_minutes,
        "starts_at": request.starts_at.isoformat(),
        "ends_at": request.ends_at.isoformat(),
    }


@router.get("/visit/pass")
def invite_page(request: Request) -> Response:
    """A visitor's invite: drawn from the link's fragment, which never reaches the server."""
    return _page(request, "visit_pass.html")


@router.get("/visit/status/{code}")
def visit_status_page(request: Request, code: str) -> Response:
    """The visitor's page: waiting for the host, declined, or the visitor pass."""
    return _page(request, "visit_status.html", code=code[:64])


@router.get("/visit/status/{code}/json")
def visit_status_json(request: Request, code: str) -> Response:
    """The status the page polls; the pass (signed bytes and step secret) once confirmed."""
    services = web(request).services
    try:
        status = visit_status(
            code[:64], actor=_phone(request), units=services.units, signer=services.pass_signer
        )
    except GateError as problem:
        detail = refusal_text(language(request), problem)
        return JSONResponse({"detail": detail}, status_code=404, headers=NO_STORE)
    body = _request_json(status.request, language(request))
    if status.signed is not None:
        body["pass"] = {
            "v": 1,
            "kind": "visitor",
            "signed": base64.b64encode(status.signed).decode(),
            "secret": base64.b64encode(status.secret).decode() if status.secret else None,
            "not_after": status.request.ends_at.isoformat(),
        }
    return JSONResponse(body, headers=NO_STORE)


@router.get("/visit/host/{code}")
def host_page(request: Request, code: str) -> Response:
    """The host's page: who asks to visit, and confirm or decline with their own pass."""
    try:
        visit = visit_for_host(code[:64], actor=_phone(request), units=web(request).services.units)
    except GateError as problem:
        error = refusal_text(language(request), problem)
        return _page(request, "visit_host.html", status_code=404, visit=None, error=error, code="")
    return _page(request, "visit_host.html", visit=visit, error=None, code=code[:64])


class HostDecision(BaseModel):
    """The host's answer, with the text their pass shows right now."""

    approve: bool
    pass_text: str = Field(max_length=512)


@router.post("/visit/host/{code}")
def host_decides(request: Request, code: str, decision: HostDecision) -> Response:
    """Confirm or decline; refused unless the pass is a resident's of the visited flat."""
    context = web(request)
    station = context.station
    if station is None:
        return JSONResponse({"detail": "gate not running"}, status_code=503, headers=NO_STORE)
    try:
        context.pass_throttle.check(_address(request))
        decided = decide_as_host(
            code[:64],
            approve=decision.approve,
            pass_text=decision.pass_text,
            actor=_phone(request),
            units=context.services.units,
            signer=context.services.pass_signer,
            pipeline=station.gate.pipeline,
        )
    except GateError as problem:
        detail = refusal_text(language(request), problem)
        status = 429 if getattr(problem, "code", "") == "too_many_requests" else 422
        return JSONResponse({"detail": detail}, status_code=status, headers=NO_STORE)
    return JSONResponse(_request_json(decided, language(request)), headers=NO_STORE)


@router.get("/office/poster")
def poster(request: Request, user: OfficeUser) -> Response:
    """The printable poster: the QR that opens the visitor form, and what it is for."""
    link = str(request.base_url).rstrip("/") + "/visit/"
    return render(request, "visit_poster.html", user, link=link)
