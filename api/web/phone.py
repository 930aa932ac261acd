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
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import FileResponse, Response

from api.i18n import refusal_text
from api.web.deps import language, now, render, web
from gate.app.actor import Actor
from gate.app.qr_passes import PhonePass, redeem_enrollment
from gate.domain.errors import ActionRefused, GateError

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
