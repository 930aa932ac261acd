"""Sign in, sign out, unlock an idle terminal, switch language."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from api.i18n import LANGUAGES, t
from api.web.deps import (
    LANG_COOKIE,
    SESSION_COOKIE,
    AuthRequired,
    CsrfRejected,
    current_session,
    deny,
    language,
    now,
    origin,
    render,
    web,
)
from gate.domain.roles import Role
from registry.accounts import (
    ActiveSession,
    LoginRefused,
    authenticate,
    end_session,
    open_session,
    unlock_session,
)

router = APIRouter()

HOME_OF_ROLE = {
    Role.GUARD: "/terminal",
    Role.BUILDING_HEAD: "/office",
    Role.OFFICE: "/office",
    Role.AUDITOR: "/audit",
    Role.ADMIN: "/office",
}
MAX_FIELD = 200


@router.get("/login")
def login_page(request: Request) -> Response:
    """The sign-in form."""
    return render(request, "login.html", None)


@router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form(max_length=MAX_FIELD)],
    password: Annotated[str, Form(max_length=MAX_FIELD)],
) -> Response:
    """Check the password; open a session (HttpOnly, SameSite=Strict cookie)."""
    context = web(request)
    refused: LoginRefused | None = None
    with context.services.database.session() as db:
        # The refusal is caught inside the transaction: its failure count and audit row
        # must be committed, not rolled back with it.
        try:
            account = authenticate(
                db, username=username.strip(), password=password, now=now(), origin=origin(request)
            )
            token, _row = open_session(db, account=account, now=now(), origin=origin(request))
            role = Role(account.role)
        except LoginRefused as problem:
            refused = problem
    if refused is not None:
        return render(
            request,
            "login.html",
            None,
            status_code=401,
            error=t(language(request), f"login.refused.{refused.reason}"),
            username=username[:64],
        )
    response = RedirectResponse(HOME_OF_ROLE[role], status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=context.secure_cookies,
        path="/",
    )
    return response


def _check_csrf(request: Request, user: ActiveSession, sent: str) -> None:
    token = request.headers.get("x-csrf-token") or sent
    if not token or not secrets.compare_digest(token, user.csrf_token):
        deny(request, user, "csrf", reason="missing or wrong token")
        raise CsrfRejected


@router.post("/logout")
def logout(
    request: Request, csrf_token: Annotated[str, Form(max_length=MAX_FIELD)] = ""
) -> Response:
    """End the session."""
    try:
        user = current_session(request, allow_locked=True)
    except AuthRequired:
        return RedirectResponse("/login", status_code=303)
    _check_csrf(request, user, csrf_token)
    with web(request).services.database.session() as db:
        end_session(db, session_id=user.session_id, now=now())
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.post("/unlock")
def unlock(
    request: Request,
    pin: Annotated[str, Form(max_length=MAX_FIELD)] = "",
    password: Annotated[str, Form(max_length=MAX_FIELD)] = "",
    next_page: Annotated[str, Form(alias="next", max_length=MAX_FIELD)] = "/terminal",
    csrf_token: Annotated[str, Form(max_length=MAX_FIELD)] = "",
) -> Response:
    """Re-open an idle-locked session with the PIN (or the password)."""
    user = current_session(request, allow_locked=True)
    _check_csrf(request, user, csrf_token)
    refused = False
    with web(request).services.database.session() as db:
        try:  # caught inside: the failure count and audit row are committed
            unlock_session(
                db,
                session_id=user.session_id,
                pin=pin,
                password=password or None,
                now=now(),
                origin=origin(request),
            )
        except LoginRefused:
            refused = True
    if refused:
        return render(
            request,
            "unlock.html",
            user,
            status_code=401,
            error=t(language(request), "unlock.refused"),
            next_page=next_page,
        )
    target = next_page if next_page.startswith("/") and not next_page.startswith("//") else "/"
    return RedirectResponse(target, status_code=303)


@router.get("/lang/{code}")
def switch_language(request: Request, code: str, back: str = "/") -> Response:
    """Remember the language in a cookie and go back."""
    target = back if back.startswith("/") and not back.startswith("//") else "/"
    response = RedirectResponse(target, status_code=303)
    if code in LANGUAGES:
        response.set_cookie(LANG_COOKIE, code, samesite="strict", max_age=365 * 86400, path="/")
    return response


@router.get("/")
def home(request: Request) -> Response:
    """Each role's start page."""
    user = current_session(request, allow_locked=True)
    return RedirectResponse(HOME_OF_ROLE[user.role], status_code=303)
