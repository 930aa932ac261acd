"""The resident's pass on their phone: enrol with a one-time code, then show it offline.

No sign-in and no session: the one-time enrollment code is the only key, so the POST
needs no CSRF token (a forged form could only spend a code its sender already has).
``/pass/`` itself is a static page that draws the pass from the phone's localStorage;
its service worker (``/pass/sw.js``) keeps it and its scripts for when there is no
network. Every answer that may carry a code or a pass is ``no-store``.
"""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import BaseModel, Field

from api.i18n import reason_text, refusal_text
from api.i18n import t as rt
from api.web.deps import language, now, render, web
from gate.app.actor import Actor
from gate.app.place_codes import PlacePassage, pass_at_place
from gate.app.qr_passes import PhonePass, invite_as_resident, redeem_enrollment
from gate.domain.errors import ActionRefused, GateError
from gate.domain.model import Direction
from gate.domain.people import mask_name

router = APIRouter(prefix="/pass")
SERVICE_WORKER = Path(__file__).resolve().parents[1] / "static" / "pass-sw.js"
NO_STORE = {"Cache-Control": "no-store"}
MAX_CODE = 64


def _phone(request: Request) -> Actor:
    return Actor(
        name="phone",
        origin=f"phone@{request.client.host if request.client else 'unknown'}",
        at=now(),
    )


def _page(request: Request, template: str, status_code: int = 200, **values: Any) -> Response:
    response = render(request, template, None, status_code=status_code, **values)
    response.headers.update(NO_STORE)
    return response


def _b64(data: bytes | None) -> str | None:
    return None if data is None else base64.b64encode(data).decode("ascii")


def pass_data(phone_pass: PhonePass) -> dict[str, Any]:
    """What the phone keeps of its pass (localStorage), as the page hands it over."""
    return {
        "v": 1,
        "pass_id": phone_pass.pass_id,
        "kind": phone_pass.kind.value,
        "signed": _b64(phone_pass.signed),
        "secret": _b64(phone_pass.secret),
        "not_after": phone_pass.not_after.isoformat(),
        "masked_name": phone_pass.masked_name,
        "home": phone_pass.home,
    }


@router.get("/")
def pass_page(request: Request) -> Response:
    """The pass as the phone keeps it; nothing personal comes from the server."""
    return _page(request, "phone_pass.html", enrolled=None)


@router.get("/enroll")
def enroll_page(request: Request, code: str = "") -> Response:
    """Ask before spending the code (a link preview must not use it up)."""
    return _page(request, "phone_enroll.html", code=code.strip()[:MAX_CODE], error=None)


@router.post("/enroll")
def enroll(request: Request, code: Annotated[str, Form()] = "") -> Response:
    """Spend the code and hand the pass to the phone, or say why not (and store nothing)."""
    text = code.strip()[:MAX_CODE]
    try:
        if not text:
            raise ActionRefused("enrollment_code")
        phone_pass = redeem_enrollment(
            text,
            actor=_phone(request),
            units=web(request).services.units,
            signer=web(request).services.pass_signer,
        )
    except GateError as problem:
        shown = problem if isinstance(problem, ActionRefused) else ActionRefused("enrollment_code")
        error = refusal_text(language(request), shown)
        return _page(request, "phone_enroll.html", status_code=422, code=text, error=error)
    enrolled = json.dumps(pass_data(phone_pass), ensure_ascii=True)
    return _page(request, "phone_pass.html", enrolled=enrolled)


@router.get("/sw.js")
def service_worker() -> Response:
    """The pass page's service worker, allowed to control ``/pass/``."""
    return FileResponse(
        SERVICE_WORKER,
        media_type="text/javascript",
        headers={"Service-Worker-Allowed": "/pass/", "Cache-Control": "no-cache"},
    )


class InviteForm(BaseModel):
    """A resident's invite, with the text their pass shows right now."""

    pass_text: str = Field(max_length=512)
    visitor_name: str = Field(max_length=200)
    hours: float = Field(gt=0, le=24 * 7)


def _refused(request: Request, problem: GateError, status_code: int = 422) -> Response:
    shown = problem if isinstance(problem, ActionRefused) else ActionRefused("host_pass", reason="")
    if shown.code == "too_many_requests":
        status_code = 429
    detail = refusal_text(language(request), shown)
    return JSONResponse({"detail": detail}, status_code=status_code, headers=NO_STORE)


@router.post("/invite")
def invite(request: Request, form: InviteForm) -> Response:
    """A one-time invite for a named visitor: the link the resident sends them."""
    context = web(request)
    if context.station is None:
        return JSONResponse({"detail": "gate not running"}, status_code=503, headers=NO_STORE)
    try:
        context.pass_throttle.check(_phone(request).origin)
        issued = invite_as_resident(
            form.pass_text,
            visitor_name=form.visitor_name,
            valid_for=timedelta(hours=form.hours),
            actor=_phone(request),
            units=context.services.units,
            signer=context.services.pass_signer,
            pipeline=context.station.gate.pipeline,
        )
    except GateError as problem:
        return _refused(request, problem)
    claims = issued.signed.claims
    # Everything the visitor's page needs rides in the fragment: no server keeps the link.
    fragment = urlencode(
        {
            "t": issued.text_now,
            "until": claims.not_after.isoformat(),
            "name": mask_name(issued.subject_name),
            "host": issued.home or "",
        }
    )
    link = str(request.base_url).rstrip("/") + "/visit/pass#" + fragment
    return JSONResponse(
        {"pass_id": claims.pass_id, "link": link, "until": claims.not_after.isoformat()},
        headers=NO_STORE,
    )


class PlaceForm(BaseModel):
    """What a phone sends from a place code: the lane's token and its pass text now."""

    lane: str = Field(max_length=40)
    token: str = Field(max_length=64)
    pass_text: str = Field(max_length=512)


@router.get("/here")
def place_page(request: Request, lane: str = "", t: str = "") -> Response:
    """The page a place code opens on the resident's phone."""
    return _page(request, "phone_here.html", lane=lane[:40], token=t[:64])


@router.post("/here")
def place_passage(request: Request, form: PlaceForm) -> Response:
    """Record a passage at a lane without a scanner, from the phone that scanned its code."""
    context = web(request)
    if context.station is None:
        return JSONResponse({"detail": "gate not running"}, status_code=503, headers=NO_STORE)
    lanes = {lane.id: Direction(lane.direction) for lane in context.services.settings.gate.lanes}
    try:
        context.pass_throttle.check(_phone(request).origin)
        result = pass_at_place(
            PlacePassage(
                lane=form.lane,
                direction=lanes.get(form.lane, Direction.IN),
                token=form.token,
                pass_text=form.pass_text,
            ),
            codes=context.place_codes,
            lanes=lanes.keys(),
            pipeline=context.station.gate.pipeline,
            clock=now,
        )
    except GateError as problem:
        return _refused(request, problem, status_code=403)
    lang = language(request)
    decision = result.decision
    return JSONResponse(
        {
            "outcome": decision.outcome.value,
            "outcome_text": rt(lang, f"outcome.{decision.outcome.value}"),
            "reasons": [reason_text(lang, r.code, dict(r.params)) for r in decision.reasons],
            "seq": result.record.seq if result.record else None,
        },
        headers=NO_STORE,
    )
