"""How the pages answer a refusal: sign in, unlock, not allowed, expired form."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response

from api.i18n import t
from api.web.deps import (
    AuthRequired,
    BadInput,
    CsrfRejected,
    Forbidden,
    SessionLocked,
    current_session,
    deny,
    language,
    render,
)
from gate.app.staff_values import ActiveSession
from gate.domain.errors import NotFound, OutOfScope


def _wants_html(request: Request) -> bool:
    return request.method == "GET" and "text/html" in request.headers.get("accept", "")


def _user_if_any(request: Request) -> ActiveSession | None:
    """The session if the request has one (locked or not), for rendering an error page."""
    try:
        return current_session(request, allow_locked=True)
    except AuthRequired:
        return None


def _bad_input(request: Request, fields: list[str]) -> Response:
    """422 in the page's language, naming the fields (never echoing what was sent)."""
    message = t(language(request), "error.bad_input")
    if _wants_html(request):
        return render(
            request,
            "error.html",
            _user_if_any(request),
            status_code=422,
            status_code_text=422,
            message=message,
        )
    return JSONResponse({"detail": message, "fields": fields}, status_code=422)


def install_page_errors(app: FastAPI) -> None:
    """Register the handlers of the page-level refusals."""

    @app.exception_handler(AuthRequired)
    async def _auth_required(request: Request, _exc: AuthRequired) -> Response:
        if _wants_html(request):
            return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        return JSONResponse({"detail": "sign in first"}, status_code=401)

    @app.exception_handler(SessionLocked)
    async def _locked(request: Request, _exc: SessionLocked) -> Response:
        if _wants_html(request):
            user = current_session(request, allow_locked=True)
            return render(request, "unlock.html", user, status_code=423, next_page=request.url.path)
        return JSONResponse({"detail": "locked: unlock with the PIN"}, status_code=423)

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, _exc: Forbidden) -> Response:
        message = t(language(request), "error.forbidden")
        if _wants_html(request):
            user = current_session(request, allow_locked=True)
            return render(
                request, "error.html", user, status_code=403, status_code_text=403, message=message
            )
        return JSONResponse({"detail": message}, status_code=403)

    @app.exception_handler(OutOfScope)
    async def _out_of_scope(request: Request, exc: OutOfScope) -> Response:
        # A building head reaching for another building: audited, then "not allowed".
        user = current_session(request, allow_locked=True)
        await run_in_threadpool(
            deny,
            request,
            user,
            exc.target,
            role=user.role.value,
            buildings=list(user.building_keys),
        )
        return await _forbidden(request, Forbidden())

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound) -> Response:
        message = t(language(request), "error.not_found")
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": str(exc)}, status_code=404)
        user = current_session(request, allow_locked=True)
        return render(
            request, "error.html", user, status_code=404, status_code_text=404, message=message
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        # The machine API keeps FastAPI's documented shape; the pages answer in words.
        if request.url.path.startswith("/api/"):
            return await request_validation_exception_handler(request, exc)
        fields = [str(error["loc"][-1]) for error in exc.errors() if error.get("loc")]
        return _bad_input(request, sorted(set(fields)))

    @app.exception_handler(BadInput)
    async def _bad_value(request: Request, exc: BadInput) -> Response:
        return _bad_input(request, [exc.field])

    @app.exception_handler(CsrfRejected)
    async def _csrf(request: Request, _exc: CsrfRejected) -> Response:
        return JSONResponse({"detail": t(language(request), "error.csrf")}, status_code=403)
