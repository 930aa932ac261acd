"""Sign in, sign out, unlock an idle terminal, switch language.

``POST /login`` refuses a form posted from another site (login CSRF; and a hostile page
must not make the staff's own browsers guess passwords for it). A browser always sends
``Origin`` with a form POST: it must be the service's own (as the browser reached it,
through a trusted proxy too) or one of ``[web] login_origins``; ``null`` is refused. A
request without ``Origin`` is a script or a very old browser: taken, unless the other
signs a browser sends (``Sec-Fetch-Site``, ``Referer``) say another site.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from api.i18n import LANGUAGES, t
from api.web.deps import (
    LANG_COOKIE,
    SESSION_COOKIE,
    AuthRequired,
    CsrfRejected,
    actor,
    caller,
    client_address,
    csrf_matches,
    current_session,
    deny,
    language,
    render,
    secure_cookies,
    web,
)
from gate.app.staff import (
    LoginRefused,
    SignIn,
    UnlockSession,
    end_session,
    record_denial,
    sign_in,
    unlock_session,
)
from gate.app.staff_values import ActiveSession
from gate.domain.roles import Role

router = APIRouter()

HOME_OF_ROLE = {
    Role.GUARD: "/terminal",
    Role.BUILDING_HEAD: "/office",
    Role.UNIT_HEAD: "/office",
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
    cross_site = _cross_site(request)
    if cross_site is not None:
        record_denial(
            "login",
            {"path": request.url.path, "reason": "cross-site", "sign": cross_site},
            actor=caller(request, username.strip()),
            units=context.services.units,
        )
        return render(
            request,
            "login.html",
            None,
            status_code=403,
            error=t(language(request), "login.cross_site"),
        )
    try:
        # A refusal's audit row (and the throttle's count) stay all the same.
        signed_in = sign_in(
            SignIn(username, password),
            source=client_address(request),
            throttle=context.login_throttle,
            actor=caller(request, username.strip()),
            units=context.services.units,
        )
    except LoginRefused as refused:
        return render(
            request,
            "login.html",
            None,
            status_code=401,
            error=t(language(request), f"login.refused.{refused.told}"),
            username=username[:64],
        )
    response = RedirectResponse(HOME_OF_ROLE[signed_in.account.role], status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        signed_in.token,
        max_age=int(context.session_lifetime.total_seconds()),  # the browser forgets it too
        httponly=True,
        samesite="strict",
        secure=secure_cookies(request),
        path="/",
    )
    return response


def _origin_of(url: str) -> str:
    """``scheme://host[:port]`` of a URL, lower case, without the scheme's default port."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return ""
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return ""  # "null" (a sandboxed frame, a file), or not a URL at all
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    default = {"http": 80, "https": 443}[parts.scheme]
    return f"{parts.scheme}://{host}" + (f":{port}" if port not in (None, default) else "")


def _cross_site(request: Request) -> str | None:
    """Which sign says the form was posted from another site (``origin``...), or None."""
    own = _origin_of(str(request.base_url))
    allowed = {own} | web(request).login_origins
    sent = request.headers.get("origin")
    if sent is not None:
        return None if _origin_of(sent) in allowed - {""} else "origin"
    if request.headers.get("sec-fetch-site", "none") not in ("same-origin", "none"):
        return "sec-fetch-site"
    referer = request.headers.get("referer")
    if referer is not None and _origin_of(referer) not in allowed:
        return "referer"
    return None


def _check_csrf(request: Request, user: ActiveSession, sent: str) -> None:
    token = request.headers.get("x-csrf-token") or sent
    if not csrf_matches(token, user.csrf_token):
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
    end_session(user.session_id, actor=actor(request, user), units=web(request).services.units)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(
        SESSION_COOKIE, path="/", secure=secure_cookies(request), httponly=True, samesite="strict"
    )
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
    try:  # a refusal's failure count and audit row are committed all the same
        unlock_session(
            UnlockSession(user.session_id, pin=pin, password=password or None),
            lifetime=web(request).session_lifetime,
            actor=actor(request, user),
            units=web(request).services.units,
        )
    except LoginRefused:
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
        response.set_cookie(
            LANG_COOKIE,
            code,
            samesite="strict",
            max_age=365 * 86400,
            path="/",
            secure=secure_cookies(request),
        )
    return response


@router.get("/")
def home(request: Request) -> Response:
    """Each role's start page."""
    user = current_session(request, allow_locked=True)
    return RedirectResponse(HOME_OF_ROLE[user.role], status_code=303)
